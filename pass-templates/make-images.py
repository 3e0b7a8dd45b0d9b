#!/usr/bin/env python3
"""Draw the Maison Lumière pass artwork for the demo templates.

    pip install pillow
    python3 pass-templates/make-images.py

Writes icon, logo and strip/thumbnail PNGs (1x, @2x, @3x) into
pass-templates/loyalty, pass-templates/click-and-collect and
pass-templates/receipt.  Every scale is drawn from the vector description
below (in points), supersampled and downscaled, never upscaled from 1x.

Sizes follow pass-templates/README.md: icon 29x29, logo <= 160x50,
strip 375x144 (storeCard) / 375x98 (eventTicket), thumbnail <= 90x90.
"""

import math
import os
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
SCALES = (1, 2, 3)
SS = 4  # supersampling factor

# Brand palette (matches backgroundColor / foregroundColor / labelColor).
NAVY = (27, 38, 59)
NAVY_DEEP = (17, 25, 41)
NAVY_LIGHT = (44, 60, 90)
GOLD = (224, 184, 110)
GOLD_DARK = (176, 134, 62)
CREAM = (250, 245, 235)
WARM_LIGHT = (255, 226, 160)
TEAL = (22, 55, 60)
TEAL_DEEP = (14, 38, 43)
TEAL_LIGHT = (34, 80, 84)
IVORY = (250, 246, 238)
RECEIPT_LABEL = (128, 90, 30)

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts",
             "C:/Windows/Fonts")


def find_font(*names):
    for d in FONT_DIRS:
        for root, _dirs, files in os.walk(d):
            for name in names:
                if name in files:
                    return os.path.join(root, name)
    return None


SERIF = find_font("DejaVuSerif.ttf", "LiberationSerif-Regular.ttf")
SANS = find_font("DejaVuSans.ttf", "LiberationSans-Regular.ttf")


def font(path, px):
    px = max(1, int(round(px)))
    if path:
        return ImageFont.truetype(path, px)
    return ImageFont.load_default(size=px)  # Pillow >= 10.1 scalable default


class Canvas:
    """An RGBA canvas addressed in points; k = pixels per point (supersampled)."""

    def __init__(self, w_pt, h_pt, scale, fill=(0, 0, 0, 0)):
        self.w_pt, self.h_pt, self.scale = w_pt, h_pt, scale
        self.k = scale * SS
        self.img = Image.new("RGBA", (round(w_pt * self.k), round(h_pt * self.k)), fill)

    def p(self, *vals):
        return [v * self.k for v in vals]

    def layer(self):
        return Image.new("RGBA", self.img.size, (0, 0, 0, 0))

    def draw(self):
        """ImageDraw-like object whose shapes blend onto the canvas.

        ImageDraw on an RGBA image replaces pixels (a 50% alpha fill punches
        a hole); here every call draws on its own layer, then composites.
        """
        canvas = self

        class _Blend:
            def __getattr__(self, name):
                def call(*args, **kwargs):
                    layer = canvas.layer()
                    out = getattr(ImageDraw.Draw(layer), name)(*args, **kwargs)
                    if layer.getbbox():
                        canvas.paste(layer)
                    return out
                return call
        return _Blend()

    def paste(self, layer, blur_pt=0):
        if blur_pt:
            layer = layer.filter(ImageFilter.GaussianBlur(blur_pt * self.k))
        self.img = Image.alpha_composite(self.img, layer)

    def result(self):
        size = (round(self.w_pt * self.scale), round(self.h_pt * self.scale))
        # box-filter downsampling: clean edges, no ringing, smaller PNGs
        if self.img.size == (size[0] * SS, size[1] * SS):
            return self.img.reduce(SS)
        return self.img.resize(size, Image.BOX)


def fade_alpha(layer, mask):
    """Multiply the layer's alpha by an L-mode mask (255 = keep)."""
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), mask))


def lerp(a, b, t):
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def linear_gradient(size, stops, angle_deg=0.0):
    """RGBA gradient over `size`; stops = [(t, rgb), ...]; angle 0 = left to right."""
    w, h = size
    # Build a 1-D ramp, then rotate/resize it to cover the image.
    n = 1024
    ramp = Image.new("RGB", (n, 1))
    px = ramp.load()
    for i in range(n):
        t = i / (n - 1)
        for (t0, c0), (t1, c1) in zip(stops, stops[1:]):
            if t0 <= t <= t1:
                u = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                u = u * u * (3 - 2 * u)  # smoothstep between stops
                px[i, 0] = lerp(c0, c1, u)
                break
    diag = int(math.hypot(w, h)) + 2
    g = ramp.resize((diag, diag), Image.BILINEAR).rotate(-angle_deg, Image.BICUBIC)
    left, top = (diag - w) // 2, (diag - h) // 2
    return g.crop((left, top, left + w, top + h)).convert("RGBA")


