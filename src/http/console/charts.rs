//! The overview's charts, drawn as SVG on the server with plotters (no font files: the SVG
//! backend writes `<text>` elements the browser sets in its own sans-serif). Each carries a
//! `<title>` and a `<desc>` with its figures, for whoever opens it on its own.

use anyhow::{Result, anyhow};
use plotters::chart::SeriesLabelStyle;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::figures::{Day, number, short_date};
use super::i18n::text;
use crate::store::FlyerSignups;

const INK: RGBColor = RGBColor(0x14, 0x21, 0x3d);
const AXIS: RGBColor = RGBColor(0x37, 0x41, 0x51);
const GRID: RGBColor = RGBColor(0xe5, 0xe7, 0xeb);
/// Sign-up bars and flyer bars (5.2:1 on white).
const BLUE: RGBColor = RGBColor(0x25, 0x63, 0xeb);
/// Google Wallet's line (5:1 on white).
const GREEN: RGBColor = RGBColor(0x15, 0x80, 0x3d);

/// A chart's canvas: `Wide` beside another on a desktop or alone on a tablet, `Narrow` on a phone
/// (drawn for its width, so its text stays readable instead of shrinking).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Wide,
    Narrow,
}

impl Size {
    fn width(self) -> u32 {
        if self == Size::Wide { 560 } else { 340 }
    }
    fn height(self) -> u32 {
        if self == Size::Wide { 340 } else { 300 }
    }
    /// Plotters' font size: its SVG backend writes `font-size` 1.24 times smaller.
    fn font(self) -> u32 {
        if self == Size::Wide { 18 } else { 16 }
    }
    /// Day labels along the x axis.
    fn x_labels(self) -> usize {
        if self == Size::Wide { 6 } else { 4 }
    }
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e:?}")
}

/// Headroom above the highest figure: figures mostly grow to the right, and the legend sits in
/// the upper left corner, clear of them.
fn top(max: i64) -> i64 {
    max + max * 2 / 5 + 1
}

fn font(size: Size) -> TextStyle<'static> {
    ("sans-serif", size.font()).into_font().color(&AXIS)
}

/// The label of day `x` (a whole index) along the x axis.
fn day_label(days: &[Day], x: f64, lang: &str) -> String {
    let i = x.round();
    if (x - i).abs() > 0.01 || i < 0.0 {
        return String::new();
    }
    days.get(i as usize).map(|d| short_date(d.date, lang)).unwrap_or_default()
}

/// The drawing area's SVG, with its title and description right after the root element opens.
fn finish(svg: String, title: &str, desc: &str) -> Result<String> {
    let open = svg.find("<svg").and_then(|at| svg[at..].find('>').map(|end| at + end + 1));
    let open = open.ok_or_else(|| anyhow!("plotters wrote no <svg> element"))?;
    let head = format!(
        " role=\"img\" aria-labelledby=\"title desc\"><title id=\"title\">{}</title><desc id=\"desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
    Ok(format!("{}{}{}", &svg[..open - 1], head, &svg[open..]))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    mut labels: SeriesLabelStyle<'a, '_, DB, CT>,
    size: Size,
) -> Result<()> {
    labels
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.92))
        .border_style(GRID)
        .label_font(font(size).color(&INK))
        .draw()
        .map_err(err)
}

fn blank(svg: &mut String, size: Size, height: u32) -> Result<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::with_string(svg, (size.width(), height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    Ok(root)
}

/// Members at the end of each day (a line, left axis) and that day's sign-ups (bars, right axis).
pub fn members(days: &[Day], lang: &str, size: Size, title: &str, desc: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = blank(&mut svg, size, size.height())?;
        let n = days.len() as f64;
        let max_members = days.iter().map(|d| d.figures.members).max().unwrap_or(0);
        let max_signups = days.iter().map(|d| d.figures.signups).max().unwrap_or(0);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(if size == Size::Wide { 36 } else { 32 })
            .y_label_area_size(if size == Size::Wide { 70 } else { 56 })
            .right_y_label_area_size(if size == Size::Wide { 60 } else { 50 })
            .build_cartesian_2d(-0.5..n - 0.5, 0..top(max_members))
            .map_err(err)?
            .set_secondary_coord(-0.5..n - 0.5, 0..top(max_signups));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .axis_style(AXIS)
            .x_labels(size.x_labels())
            .x_label_formatter(&|x| day_label(days, *x, lang))
            .y_label_formatter(&|y| number(*y, lang))
            .y_labels(5)
            .y_desc(text(lang, "chart_members_axis"))
            .label_style(font(size))
            .axis_desc_style(font(size))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .axis_style(AXIS)
            .y_labels(5)
            .y_label_formatter(&|y| number(*y, lang))
            .y_desc(text(lang, "chart_signups_axis"))
            .label_style(font(size))
            .axis_desc_style(font(size))
            .draw()
            .map_err(err)?;
        let bar = if size == Size::Wide { 0.36 } else { 0.32 };
        chart
            .draw_secondary_series(days.iter().enumerate().map(|(i, d)| {
                let x = i as f64;
                Rectangle::new([(x - bar, 0), (x + bar, d.figures.signups)], BLUE.filled())
            }))
            .map_err(err)?
            .label(text(lang, "chart_signups_legend"))
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BLUE.filled()));
        chart
            .draw_series(LineSeries::new(
                days.iter().enumerate().map(|(i, d)| (i as f64, d.figures.members)),
                INK.stroke_width(3),
            ))
            .map_err(err)?
            .label(text(lang, "chart_members_legend"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], INK.stroke_width(3)));
        legend(chart.configure_series_labels(), size)?;
        root.present().map_err(err)?;
    }
    finish(svg, title, desc)
}

