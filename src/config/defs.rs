//! Registry of every setting tern knows: name, type, Dovecot 2.3 default, and whether
//! tern accepts it only for compatibility (with the warning to log when it is set).
//!
//! The parser uses it to reject unknown keys and bad values with a file:line, the
//! renderer to decide what differs from the default, and `settings.rs` for defaults.

use super::values::{self, ValueError};

/// Which closed list a workaround setting draws from (§8 of the config doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkaroundSet {
    Imap,
    Pop3,
    Lmtp,
}

impl WorkaroundSet {
    pub fn known(self) -> &'static [&'static str] {
        match self {
            WorkaroundSet::Imap => &["delay-newmail", "tb-extra-mailbox-sep", "tb-lsub-flags"],
            WorkaroundSet::Pop3 => &["outlook-no-nuls", "oe-ns-eoh"],
            WorkaroundSet::Lmtp => &["whitespace-before-path", "mailbox-for-path"],
        }
    }

    /// Names Dovecot still accepts but drops, with the reason it gives.
    pub fn obsolete(self) -> &'static [(&'static str, &'static str)] {
        match self {
            WorkaroundSet::Imap => &[
                ("outlook-idle", "no longer necessary"),
                ("netscape-eoh", "no longer supported"),
            ],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Bool,
    Uint,
    Octal,
    Size,
    Time,
    Port,
    Enum(&'static [&'static str]),
    /// Free text, printed as written.
    Str,
    /// Space/comma separated list, printed as written (doveconf keeps `*, ::`).
    List,
    /// Workaround list: validated, printed single-space separated, obsolete names dropped.
    Workarounds(WorkaroundSet),
    /// `auto` or a positive number.
    Shards,
    /// `0-3,8`
    CpuList,
    /// IP networks (`10.0.0.0/8 ::1`), printed as written.
    Networks,
    /// `protocols`: known protocol names, printed as written.
    Protocols,
}

/// Names `protocols` accepts (`imaps`, `pop3s`, `managesieve` are obsolete spellings).
pub const PROTOCOL_NAMES: &[&str] = &[
    "none",
    "imap",
    "pop3",
    "lmtp",
    "submission",
    "sieve",
    "imaps",
    "pop3s",
    "managesieve",
];

#[derive(Debug, Clone, Copy)]
pub struct SettingDef {
    pub name: &'static str,
    pub ty: ValueType,
    pub default: &'static str,
    /// Set when tern accepts the key only so Dovecot configs load; the text says why.
    pub ignored: Option<&'static str>,
    /// Printed by `config -n` whenever it was set explicitly, even to the default.
    /// Debian builds of Dovecot default `protocols` to empty, so `doveconf -n` shows it.
    pub always_print: bool,
}

mod tables;
use tables::unsupported;
pub use tables::*;

/// What kind of `{ }` block a section is; decides its keys and what may nest in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SectionKind {
    Root,
    Protocol,
    Local,
    Remote,
    LocalName,
    Service,
    InetListener,
    UnixListener,
    FifoListener,
    Passdb,
    Userdb,
    Namespace,
    Mailbox,
    Plugin,
    Dict,
    Metric,
    EventExporter,
}

