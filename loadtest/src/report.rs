//! The final table and the JSON file.

use std::fmt::Write as _;
use std::time::Duration;

use crate::stats::Stats;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub op: String,
    pub count: u64,
    pub errors: u64,
    pub rate: f64,
    /// microseconds
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[derive(Debug, Clone)]
pub struct Summary {
    pub scenario: String,
    /// The operation whose count is "the" throughput (session, delivery, …).
    pub primary: String,
    pub primary_count: u64,
    pub primary_rate: f64,
    pub elapsed: Duration,
    pub generator_cpu: Duration,
    /// Primary operations done over the whole run, warm-up included: the
    /// generator's CPU time covers all of them.
    pub all_ops: u64,
    pub rows: Vec<Row>,
    pub notes: Vec<(String, f64)>,
    pub first_errors: Vec<(String, u64)>,
    /// `key=value` pairs describing the run (target, clients, tls…).
    pub params: Vec<(String, String)>,
}

impl Summary {
    pub fn new(
        scenario: &str,
        primary: &str,
        stats: &Stats,
        elapsed: Duration,
        generator_cpu: Duration,
        all_ops: u64,
        params: Vec<(String, String)>,
    ) -> Summary {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let rows = stats
            .ops
            .iter()
            .map(|(name, o)| {
                let h = &o.hist;
                let q = |x: f64| {
                    if h.is_empty() {
                        0
                    } else {
                        h.value_at_quantile(x)
                    }
                };
                Row {
                    op: (*name).to_string(),
                    count: h.len(),
                    errors: o.errors,
                    rate: h.len() as f64 / secs,
                    p50: q(0.5),
                    p90: q(0.9),
                    p99: q(0.99),
                    p999: q(0.999),
                    max: if h.is_empty() { 0 } else { h.max() },
                }
            })
            .collect();
        let primary_count = stats.count(primary);
        Summary {
            scenario: scenario.into(),
            primary: primary.into(),
            primary_count,
            primary_rate: primary_count as f64 / secs,
            elapsed,
            generator_cpu,
            all_ops: all_ops.max(primary_count),
            rows,
            notes: stats
                .notes
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
            first_errors: stats
                .first_errors
                .iter()
                .map(|(e, n)| (e.clone(), *n))
                .collect(),
            params,
        }
    }