/// Loyalty cards on iPhones and in Google Wallet at the end of each day (two lines).
pub fn cards(days: &[Day], lang: &str, size: Size, title: &str, desc: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let root = blank(&mut svg, size, size.height())?;
        let n = days.len() as f64;
        let max = days.iter().map(|d| d.figures.apple_cards.max(d.figures.google_cards)).max().unwrap_or(0);
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(if size == Size::Wide { 24 } else { 14 })
            .x_label_area_size(if size == Size::Wide { 36 } else { 32 })
            .y_label_area_size(if size == Size::Wide { 70 } else { 56 })
            .build_cartesian_2d(-0.5..n - 0.5, 0..top(max))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .axis_style(AXIS)
            .x_labels(size.x_labels())
            .x_label_formatter(&|x| day_label(days, *x, lang))
            .y_label_formatter(&|y| number(*y, lang))
            .y_labels(5)
            .y_desc(text(lang, "chart_cards_axis"))
            .label_style(font(size))
            .axis_desc_style(font(size))
            .draw()
            .map_err(err)?;
        for (key, colour, of) in [
            ("apple_cards", INK, (|d: &Day| d.figures.apple_cards) as fn(&Day) -> i64),
            ("google_cards", GREEN, |d: &Day| d.figures.google_cards),
        ] {
            let style = colour.stroke_width(3);
            chart
                .draw_series(LineSeries::new(days.iter().enumerate().map(|(i, d)| (i as f64, of(d))), style))
                .map_err(err)?
                .label(text(lang, key))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 14, y)], style));
        }
        legend(chart.configure_series_labels(), size)?;
        root.present().map_err(err)?;
    }
    finish(svg, title, desc)
}

/// Sign-ups per flyer over the period, most first (horizontal bars, the flyer's code beside each).
pub fn flyers(flyers: &[FlyerSignups], lang: &str, size: Size, title: &str, desc: &str) -> Result<String> {
    let mut svg = String::new();
    {
        let rows = flyers.len().max(1);
        let root = blank(&mut svg, size, 70 + 40 * rows as u32)?;
        let max = flyers.iter().map(|f| f.signups).max().unwrap_or(0);
        let longest = flyers.iter().map(|f| f.code.chars().count()).max().unwrap_or(4).min(18);
        let name = |y: f64| -> String {
            let i = y.round();
            if (y - i).abs() > 0.01 || i < 0.0 {
                return String::new();
            }
            // The first flyer is drawn at the top.
            let index = rows.saturating_sub(1 + i as usize);
            flyers.get(index).map(|f| f.code.chars().take(18).collect()).unwrap_or_default()
        };
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .margin_right(if size == Size::Wide { 24 } else { 14 })
            .x_label_area_size(52)
            .y_label_area_size(16 + longest as u32 * size.font() / 2)
            .build_cartesian_2d(0..top(max), -0.5..rows as f64 - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .axis_style(AXIS)
            .x_labels(5)
            .x_label_formatter(&|x| number(*x, lang))
            .y_labels(rows)
            .y_label_formatter(&|y| name(*y))
            .x_desc(text(lang, "chart_flyers_axis"))
            .label_style(font(size))
            .axis_desc_style(font(size))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(flyers.iter().enumerate().map(|(i, f)| {
                let y = (rows - 1 - i) as f64;
                Rectangle::new([(0, y - 0.32), (f.signups, y + 0.32)], BLUE.filled())
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    finish(svg, title, desc)
}
