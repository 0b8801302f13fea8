//! Latency percentile plots as SVG (plotters' SVG backend writes text as SVG `<text>`,
//! so it needs no font files; the PNG backend would).

use std::path::Path;

use plotters::prelude::*;

use crate::error::BenchError;
use crate::report::RunReport;

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Label of an x position in "nines": 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9%.
pub fn nines_label(nines: f64) -> String {
    let percent = 100.0 * (1.0 - 10f64.powf(-nines));
    let text = format!("{percent:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// Renders the latency-by-percentile curves of every target of `report` as an SVG
/// document.
///
/// # Errors
/// [`BenchError::Plot`] when plotters fails (it should not with an in-memory SVG).
pub fn latency_svg(report: &RunReport, title: &str) -> Result<String, BenchError> {
    let fail = |e: &dyn std::fmt::Display| BenchError::Plot {
        path: Path::new("latency.svg").to_path_buf(),
        why: e.to_string(),
    };
    let max_nines = report
        .targets
        .iter()
        .flat_map(|t| t.curve.iter().map(|p| p.nines))
        .fold(1.0_f64, f64::max);
    let max_ms = report
        .targets
        .iter()
        .flat_map(|t| t.curve.iter().map(|p| p.latency_ms))
        .fold(1.0_f64, f64::max)
        * 1.05;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 540)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..max_nines, 0.0..max_ms)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms)")
            .x_labels((max_nines.ceil() as usize) * 2 + 1)
            .x_label_formatter(&|x| nines_label(*x))
            .draw()
            .map_err(|e| fail(&e))?;
        for (i, target) in report.targets.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(
                    target.curve.iter().map(|p| (p.nines, p.latency_ms)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| fail(&e))?
                .label(target.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::TargetResult;
    use crate::stats::{CurvePoint, LatencySummary};

    #[test]
    fn nines_are_labelled_as_percentiles() {
        let labels: Vec<String> = [0.0, 1.0, 2.0, 3.0, 0.5]
            .into_iter()
            .map(nines_label)
            .collect();
        assert_eq!(labels, vec!["0%", "90%", "99%", "99.9%", "68.3772%"]);
    }

    #[test]
    fn the_plot_names_every_target() {
        let curve = vec![
            CurvePoint {
                nines: 0.0,
                latency_ms: 0.5,
            },
            CurvePoint {
                nines: 2.0,
                latency_ms: 3.0,
            },
        ];
        let target = |name: &str| TargetResult {
            name: name.to_owned(),
            url: String::new(),
            successes: 1,
            failures: 0,
            first_failure: None,
            by_kind: Vec::new(),
            measured_seconds: 1.0,
            throughput: 1.0,
            latency: LatencySummary::from_histogram(
                &hdrhistogram::Histogram::new_with_bounds(1, 10, 1).expect("bounds"),
            ),
            curve: curve.clone(),
        };
        let report = RunReport {
            scenario: "s".to_owned(),
            command: String::new(),
            machine: String::new(),
            baseline: "direct".to_owned(),
            throughput_unit: "req/s".to_owned(),
            targets: vec![target("direct"), target("nginx")],
            processes: Vec::new(),
            notes: Vec::new(),
        };
        let svg = latency_svg(&report, "get-by-id").expect("drawn");
        assert!(svg.starts_with("<svg"));
        // The SVG backend writes each label as a `<text>` element on lines of its own.
        for text in ["direct", "nginx", "get-by-id", "99%"] {
            assert!(
                svg.contains(&format!(">\n{text}\n</text>")),
                "{text} missing"
            );
        }
    }
}
