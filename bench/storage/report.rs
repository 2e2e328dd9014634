//! The storage benchmark's markdown report: a table of measured rows, an
//! A/B table for the I/O-style comparison, and the machine description.

use super::run::Sample;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct Row {
    pub operation: String,
    pub in_flight: usize,
    pub sample: Sample,
    pub note: String,
}

/// One A/B pair measured in alternation: medians of each side's runs.
pub struct Comparison {
    pub operation: String,
    /// Operations per second of each run, in run order.
    pub a_runs: Vec<f64>,
    pub b_runs: Vec<f64>,
}

#[derive(Default)]
pub struct Report {
    pub header: String,
    pub rows: Vec<Row>,
    pub comparisons: Vec<Comparison>,
    pub a_label: String,
    pub b_label: String,
    pub notes: Vec<String>,
}

fn fmt_rate(x: f64) -> String {
    if x >= 100.0 {
        format!("{:.0}", x)
    } else {
        format!("{:.1}", x)
    }
}

fn fmt_us(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 100.0 {
        format!("{:.0} µs", us)
    } else {
        format!("{:.1} µs", us)
    }
}

impl Report {
    pub fn push(&mut self, operation: &str, in_flight: usize, sample: Sample, note: &str) {
        eprintln!(
            "  {operation}: {} ops in {:.2} s = {}/s, median {}, p99 {}",
            sample.ops,
            sample.wall.as_secs_f64(),
            fmt_rate(sample.per_second()),
            fmt_us(sample.median_us()),
            fmt_us(sample.p99_us())
        );
        self.rows.push(Row {
            operation: operation.into(),
            in_flight,
            sample,
            note: note.into(),
        });
    }

    pub fn markdown(&self) -> String {
        let mut s = self.header.clone();
        s.push_str("\n| operation | ops | in flight | wall | ops/s | median latency | p99 latency | note |\n");
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2} s | {} | {} | {} | {} |",
                r.operation,
                r.sample.ops,
                r.in_flight,
                r.sample.wall.as_secs_f64(),
                fmt_rate(r.sample.per_second()),
                fmt_us(r.sample.median_us()),
                fmt_us(r.sample.p99_us()),
                r.note
            );
        }
        if !self.comparisons.is_empty() {
            let _ = writeln!(
                s,
                "\n### I/O style: A = {}, B = {}\n\nRuns alternate A B A B …; \
                 figures are files/s, the median of each side's runs.\n",
                self.a_label, self.b_label
            );
            s.push_str("| operation | A runs | B runs | A median | B median | B / A |\n");
            s.push_str("|---|---|---|---:|---:|---:|\n");
            for c in &self.comparisons {
                let runs = |v: &[f64]| {
                    v.iter()
                        .map(|x| fmt_rate(*x))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let a = crate::common::median(&mut c.a_runs.clone());
                let b = crate::common::median(&mut c.b_runs.clone());
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {:.2} |",
                    c.operation,
                    runs(&c.a_runs),
                    runs(&c.b_runs),
                    fmt_rate(a),
                    fmt_rate(b),
                    b / a.max(1e-9)
                );
            }
        }
        if !self.notes.is_empty() {
            s.push_str("\n### Notes\n\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }
}

/// Civil date (UTC) of a UNIX day number (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD HH:MM UTC` now.
pub fn now_utc() -> (String, String) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let date = format!("{y:04}-{m:02}-{d:02}");
    let time = format!("{:02}:{:02} UTC", t / 3600, (t % 3600) / 60);
    (date, time)
}

/// Writes the report to `bench/results/storage-<date>.md` (or
/// `storage-<date>-quick.md` for a `--quick` run) and returns the path.
pub fn write(markdown: &str, date: &str, quick: bool) -> std::io::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results");
    std::fs::create_dir_all(&dir)?;
    let suffix = if quick { "-quick" } else { "" };
    let path = dir.join(format!("storage-{date}{suffix}.md"));
    std::fs::write(&path, markdown)?;
    Ok(path)
}
