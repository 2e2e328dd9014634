//! The connection table printed at start-up: what an operator hands to
//! users to set up their mail clients.

use std::io::Write;
use std::path::Path;

use crate::server::plan::{ListenAddr, ServerPlan};
use crate::shard::env::Protocol;

pub fn print(plan: &ServerPlan, config: &Path, demo_password: Option<&str>) {
    let mut out = String::new();
    out.push_str(&format!(
        "tern {} serving with {} shard(s), config {}\n\n",
        env!("CARGO_PKG_VERSION"),
        plan.shard_cpus.len(),
        config.display()
    ));
    let addr_of = |a: &ListenAddr| match a {
        ListenAddr::Tcp(a) => a.to_string(),
        ListenAddr::Unix { path, .. } => format!("unix:{}", path.display()),
    };
    let w = plan
        .listeners
        .iter()
        .map(|l| addr_of(&l.addr).len() + 2)
        .max()
        .unwrap_or(10)
        .max(10);
    out.push_str(&format!(
        "  {:<9}{:<w$}{:<22}{}\n",
        "protocol", "address", "security", "authentication"
    ));
    let mut after_starttls = false;
    for l in &plan.listeners {
        let settings = plan.protocols.get(l.protocol);
        let proto = l.protocol.name().to_ascii_uppercase();
        let addr = addr_of(&l.addr);
        let mechs = settings
            .auth_mechanisms
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(", ");
        let (security, auth) = match (l.protocol, l.implicit_tls) {
            (Protocol::Lmtp, _) => ("none (MTA delivery)".to_string(), "none".to_string()),
            (_, true) => ("SSL/TLS".to_string(), mechs),
            (_, false) if !settings.tls_available || plan.tls.is_none() => {
                ("none".to_string(), mechs)
            }
            (_, false) if settings.tls_required || settings.disable_plaintext_auth => {
                after_starttls |= !settings.tls_required;
                ("STARTTLS".to_string(), format!("{mechs} (after STARTTLS*)"))
            }
            (_, false) => ("STARTTLS optional".to_string(), mechs),
        };
        out.push_str(&format!("  {proto:<9}{addr:<w$}{security:<22}{auth}\n"));
    }
    if after_starttls {
        out.push_str(
            "\n  * or without TLS from the server's own address (a client on 127.0.0.1 to\n    127.0.0.1) and from login_trusted_networks: Dovecot's rule, which tern keeps\n",
        );
    }
    if let Some(pw) = demo_password {
        out.push_str(&format!(
            "\n  demo user: {}   password: {pw}\n  certificate: self-signed, in the data directory (clients will ask to trust it)\n",
            super::embedded::DEMO_USER
        ));
        out.push_str(&loadtest_line(plan, config, pw));
    }
    out.push_str("\ntern: ready\n");
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.as_bytes());
    let _ = so.flush();
}

/// A `tern-loadtest` command that works against the embedded default as
/// printed: IMAPS, the demo user, the data directory's certificate.
fn loadtest_line(plan: &ServerPlan, config: &Path, password: &str) -> String {
    let Some(port) = plan.listeners.iter().find_map(|l| match l.addr {
        ListenAddr::Tcp(a) if l.protocol == Protocol::Imap && l.implicit_tls => Some(a.port()),
        _ => None,
    }) else {
        return String::new();
    };
    let cert = config.with_file_name("tern-cert.pem");
    format!(
        "\n  load test (from the source tree):\n    cargo run --release -p tern-loadtest -- login --port {port} --tls implicit --ca {} --user {} --password {password} --clients 10 --duration 10s\n",
        cert.display(),
        super::embedded::DEMO_USER
    )
}