    /// Generator CPU milliseconds per 1,000 primary operations (over the
    /// whole run, warm-up included).
    pub fn cpu_ms_per_1000(&self) -> Option<f64> {
        (self.all_ops > 0)
            .then(|| self.generator_cpu.as_secs_f64() * 1000.0 * 1000.0 / self.all_ops as f64)
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "op", "count", "errors", "rate/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
        );
        for r in &self.rows {
            let ms = |us: u64| format!("{:.3}", us as f64 / 1000.0);
            let _ = writeln!(
                out,
                "{:<14} {:>9} {:>7} {:>10.1} {:>9} {:>9} {:>9} {:>9} {:>9}",
                r.op,
                r.count,
                r.errors,
                r.rate,
                ms(r.p50),
                ms(r.p90),
                ms(r.p99),
                ms(r.p999),
                ms(r.max)
            );
        }
        let _ = writeln!(
            out,
            "{}: {} {} in {:.2} s = {:.1}/s",
            self.scenario,
            self.primary_count,
            self.primary,
            self.elapsed.as_secs_f64(),
            self.primary_rate
        );
        let cpu = self.generator_cpu.as_secs_f64();
        match self.cpu_ms_per_1000() {
            Some(per) => {
                let _ = writeln!(
                    out,
                    "generator CPU: {cpu:.2} s ({per:.1} ms per 1,000 {})",
                    self.primary
                );
            }
            None => {
                let _ = writeln!(out, "generator CPU: {cpu:.2} s");
            }
        }
        for (k, v) in &self.notes {
            if v.fract() == 0.0 {
                let _ = writeln!(out, "{k}: {v:.0}");
            } else {
                let _ = writeln!(out, "{k}: {v:.1}");
            }
        }
        if !self.first_errors.is_empty() {
            let _ = writeln!(out, "first errors:");
            for (e, n) in &self.first_errors {
                let _ = writeln!(out, "  {n:>7} × {e}");
            }
        }
        out
    }

    pub fn json(&self) -> String {
        let mut o = String::from("{\n");
        let _ = writeln!(o, "  \"scenario\": {},", js(&self.scenario));
        let _ = writeln!(o, "  \"primary\": {},", js(&self.primary));
        let _ = writeln!(o, "  \"primary_count\": {},", self.primary_count);
        let _ = writeln!(o, "  \"primary_rate\": {},", num(self.primary_rate));
        let _ = writeln!(o, "  \"elapsed_s\": {},", num(self.elapsed.as_secs_f64()));
        let _ = writeln!(
            o,
            "  \"generator_cpu_s\": {},",
            num(self.generator_cpu.as_secs_f64())
        );
        let _ = writeln!(
            o,
            "  \"generator_cpu_ms_per_1000\": {},",
            self.cpu_ms_per_1000().map_or("null".into(), num)
        );
        o.push_str("  \"params\": {");
        for (i, (k, v)) in self.params.iter().enumerate() {
            let _ = write!(o, "{}{}: {}", if i > 0 { ", " } else { "" }, js(k), js(v));
        }
        o.push_str("},\n  \"notes\": {");
        for (i, (k, v)) in self.notes.iter().enumerate() {
            let _ = write!(o, "{}{}: {}", if i > 0 { ", " } else { "" }, js(k), num(*v));
        }
        o.push_str("},\n  \"ops\": [\n");
        for (i, r) in self.rows.iter().enumerate() {
            let _ = writeln!(
                o,
                "    {{\"op\": {}, \"count\": {}, \"errors\": {}, \"rate\": {}, \"p50_us\": {}, \"p90_us\": {}, \"p99_us\": {}, \"p999_us\": {}, \"max_us\": {}}}{}",
                js(&r.op),
                r.count,
                r.errors,
                num(r.rate),
                r.p50,
                r.p90,
                r.p99,
                r.p999,
                r.max,
                if i + 1 < self.rows.len() { "," } else { "" }
            );
        }
        o.push_str("  ],\n  \"errors\": {");
        for (i, (e, n)) in self.first_errors.iter().enumerate() {
            let _ = write!(o, "{}{}: {n}", if i > 0 { ", " } else { "" }, js(e));
        }
        o.push_str("}\n}\n");
        o
    }
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "null".into()
    }
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Summary {
        let mut s = Stats::default();
        for us in 1..=1000u64 {
            s.record("session", Duration::from_micros(us * 10));
        }
        s.record("login", Duration::from_millis(2));
        s.error("login", || "NO \"bad\"\n".into());
        s.notes.insert("server_rss_kib_per_conn", 12.5);
        Summary::new(
            "login",
            "session",
            &s,
            Duration::from_secs(2),
            Duration::from_millis(500),
            0,
            vec![("clients".into(), "10".into())],
        )
    }

    #[test]
    fn percentiles_and_rates() {
        let sum = sample();
        let row = sum.rows.iter().find(|r| r.op == "session").unwrap();
        assert_eq!(row.count, 1000);
        assert!((row.rate - 500.0).abs() < 1e-9);
        // 3 significant digits: within 0.1 %
        assert!((4995..=5005).contains(&row.p50), "p50 {}", row.p50);
        assert!((8990..=9010).contains(&row.p90), "p90 {}", row.p90);
        assert!((9890..=9910).contains(&row.p99), "p99 {}", row.p99);
        assert!(row.max >= 9990 && row.max <= 10010);
        assert_eq!(sum.primary_count, 1000);
        assert!((sum.primary_rate - 500.0).abs() < 1e-9);
        assert_eq!(sum.cpu_ms_per_1000(), Some(500.0));
    }

    #[test]
    fn table_lines() {
        let t = sample().table();
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("op"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("session") && l.contains("1000"))
        );
        assert!(t.contains("login: 1000 session in 2.00 s = 500.0/s"));
        assert!(t.contains("500.0 ms per 1,000 session"));
        assert!(t.contains("server_rss_kib_per_conn: 12.5"));
        assert!(t.contains("first errors:"));
    }

    #[test]
    fn json_is_escaped_and_complete() {
        let j = sample().json();
        assert!(j.contains("\"primary_count\": 1000"));
        assert!(j.contains("\"op\": \"session\", \"count\": 1000"));
        assert!(j.contains("NO \\\"bad\\\"\\n"));
        assert!(j.contains("\"clients\": \"10\""));
        assert_eq!(j.matches('{').count(), j.matches('}').count());
        assert_eq!(js("\u{1}"), "\"\\u0001\"");
        assert_eq!(num(f64::NAN), "null");
    }
}
