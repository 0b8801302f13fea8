//! Percentiles and percentile curves read from HDR histograms of microseconds.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Latency percentiles of one target, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Recorded values.
    pub count: u64,
    /// Arithmetic mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest value.
    pub max_ms: f64,
}

fn ms(micros: u64) -> f64 {
    micros as f64 / 1_000.0
}

impl LatencySummary {
    /// Summarises a histogram of microseconds. An empty histogram gives all zeros.
    pub fn from_histogram(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self {
                count: 0,
                mean_ms: 0.0,
                p50_ms: 0.0,
                p90_ms: 0.0,
                p99_ms: 0.0,
                p999_ms: 0.0,
                max_ms: 0.0,
            };
        }
        Self {
            count: histogram.len(),
            mean_ms: histogram.mean() / 1_000.0,
            p50_ms: ms(histogram.value_at_quantile(0.5)),
            p90_ms: ms(histogram.value_at_quantile(0.9)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            p999_ms: ms(histogram.value_at_quantile(0.999)),
            max_ms: ms(histogram.max()),
        }
    }
}

/// One point of a percentile curve: `nines` is `-log10(1 - quantile)` (1 = p90,
/// 2 = p99, 3 = p99.9), so the tail gets as much room on a plot as the body.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// `-log10(1 - quantile)`.
    pub nines: f64,
    /// Latency at that quantile, in milliseconds.
    pub latency_ms: f64,
}

/// Latency at `steps_per_nine` evenly spaced points per decade of "nines", from the
/// minimum (0 nines) up to `max_nines` (capped by what the sample size can show:
/// `log10(count)`).
pub fn percentile_curve(
    histogram: &Histogram<u64>,
    max_nines: f64,
    steps_per_nine: u32,
) -> Vec<CurvePoint> {
    if histogram.is_empty() || steps_per_nine == 0 {
        return Vec::new();
    }
    let reachable = (histogram.len() as f64).log10().min(max_nines);
    let steps = (reachable * f64::from(steps_per_nine)).floor() as u32;
    (0..=steps)
        .map(|i| {
            let nines = f64::from(i) / f64::from(steps_per_nine);
            let quantile = 1.0 - 10f64.powf(-nines);
            CurvePoint {
                nines,
                latency_ms: ms(histogram.value_at_quantile(quantile)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_to_a_thousand_micros() -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        for micros in 1..=1_000 {
            histogram.record(micros).expect("in bounds");
        }
        histogram
    }

    #[test]
    fn percentiles_of_a_uniform_sample_are_exact() {
        let summary = LatencySummary::from_histogram(&one_to_a_thousand_micros());
        assert_eq!(
            summary,
            LatencySummary {
                count: 1_000,
                mean_ms: 0.5005,
                p50_ms: 0.5,
                p90_ms: 0.9,
                p99_ms: 0.99,
                p999_ms: 0.999,
                max_ms: 1.0,
            }
        );
    }

    #[test]
    fn an_empty_histogram_summarises_to_zeros() {
        let histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
        let summary = LatencySummary::from_histogram(&histogram);
        assert_eq!(
            (summary.count, summary.p99_ms, summary.max_ms),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn the_curve_stops_where_the_sample_runs_out_of_nines() {
        let curve = percentile_curve(&one_to_a_thousand_micros(), 5.0, 2);
        let nines: Vec<f64> = curve.iter().map(|p| p.nines).collect();
        assert_eq!(nines, vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]);
        let latencies: Vec<f64> = curve.iter().map(|p| p.latency_ms).collect();
        assert_eq!(
            latencies,
            vec![0.001, 0.684, 0.9, 0.969, 0.99, 0.997, 0.999]
        );
    }
}
