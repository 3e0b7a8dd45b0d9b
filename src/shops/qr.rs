//! QR codes of flyers (ISO/IEC 18004, error correction level Q so a creased or stained flyer
//! still scans), as a print-size PNG and as SVG; both with the four-module quiet zone.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use qrcode::{Color, EcLevel, QrCode};

/// The blank margin the standard asks for around the symbol, in modules.
const QUIET_ZONE: usize = 4;
/// The PNG is at least this wide: about 8.5 cm at 300 dpi.
pub const MIN_PNG_PIXELS: usize = 1000;
/// 300 dpi in pixels per metre (PNG `pHYs`), so print tools pick the intended size.
const PIXELS_PER_METRE: u32 = 11_811;

/// The dark modules of `text`'s QR code, row by row, quiet zone included.
struct Matrix {
    size: usize,
    dark: Vec<bool>,
}

impl Matrix {
    fn new(text: &str) -> Result<Self> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
            .with_context(|| format!("{} bytes do not fit in a QR code", text.len()))?;
        let width = code.width();
        let size = width + 2 * QUIET_ZONE;
        let mut dark = vec![false; size * size];
        for (i, color) in code.to_colors().into_iter().enumerate() {
            let (x, y) = (i % width + QUIET_ZONE, i / width + QUIET_ZONE);
            dark[y * size + x] = color == Color::Dark;
        }
        Ok(Self { size, dark })
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.size + x]
    }
}

/// A 1-bit greyscale PNG of `text`'s QR code, at least [`MIN_PNG_PIXELS`] wide, tagged 300 dpi.
pub fn png(text: &str) -> Result<Vec<u8>> {
    let m = Matrix::new(text)?;
    let scale = MIN_PNG_PIXELS.div_ceil(m.size);
    let pixels = m.size * scale;
    let row_bytes = pixels.div_ceil(8);
    let mut data = vec![0u8; row_bytes * pixels];
    for y in 0..pixels {
        let row = &mut data[y * row_bytes..(y + 1) * row_bytes];
        for x in 0..pixels {
            // In 1-bit greyscale, 1 is white.
            if !m.is_dark(x / scale, y / scale) {
                row[x / 8] |= 0x80 >> (x % 8);
            }
        }
        // Padding bits of the last byte stay white too.
        for x in pixels..row_bytes * 8 {
            row[x / 8] |= 0x80 >> (x % 8);
        }
    }
    let side = u32::try_from(pixels).context("QR code too large")?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: PIXELS_PER_METRE,
        yppu: PIXELS_PER_METRE,
        unit: png::Unit::Meter,
    }));
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&data)?;
    writer.finish()?;
    Ok(out)
}

/// An SVG of `text`'s QR code: one path in module units, crisp at any size (50 mm by default;
/// CSS can resize it when it is inlined in a page).
pub fn svg(text: &str) -> Result<String> {
    let m = Matrix::new(text)?;
    let n = m.size;
    let mut path = String::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !m.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && m.is_dark(x, y) {
                x += 1;
            }
            let _ = write!(path, "M{start} {y}h{}v1h-{}z", x - start, x - start);
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} {n}\" width=\"50mm\" height=\"50mm\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">\
         <rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://wallet.example.com/join/k7m2x9qa";

    #[test]
    fn png_is_print_sized_and_decodes() {
        let bytes = png(URL).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert!(info.width as usize >= MIN_PNG_PIXELS && info.width == info.height);
        assert_eq!(info.pixel_dims.map(|d| d.xppu), Some(PIXELS_PER_METRE));
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let (w, row) = (frame.width as usize, frame.line_size);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, w, |x, y| {
            if buf[y * row + x / 8] & (0x80 >> (x % 8)) != 0 { 255 } else { 0 }
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1);
        assert_eq!(grids[0].decode().unwrap().1, URL);
    }

    #[test]
    fn svg_is_one_path_with_a_quiet_zone() {
        let svg = svg(URL).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<path").count(), 1);
        // The quiet zone: no dark module in the first four rows or columns.
        assert!(svg.contains("d=\"M4 4h7"), "the finder pattern starts after the quiet zone: {svg}");
    }
}
