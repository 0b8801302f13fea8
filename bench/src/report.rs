//! Results of a side-by-side run: the JSON file and the markdown tables.

use serde::{Deserialize, Serialize};

use crate::stats::{CurvePoint, LatencySummary};

/// What one target achieved over the measured phase of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    /// Name given with `--target` or `--spawn`.
    pub name: String,
    /// Base URL the load was sent to.
    pub url: String,
    /// Successful measured requests (ingest: documents indexed).
    pub successes: u64,
    /// Failed measured requests (ingest: failed batches).
    pub failures: u64,
    /// The first failure, to say what went wrong.
    pub first_failure: Option<String>,
    /// Wall-clock seconds of the measured phase of this target (sum of its slices).
    pub measured_seconds: f64,
    /// `successes / measured_seconds`, in [`RunReport::throughput_unit`].
    pub throughput: f64,
    /// Latency percentiles (ingest: from sending a batch to its task succeeding).
    pub latency: LatencySummary,
    /// Percentile curve, for plots.
    pub curve: Vec<CurvePoint>,
    /// The same per kind of request (search mix), in kind order; empty when the
    /// requests were not labelled (ingestion).
    #[serde(default)]
    pub by_kind: Vec<KindResult>,
}

/// What one target achieved on one kind of request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindResult {
    /// `keyword`, `get-by-id`, ...
    pub kind: String,
    /// Successful measured requests of this kind.
    pub successes: u64,
    /// Failed measured requests of this kind.
    pub failures: u64,
    /// The first failure of this kind.
    pub first_failure: Option<String>,
    /// Latency percentiles of the successful ones.
    pub latency: LatencySummary,
}

/// CPU and memory of one process the harness started (or itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessResult {
    /// What the process is (`meilisearch`, `nginx`, `miroir`, `miroir-bench`).
    pub role: String,
    /// The target it serves.
    pub target: String,
    /// Process id (the parent when children are included).
    pub pid: u32,
    /// User + system CPU seconds spent during the measured phase, children included.
    pub cpu_seconds: f64,
    /// Peak resident set (VmHWM) since the process started, children summed, in KiB.
    pub peak_rss_kib: u64,
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Scenario name.
    pub scenario: String,
    /// The command line that produced the report.
    pub command: String,
    /// Machine description (CPU model, cores, memory, kernel).
    pub machine: String,
    /// The target ratios are computed against.
    pub baseline: String,
    /// `req/s` or `docs/s`.
    pub throughput_unit: String,
    /// Per-target results, in the order the targets were given.
    pub targets: Vec<TargetResult>,
    /// Processes the harness started, and the harness itself.
    pub processes: Vec<ProcessResult>,
    /// Remarks printed under the tables (saturation, relay counts, shared processes).
    #[serde(default)]
    pub notes: Vec<String>,
}

fn ratio(value: f64, baseline: f64) -> String {
    if baseline > 0.0 && value.is_finite() {
        format!("{:.2}×", value / baseline)
    } else {
        "n/a".to_owned()
    }
}

impl RunReport {
    /// The baseline target's result, if it is among the targets.
    pub fn baseline_result(&self) -> Option<&TargetResult> {
        self.targets.iter().find(|t| t.name == self.baseline)
    }