/// Which keys a section accepts.
pub enum KeySet {
    Table(&'static [SettingDef]),
    /// Free-form (`plugin { }`): any key, any value.
    Free,
}

impl SectionKind {
    pub const ALL_NAMED: &'static [SectionKind] = &[
        SectionKind::Protocol,
        SectionKind::Local,
        SectionKind::Remote,
        SectionKind::LocalName,
        SectionKind::Service,
        SectionKind::InetListener,
        SectionKind::UnixListener,
        SectionKind::FifoListener,
        SectionKind::Passdb,
        SectionKind::Userdb,
        SectionKind::Namespace,
        SectionKind::Mailbox,
        SectionKind::Plugin,
        SectionKind::Dict,
        SectionKind::Metric,
        SectionKind::EventExporter,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            SectionKind::Root => "",
            SectionKind::Protocol => "protocol",
            SectionKind::Local => "local",
            SectionKind::Remote => "remote",
            SectionKind::LocalName => "local_name",
            SectionKind::Service => "service",
            SectionKind::InetListener => "inet_listener",
            SectionKind::UnixListener => "unix_listener",
            SectionKind::FifoListener => "fifo_listener",
            SectionKind::Passdb => "passdb",
            SectionKind::Userdb => "userdb",
            SectionKind::Namespace => "namespace",
            SectionKind::Mailbox => "mailbox",
            SectionKind::Plugin => "plugin",
            SectionKind::Dict => "dict",
            SectionKind::Metric => "metric",
            SectionKind::EventExporter => "event_exporter",
        }
    }

    pub fn from_keyword(word: &str) -> Option<SectionKind> {
        Self::ALL_NAMED
            .iter()
            .copied()
            .find(|k| k.keyword() == word)
    }

    pub fn is_filter(self) -> bool {
        matches!(
            self,
            SectionKind::Protocol
                | SectionKind::Local
                | SectionKind::Remote
                | SectionKind::LocalName
        )
    }

    /// Keys valid directly inside a section of this kind.
    pub fn keys(self) -> KeySet {
        match self {
            SectionKind::Root
            | SectionKind::Protocol
            | SectionKind::Local
            | SectionKind::Remote
            | SectionKind::LocalName => KeySet::Table(GLOBAL),
            SectionKind::Service => KeySet::Table(SERVICE),
            SectionKind::InetListener => KeySet::Table(INET_LISTENER),
            SectionKind::UnixListener | SectionKind::FifoListener => KeySet::Table(FILE_LISTENER),
            SectionKind::Passdb => KeySet::Table(PASSDB),
            SectionKind::Userdb => KeySet::Table(USERDB),
            SectionKind::Namespace => KeySet::Table(NAMESPACE),
            SectionKind::Mailbox => KeySet::Table(MAILBOX),
            SectionKind::Plugin
            | SectionKind::Dict
            | SectionKind::Metric
            | SectionKind::EventExporter => KeySet::Free,
        }
    }

    /// Whether a section name is required after the keyword.
    pub fn name_required(self) -> bool {
        self.is_filter()
            || matches!(
                self,
                SectionKind::Service
                    | SectionKind::UnixListener
                    | SectionKind::FifoListener
                    | SectionKind::Namespace
                    | SectionKind::Mailbox
                    | SectionKind::Metric
                    | SectionKind::EventExporter
            )
    }

    /// Sections tern accepts so Dovecot configs load, but does not act on.
    pub fn ignored_reason(self) -> Option<&'static str> {
        match self {
            SectionKind::Dict => Some("tern has no dict server"),
            SectionKind::Metric | SectionKind::EventExporter => {
                Some("tern exports its own OpenMetrics statistics")
            }
            _ => None,
        }
    }

    /// Repeated blocks form an ordered list instead of merging by name.
    pub fn repeatable(self, name: Option<&str>) -> bool {
        match self {
            SectionKind::Passdb | SectionKind::Userdb => true,
            SectionKind::InetListener => name.is_none(),
            _ => false,
        }
    }

    /// Whether `child` may be opened directly inside `self`; `None` = allowed,
    /// otherwise the reason for the error.
    pub fn child_error(self, child: SectionKind) -> Option<&'static str> {
        use SectionKind::*;
        let allowed = match self {
            Root => !matches!(child, InetListener | UnixListener | FifoListener | Mailbox),
            Protocol => matches!(child, Namespace | Plugin),
            Local => matches!(
                child,
                Protocol | LocalName | Remote | Local | Namespace | Plugin
            ),
            Remote => matches!(child, Protocol | Namespace | Plugin),
            LocalName => matches!(child, Protocol | Remote | Namespace | Plugin),
            Service => matches!(child, InetListener | UnixListener | FifoListener),
            Namespace => child == Mailbox,
            InetListener | UnixListener | FifoListener | Passdb | Userdb | Mailbox | Plugin
            | Dict | Metric | EventExporter => false,
        };
        if allowed {
            return None;
        }
        Some(match (self, child) {
            (Local | Remote, Passdb | Userdb) => {
                "Auth settings not supported inside local/remote blocks"
            }
            (Protocol, Protocol) => "protocol filter not allowed inside protocol filter",
            (Remote, Local) => "local filter not allowed inside remote filter (put local outside)",
            (_, InetListener | UnixListener | FifoListener) => {
                "listeners belong inside a service section"
            }
            (_, Mailbox) => "mailbox sections belong inside a namespace section",
            _ => "section not allowed here",
        })
    }
}

