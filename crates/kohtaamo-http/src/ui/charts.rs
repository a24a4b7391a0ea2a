//! Score charts shared by the home page and the dashboards. Every chart puts its
//! figures on one 0–100 scale — the experience index, and NPS, CSAT and CES each placed
//! on their own range the way the index is (docs/metrics.md) — so CES is drawn beside
//! the others, not left out. Each point carries its values in a `<title>` (hover), and
//! [`trend_table`] gives the same figures as a table for keyboard and screen readers.

use kohtaamo_app::analysis::{Grain, Week};
use kohtaamo_domain::alerts::Metric;
use kohtaamo_domain::analytics::Shown;

use crate::i18n::I18n;

/// Escapes text for SVG markup built here.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A period's first day as an axis label: a date for days and weeks, a month for months.
pub fn period_label(i: &I18n, grain: Grain, week: &str) -> String {
    match chrono::NaiveDate::parse_from_str(week, "%Y-%m-%d") {
        Ok(d) if grain == Grain::Month => i.month(&d),
        Ok(d) => i.date(&d),
        Err(_) => week.to_owned(),
    }
}

/// "NPS +12 (n = 240)", "CSAT 81 %", "CES 5.2", "index 62" for a point's title.
pub fn value_text(i: &I18n, metric: Option<Metric>, s: &Shown) -> String {
    let name = match metric {
        Some(m) => i.t(&format!("metric-{}", m.as_str())),
        None => i.t("index-name"),
    };
    let v = match (metric, s) {
        (_, Shown::NoAnswers) => return format!("{name} –"),
        (_, Shown::NotEnough { n }) => {
            return format!("{name}: {}", i.n("dashboard-not-enough", "n", *n))
        }
        (Some(Metric::Nps), Shown::Score(s)) => format!("{:+.0}", s.value),
        (Some(Metric::Csat), Shown::Score(s)) => format!("{:.0} %", s.value),
        (Some(Metric::Ces), Shown::Score(s)) => format!("{:.1}", s.value),
        (None, Shown::Score(s)) => format!("{:.0}", s.value),
    };
    let n = match s {
        Shown::Score(s) => s.n,
        _ => 0,
    };
    i.decimals(format!("{name} {v} (n = {n})"))
}

