//! Pass images: PNG only, with the sizes Apple allots to each image (in points × scale).

use super::problem::Report;

/// Width and height from a PNG's IHDR chunk, or `None` if the bytes are not a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || &bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((w, h))
}

enum Rule {
    Exact(u32, u32),
    AtMost(u32, u32),
}

/// Apple's allotted size at 1x for an image name and pass style.
fn rule(base: &str, style: &str) -> Option<Rule> {
    Some(match base {
        "icon" => Rule::Exact(29, 29),
        "logo" => Rule::AtMost(160, 50),
        "thumbnail" => Rule::AtMost(90, 90),
        "strip" => match style {
            "storeCard" | "coupon" => Rule::Exact(375, 144),
            "eventTicket" => Rule::Exact(375, 98),
            _ => Rule::Exact(375, 123),
        },
        "background" => Rule::Exact(180, 220),
        "footer" => Rule::Exact(286, 15),
        "personalizationLogo" => Rule::AtMost(150, 40),
        _ => return None,
    })
}

/// Splits `en.lproj/logo@2x.png` into (`logo`, 2); `None` when the name is not `name[@Nx].png`.
pub fn image_name(path: &str) -> Option<(&str, u32)> {
    let file = path.rsplit('/').next()?;
    let stem = file.strip_suffix(".png")?;
    match stem.split_once('@') {
        None => Some((stem, 1)),
        Some((base, "2x")) => Some((base, 2)),
        Some((base, "3x")) => Some((base, 3)),
        Some(_) => None,
    }
}

/// Checks one image file against its name's rule for the template's style.
pub fn check(path: &str, bytes: &[u8], style: &str, r: &mut Report) {
    let Some((base, scale)) = image_name(path) else {
        r.add(path, "image names are name.png, name@2x.png or name@3x.png");
        return;
    };
    let Some(rule) = rule(base, style) else {
        r.add(path, "unknown image (icon, logo, thumbnail, strip, background, footer, personalizationLogo)");
        return;
    };
    let Some((w, h)) = png_size(bytes) else {
        r.add(path, "is not a PNG file");
        return;
    };
    match rule {
        Rule::Exact(ew, eh) if (w, h) != (ew * scale, eh * scale) => {
            r.add(path, format!("is {w}x{h} pixels; {base} at {scale}x must be exactly {}x{}", ew * scale, eh * scale))
        }
        Rule::AtMost(mw, mh) if w > mw * scale || h > mh * scale => {
            r.add(path, format!("is {w}x{h} pixels; {base} at {scale}x must be at most {}x{}", mw * scale, mh * scale))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(image_name("icon.png"), Some(("icon", 1)));
        assert_eq!(image_name("fr.lproj/logo@3x.png"), Some(("logo", 3)));
        assert_eq!(image_name("logo@4x.png"), None);
        assert_eq!(image_name("logo.jpg"), None);
    }
}
