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
                ("STARTTLS".to_string(), format!("{mechs} (after STARTTLS)"))
            }
            (_, false) => ("STARTTLS optional".to_string(), mechs),
        };
        out.push_str(&format!("  {proto:<9}{addr:<w$}{security:<22}{auth}\n"));
    }
    if let Some(pw) = demo_password {
        out.push_str(&format!(
            "\n  demo user: {}   password: {pw}\n  certificate: self-signed, in the data directory (clients will ask to trust it)\n",
            super::embedded::DEMO_USER
        ));
    }
    out.push_str("\ntern: ready\n");
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.as_bytes());
    let _ = so.flush();
}
