//! The OpenMetrics text exposition (OpenMetrics 1.0): families in a fixed
//! order, counters summed over the shards, `# EOF` last.

use std::fmt::Write;

use super::counters::{LoginResult, Service, ShardMetrics};
use super::histogram::{BOUNDS_SECONDS, Histogram, Snapshot};
use super::imap_commands::IMAP_COMMANDS;
use super::process::ProcessStats;
use super::{AuthKind, DeliveryResult, Registry};

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, unit: Option<&str>, help: &str) {
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        if let Some(u) = unit {
            let _ = writeln!(self.0, "# UNIT {name} {u}");
        }
        let _ = writeln!(self.0, "# HELP {name} {help}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                // Label values are fixed words or numbers: nothing to escape.
                let _ = write!(self.0, "{k}=\"{v}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Snapshot) {
        let bucket = format!("{name}_bucket");
        for (i, count) in h.cumulative.iter().enumerate() {
            let le = BOUNDS_SECONDS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| format!("{b:?}"));
            let mut l = labels.to_vec();
            l.push(("le", le.as_str()));
            self.sample(&bucket, &l, count);
        }
        self.sample(&format!("{name}_count"), labels, h.count());
        self.sample(
            &format!("{name}_sum"),
            labels,
            format!("{:?}", h.sum_seconds),
        );
    }
}

fn sum(r: &Registry, f: impl Fn(&ShardMetrics) -> u64) -> u64 {
    r.shards().iter().map(|m| f(m.as_ref())).sum()
}

fn merged<'a>(r: &'a Registry, f: impl Fn(&'a ShardMetrics) -> &'a Histogram) -> Snapshot {
    let mut s = Snapshot::default();
    for m in r.shards() {
        f(m.as_ref()).add_to(&mut s);
    }
    s
}

pub(super) fn render(r: &Registry, process: &ProcessStats, index_rebuilds: u64) -> String {
    let mut o = Out(String::with_capacity(8 * 1024));
    o.family(
        "tern_build_info",
        "gauge",
        None,
        "The running tern (always 1).",
    );
    o.sample(
        "tern_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );

    o.family(
        "tern_connections",
        "counter",
        None,
        "Client connections accepted, by protocol and implicit TLS.",
    );
    for s in Service::ALL {
        for tls in [false, true] {
            let n = sum(r, |m| m.connections(s, tls));
            let tls = if tls { "yes" } else { "no" };
            o.sample(
                "tern_connections_total",
                &[("protocol", s.label()), ("tls", tls)],
                n,
            );
        }
    }

    o.family(
        "tern_starttls",
        "counter",
        None,
        "STARTTLS/STLS handshakes completed.",
    );
    for s in [Service::Imap, Service::Pop3] {
        let n = sum(r, |m| m.starttls_count(s));
        o.sample("tern_starttls_total", &[("protocol", s.label())], n);
    }

    o.family("tern_logins", "counter", None, "Password checks that succeeded (mail_max_userip_connections may still refuse the login: see reason=userip_limit).");
    for s in [Service::Imap, Service::Pop3] {
        let n = sum(r, |m| m.logins(s, LoginResult::Ok));
        o.sample("tern_logins_total", &[("protocol", s.label())], n);
    }
    o.family(
        "tern_login_failures",
        "counter",
        None,
        "Logins refused, by reason.",
    );
    for s in [Service::Imap, Service::Pop3] {
        for reason in LoginResult::FAILURES {
            let n = sum(r, |m| m.logins(s, reason));
            o.sample(
                "tern_login_failures_total",
                &[("protocol", s.label()), ("reason", reason.label())],
                n,
            );
        }
    }

    for (name, help, pick) in [
        (
            "tern_received_bytes",
            "Bytes read from clients (TLS records included).",
            0,
        ),
        (
            "tern_sent_bytes",
            "Bytes written to clients (TLS records included).",
            1,
        ),
    ] {
        o.family(name, "counter", Some("bytes"), help);
        for s in Service::ALL {
            let n = sum(r, |m| {
                let (i, out) = m.bytes(s);
                if pick == 0 { i } else { out }
            });
            o.sample(&format!("{name}_total"), &[("protocol", s.label())], n);
        }
    }

    o.family(
        "tern_imap_command_duration_seconds",
        "histogram",
        Some("seconds"),
        "IMAP commands of logged-in sessions, by name: time from parsed to answered.",
    );
    for (i, name) in IMAP_COMMANDS.iter().enumerate() {
        let h = merged(r, |m| {
            m.imap_command_histogram(i)
                .expect("one histogram per command name")
        });
        if h.count() > 0 {
            o.histogram(
                "tern_imap_command_duration_seconds",
                &[("command", *name)],
                &h,
            );
        }
    }

    o.family(
        "tern_auth_request_duration_seconds",
        "histogram",
        Some("seconds"),
        "Password checks (passdb) and user lookups (userdb), through the auth helper when it runs.",
    );
    for kind in AuthKind::ALL {
        let h = merged(r, |m| m.auth_histogram(kind));
        o.histogram(
            "tern_auth_request_duration_seconds",
            &[("kind", kind.label())],
            &h,
        );
    }

    o.family(
        "tern_lmtp_deliveries",
        "counter",
        None,
        "LMTP deliveries, one per recipient, by outcome.",
    );
    for res in DeliveryResult::ALL {
        let n = sum(r, |m| m.lmtp_deliveries(res));
        o.sample("tern_lmtp_deliveries_total", &[("result", res.label())], n);
    }

    o.family(
        "tern_index_rebuilds",
        "counter",
        None,
        "Mailbox indexes rebuilt from the mail files.",
    );
    o.sample("tern_index_rebuilds_total", &[], index_rebuilds);

    o.family(
        "tern_shard_sessions",
        "gauge",
        None,
        "Sessions (IMAP, POP3, LMTP) open on each shard.",
    );
    for (i, m) in r.shards().iter().enumerate() {
        o.sample(
            "tern_shard_sessions",
            &[("shard", i.to_string().as_str())],
            m.sessions(),
        );
    }

    if let Some(v) = process.resident_bytes {
        o.family(
            "process_resident_memory_bytes",
            "gauge",
            Some("bytes"),
            "Resident memory size.",
        );
        o.sample("process_resident_memory_bytes", &[], v);
    }
    if let Some(v) = process.open_fds {
        o.family("process_open_fds", "gauge", None, "Open file descriptors.");
        o.sample("process_open_fds", &[], v);
    }
    if let Some(v) = process.max_fds {
        o.family("process_max_fds", "gauge", None, "The open-files limit.");
        o.sample("process_max_fds", &[], v);
    }
    o.0.push_str("# EOF\n");
    o.0
}
