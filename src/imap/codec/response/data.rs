//! Untagged data responses (everything but FETCH and status responses)
//! and continuation requests.

use super::status::write_atoms;
use super::strings::{write_mailbox, write_string};
use super::{EncodeOptions, write_number};
use crate::imap::codec::base64;
use crate::imap::codec::types::{Atom, Flag, Mailbox, PartialRange, SequenceSet, StatusItem, Tag};

/// Mailbox attributes of LIST / LSUB (RFC 9051, RFC 5258, RFC 6154).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxAttribute {
    NoInferiors,
    NoSelect,
    Marked,
    Unmarked,
    NonExistent,
    Subscribed,
    Remote,
    HasChildren,
    HasNoChildren,
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
    /// Any other `\Name`.
    Other(Atom),
}

impl MailboxAttribute {
    fn write(&self, out: &mut Vec<u8>) {
        use MailboxAttribute as M;
        let name = match self {
            M::NoInferiors => "Noinferiors",
            M::NoSelect => "Noselect",
            M::Marked => "Marked",
            M::Unmarked => "Unmarked",
            M::NonExistent => "NonExistent",
            M::Subscribed => "Subscribed",
            M::Remote => "Remote",
            M::HasChildren => "HasChildren",
            M::HasNoChildren => "HasNoChildren",
            M::All => "All",
            M::Archive => "Archive",
            M::Drafts => "Drafts",
            M::Flagged => "Flagged",
            M::Junk => "Junk",
            M::Sent => "Sent",
            M::Trash => "Trash",
            M::Other(a) => a.as_str(),
        };
        out.push(b'\\');
        out.extend_from_slice(name.as_bytes());
    }
}

/// Extended data items after a LIST response (RFC 5258, RFC 9051).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListExtendedItem {
    /// `("CHILDINFO" ("SUBSCRIBED"))`
    ChildInfo(Vec<Atom>),
    /// `("OLDNAME" ("old"))`
    OldName(Mailbox),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResponse {
    pub attributes: Vec<MailboxAttribute>,
    /// Hierarchy delimiter; `None` for a flat namespace (NIL).
    pub delimiter: Option<u8>,
    pub mailbox: Mailbox,
    pub extended: Vec<ListExtendedItem>,
}

/// One namespace of a NAMESPACE response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceDescription {
    pub prefix: Vec<u8>,
    pub delimiter: Option<u8>,
}

/// A THREAD response node. `id: None` is a missing parent (the thread is
/// then written as nested lists only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadNode {
    pub id: Option<u32>,
    pub children: Vec<ThreadNode>,
}

/// Dropping iteratively: a long reply chain is a deep tree, and the
/// derived recursive drop would overflow the stack.
impl Drop for ThreadNode {
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.children);
        while let Some(mut node) = pending.pop() {
            pending.append(&mut node.children);
        }
    }
}

/// An item of an ESEARCH response (RFC 4731).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ESearchItem {
    Min(u32),
    Max(u32),
    All(SequenceSet),
    Count(u32),
    /// RFC 7162: highest mod-sequence of the matches.
    ModSeq(u64),
    /// RFC 9394: the window asked for and the results in it (`None`: NIL).
    Partial {
        range: PartialRange,
        results: Option<SequenceSet>,
    },
    /// RFC 5267 `ADDTO (position set ...)`: results to insert.
    AddTo(Vec<(u32, SequenceSet)>),
    /// RFC 5267 `REMOVEFROM (position set ...)`: results to remove.
    RemoveFrom(Vec<(u32, SequenceSet)>),
}

fn write_updates(out: &mut Vec<u8>, name: &[u8], pairs: &[(u32, SequenceSet)]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b" (");
    for (i, (position, set)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_number(out, *position);
        out.push(b' ');
        set.write(out);
    }
    out.push(b')');
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Capability(Vec<Atom>),
    List(ListResponse),
    Lsub(ListResponse),
    Status {
        mailbox: Mailbox,
        items: Vec<(StatusItem, u64)>,
    },
    Exists(u32),
    Recent(u32),
    Expunge(u32),
    /// RFC 7162 `VANISHED [(EARLIER)] uids`.
    Vanished {
        earlier: bool,
        uids: SequenceSet,
    },
    Flags(Vec<Flag>),
    /// `SEARCH n... [(MODSEQ m)]`.
    Search {
        ids: Vec<u32>,
        modseq: Option<u64>,
    },
    ESearch {
        tag: Option<Tag>,
        uid: bool,
        items: Vec<ESearchItem>,
    },
    Sort {
        ids: Vec<u32>,
        modseq: Option<u64>,
    },
    Thread(Vec<ThreadNode>),
    Enabled(Vec<Atom>),
    /// RFC 2971; `None` for `ID NIL`.
    Id(Option<Vec<(String, Option<String>)>>),
    Namespace {
        personal: Vec<NamespaceDescription>,
        other: Vec<NamespaceDescription>,
        shared: Vec<NamespaceDescription>,
    },
}

