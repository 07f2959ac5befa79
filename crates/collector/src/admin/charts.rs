//! The page's charts, drawn as SVG by `plotters`. Every shape is coloured by SVG
//! presentation attributes (`fill`, `stroke`), never a `style` attribute, so the
//! page's `style-src 'self'` allows them inline. Text has no font metrics
//! (plotters' built-in estimate lays it out; the browser draws it in its
//! sans-serif), which is why labels are short and bands are generous.
//!
//! The charts are decoration for sighted readers: the page hides them from
//! assistive technology and puts the same numbers in a table beside each.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing a chart: {0}")]
pub struct ChartError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for ChartError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        ChartError(e.to_string())
    }
}

/// Drawn width in SVG units; the stylesheet scales the SVG to its column.
/// (plotters writes font sizes divided by 1.24: 16 here is 12.9 in the SVG.)
const WIDTH: u32 = 600;
const FONT: &str = "sans-serif";
/// Light grid lines: decoration, not information.
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
/// Axis text, 4.5:1 or better on white.
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// The colours of the three responses and of the funnel's two measures; each has
/// at least 3:1 contrast on white (WCAG 1.4.11), and the stylesheet's legend
/// swatches use the same values.
pub mod colour {
    use plotters::style::RGBColor;
    /// Answered; also a field's share and a choice's count.
    pub const ANSWERED: RGBColor = RGBColor(0x2a, 0x53, 0x83);
    /// Declined ("Prefer not to say").
    pub const DECLINED: RGBColor = RGBColor(0xc2, 0x41, 0x0c);
    /// Snoozed ("Not now").
    pub const SNOOZED: RGBColor = RGBColor(0x6b, 0x72, 0x80);
    /// A stage's users who reached it.
    pub const REACHED: RGBColor = RGBColor(0x6a, 0x8f, 0xc0);
}

/// One series of bars: a value per category.
pub struct Series {
    /// Fill colour.
    pub colour: RGBColor,
    /// One value per category, in category order.
    pub values: Vec<f64>,
}

/// A horizontal bar chart: one band per category, top to bottom in the given
/// order; several series are stacked or drawn side by side in each band.
pub struct Bars {
    /// The band labels.
    pub categories: Vec<String>,
    /// The series (at least one).
    pub series: Vec<Series>,
    /// Stacked (responses) or side by side (the funnel).
    pub stacked: bool,
    /// The end of the value axis.
    pub max: f64,
    /// How a value-axis tick reads (`40%`, `120`).
    pub tick: fn(f64) -> String,
    /// An optional label after each band's bar (e.g. its share).
    pub notes: Vec<String>,
}

/// The pixel height of one band holding `series` bars side by side.
fn band_height(series: usize, stacked: bool) -> u32 {
    if stacked || series <= 1 {
        28
    } else {
        12 * series as u32 + 12
    }
}

/// Draws `bars` as an SVG document.
pub fn horizontal(bars: &Bars) -> Result<String, ChartError> {
    let n = bars.categories.len().max(1);
    let band = band_height(bars.series.len(), bars.stacked);
    let (top, bottom, axis) = (6, 6, 24);
    let height = top + bottom + axis + band * n as u32;
    // plotters' text estimate is about 0.6 em per character at this size.
    let longest = bars
        .categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0) as u32;
    let label_width = (longest * 8 + 16).clamp(60, 260);
    let max = if bars.max > 0.0 { bars.max } else { 1.0 };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(top)
            .margin_bottom(bottom)
            .margin_left(8)
            .margin_right(56)
            .x_label_area_size(axis)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0f64..max, bands(n))?;
        let label_of = |value: &SegmentValue<i32>| match value {
            // Bands count up from the bottom; categories are listed top down.
            // (plotters also asks about segments just outside the range.)
            SegmentValue::CenterOf(i) => usize::try_from(n as i32 - 1 - *i)
                .ok()
                .and_then(|k| bars.categories.get(k))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        let tick = |v: &f64| (bars.tick)(*v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&label_of)
            .x_labels(6)
            .x_label_formatter(&tick)
            .label_style((FONT, 16).into_font().color(&INK))
            .axis_style(INK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()?;

        let slots = if bars.stacked {
            1
        } else {
            bars.series.len() as u32
        };
        let slot = (band - 8) / slots.max(1);
        let mut ends = vec![0f64; n];
        for (j, series) in bars.series.iter().enumerate() {
            let j = j as u32;
            let rects = series.values.iter().enumerate().map(|(k, &value)| {
                let band_index = (n - 1 - k) as i32;
                let from = if bars.stacked { ends[k] } else { 0.0 };
                let to = from + value;
                ends[k] = ends[k].max(to);
                let mut rect = Rectangle::new(
                    [
                        (from, SegmentValue::Exact(band_index + 1)),
                        (to, SegmentValue::Exact(band_index)),
                    ],
                    series.colour.filled(),
                );
                let (upper, lower) = if bars.stacked {
                    (4, 4)
                } else {
                    (4 + j * slot, band - 4 - (j + 1) * slot)
                };
                rect.set_margin(upper, lower, 0, 0);
                rect
            });
            chart.draw_series(rects.collect::<Vec<_>>())?;
        }
        let note_style = (FONT, 16)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(bars.notes.iter().enumerate().map(|(k, note)| {
            Text::new(
                format!(" {note}"),
                (ends[k], SegmentValue::CenterOf((n - 1 - k) as i32)),
                note_style.clone(),
            )
        }))?;
        root.present()?;
    }
    Ok(svg)
}

