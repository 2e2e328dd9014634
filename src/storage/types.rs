//! Values exchanged between storage and the protocols.

pub use super::index::flag;
use super::name::MailboxName;

/// IMAP system flags (`\Recent` is separate: see [`MessageInfo::recent`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SystemFlags(pub u8);

impl SystemFlags {
    pub const ANSWERED: SystemFlags = SystemFlags(flag::ANSWERED);
    pub const FLAGGED: SystemFlags = SystemFlags(flag::FLAGGED);
    pub const DELETED: SystemFlags = SystemFlags(flag::DELETED);
    pub const SEEN: SystemFlags = SystemFlags(flag::SEEN);
    pub const DRAFT: SystemFlags = SystemFlags(flag::DRAFT);
    pub const NONE: SystemFlags = SystemFlags(0);

    pub fn contains(self, other: SystemFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn union(self, other: SystemFlags) -> SystemFlags {
        SystemFlags((self.0 | other.0) & flag::ALL)
    }
    pub fn without(self, other: SystemFlags) -> SystemFlags {
        SystemFlags(self.0 & !other.0)
    }
    /// IMAP names in canonical order.
    pub fn names(self) -> Vec<&'static str> {
        [
            (flag::ANSWERED, "\\Answered"),
            (flag::FLAGGED, "\\Flagged"),
            (flag::DELETED, "\\Deleted"),
            (flag::SEEN, "\\Seen"),
            (flag::DRAFT, "\\Draft"),
        ]
        .iter()
        .filter(|(b, _)| self.0 & b != 0)
        .map(|&(_, n)| n)
        .collect()
    }
}

impl std::ops::BitOr for SystemFlags {
    type Output = SystemFlags;
    fn bitor(self, rhs: SystemFlags) -> SystemFlags {
        self.union(rhs)
    }
}

/// Metadata of one message, as FETCH/STATUS/UIDL need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    pub uid: u32,
    pub flags: SystemFlags,
    pub keywords: Vec<String>,
    pub recent: bool,
    pub modseq: u64,
    /// INTERNALDATE, UNIX seconds.
    pub internal_date: i64,
    /// SAVEDATE, UNIX seconds.
    pub save_date: i64,
    /// Bytes stored on disk (LF line ends).
    pub physical_size: u64,
    /// RFC822.SIZE (CRLF line ends).
    pub virtual_size: u64,
    pub guid: String,
    /// POP3 UIDL kept from a migration (`P`), if any.
    pub pop3_uidl: Option<String>,
    /// POP3 listing order kept from a migration (`O`), if any.
    pub pop3_order: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    pub messages: u32,
    pub recent: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub uidnext: u32,
    pub uidvalidity: u32,
    pub highest_modseq: u64,
    /// Sum of RFC822.SIZE (STATUS SIZE, RFC 8438).
    pub size: u64,
}

/// A message to append (IMAP APPEND, LMTP delivery, COPY fallback).
#[derive(Debug, Clone, Default)]
pub struct AppendRequest {
    /// RFC 5322 bytes, CRLF or LF line ends.
    pub message: Vec<u8>,
    pub flags: SystemFlags,
    pub keywords: Vec<String>,
    /// INTERNALDATE; `None` means now.
    pub internal_date: Option<i64>,
    /// Keep a known GUID (migration, dsync); `None` generates one.
    pub guid: Option<String>,
    pub pop3_uidl: Option<String>,
    pub pop3_order: Option<u32>,
}

/// Which part of a message's wire form (CRLF line ends) a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePart {
    /// The whole message (`virtual_size` bytes).
    Whole,
    /// The header through the empty line that ends it (the whole message
    /// if it has none).
    Header,
    /// `len` bytes from `start` (BODY[]<start.len>).
    Range { start: u64, len: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreResult {
    /// The modseq given to changed messages (unchanged if nothing changed).
    pub modseq: u64,
    /// UIDs whose flags actually changed.
    pub changed: Vec<u32>,
    /// UIDs skipped because their modseq exceeded UNCHANGEDSINCE.
    pub modified: Vec<u32>,
}

/// COPYUID / MOVE answer data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyResult {
    pub dest_uidvalidity: u32,
    /// (source uid, destination uid), in source UID order.
    pub uid_map: Vec<(u32, u32)>,
}

/// What changed after a modseq (CONDSTORE CHANGEDSINCE, QRESYNC).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub highest_modseq: u64,
    /// Messages whose modseq is above the given one.
    pub changed: Vec<MessageInfo>,
    /// UIDs expunged after the given modseq.
    pub expunged: Vec<u32>,
    /// False when the expunge history no longer reaches back that far; the
    /// caller must then treat every UID it knows and we lack as expunged.
    pub expunged_complete: bool,
}

/// RFC 6154 special-use attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }
    pub fn parse(s: &str) -> Option<SpecialUse> {
        [
            SpecialUse::All,
            SpecialUse::Archive,
            SpecialUse::Drafts,
            SpecialUse::Flagged,
            SpecialUse::Junk,
            SpecialUse::Sent,
            SpecialUse::Trash,
        ]
        .into_iter()
        .find(|u| u.as_str().eq_ignore_ascii_case(s))
    }
}

/// One LIST entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    pub name: MailboxName,
    /// False for `\NoSelect` parents (a directory without messages).
    pub selectable: bool,
    pub has_children: bool,
    pub subscribed: bool,
    pub special_use: Option<SpecialUse>,
}

/// Validate an IMAP keyword (flag-keyword = atom, not starting with `\`).
pub fn valid_keyword(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 128
        && !k.starts_with('\\')
        && k.bytes()
            .all(|b| (0x21..0x7f).contains(&b) && !b"(){%*\"\\]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_keywords() {
        let f = SystemFlags::SEEN | SystemFlags::FLAGGED;
        assert!(f.contains(SystemFlags::SEEN));
        assert_eq!(f.without(SystemFlags::SEEN), SystemFlags::FLAGGED);
        assert_eq!(f.names(), vec!["\\Flagged", "\\Seen"]);
        assert!(valid_keyword("$Label1"));
        assert!(!valid_keyword("a b"));
        assert!(!valid_keyword("\\Seen"));
        assert!(!valid_keyword(""));
        assert_eq!(SpecialUse::parse("\\sent"), Some(SpecialUse::Sent));
    }
}