fn write_delimiter(out: &mut Vec<u8>, delimiter: Option<u8>) {
    match delimiter {
        Some(d) => {
            out.push(b'"');
            if d == b'"' || d == b'\\' {
                out.push(b'\\');
            }
            out.push(d);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"NIL"),
    }
}

fn write_ids(out: &mut Vec<u8>, ids: &[u32], modseq: Option<u64>) {
    for id in ids {
        out.push(b' ');
        write_number(out, *id);
    }
    if let Some(m) = modseq {
        out.extend_from_slice(b" (MODSEQ ");
        write_number(out, m);
        out.push(b')');
    }
}

fn status_item_name(item: StatusItem) -> &'static [u8] {
    match item {
        StatusItem::Messages => b"MESSAGES",
        StatusItem::UidNext => b"UIDNEXT",
        StatusItem::UidValidity => b"UIDVALIDITY",
        StatusItem::Unseen => b"UNSEEN",
        StatusItem::Deleted => b"DELETED",
        StatusItem::Size => b"SIZE",
        StatusItem::Recent => b"RECENT",
        StatusItem::HighestModSeq => b"HIGHESTMODSEQ",
        StatusItem::AppendLimit => b"APPENDLIMIT",
    }
}

fn write_list(out: &mut Vec<u8>, name: &[u8], list: &ListResponse, opts: EncodeOptions) {
    out.extend_from_slice(name);
    out.extend_from_slice(b" (");
    for (i, a) in list.attributes.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        a.write(out);
    }
    out.extend_from_slice(b") ");
    write_delimiter(out, list.delimiter);
    out.push(b' ');
    write_mailbox(out, &list.mailbox, opts.utf8);
    if list.extended.is_empty() {
        return;
    }
    out.extend_from_slice(b" (");
    for (i, item) in list.extended.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        match item {
            ListExtendedItem::ChildInfo(opts_list) => {
                out.extend_from_slice(b"\"CHILDINFO\" (");
                for (j, a) in opts_list.iter().enumerate() {
                    if j > 0 {
                        out.push(b' ');
                    }
                    write_string(out, a.as_str().as_bytes(), false);
                }
                out.push(b')');
            }
            ListExtendedItem::OldName(old) => {
                out.extend_from_slice(b"\"OLDNAME\" (");
                write_mailbox(out, old, opts.utf8);
                out.push(b')');
            }
        }
    }
    out.push(b')');
}

fn write_namespaces(out: &mut Vec<u8>, list: &[NamespaceDescription], opts: EncodeOptions) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for ns in list {
        out.push(b'(');
        write_string(out, &ns.prefix, opts.utf8);
        out.push(b' ');
        write_delimiter(out, ns.delimiter);
        out.push(b')');
    }
    out.push(b')');
}

