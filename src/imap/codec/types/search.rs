//! SEARCH keys (RFC 9051 6.4.4, RFC 3501 rev1 keys, CONDSTORE MODSEQ,
//! WITHIN OLDER/YOUNGER, SAVEDATE, OBJECTID).

use super::core::{AString, Atom};
use super::datetime::ImapDate;
use super::flag::Flag;
use super::sequence::SequenceSet;

/// `entry-type-req` of a MODSEQ search key (RFC 7162).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryType {
    Private,
    Shared,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    /// Several keys that must all match: a parenthesised list or the
    /// top-level key list.
    And(Vec<SearchKey>),
    SequenceSet(SequenceSet),
    All,
    Answered,
    Bcc(AString),
    Before(ImapDate),
    Body(AString),
    Cc(AString),
    Deleted,
    Draft,
    Flagged,
    From(AString),
    Header(AString, AString),
    Keyword(Flag),
    Larger(u64),
    New,
    Not(Box<SearchKey>),
    Old,
    On(ImapDate),
    Or(Box<SearchKey>, Box<SearchKey>),
    Recent,
    Seen,
    SentBefore(ImapDate),
    SentOn(ImapDate),
    SentSince(ImapDate),
    Since(ImapDate),
    Smaller(u64),
    Subject(AString),
    Text(AString),
    To(AString),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(Flag),
    Unseen,
    /// RFC 7162: `MODSEQ ["/flags/\\Seen" priv|shared|all] n`.
    ModSeq {
        entry: Option<(AString, EntryType)>,
        modseq: u64,
    },
    /// RFC 5032: seconds.
    Older(u32),
    Younger(u32),
    /// RFC 8514.
    SaveDateBefore(ImapDate),
    SaveDateOn(ImapDate),
    SaveDateSince(ImapDate),
    SaveDateSupported,
    /// RFC 8474.
    EmailId(Atom),
    ThreadId(Atom),
}