def radial_glow(c, cx, cy, r, color, alpha):
    """Soft round glow centred at (cx, cy) points, radius r points."""
    layer = c.layer()
    d = ImageDraw.Draw(layer)
    x, y, rr = c.p(cx, cy, r * 0.5)
    d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=color + (alpha,))
    c.paste(layer, blur_pt=r * 0.45)


def draw_pendant_lamp(c, cx, top, cord, shade_w, shade_h, shade=GOLD, rays=True,
                      ray_len=90.0, ray_alpha=40, cord_w=1.0, glow=True):
    """A pendant lamp: cord, dome shade, bulb, optional fan of light rays."""
    sy = top + cord               # top of the shade
    by = sy + shade_h             # rim of the shade
    if rays:
        layer = c.layer()
        d = ImageDraw.Draw(layer)
        spread = [-0.95, -0.62, -0.3, 0.0, 0.3, 0.62, 0.95]
        for i, s in enumerate(spread):
            # each ray is a thin triangle from the bulb, fading by blur
            ang = math.radians(90 + s * 32)
            half = math.radians(4.2 if i % 2 else 6.5)
            x0, y0 = cx, by
            pts = [(x0 - shade_w * 0.28, y0), (x0 + shade_w * 0.28, y0)]
            for a in (ang + half, ang - half):
                pts.append((x0 + math.cos(a) * ray_len, y0 + math.sin(a) * ray_len))
            pts = [tuple(c.p(px_, py_)) for px_, py_ in (pts[0], pts[2], pts[3], pts[1])]
            a = ray_alpha if i % 2 == 0 else int(ray_alpha * 0.6)
            d.polygon(pts, fill=GOLD + (a,))
        # fade rays out with distance below the rim
        top_px, len_px = by * c.k, ray_len * c.k
        col = Image.new("L", (1, layer.size[1]))
        for yy in range(layer.size[1]):
            t = (yy - top_px) / len_px
            col.putpixel((0, yy), 0 if t < 0 else int(255 * max(0.0, 1 - t) ** 1.6))
        fade_alpha(layer, col.resize(layer.size))
        c.paste(layer, blur_pt=max(0.8, shade_w * 0.035))
    if glow:
        radial_glow(c, cx, by + shade_h * 0.15, shade_w * 0.9, WARM_LIGHT, 110)
    d = c.draw()
    # cord
    x, y0, y1, w = c.p(cx, top, sy + 1, cord_w)
    d.rectangle([x - w / 2, y0, x + w / 2, y1], fill=shade + (255,))
    # bulb peeking below the rim
    bx, byy, br = c.p(cx, by, shade_h * 0.28)
    d.ellipse([bx - br, byy - br, bx + br, byy + br], fill=CREAM + (255,))
    # dome shade: upper half of an ellipse, with a slightly flared rim
    x0, y0, x1, y1 = c.p(cx - shade_w / 2, sy, cx + shade_w / 2, by + shade_h)
    d.pieslice([x0, y0, x1, y1], 180, 360, fill=shade + (255,))
    # highlight band on the dome
    hx0, hy0, hx1, hy1 = c.p(cx - shade_w * 0.33, sy + shade_h * 0.25,
                             cx - shade_w * 0.05, by + shade_h * 0.2)
    d.arc([hx0, hy0, hx1, hy1], 200, 260, fill=CREAM + (150,),
          width=max(1, int(shade_h * 0.08 * c.k)))
    # rim
    rx0, ry0, rx1, ry1 = c.p(cx - shade_w / 2 - shade_w * 0.03, by - shade_h * 0.06,
                             cx + shade_w / 2 + shade_w * 0.03, by + shade_h * 0.06)
    d.rounded_rectangle([rx0, ry0, rx1, ry1], radius=(ry1 - ry0) / 2, fill=GOLD_DARK + (255,))