    /// The results table, then the process table. Ratios are `target / baseline`: a
    /// throughput ratio above 1 is better, a latency ratio above 1 is worse.
    pub fn render_markdown(&self) -> String {
        let mut out = String::new();
        let unit = &self.throughput_unit;
        out.push_str(&format!(
            "| target | throughput ({unit}) | p50 (ms) | p99 (ms) | p99.9 (ms) | ok | errors | throughput vs {b} | p99 vs {b} |\n",
            b = self.baseline
        ));
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let baseline = self.baseline_result();
        for target in &self.targets {
            let (throughput_ratio, p99_ratio) = match baseline {
                Some(b) => (
                    ratio(target.throughput, b.throughput),
                    ratio(target.latency.p99_ms, b.latency.p99_ms),
                ),
                None => ("n/a".to_owned(), "n/a".to_owned()),
            };
            out.push_str(&format!(
                "| {} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} |\n",
                target.name,
                target.throughput,
                target.latency.p50_ms,
                target.latency.p99_ms,
                target.latency.p999_ms,
                target.successes,
                target.failures,
                throughput_ratio,
                p99_ratio,
            ));
        }
        if self.targets.iter().any(|t| t.by_kind.len() > 1) {
            out.push_str(&self.render_kinds(baseline));
        }
        if !self.processes.is_empty() {
            out.push('\n');
            out.push_str("| process | target | pid | CPU s (measured phase) | peak RSS (MiB) |\n");
            out.push_str("|---|---|---:|---:|---:|\n");
            for process in &self.processes {
                out.push_str(&format!(
                    "| {} | {} | {} | {:.2} | {:.1} |\n",
                    process.role,
                    process.target,
                    process.pid,
                    process.cpu_seconds,
                    process.peak_rss_kib as f64 / 1024.0,
                ));
            }
        }
        let failures = self.failure_notes();
        if !self.notes.is_empty() || !failures.is_empty() {
            out.push('\n');
            for note in self.notes.iter().chain(&failures) {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }

    /// Per kind of request, every target: counts, percentiles and the p99 ratio to the
    /// baseline's p99 on the same kind.
    fn render_kinds(&self, baseline: Option<&TargetResult>) -> String {
        let mut out = String::from("\n");
        out.push_str(&format!(
            "| kind | target | ok | errors | p50 (ms) | p99 (ms) | p99 vs {} |\n",
            self.baseline
        ));
        out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
        let mut kinds: Vec<&str> = self
            .targets
            .iter()
            .flat_map(|t| t.by_kind.iter().map(|k| k.kind.as_str()))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in kinds {
            let of = |t: &'_ TargetResult| t.by_kind.iter().find(|k| k.kind == kind).cloned();
            let base = baseline.and_then(of);
            for target in &self.targets {
                let Some(result) = of(target) else { continue };
                let p99_ratio = match &base {
                    Some(b) if result.successes > 0 => {
                        ratio(result.latency.p99_ms, b.latency.p99_ms)
                    }
                    _ => "n/a".to_owned(),
                };
                out.push_str(&format!(
                    "| {kind} | {} | {} | {} | {:.2} | {:.2} | {} |\n",
                    target.name,
                    result.successes,
                    result.failures,
                    result.latency.p50_ms,
                    result.latency.p99_ms,
                    p99_ratio,
                ));
            }
        }
        out
    }

    /// One line per target (and per kind, when labelled) that had errors, with the
    /// first error: a table cell only counts them.
    pub fn failure_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let clip = |text: &str| -> String {
            let one_line = text.replace(['\n', '\r'], " ");
            match one_line.char_indices().nth(300) {
                Some((cut, _)) => format!("{}…", &one_line[..cut]),
                None => one_line,
            }
        };
        for target in self.targets.iter().filter(|t| t.failures > 0) {
            let labelled: Vec<&KindResult> =
                target.by_kind.iter().filter(|k| k.failures > 0).collect();
            if labelled.is_empty() {
                notes.push(format!(
                    "{}: {} errors; first: `{}`",
                    target.name,
                    target.failures,
                    clip(target.first_failure.as_deref().unwrap_or("(not recorded)"))
                ));
            }
            for kind in labelled {
                notes.push(format!(
                    "{} ({}): {} of {} errors; first: `{}`",
                    target.name,
                    kind.kind,
                    kind.failures,
                    kind.successes + kind.failures,
                    clip(kind.first_failure.as_deref().unwrap_or("(not recorded)"))
                ));
            }
        }
        notes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, throughput: f64, p50: f64, p99: f64, p999: f64) -> TargetResult {
        TargetResult {
            name: name.to_owned(),
            url: format!("http://127.0.0.1/{name}"),
            successes: 1_000,
            failures: 0,
            first_failure: None,
            measured_seconds: 10.0,
            throughput,
            latency: LatencySummary {
                count: 1_000,
                mean_ms: p50,
                p50_ms: p50,
                p90_ms: p99,
                p99_ms: p99,
                p999_ms: p999,
                max_ms: p999,
            },
            curve: Vec::new(),
            by_kind: Vec::new(),
        }
    }

    fn report() -> RunReport {
        RunReport {
            scenario: "get-by-id".to_owned(),
            command: "miroir-bench get-by-id".to_owned(),
            machine: "test".to_owned(),
            baseline: "direct".to_owned(),
            throughput_unit: "req/s".to_owned(),
            targets: vec![
                target("direct", 400.0, 0.5, 1.0, 2.0),
                target("nginx", 300.0, 0.75, 1.5, 3.25),
            ],
            processes: vec![ProcessResult {
                role: "meilisearch".to_owned(),
                target: "direct".to_owned(),
                pid: 4242,
                cpu_seconds: 3.456,
                peak_rss_kib: 153_600,
            }],
            notes: vec!["nginx shares the node of direct".to_owned()],
        }
    }

    #[test]
    fn the_table_shows_each_target_with_ratios_to_the_baseline() {
        assert_eq!(
            report().render_markdown(),
            "\
| target | throughput (req/s) | p50 (ms) | p99 (ms) | p99.9 (ms) | ok | errors | throughput vs direct | p99 vs direct |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| direct | 400.0 | 0.50 | 1.00 | 2.00 | 1000 | 0 | 1.00× | 1.00× |
| nginx | 300.0 | 0.75 | 1.50 | 3.25 | 1000 | 0 | 0.75× | 1.50× |

| process | target | pid | CPU s (measured phase) | peak RSS (MiB) |
|---|---|---:|---:|---:|
| meilisearch | direct | 4242 | 3.46 | 150.0 |

- nginx shares the node of direct
"
        );
    }

    #[test]
    fn an_unknown_baseline_gives_no_ratios() {
        let mut report = report();
        report.baseline = "absent".to_owned();
        report.processes.clear();
        report.notes.clear();
        let table = report.render_markdown();
        assert!(table.ends_with("| nginx | 300.0 | 0.75 | 1.50 | 3.25 | 1000 | 0 | n/a | n/a |\n"));
        assert!(!table.contains("| process |"));
    }

    fn kind(name: &str, ok: u64, errors: u64, p99: f64, first: Option<&str>) -> KindResult {
        KindResult {
            kind: name.to_owned(),
            successes: ok,
            failures: errors,
            first_failure: first.map(str::to_owned),
            latency: LatencySummary {
                count: ok,
                mean_ms: p99 / 2.0,
                p50_ms: p99 / 2.0,
                p90_ms: p99,
                p99_ms: p99,
                p999_ms: p99,
                max_ms: p99,
            },
        }
    }

    #[test]
    fn labelled_runs_get_a_per_kind_table_and_their_errors_spelled_out() {
        let mut report = report();
        report.processes.clear();
        report.notes.clear();
        report.targets[0].by_kind = vec![
            kind("keyword", 990, 0, 1.0, None),
            kind("multi-search", 10, 0, 2.0, None),
        ];
        report.targets[1].failures = 10;
        report.targets[1].first_failure = Some("501 /multi-search: no".to_owned());
        report.targets[1].by_kind = vec![
            kind("keyword", 990, 0, 1.5, None),
            kind(
                "multi-search",
                0,
                10,
                0.0,
                Some("501 /multi-search: no\nmore"),
            ),
        ];
        let table = report.render_markdown();
        assert!(
            table.ends_with(
                "\
| kind | target | ok | errors | p50 (ms) | p99 (ms) | p99 vs direct |
|---|---|---:|---:|---:|---:|---:|
| keyword | direct | 990 | 0 | 0.50 | 1.00 | 1.00× |
| keyword | nginx | 990 | 0 | 0.75 | 1.50 | 1.50× |
| multi-search | direct | 10 | 0 | 1.00 | 2.00 | 1.00× |
| multi-search | nginx | 0 | 10 | 0.00 | 0.00 | n/a |

- nginx (multi-search): 10 of 10 errors; first: `501 /multi-search: no more`
"
            ),
            "{table}"
        );
    }

    #[test]
    fn unlabelled_errors_are_noted_with_the_first_one() {
        let mut report = report();
        report.targets[1].failures = 3;
        report.targets[1].first_failure = Some("timeout".to_owned());
        assert_eq!(
            report.failure_notes(),
            vec!["nginx: 3 errors; first: `timeout`".to_owned()]
        );
    }

    #[test]
    fn a_report_survives_a_json_round_trip() {
        let report = report();
        let json = serde_json::to_string(&report).expect("serialisable");
        let back: RunReport = serde_json::from_str(&json).expect("deserialisable");
        assert_eq!(back, report);
    }
}