/// The trend as an SVG line chart on one 0–100 scale: the experience index (thick)
/// and NPS, CSAT and CES each placed on their range; a point only where the minimum
/// sample is reached; at most eight axis labels, as dates or months.
pub fn trend_svg(i: &I18n, caption: &str, weeks: &[Week], grain: Grain) -> String {
    let (w, h, left, top, bottom) = (720.0, 236.0, 44.0, 12.0, 52.0);
    let plot_h = h - top - bottom;
    let n = weeks.len().max(2) as f64;
    let x = |k: usize| {
        if weeks.len() == 1 {
            left + (w - left - 12.0) / 2.0
        } else {
            left + (w - left - 12.0) * k as f64 / (n - 1.0)
        }
    };
    let y = |v: f64| top + plot_h * (100.0 - v.clamp(0.0, 100.0)) / 100.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-labelledby=\"trend-title\" class=\"trend\"><title id=\"trend-title\">{}</title>",
        esc(caption)
    );
    for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
        svg += &format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\" stroke-width=\"1\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#444\">{v}</text>",
            w - 12.0,
            left - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    type Pick = fn(&Week) -> &Shown;
    let series: [(Option<Metric>, &str, f64, Pick); 4] = [
        (None, "#1d2433", 3.0, |wk| &wk.index),
        (Some(Metric::Nps), "#0b57d0", 1.5, |wk| &wk.nps),
        (Some(Metric::Csat), "#1e7d32", 1.5, |wk| &wk.csat),
        (Some(Metric::Ces), "#b45309", 1.5, |wk| &wk.ces),
    ];
    // A metric the index is made of in every period would be drawn twice: it is left
    // out and named in the index's legend ("Experience index = NPS").
    let same_as_index = |m: Metric, pick: Pick| {
        weeks.iter().any(|wk| matches!(pick(wk), Shown::Score(_)))
            && weeks.iter().all(|wk| match (pick(wk), &wk.index) {
                (Shown::Score(s), Shown::Score(x)) => {
                    (100.0 * m.position(s.value) - x.value).abs() < 1e-9
                }
                (Shown::Score(_), _) => false,
                _ => true,
            })
    };
    let merged: Option<Metric> = series
        .iter()
        .find_map(|(m, _, _, pick)| m.filter(|m| same_as_index(*m, *pick)));
    let mut legend_x = left;
    for (metric, color, width, pick) in series {
        if metric.is_some() && metric == merged {
            continue;
        }
        let place = |v: f64| metric.map_or(v, |m| 100.0 * m.position(v));
        let pts: Vec<(f64, f64, String)> = weeks
            .iter()
            .enumerate()
            .filter_map(|(k, wk)| match pick(wk) {
                Shown::Score(s) => Some((
                    x(k),
                    y(place(s.value)),
                    format!(
                        "{}: {}",
                        period_label(i, grain, &wk.week),
                        value_text(i, metric, pick(wk))
                    ),
                )),
                _ => None,
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        if pts.len() > 1 {
            let path: Vec<String> = pts
                .iter()
                .map(|(a, b, _)| format!("{a:.1},{b:.1}"))
                .collect();
            svg += &format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\"/>",
                path.join(" ")
            );
        }
        for (a, b, title) in &pts {
            svg += &format!(
                "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"{}\" fill=\"{color}\" class=\"point\"><title>{}</title></circle>",
                if metric.is_none() { 4 } else { 3 },
                esc(title)
            );
        }
        let label = match (metric, merged) {
            (Some(m), _) => i.t(&format!("metric-{}", m.as_str())),
            (None, Some(m)) => format!("{} = {}", i.t("index-name"), m.label()),
            (None, None) => i.t("index-name"),
        };
        let ly = h - 8.0;
        svg += &format!(
            "<rect x=\"{legend_x}\" y=\"{:.1}\" width=\"14\" height=\"{width}\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{ly}\" font-size=\"12\" fill=\"#222\">{}</text>",
            ly - 5.0,
            legend_x + 18.0,
            esc(&label)
        );
        legend_x += 30.0 + 7.0 * label.chars().count() as f64;
    }
    // At most eight labels, evenly spread, always the first one.
    let step = weeks.len().div_ceil(8).max(1);
    for (k, wk) in weeks.iter().enumerate() {
        if k % step == 0 {
            svg += &format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#444\" class=\"axis-label\">{}</text>",
                x(k),
                top + plot_h + 16.0,
                esc(&period_label(i, grain, &wk.week))
            );
        }
    }
    svg + "</svg>"
}

/// The trend's figures as rows for a table beside the chart: period, responses,
/// index, NPS, CSAT, CES.
pub fn trend_table(i: &I18n, weeks: &[Week], grain: Grain) -> Vec<[String; 6]> {
    weeks
        .iter()
        .map(|wk| {
            let cell = |m: Option<Metric>, s: &Shown| match s {
                Shown::Score(_) => value_text(i, m, s),
                Shown::NotEnough { n } => i.n("dashboard-not-enough", "n", *n),
                Shown::NoAnswers => "–".into(),
            };
            [
                period_label(i, grain, &wk.week),
                wk.responses.to_string(),
                cell(None, &wk.index),
                cell(Some(Metric::Nps), &wk.nps),
                cell(Some(Metric::Csat), &wk.csat),
                cell(Some(Metric::Ces), &wk.ces),
            ]
        })
        .collect()
}

/// A label put beside its point: the text box's left edge, baseline and width, and
/// whether it sits away from the point (then a leader line joins them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub left: f64,
    pub baseline: f64,
    pub width: f64,
    pub leader: bool,
}

/// Height of one label line (11 px text) and the gap kept around a point.
const LABEL_H: f64 = 13.0;
const POINT_R: f64 = 6.0;