/// A vertical stacked bar chart over days: `labels` under every bar whose
/// label is not empty, `series` stacked bottom up.
pub fn columns(labels: &[String], series: &[Series]) -> Result<String, ChartError> {
    let n = labels.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| series.iter().filter_map(|s| s.values.get(i)).sum())
        .collect();
    let max = nice_max(totals.iter().copied().fold(0.0, f64::max));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .margin_right(16)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(bands(n), 0f64..max)?;
        let label_of = |value: &SegmentValue<i32>| match value {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| labels.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&label_of)
            .y_labels(5)
            .y_label_formatter(&|v| count_tick(*v))
            .label_style((FONT, 16).into_font().color(&INK))
            .axis_style(INK)
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .draw()?;
        let mut bases = vec![0f64; n];
        for s in series {
            let rects = s.values.iter().enumerate().map(|(i, &value)| {
                let from = bases[i];
                bases[i] += value;
                let mut rect = Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), from),
                        (SegmentValue::Exact(i as i32 + 1), from + value),
                    ],
                    s.colour.filled(),
                );
                rect.set_margin(0, 0, 3, 3);
                rect
            });
            chart.draw_series(rects.collect::<Vec<_>>())?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// `n` (at least 1) category bands. plotters' integer ranges include their end,
/// so `0..n - 1` holds n values, each of which becomes one segment.
fn bands(
    n: usize,
) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordi32> {
    (0..n.max(1) as i32 - 1).into_segmented()
}

/// The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value` (and 1 for
/// nothing), so an axis ends on a round number.
pub fn nice_max(value: f64) -> f64 {
    let mut step = 1.0;
    loop {
        for factor in [1.0, 2.0, 5.0] {
            if step * factor >= value {
                return step * factor;
            }
        }
        step *= 10.0;
    }
}

/// A count axis tick: whole numbers only (a fractional tick stays unlabelled).
pub fn count_tick(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        String::new()
    }
}

/// A share axis tick: `0%` to `100%`.
pub fn percent_tick(value: f64) -> String {
    format!("{:.0}%", value * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bars {
        Bars {
            categories: vec!["name".into(), "company.<role>".into()],
            series: vec![
                Series {
                    colour: colour::ANSWERED,
                    values: vec![3.0, 1.0],
                },
                Series {
                    colour: colour::DECLINED,
                    values: vec![1.0, 0.0],
                },
            ],
            stacked: true,
            max: 5.0,
            tick: count_tick,
            notes: vec!["75%".into(), "100%".into()],
        }
    }

    #[test]
    fn charts_are_svg_without_style_attributes_or_unescaped_text() {
        let bars = horizontal(&sample()).unwrap();
        let days = columns(
            &["11-30".into(), String::new()],
            &[Series {
                colour: colour::ANSWERED,
                values: vec![2.0, 5.0],
            }],
        )
        .unwrap();
        for svg in [&bars, &days] {
            assert!(svg.starts_with("<svg"), "{svg}");
            assert!(svg.trim_end().ends_with("</svg>"));
            assert!(
                !svg.contains("style="),
                "a style attribute breaks the CSP: {svg}"
            );
            assert!(!svg.contains("<script"));
        }
        assert!(bars.contains("company.&lt;role&gt;"), "{bars}");
        assert!(!bars.contains("<role>"));
        assert!(
            bars.contains("#2A5383") || bars.contains("#2a5383"),
            "{bars}"
        );
        assert!(days.contains("11-30"), "{days}");
    }

    #[test]
    fn stacked_bars_draw_one_rectangle_per_value_and_notes_after_them() {
        let svg = horizontal(&sample()).unwrap();
        // Four bars plus the white background.
        assert_eq!(svg.matches("<rect").count(), 5, "{svg}");
        assert!(svg.contains(" 75%"));
    }

    #[test]
    fn one_category_or_none_still_draws_a_chart() {
        for categories in [vec!["only".to_owned()], Vec::new()] {
            let values = vec![2.0; categories.len()];
            let svg = horizontal(&Bars {
                categories,
                series: vec![Series {
                    colour: colour::ANSWERED,
                    values,
                }],
                stacked: true,
                max: 0.0,
                tick: count_tick,
                notes: Vec::new(),
            })
            .unwrap();
            assert!(svg.trim_end().ends_with("</svg>"));
        }
        assert!(columns(&[], &[]).unwrap().trim_end().ends_with("</svg>"));
    }

    #[test]
    fn every_bar_colour_has_3_to_1_contrast_on_white() {
        // WCAG 2.x relative luminance and contrast ratio.
        fn luminance(RGBColor(r, g, b): RGBColor) -> f64 {
            let channel = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
        }
        for c in [
            colour::ANSWERED,
            colour::DECLINED,
            colour::SNOOZED,
            colour::REACHED,
        ] {
            let contrast = 1.05 / (luminance(c) + 0.05);
            assert!(contrast >= 3.0, "{c:?}: {contrast:.2}");
        }
        assert!(1.05 / (luminance(INK) + 0.05) >= 4.5);
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(1.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(51.0), 100.0);
        assert_eq!(nice_max(120.0), 200.0);
        assert_eq!(count_tick(2.0), "2");
        assert_eq!(count_tick(2.5), "");
        assert_eq!(percent_tick(0.25), "25%");
    }
}