def save(img, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fully opaque images are stored as RGB (smaller); others keep alpha.
    if img.mode == "RGBA" and img.getchannel("A").getextrema() == (255, 255):
        img = img.convert("RGB")
    img.save(path, "PNG", optimize=True)
    print(f"{path.relative_to(HERE)}  {img.size[0]}x{img.size[1]}  {path.stat().st_size} B")


def suffix(scale):
    return "" if scale == 1 else f"@{scale}x"


# --------------------------------------------------------------------------
# icon: navy square, gold pendant lamp with a soft pool of light (29x29 pt)

def icon(scale):
    c = Canvas(29, 29, scale)
    c.paste(linear_gradient(c.img.size, [(0, NAVY_LIGHT), (1, NAVY_DEEP)], 90))
    radial_glow(c, 14.5, 20.5, 16, GOLD, 70)
    draw_pendant_lamp(c, 14.5, 0, cord=6.5, shade_w=17, shade_h=8.5, rays=False,
                      cord_w=1.1, glow=False)
    # pool of light on the floor
    layer = c.layer()
    d = ImageDraw.Draw(layer)
    d.polygon([tuple(c.p(11.2, 15.5)), tuple(c.p(17.8, 15.5)),
               tuple(c.p(23.5, 25.5)), tuple(c.p(5.5, 25.5))], fill=GOLD + (85,))
    c.paste(layer, blur_pt=0.9)
    d = c.draw()
    d.ellipse(c.p(7, 24.3, 22, 26.3), fill=GOLD + (120,))
    return c.result()


# --------------------------------------------------------------------------
# logo: small lamp mark + two-line wordmark "MAISON / Lumière" (150x50 pt)

LOGO_W, LOGO_H = 150, 50


def logo(scale, text_color, accent):
    c = Canvas(LOGO_W, LOGO_H, scale)
    draw_pendant_lamp(c, 13, 5, cord=14, shade_w=24, shade_h=12, shade=accent,
                      rays=False, cord_w=1.2, glow=False)
    d = c.draw()
    x0 = 32
    small = font(SANS, 8.6 * c.k)
    big = font(SERIF, 24 * c.k)
    # tracked small caps line
    x = x0 * c.k
    for ch in "MAISON":
        d.text((x, 9.5 * c.k), ch, font=small, fill=accent + (255,))
        x += d.textlength(ch, font=small) + 2.6 * c.k
    d.text((x0 * c.k - 1.2 * c.k, 19 * c.k), "Lumière", font=big, fill=text_color + (255,))
    right = x0 * c.k - 1.2 * c.k + d.textlength("Lumière", font=big)
    assert right <= (LOGO_W - 2) * c.k, "wordmark does not fit the logo"
    return c.result()


# --------------------------------------------------------------------------
# loyalty strip (storeCard 375x144 pt): deep navy with pendant lamps casting rays

def loyalty_strip(scale):
    c = Canvas(375, 144, scale)
    # horizontal gradient: identical rows keep the PNG small
    c.paste(linear_gradient(c.img.size, [(0, NAVY_DEEP), (0.5, NAVY), (1, (38, 53, 80))], 0))
    draw_pendant_lamp(c, 243, 0, cord=22, shade_w=30, shade_h=14, ray_len=105,
                      ray_alpha=30, cord_w=1.0)
    draw_pendant_lamp(c, 312, 0, cord=40, shade_w=48, shade_h=22, ray_len=110,
                      ray_alpha=44, cord_w=1.3)
    # faint gold floor line for depth
    layer = c.layer()
    d = ImageDraw.Draw(layer)
    d.rectangle(c.p(0, 139.5, 375, 140.3), fill=GOLD + (40,))
    c.paste(layer)
    return c.result()


# --------------------------------------------------------------------------
# click-and-collect strip (eventTicket 375x98 pt): teal, gift-wrap stripes,
# a gold shopping bag with the lamp mark

def cc_strip(scale):
    c = Canvas(375, 98, scale)
    c.paste(linear_gradient(c.img.size, [(0, TEAL_DEEP), (0.6, TEAL), (1, TEAL_LIGHT)], 0))
    # diagonal hairline pattern, fading out towards the left (text side)
    layer = c.layer()
    d = ImageDraw.Draw(layer)
    for i in range(-20, 60):
        x = i * 11
        d.line([tuple(c.p(x, 98)), tuple(c.p(x + 98, 0))], fill=GOLD + (22,),
               width=max(1, round(0.6 * c.k)))
    fade = linear_gradient(layer.size, [(0, (0, 0, 0)), (0.45, (0, 0, 0)), (1, (255, 255, 255))], 0)
    fade_alpha(layer, fade.getchannel("R"))
    c.paste(layer)
    radial_glow(c, 318, 52, 90, WARM_LIGHT, 70)
    # shopping bag
    bx, by, bw, bh = 296, 36, 46, 48
    layer = c.layer()
    d = ImageDraw.Draw(layer)
    d.rounded_rectangle(c.p(bx + 2, by + 3, bx + bw + 2, by + bh + 3), radius=3 * c.k,
                        fill=(0, 0, 0, 90))
    c.paste(layer, blur_pt=2.5)
    d = c.draw()
    d.arc(c.p(bx + 11, by - 13, bx + bw - 11, by + 11), 180, 360, fill=GOLD_DARK + (255,),
          width=round(2.6 * c.k))
    d.rounded_rectangle(c.p(bx, by, bx + bw, by + bh), radius=3 * c.k, fill=GOLD + (255,))
    d.rectangle(c.p(bx, by, bx + bw, by + 5), fill=GOLD_DARK + (255,))
    # lamp emblem on the bag (teal)
    cx = bx + bw / 2
    d.rectangle(c.p(cx - 0.5, by + 5, cx + 0.5, by + 15), fill=TEAL + (255,))
    d.pieslice(c.p(cx - 11, by + 15, cx + 11, by + 37), 180, 360, fill=TEAL + (255,))
    d.ellipse(c.p(cx - 2.6, by + 23.4, cx + 2.6, by + 28.6), fill=CREAM + (255,))
    d.polygon([tuple(c.p(cx - 6, by + 27)), tuple(c.p(cx + 6, by + 27)),
               tuple(c.p(cx + 12, by + 42)), tuple(c.p(cx - 12, by + 42))],
              fill=WARM_LIGHT + (255,))
    # sparkles
    for sx, sy, r in ((268, 30, 3.2), (356, 24, 2.4), (276, 78, 2.0)):
        pts = []
        for j in range(8):
            a = math.pi / 4 * j
            rr = r if j % 2 == 0 else r * 0.28
            pts.append(tuple(c.p(sx + math.cos(a) * rr, sy + math.sin(a) * rr)))
        d.polygon(pts, fill=WARM_LIGHT + (230,))
    return c.result()


# --------------------------------------------------------------------------
# receipt thumbnail (90x90 pt): a paper receipt with the lamp mark

def receipt_thumbnail(scale):
    c = Canvas(90, 90, scale)
    x0, y0, x1, y1 = 17, 6, 73, 82
    teeth = 8

    def paper_poly(dx=0.0, dy=0.0):
        pts = [(x0 + dx, y0 + dy), (x1 + dx, y0 + dy)]
        step = (x1 - x0) / teeth
        for i in range(teeth, 0, -1):
            pts.append((x0 + dx + i * step, y1 + dy))
            pts.append((x0 + dx + (i - 0.5) * step, y1 + dy - 3.5))
        pts.append((x0 + dx, y1 + dy))
        return [tuple(c.p(px_, py_)) for px_, py_ in pts]

    layer = c.layer()
    ImageDraw.Draw(layer).polygon(paper_poly(1.2, 2.0), fill=(27, 38, 59, 80))
    c.paste(layer, blur_pt=2.2)
    d = c.draw()
    d.polygon(paper_poly(), fill=(255, 255, 255, 255), outline=(222, 212, 192, 255),
              width=max(1, round(0.5 * c.k)))
    # header band with the lamp mark
    d.rectangle(c.p(x0, y0, x1, y0 + 18), fill=NAVY + (255,))
    cx = (x0 + x1) / 2
    d.rectangle(c.p(cx - 0.45, y0, cx + 0.45, y0 + 5), fill=GOLD + (255,))
    d.pieslice(c.p(cx - 7, y0 + 5, cx + 7, y0 + 19), 180, 360, fill=GOLD + (255,))
    d.ellipse(c.p(cx - 1.8, y0 + 10.2, cx + 1.8, y0 + 13.8), fill=CREAM + (255,))
    # item lines: text bar + price bar
    grey = (196, 190, 180, 255)
    for i, (wl, wp) in enumerate(((26, 9), (20, 9), (29, 7), (17, 9))):
        y = y0 + 26 + i * 8
        d.rounded_rectangle(c.p(x0 + 6, y, x0 + 6 + wl, y + 2.6), radius=1.3 * c.k, fill=grey)
        d.rounded_rectangle(c.p(x1 - 6 - wp, y, x1 - 6, y + 2.6), radius=1.3 * c.k, fill=grey)
    # dashed separator + total in gold
    y = y0 + 60
    for xx in range(int(x0 + 6), int(x1 - 6), 4):
        d.rectangle(c.p(xx, y, xx + 2, y + 0.8), fill=(170, 160, 145, 255))
    d.rounded_rectangle(c.p(x0 + 6, y + 4, x0 + 22, y + 8), radius=2 * c.k, fill=NAVY + (255,))
    d.rounded_rectangle(c.p(x1 - 20, y + 4, x1 - 6, y + 8), radius=2 * c.k, fill=RECEIPT_LABEL + (255,))
    return c.result()


def main():
    for tpl, logo_text, logo_accent in (("loyalty", CREAM, GOLD),
                                        ("click-and-collect", CREAM, GOLD),
                                        ("receipt", NAVY, GOLD_DARK)):
        for s in SCALES:
            save(icon(s), HERE / tpl / f"icon{suffix(s)}.png")
            save(logo(s, logo_text, logo_accent), HERE / tpl / f"logo{suffix(s)}.png")
    for s in SCALES:
        save(loyalty_strip(s), HERE / "loyalty" / f"strip{suffix(s)}.png")
        save(cc_strip(s), HERE / "click-and-collect" / f"strip{suffix(s)}.png")
        save(receipt_thumbnail(s), HERE / "receipt" / f"thumbnail{suffix(s)}.png")


if __name__ == "__main__":
    main()