/// Writes threads (RFC 5256) without recursion, so deep reply chains
/// cannot exhaust the stack. A node with one child continues the chain with
/// a space; several children each become a parenthesised sub-thread.
fn write_threads(out: &mut Vec<u8>, roots: &[ThreadNode]) {
    enum Op<'a> {
        Text(&'static [u8]),
        Chain(&'a ThreadNode),
    }
    let mut ops: Vec<Op<'_>> = Vec::new();
    for root in roots.iter().rev() {
        ops.extend([Op::Text(b")"), Op::Chain(root), Op::Text(b"(")]);
    }
    while let Some(op) = ops.pop() {
        let node = match op {
            Op::Text(t) => {
                out.extend_from_slice(t);
                continue;
            }
            Op::Chain(node) => node,
        };
        if let Some(id) = node.id {
            write_number(out, id);
        }
        match node.children.as_slice() {
            [] => {}
            [only] => {
                ops.push(Op::Chain(only));
                if node.id.is_some() {
                    ops.push(Op::Text(b" "));
                }
            }
            many => {
                for child in many.iter().rev() {
                    ops.extend([Op::Text(b")"), Op::Chain(child), Op::Text(b"(")]);
                }
                if node.id.is_some() {
                    ops.push(Op::Text(b" "));
                }
            }
        }
    }
}

impl Data {
    /// Appends the whole untagged response, `* ... CRLF`.
    pub fn encode(&self, out: &mut Vec<u8>, opts: EncodeOptions) {
        out.extend_from_slice(b"* ");
        match self {
            Data::Capability(caps) => {
                out.extend_from_slice(b"CAPABILITY ");
                write_atoms(out, caps);
            }
            Data::List(l) => write_list(out, b"LIST", l, opts),
            Data::Lsub(l) => write_list(out, b"LSUB", l, opts),
            Data::Status { mailbox, items } => {
                out.extend_from_slice(b"STATUS ");
                write_mailbox(out, mailbox, opts.utf8);
                out.extend_from_slice(b" (");
                for (i, (item, value)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(status_item_name(*item));
                    out.push(b' ');
                    write_number(out, *value);
                }
                out.push(b')');
            }
            Data::Exists(n) => {
                write_number(out, *n);
                out.extend_from_slice(b" EXISTS");
            }
            Data::Recent(n) => {
                write_number(out, *n);
                out.extend_from_slice(b" RECENT");
            }
            Data::Expunge(n) => {
                write_number(out, *n);
                out.extend_from_slice(b" EXPUNGE");
            }
            Data::Vanished { earlier, uids } => {
                out.extend_from_slice(b"VANISHED ");
                if *earlier {
                    out.extend_from_slice(b"(EARLIER) ");
                }
                uids.write(out);
            }
            Data::Flags(flags) => {
                out.extend_from_slice(b"FLAGS (");
                for (i, f) in flags.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    f.write(out);
                }
                out.push(b')');
            }
            Data::Search { ids, modseq } => {
                out.extend_from_slice(b"SEARCH");
                write_ids(out, ids, *modseq);
            }
            Data::Sort { ids, modseq } => {
                out.extend_from_slice(b"SORT");
                write_ids(out, ids, *modseq);
            }
            Data::ESearch { tag, uid, items } => {
                out.extend_from_slice(b"ESEARCH");
                if let Some(tag) = tag {
                    out.extend_from_slice(b" (TAG ");
                    write_string(out, tag.as_str().as_bytes(), false);
                    out.push(b')');
                }
                if *uid {
                    out.extend_from_slice(b" UID");
                }
                for item in items {
                    let (name, value): (&[u8], Option<u64>) = match item {
                        ESearchItem::Min(n) => (b" MIN ", Some(u64::from(*n))),
                        ESearchItem::Max(n) => (b" MAX ", Some(u64::from(*n))),
                        ESearchItem::Count(n) => (b" COUNT ", Some(u64::from(*n))),
                        ESearchItem::ModSeq(n) => (b" MODSEQ ", Some(*n)),
                        ESearchItem::All(set) => {
                            out.extend_from_slice(b" ALL ");
                            set.write(out);
                            (b"", None)
                        }
                        ESearchItem::Partial { range, results } => {
                            out.extend_from_slice(b" PARTIAL (");
                            range.write(out);
                            out.push(b' ');
                            match results {
                                Some(set) => set.write(out),
                                None => out.extend_from_slice(b"NIL"),
                            }
                            out.push(b')');
                            (b"", None)
                        }
                        ESearchItem::AddTo(pairs) => {
                            write_updates(out, b" ADDTO", pairs);
                            (b"", None)
                        }
                        ESearchItem::RemoveFrom(pairs) => {
                            write_updates(out, b" REMOVEFROM", pairs);
                            (b"", None)
                        }
                    };
                    if let Some(v) = value {
                        out.extend_from_slice(name);
                        write_number(out, v);
                    }
                }
            }
            Data::Thread(roots) => {
                out.extend_from_slice(b"THREAD");
                if !roots.is_empty() {
                    out.push(b' ');
                    write_threads(out, roots);
                }
            }
            Data::Enabled(caps) => {
                out.extend_from_slice(b"ENABLED");
                for c in caps {
                    out.push(b' ');
                    out.extend_from_slice(c.as_str().as_bytes());
                }
            }
            Data::Id(None) => out.extend_from_slice(b"ID NIL"),
            Data::Id(Some(pairs)) => {
                out.extend_from_slice(b"ID (");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    write_string(out, k.as_bytes(), opts.utf8);
                    out.push(b' ');
                    match v {
                        Some(v) => write_string(out, v.as_bytes(), opts.utf8),
                        None => out.extend_from_slice(b"NIL"),
                    }
                }
                out.push(b')');
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                out.extend_from_slice(b"NAMESPACE ");
                write_namespaces(out, personal, opts);
                out.push(b' ');
                write_namespaces(out, other, opts);
                out.push(b' ');
                write_namespaces(out, shared, opts);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// `+ text CRLF` (text may be empty: `+ CRLF`).
pub fn write_continuation(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"+ ");
    out.extend(text.bytes().map(|b| {
        if matches!(b, b'\r' | b'\n' | 0) {
            b' '
        } else {
            b
        }
    }));
    out.extend_from_slice(b"\r\n");
}

/// `+ base64 CRLF` for a SASL challenge.
pub fn write_continuation_base64(out: &mut Vec<u8>, challenge: &[u8]) {
    out.extend_from_slice(b"+ ");
    base64::encode(challenge, out);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(d: &Data, utf8: bool) -> Vec<u8> {
        let mut out = Vec::new();
        d.encode(&mut out, EncodeOptions { utf8 });
        out
    }

    fn atom(s: &str) -> Atom {
        Atom::try_from(s).unwrap()
    }

    fn node(id: u32, children: Vec<ThreadNode>) -> ThreadNode {
        ThreadNode {
            id: Some(id),
            children,
        }
    }

    #[test]
    fn simple_data() {
        let cases: Vec<(Data, &[u8])> = vec![
            (Data::Exists(23), b"* 23 EXISTS\r\n"),
            (Data::Recent(0), b"* 0 RECENT\r\n"),
            (Data::Expunge(3), b"* 3 EXPUNGE\r\n"),
            (
                Data::Capability(vec![atom("IMAP4rev2"), atom("IMAP4rev1"), atom("LITERAL+")]),
                b"* CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+\r\n",
            ),
            (
                Data::Flags(vec![Flag::Answered, Flag::Keyword(atom("$Junk"))]),
                b"* FLAGS (\\Answered $Junk)\r\n",
            ),
            (
                Data::Vanished {
                    earlier: true,
                    uids: SequenceSet::from_numbers(&[41, 43, 44, 45]).unwrap(),
                },
                b"* VANISHED (EARLIER) 41,43:45\r\n",
            ),
            (
                Data::Vanished {
                    earlier: false,
                    uids: SequenceSet::from_numbers(&[7]).unwrap(),
                },
                b"* VANISHED 7\r\n",
            ),
            (
                Data::Search {
                    ids: vec![2, 84, 882],
                    modseq: Some(917162500),
                },
                b"* SEARCH 2 84 882 (MODSEQ 917162500)\r\n",
            ),
            (
                Data::Search {
                    ids: vec![],
                    modseq: None,
                },
                b"* SEARCH\r\n",
            ),
            (
                Data::Sort {
                    ids: vec![5, 3],
                    modseq: None,
                },
                b"* SORT 5 3\r\n",
            ),
            (
                Data::ESearch {
                    tag: Tag::try_from("A282").ok(),
                    uid: true,
                    items: vec![
                        ESearchItem::Min(2),
                        ESearchItem::Count(3),
                        ESearchItem::All(SequenceSet::from_numbers(&[2, 10, 11]).unwrap()),
                        ESearchItem::ModSeq(5),
                    ],
                },
                b"* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3 ALL 2,10:11 MODSEQ 5\r\n",
            ),
            (
                Data::ESearch {
                    tag: None,
                    uid: false,
                    items: vec![],
                },
                b"* ESEARCH\r\n",
            ),
            (
                Data::Enabled(vec![atom("CONDSTORE")]),
                b"* ENABLED CONDSTORE\r\n",
            ),
            (Data::Enabled(vec![]), b"* ENABLED\r\n"),
            (Data::Id(None), b"* ID NIL\r\n"),
            (
                Data::Id(Some(vec![
                    ("name".into(), Some("tern".into())),
                    ("os".into(), None),
                ])),
                b"* ID (\"name\" \"tern\" \"os\" NIL)\r\n",
            ),
            (
                Data::Namespace {
                    personal: vec![NamespaceDescription {
                        prefix: vec![],
                        delimiter: Some(b'/'),
                    }],
                    other: vec![],
                    shared: vec![NamespaceDescription {
                        prefix: b"Public\\".to_vec(),
                        delimiter: Some(b'\\'),
                    }],
                },
                b"* NAMESPACE ((\"\" \"/\")) NIL ((\"Public\\\\\" \"\\\\\"))\r\n",
            ),
            (
                Data::Status {
                    mailbox: Mailbox::from("blurdybloop"),
                    items: vec![
                        (StatusItem::Messages, 231),
                        (StatusItem::Size, 44_000_000_000),
                    ],
                },
                b"* STATUS blurdybloop (MESSAGES 231 SIZE 44000000000)\r\n",
            ),
        ];
        for (data, want) in cases {
            assert_eq!(
                String::from_utf8_lossy(&enc(&data, false)),
                String::from_utf8_lossy(want),
                "{data:?}"
            );
        }
    }

    #[test]
    fn list_responses() {
        let l = ListResponse {
            attributes: vec![MailboxAttribute::HasNoChildren, MailboxAttribute::Drafts],
            delimiter: Some(b'/'),
            mailbox: Mailbox::from("Entwürfe"),
            extended: vec![],
        };
        assert_eq!(
            enc(&Data::List(l.clone()), true),
            "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Entwürfe\"\r\n".as_bytes()
        );
        assert_eq!(
            enc(&Data::List(l), false),
            "* LIST (\\HasNoChildren \\Drafts) \"/\" {9}\r\nEntwürfe\r\n".as_bytes()
        );
        let l = ListResponse {
            attributes: vec![MailboxAttribute::NonExistent],
            delimiter: None,
            mailbox: Mailbox::from("Foo"),
            extended: vec![
                ListExtendedItem::ChildInfo(vec![atom("SUBSCRIBED")]),
                ListExtendedItem::OldName(Mailbox::from("Old Foo")),
            ],
        };
        assert_eq!(
            enc(&Data::List(l), false),
            b"* LIST (\\NonExistent) NIL Foo (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (\"Old Foo\"))\r\n"
        );
        let l = ListResponse {
            attributes: vec![],
            delimiter: Some(b'.'),
            mailbox: Mailbox::Inbox,
            extended: vec![],
        };
        assert_eq!(enc(&Data::Lsub(l), false), b"* LSUB () \".\" INBOX\r\n");
    }

    #[test]
    fn threads() {
        // RFC 5256 example: (2)(3 6 (4 23)(44 7 96))
        let roots = vec![
            node(2, vec![]),
            node(
                3,
                vec![node(
                    6,
                    vec![
                        node(4, vec![node(23, vec![])]),
                        node(44, vec![node(7, vec![node(96, vec![])])]),
                    ],
                )],
            ),
        ];
        assert_eq!(
            enc(&Data::Thread(roots), false),
            b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"
        );
        let missing_parent = vec![ThreadNode {
            id: None,
            children: vec![node(3, vec![]), node(5, vec![])],
        }];
        assert_eq!(
            enc(&Data::Thread(missing_parent), false),
            b"* THREAD ((3)(5))\r\n"
        );
        assert_eq!(enc(&Data::Thread(vec![]), false), b"* THREAD\r\n");
        // A 100,000-message reply chain must not overflow the stack.
        let mut chain = node(100_000, vec![]);
        for id in (1..100_000).rev() {
            chain = node(id, vec![chain]);
        }
        let out = enc(&Data::Thread(vec![chain]), false);
        assert!(out.starts_with(b"* THREAD (1 2 3 "));
        assert!(out.ends_with(b" 99999 100000)\r\n"));
    }

    #[test]
    fn continuations() {
        let mut out = Vec::new();
        write_continuation(&mut out, "");
        write_continuation(&mut out, "Ready\r\nfor more");
        write_continuation_base64(&mut out, b"\0a");
        assert_eq!(out, b"+ \r\n+ Ready  for more\r\n+ AGE=\r\n");
    }
}