/// Looks up a key in a table (for the global table, the unsupported names too).
pub fn find(table: &'static [SettingDef], name: &str) -> Option<&'static SettingDef> {
    if std::ptr::eq(table, GLOBAL) {
        // ~200 entries, looked up for every typed field of every settings view.
        static INDEX: std::sync::OnceLock<
            std::collections::HashMap<&'static str, &'static SettingDef>,
        > = std::sync::OnceLock::new();
        let index = INDEX.get_or_init(|| GLOBAL.iter().map(|d| (d.name, d)).collect());
        return index.get(name).copied().or_else(|| unsupported(name));
    }
    table.iter().find(|d| d.name == name)
}

pub fn global(name: &str) -> Option<&'static SettingDef> {
    find(GLOBAL, name)
}

/// Auth settings are not allowed inside `local`/`remote` filters.
pub fn is_auth_setting(name: &str) -> bool {
    name.starts_with("auth_")
}

/// Keys whose values `config -n` hides unless asked to show secrets.
pub fn is_secret(name: &str) -> bool {
    name.ends_with("_password")
        || name.ends_with("_key")
        || name.ends_with("_nonce")
        || name.starts_with("ssl_dh")
}

/// Checks a value against its type and returns the form doveconf prints.
pub fn normalize(ty: ValueType, text: &str) -> Result<String, ValueError> {
    Ok(match ty {
        ValueType::Bool => values::format_bool(values::parse_bool(text)?).to_string(),
        // Every uint setting is 32-bit in the typed settings.
        ValueType::Uint => {
            let n = values::parse_uint(text)?;
            if n > u64::from(u32::MAX) {
                return Err(ValueError::TooLarge(text.to_string()));
            }
            n.to_string()
        }
        ValueType::Protocols => {
            if let Some(bad) = values::split_list(text)
                .into_iter()
                .find(|w| !PROTOCOL_NAMES.contains(w))
            {
                return Err(ValueError::Protocol(bad.to_string()));
            }
            text.to_string()
        }
        ValueType::Octal => values::format_octal(values::parse_octal(text)?),
        ValueType::Size => values::format_size(values::parse_size(text)?),
        ValueType::Time => values::format_time_ms(values::parse_time_ms(text)?),
        ValueType::Port => values::parse_port(text)?.to_string(),
        ValueType::Enum(allowed) => {
            if !allowed.contains(&text) {
                return Err(ValueError::Enum {
                    value: text.to_string(),
                    allowed: allowed.join(", "),
                });
            }
            text.to_string()
        }
        ValueType::Str | ValueType::List => text.to_string(),
        ValueType::Workarounds(set) => workarounds(set, text)?.kept.join(" "),
        ValueType::Shards => {
            if text == "auto" {
                text.to_string()
            } else {
                match values::parse_uint(text) {
                    Ok(n) if (1..=4096).contains(&n) => n.to_string(),
                    _ => return Err(ValueError::Shards(text.to_string())),
                }
            }
        }
        ValueType::CpuList => {
            values::parse_cpu_list(text)?;
            text.trim().to_string()
        }
        ValueType::Networks => {
            if let Some(bad) = values::split_list(text)
                .into_iter()
                .find(|w| super::tree::Network::parse(w).is_none())
            {
                return Err(ValueError::Network(bad.to_string()));
            }
            text.to_string()
        }
    })
}

/// A validated workaround list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workarounds {
    /// Known names, lower-cased, without duplicates.
    pub kept: Vec<String>,
    /// Obsolete names that were dropped, each with Dovecot's reason.
    pub dropped: Vec<(String, &'static str)>,
}

pub fn workarounds(set: WorkaroundSet, text: &str) -> Result<Workarounds, ValueError> {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for word in values::split_list(text) {
        let lower = word.to_ascii_lowercase();
        if set.known().contains(&lower.as_str()) {
            if !kept.contains(&lower) {
                kept.push(lower);
            }
        } else if let Some((_, why)) = set.obsolete().iter().find(|(n, _)| *n == lower) {
            dropped.push((lower, *why));
        } else {
            return Err(ValueError::Workaround(word.to_string()));
        }
    }
    Ok(Workarounds { kept, dropped })
}

