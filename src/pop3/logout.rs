//! The POP3 logout counters and Dovecot's `pop3_logout_format` expansion
//! (default `top=%t/%p, retr=%r/%b, del=%d/%m, size=%s`). Pure: no I/O.

use std::net::IpAddr;

use crate::config::{VarError, VarTable};

/// The counters Dovecot prints in its logout line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogoutStats {
    pub top_count: u64,
    pub top_bytes: u64,
    pub retr_count: u64,
    pub retr_bytes: u64,
    /// Messages deleted at QUIT; stays 0 unless the whole UPDATE worked.
    pub deleted_count: u64,
    pub deleted_bytes: u64,
    pub message_count: u64,
    pub mailbox_size: u64,
    /// Client bytes read and reply bytes written.
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The maildrop at login and after QUIT: message count and the XOR of
    /// the UIDLs' CRC-32s (`%{uidl_change}`).
    pub uidls_before: UidlDigest,
    pub uidls_after: UidlDigest,
}

/// A cheap fingerprint of a list of UIDLs, as Dovecot logs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UidlDigest {
    pub count: u64,
    pub hash: u32,
}

impl UidlDigest {
    pub fn of<'a>(uidls: impl Iterator<Item = &'a str>) -> UidlDigest {
        uidls.fold(UidlDigest::default(), |d, uidl| UidlDigest {
            count: d.count + 1,
            hash: d.hash ^ crc32(uidl.as_bytes()),
        })
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

impl LogoutStats {
    /// `%u`: `count/hash`, or `before -> after` when QUIT changed it.
    pub fn uidl_change(&self) -> String {
        let (a, b) = (self.uidls_before, self.uidls_after);
        if a == b {
            format!("{}/{:08x}", a.count, a.hash)
        } else {
            format!("{}/{:08x} -> {}/{:08x}", a.count, a.hash, b.count, b.hash)
        }
    }
}

/// Who the session was, for the user variables the format may use.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts<'a> {
    pub user: &'a str,
    pub session: &'a str,
    pub local_ip: Option<IpAddr>,
    pub remote_ip: Option<IpAddr>,
}

/// Dovecot's POP3 logout table; its letters win over the mail user's
/// (`%u` is the UIDL change, `%d` deletions), whose variables stay
/// reachable by long name (`%{user}`, `%{domain}`, …).
pub fn variables(stats: &LogoutStats, facts: &SessionFacts<'_>) -> VarTable {
    let (name, domain) = facts.user.split_once('@').unwrap_or((facts.user, ""));
    let mut table = VarTable::new()
        .with(None, "user", facts.user)
        .with(Some('n'), "username", name)
        .with(None, "domain", domain)
        .with(None, "service", "pop3")
        .session(facts.session);
    if let Some(ip) = facts.local_ip {
        table = table.local_ip(ip);
    }
    if let Some(ip) = facts.remote_ip {
        table.set(None, "rip", ip.to_string());
    }
    let counters = [
        ('p', "top_bytes", stats.top_bytes),
        ('t', "top_count", stats.top_count),
        ('b', "retr_bytes", stats.retr_bytes),
        ('r', "retr_count", stats.retr_count),
        ('d', "deleted_count", stats.deleted_count),
        ('m', "message_count", stats.message_count),
        ('s', "message_bytes", stats.mailbox_size),
        ('i', "input", stats.bytes_in),
        ('o', "output", stats.bytes_out),
    ];
    for (letter, long, value) in counters {
        table.set(Some(letter), long, value.to_string());
    }
    table.set(None, "deleted_bytes", stats.deleted_bytes.to_string());
    table.set(Some('u'), "uidl_change", stats.uidl_change());
    table
}

/// `pop3_logout_format` expanded; unknown variables do not spoil the line.
pub fn logout_text(
    format: &str,
    stats: &LogoutStats,
    facts: &SessionFacts<'_>,
) -> Result<String, VarError> {
    variables(stats, facts).expand_lenient(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOVECOT_DEFAULT: &str = "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s";

    fn facts() -> SessionFacts<'static> {
        SessionFacts {
            user: "jane@example.org",
            session: "s1",
            local_ip: "192.0.2.1".parse().ok(),
            remote_ip: "198.51.100.7".parse().ok(),
        }
    }

    fn stats() -> LogoutStats {
        LogoutStats {
            top_count: 1,
            top_bytes: 2,
            retr_count: 3,
            retr_bytes: 4,
            deleted_count: 5,
            deleted_bytes: 6,
            message_count: 7,
            mailbox_size: 8,
            bytes_in: 9,
            bytes_out: 10,
            ..LogoutStats::default()
        }
    }

    #[test]
    fn dovecot_default_format() {
        assert_eq!(
            logout_text(DOVECOT_DEFAULT, &stats(), &facts()).unwrap(),
            "top=1/2, retr=3/4, del=5/7, size=8"
        );
    }

    #[test]
    fn every_variable() {
        assert_eq!(
            logout_text(
                "%i/%o %{input}/%{output} %{top_count} %{deleted_bytes} %{message_bytes} %{user} %n %{domain} %{rip} %l %{session} %x %{nope}",
                &stats(),
                &facts()
            )
            .unwrap(),
            "9/10 9/10 1 6 8 jane@example.org jane example.org 198.51.100.7 192.0.2.1 s1  UNSUPPORTED_VARIABLE_nope"
        );
    }

    #[test]
    fn uidl_change() {
        let before = UidlDigest::of(["a", "b", "c"].into_iter());
        let after = UidlDigest::of(["a", "c"].into_iter());
        let crc = |s: &str| crc32(s.as_bytes());
        assert_eq!(
            crc("a"),
            0xe8b7_be43,
            "zlib's CRC-32, as Dovecot's crc32_str"
        );
        assert_eq!(before.count, 3);
        assert_eq!(before.hash, crc("a") ^ crc("b") ^ crc("c"));
        let mut s = LogoutStats {
            uidls_before: before,
            uidls_after: before,
            ..LogoutStats::default()
        };
        assert_eq!(
            logout_text("%u", &s, &facts()).unwrap(),
            format!("3/{:08x}", before.hash)
        );
        s.uidls_after = after;
        assert_eq!(
            logout_text("%{uidl_change}", &s, &facts()).unwrap(),
            format!("3/{:08x} -> 2/{:08x}", before.hash, after.hash)
        );
    }
}
