//! The small chart of an outcome on the leader's page: baseline and target as lines, each
//! measurement as a point, drawn as SVG on the server (no script, no inline style: presentation
//! attributes only, which the pages' Content-Security-Policy allows).

use std::fmt::Write;

/// A measurement to draw: when (a short label) and its value as recorded.
pub struct Point<'a> {
    pub label: String,
    pub value: &'a str,
}

const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 140.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 26.0;

fn number(text: &str) -> Option<f64> {
    text.trim().trim_end_matches('%').trim().replace(',', ".").parse::<f64>().ok().filter(|v| v.is_finite())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The chart, or `None` when baseline and target are not both numbers (a qualitative outcome
/// is shown as text only).
pub fn outcome(title: &str, baseline: Option<&str>, target: Option<&str>, points: &[Point<'_>]) -> Option<String> {
    let (baseline, target) = (number(baseline?)?, number(target?)?);
    let values: Vec<(String, f64)> =
        points.iter().filter_map(|p| number(p.value).map(|v| (p.label.clone(), v))).collect();
    let mut lo = baseline.min(target);
    let mut hi = baseline.max(target);
    for (_, v) in &values {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.1;
    let (lo, hi) = (lo - pad, hi + pad);
    let y = |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |i: usize| {
        if values.len() <= 1 {
            LEFT + plot_width / 2.0
        } else {
            LEFT + plot_width * i as f64 / (values.len() - 1) as f64
        }
    };
    let description = format!(
        "{}: baseline {baseline}, target {target}{}",
        title,
        if values.is_empty() {
            ", no measurement yet".to_owned()
        } else {
            format!(", measured {}", values.iter().map(|(l, v)| format!("{v} ({l})")).collect::<Vec<_>>().join(", "))
        }
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>"#,
        label = escape(&description)
    );
    for (name, value, colour) in [("baseline", baseline, "#4a5360"), ("target", target, "#1d6b35")] {
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 4"/><text x="2" y="{ty:.1}" fill="{colour}">{name}</text><text x="2" y="{vy:.1}" fill="{colour}">{value}</text>"#,
            x2 = WIDTH - RIGHT,
            y = y(value),
            ty = y(value) - 2.0,
            vy = y(value) + 11.0,
        );
    }
    if values.len() > 1 {
        let line: Vec<String> =
            values.iter().enumerate().map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        let _ =
            write!(svg, r##"<polyline points="{}" fill="none" stroke="#0b4f9c" stroke-width="2"/>"##, line.join(" "));
    }
    let last = values.len().saturating_sub(1);
    for (i, (label, v)) in values.iter().enumerate() {
        // The first and last labels hang inwards, so that every label stays inside the chart.
        let anchor = match i {
            _ if last == 0 => "middle",
            0 => "start",
            i if i == last => "end",
            _ => "middle",
        };
        let _ = write!(
            svg,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="4" fill="#0b4f9c"/><text x="{cx:.1}" y="{ly}" text-anchor="{anchor}">{label}</text>"##,
            cx = x(i),
            cy = y(*v),
            ly = HEIGHT - 8.0,
            label = escape(label),
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// One bar of a bar chart: its label, its parts (value, colour, what it is) drawn one after the
/// other, and the figure written beside it.
pub struct Bar {
    pub label: String,
    pub parts: Vec<(f64, &'static str, &'static str)>,
    /// Drawn as an outline behind the parts (what was bought, the whole a part is of).
    pub outline: Option<f64>,
    pub figure: String,
}

/// A horizontal bar chart, one row per bar, scaled to the largest value; `title` names it for
/// screen readers (the page shows the same figures in a table beside it).
pub fn bars(title: &str, bars: &[Bar]) -> String {
    const ROW: f64 = 30.0;
    const LABEL: f64 = 150.0;
    const FIGURE: f64 = 90.0;
    let width = 480.0;
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let max = bars
        .iter()
        .map(|b| b.parts.iter().map(|(v, _, _)| v.max(0.0)).sum::<f64>().max(b.outline.unwrap_or(0.0)))
        .fold(0.0_f64, f64::max)
        .max(f64::EPSILON);
    let plot = width - LABEL - FIGURE;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>"#,
        label = escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let top = 4.0 + ROW * i as f64;
        let short: String = if bar.label.chars().count() > 22 {
            bar.label.chars().take(21).chain(['…']).collect()
        } else {
            bar.label.clone()
        };
        let _ = write!(svg, r#"<text x="0" y="{y:.1}">{}</text>"#, escape(&short), y = top + 18.0);
        if let Some(outline) = bar.outline {
            let _ = write!(
                svg,
                r##"<rect x="{LABEL}" y="{top:.1}" width="{w:.1}" height="22" fill="none" stroke="#4a5360" stroke-width="1.5"/>"##,
                w = plot * outline.max(0.0) / max
            );
        }
        let mut x = LABEL;
        for (value, colour, _) in &bar.parts {
            let w = plot * value.max(0.0) / max;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="14" fill="{colour}"/>"#,
                y = top + 4.0
            );
            x += w;
        }
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{y:.1}">{}</text>"#,
            escape(&bar.figure),
            x = width - FIGURE + 6.0,
            y = top + 18.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_outcomes_get_a_chart_and_qualitative_ones_none() {
        let points = [Point { label: "Feb".to_owned(), value: "4" }, Point { label: "Mar".to_owned(), value: "6" }];
        let svg = outcome("Delegates <daily>", Some("2"), Some("8"), &points).expect("a chart");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains("aria-label=\"Delegates &lt;daily&gt;: baseline 2, target 8, measured 4 (Feb), 6 (Mar)\"")
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(!svg.contains("style="), "no inline style: the CSP forbids it");
        assert!(outcome("Calmer", Some("often angry"), Some("rarely"), &points).is_none());
        assert!(outcome("x", Some("1"), None, &points).is_none());
        // A measurement that is not a number is left out of the drawing, not a failure.
        let odd = [Point { label: "Feb".to_owned(), value: "better" }];
        assert!(outcome("x", Some("1"), Some("2"), &odd).unwrap().contains("no measurement yet"));
    }
}