/// Levenshtein distance, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b_chars.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b_chars.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            let insert = current[j] + 1;
            let delete = previous[j + 1] + 1;
            current.push(substitute.min(insert).min(delete));
        }
        previous = current;
    }
    previous[b_chars.len()]
}

/// The closest candidate, if it is close enough to be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueType::{Bool, Enum, Shards, Size, Time};

    #[test]
    fn every_default_is_valid_for_its_type() {
        for table in [
            GLOBAL,
            SERVICE,
            INET_LISTENER,
            FILE_LISTENER,
            PASSDB,
            USERDB,
            NAMESPACE,
            MAILBOX,
        ] {
            for d in table {
                assert!(
                    normalize(d.ty, d.default).is_ok(),
                    "bad default for {}",
                    d.name
                );
            }
        }
    }

    #[test]
    fn no_duplicate_names() {
        let mut names: Vec<&str> = GLOBAL.iter().map(|d| d.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn brief_settings_are_registered() {
        for name in [
            "base_dir",
            "ssl_dh",
            "auth_username_chars",
            "mail_fsync",
            "shards",
            "shard_cpus",
            "io_ring_depth",
            "mail_cache_max_memory",
            "lmtp_max_size",
            "replication_dsync_parameters",
            "lmtp_user_concurrency_limit",
            "imap_idle_notify_interval",
            "pop3_enable_last",
        ] {
            assert!(global(name).is_some(), "{name} missing");
        }
        assert_eq!(
            global("login_greeting").map(|d| d.default),
            Some("tern ready.")
        );
        assert!(global("ssl_dh").and_then(|d| d.ignored).is_some());
    }

    #[test]
    fn secrets() {
        assert!(is_secret("doveadm_password"));
        assert!(is_secret("ssl_key"));
        assert!(is_secret("ssl_dh"));
        assert!(is_secret("oauth_nonce"));
        assert!(!is_secret("ssl_cert"));
        assert!(!is_secret("ssl_key_file_x"));
    }

    #[test]
    fn workaround_validation() {
        let Workarounds { kept, dropped } = workarounds(
            WorkaroundSet::Imap,
            "delay-newmail,Outlook-Idle tb-lsub-flags",
        )
        .unwrap();
        assert_eq!(kept, vec!["delay-newmail", "tb-lsub-flags"]);
        assert_eq!(
            dropped,
            vec![("outlook-idle".to_string(), "no longer necessary")]
        );
        assert_eq!(
            workarounds(WorkaroundSet::Pop3, "oe-ns-eoh bogus").map(|w| w.kept),
            Err(ValueError::Workaround("bogus".into()))
        );
        assert_eq!(
            normalize(
                ValueType::Workarounds(WorkaroundSet::Pop3),
                "outlook-no-nuls,  oe-ns-eoh"
            )
            .unwrap(),
            "outlook-no-nuls oe-ns-eoh"
        );
    }

    #[test]
    fn normalizing() {
        assert_eq!(normalize(Size, "64k").unwrap(), "64 k");
        assert_eq!(normalize(Time, "120 secs").unwrap(), "2 mins");
        assert_eq!(normalize(Bool, "Y").unwrap(), "yes");
        assert_eq!(normalize(Shards, "auto").unwrap(), "auto");
        assert_eq!(normalize(Shards, "8").unwrap(), "8");
        assert!(normalize(Shards, "0").is_err());
        assert!(normalize(Enum(&["a", "b"]), "c").is_err());
    }

    #[test]
    fn suggestions() {
        let names = GLOBAL.iter().map(|d| d.name);
        assert_eq!(suggest("auth_mechanism", names), Some("auth_mechanisms"));
        assert_eq!(
            suggest("Auth_Mechanisms", GLOBAL.iter().map(|d| d.name)),
            Some("auth_mechanisms")
        );
        assert_eq!(suggest("zzzzzzzz", GLOBAL.iter().map(|d| d.name)), None);
    }
}