/// Places one label per point (centre, label width) inside `(left, top, right,
/// bottom)`: right of the point, else left, above or below it, else the nearest free
/// place further up or down on either side (with a leader line). A label never
/// overlaps another label or any point; when the plot is too full for that, the last
/// resort is the point's right side.
pub fn place_labels(points: &[(f64, f64, f64)], bounds: (f64, f64, f64, f64)) -> Vec<Placed> {
    let (bl, bt, br, bb) = bounds;
    let mut placed: Vec<Placed> = Vec::with_capacity(points.len());
    let boxed = |p: &Placed| {
        (
            p.left,
            p.baseline - LABEL_H + 3.0,
            p.left + p.width,
            p.baseline + 3.0,
        )
    };
    let overlaps = |a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)| {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    };
    for &(cx, cy, w) in points {
        let mut candidates: Vec<Placed> = vec![
            Placed {
                left: cx + 9.0,
                baseline: cy + 4.0,
                width: w,
                leader: false,
            },
            Placed {
                left: cx - 9.0 - w,
                baseline: cy + 4.0,
                width: w,
                leader: false,
            },
            Placed {
                left: cx - w / 2.0,
                baseline: cy - 9.0,
                width: w,
                leader: false,
            },
            Placed {
                left: cx - w / 2.0,
                baseline: cy + 18.0,
                width: w,
                leader: false,
            },
        ];
        for k in 1..40 {
            for dy in [k as f64 * LABEL_H, -(k as f64) * LABEL_H] {
                for left in [cx + 14.0, cx - 14.0 - w] {
                    candidates.push(Placed {
                        left,
                        baseline: cy + 4.0 + dy,
                        width: w,
                        leader: true,
                    });
                }
            }
        }
        let free = |c: &Placed| {
            let b = boxed(c);
            b.0 >= bl
                && b.2 <= br
                && b.1 >= bt
                && b.3 <= bb
                && placed.iter().all(|p| !overlaps(b, boxed(p)))
                && points.iter().all(|&(px, py, _)| {
                    !overlaps(b, (px - POINT_R, py - POINT_R, px + POINT_R, py + POINT_R))
                })
        };
        let chosen = candidates
            .iter()
            .find(|c| free(c))
            .copied()
            .unwrap_or(Placed {
                left: (cx + 9.0).min(br - w),
                baseline: cy + 4.0,
                width: w,
                leader: false,
            });
        placed.push(chosen);
    }
    placed
}

/// Roughly how wide a label of `text` is at 11 px (an average glyph of 6.3 px).
pub fn label_width(text: &str) -> f64 {
    6.3 * text.chars().count() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes(p: &[Placed]) -> Vec<(f64, f64, f64, f64)> {
        p.iter()
            .map(|p| {
                (
                    p.left,
                    p.baseline - LABEL_H + 3.0,
                    p.left + p.width,
                    p.baseline + 3.0,
                )
            })
            .collect()
    }

    /// Twenty touchpoints with nearly the same impact and performance: every label is
    /// inside the plot, none overlaps another or a point.
    #[test]
    fn twenty_close_points_get_labels_that_do_not_overlap() {
        let points: Vec<(f64, f64, f64)> = (0..20)
            .map(|k| {
                let name = format!("Touchpoint with a long name {k}");
                (
                    300.0 + (k % 5) as f64 * 4.0,
                    150.0 + (k / 5) as f64 * 3.0,
                    label_width(&name),
                )
            })
            .collect();
        let bounds = (48.0, 16.0, 624.0, 300.0);
        let placed = place_labels(&points, bounds);
        let b = boxes(&placed);
        for (k, x) in b.iter().enumerate() {
            assert!(
                x.0 >= bounds.0 && x.2 <= bounds.2 && x.1 >= bounds.1 && x.3 <= bounds.3,
                "label {k} inside: {x:?}"
            );
            for (j, y) in b.iter().enumerate().skip(k + 1) {
                let apart = x.2 <= y.0 || y.2 <= x.0 || x.3 <= y.1 || y.3 <= x.1;
                assert!(apart, "labels {k} and {j} overlap: {x:?} {y:?}");
            }
            for (px, py, _) in &points {
                let clear = x.2 <= px - POINT_R
                    || px + POINT_R <= x.0
                    || x.3 <= py - POINT_R
                    || py + POINT_R <= x.1;
                assert!(clear, "label {k} covers a point");
            }
        }
        // Labels moved away from their point get a leader line; the first is beside it.
        assert!(!placed[0].leader && placed.iter().any(|p| p.leader));
    }

    #[test]
    fn a_lone_point_is_labelled_on_its_right_unless_that_leaves_the_plot() {
        let w = label_width("Refund request");
        let p = place_labels(&[(100.0, 100.0, w)], (0.0, 0.0, 600.0, 300.0));
        assert_eq!(p[0].left, 109.0);
        let p = place_labels(&[(590.0, 100.0, w)], (0.0, 0.0, 600.0, 300.0));
        assert!(p[0].left + w <= 581.0);
    }
}
