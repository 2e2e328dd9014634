//! The line logged when an IMAP session ends: Dovecot's `imap_logout_format`
//! expanded with this session's counters.

use std::net::IpAddr;

use crate::config::{VarError, VarTable};

/// Counters for the logout line, named after Dovecot 2.3's
/// `imap_logout_format` variables.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Messages that got `\Deleted` through STORE.
    pub deleted: u64,
    /// Messages expunged (EXPUNGE, CLOSE, MOVE).
    pub expunged: u64,
    /// Messages copied or moved into the `\Trash` special-use mailbox.
    pub trashed: u64,
    /// Messages expunged by `autoexpunge` (not implemented: always 0).
    pub autoexpunged: u64,
    /// Messages saved by APPEND.
    pub appended: u64,
    pub fetch_hdr_count: u64,
    pub fetch_hdr_bytes: u64,
    pub fetch_body_count: u64,
    pub fetch_body_bytes: u64,
}

/// Who the session was, for the user variables the format may use.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts<'a> {
    pub user: &'a str,
    pub home: &'a str,
    pub session: &'a str,
    pub local_ip: Option<IpAddr>,
    pub remote_ip: Option<IpAddr>,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// The variables of `imap_logout_format`: the logout counters first (so
/// `%i` is bytes in, as in Dovecot, not the user's uid), then the mail
/// user's (`%u`, `%n`, `%d`, `%s`, `%h`, `%l`, `%r`, `%{session}`).
pub fn variables(stats: &Stats, facts: &SessionFacts<'_>) -> VarTable {
    let counters = [
        ("fetch_hdr_count", stats.fetch_hdr_count),
        ("fetch_hdr_bytes", stats.fetch_hdr_bytes),
        ("fetch_body_count", stats.fetch_body_count),
        ("fetch_body_bytes", stats.fetch_body_bytes),
        ("deleted", stats.deleted),
        ("expunged", stats.expunged),
        ("trashed", stats.trashed),
        ("autoexpunged", stats.autoexpunged),
        ("appended", stats.appended),
    ];
    let mut table = VarTable::for_user(facts.user)
        .service("imap")
        .home(facts.home)
        .session(facts.session)
        .with(Some('i'), "input", facts.bytes_in.to_string())
        .with(Some('o'), "output", facts.bytes_out.to_string());
    for (name, value) in counters {
        table.set(None, name, value.to_string());
    }
    if let Some(ip) = facts.local_ip {
        table = table.local_ip(ip);
    }
    if let Some(ip) = facts.remote_ip {
        table = table.remote_ip(ip);
    }
    table
}

/// `imap_logout_format` expanded for this session. Unknown variables do
/// not spoil the line (see [`VarTable::expand_lenient`]).
pub fn logout_text(
    format: &str,
    stats: &Stats,
    facts: &SessionFacts<'_>,
) -> Result<String, VarError> {
    variables(stats, facts).expand_lenient(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOVECOT_DEFAULT: &str = "in=%i out=%o deleted=%{deleted} expunged=%{expunged} trashed=%{trashed} hdr_count=%{fetch_hdr_count} hdr_bytes=%{fetch_hdr_bytes} body_count=%{fetch_body_count} body_bytes=%{fetch_body_bytes}";

    fn facts() -> SessionFacts<'static> {
        SessionFacts {
            user: "jane@example.org",
            home: "/home/jane",
            session: "abc123",
            local_ip: "192.0.2.1".parse().ok(),
            remote_ip: "198.51.100.7".parse().ok(),
            bytes_in: 120,
            bytes_out: 4567,
        }
    }

    fn stats() -> Stats {
        Stats {
            deleted: 1,
            expunged: 2,
            trashed: 3,
            autoexpunged: 0,
            appended: 4,
            fetch_hdr_count: 5,
            fetch_hdr_bytes: 600,
            fetch_body_count: 7,
            fetch_body_bytes: 8000,
        }
    }

    #[test]
    fn dovecot_default_format() {
        assert_eq!(
            logout_text(DOVECOT_DEFAULT, &stats(), &facts()).unwrap(),
            "in=120 out=4567 deleted=1 expunged=2 trashed=3 hdr_count=5 hdr_bytes=600 body_count=7 body_bytes=8000"
        );
    }

    #[test]
    fn long_names_and_user_variables() {
        assert_eq!(
            logout_text(
                "%{input}/%{output} app=%{appended} auto=%{autoexpunged} %u %n %d %s %r %l %{session}",
                &stats(),
                &facts()
            )
            .unwrap(),
            "120/4567 app=4 auto=0 jane@example.org jane example.org imap 198.51.100.7 192.0.2.1 abc123"
        );
    }

    #[test]
    fn unknown_variables_as_dovecot() {
        assert_eq!(
            logout_text("in=%i x=%z y=%{recent}", &stats(), &facts()).unwrap(),
            "in=120 x= y=UNSUPPORTED_VARIABLE_recent"
        );
        assert_eq!(
            logout_text("bytes=%i/%o %", &stats(), &facts()),
            Err(VarError::TrailingPercent)
        );
    }
}
