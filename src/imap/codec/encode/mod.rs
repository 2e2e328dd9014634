//! Typed command → wire bytes (the client side of the codec). Used by
//! round-trip tests and fuzzing (`parse(encode(c)) == c`), and available
//! to test clients and the load generator. Literals are written inline as
//! `{n}`, i.e. the output is one frame; a real client must wait for `+`
//! after each synchronizing literal (or have LITERAL+).

mod context;
mod fetch;
mod search;
mod urlauth;

use super::response::{write_astring, write_string};
use super::types::{
    Command, CommandBody, FetchAttributes, FetchMacro, Flag, ListReturnOption, ListSelectOption,
    Mailbox, SequenceSet, SortKey, StatusItem, StoreAction, ThreadAlgorithm, is_astring_char,
};
use fetch::fetch_attribute;
use search::{search_command, search_criteria, search_return};

pub(super) fn astring(out: &mut Vec<u8>, bytes: &[u8]) {
    write_astring(out, bytes, true);
}

pub(super) fn mailbox(out: &mut Vec<u8>, m: &Mailbox) {
    astring(out, m.as_bytes());
}

pub(super) fn list_mailbox(out: &mut Vec<u8>, pattern: &[u8]) {
    let plain = !pattern.is_empty()
        && pattern
            .iter()
            .all(|&b| is_astring_char(b) || b == b'%' || b == b'*');
    if plain {
        out.extend_from_slice(pattern);
    } else {
        write_string(out, pattern, true);
    }
}

pub(super) fn flags(out: &mut Vec<u8>, list: &[Flag]) {
    out.push(b'(');
    for (i, f) in list.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        f.write(out);
    }
    out.push(b')');
}

pub(super) fn number(out: &mut Vec<u8>, n: impl Into<u64>) {
    out.extend_from_slice(n.into().to_string().as_bytes());
}

pub(super) fn status_item(item: StatusItem) -> &'static str {
    match item {
        StatusItem::Messages => "MESSAGES",
        StatusItem::UidNext => "UIDNEXT",
        StatusItem::UidValidity => "UIDVALIDITY",
        StatusItem::Unseen => "UNSEEN",
        StatusItem::Deleted => "DELETED",
        StatusItem::Size => "SIZE",
        StatusItem::Recent => "RECENT",
        StatusItem::HighestModSeq => "HIGHESTMODSEQ",
        StatusItem::AppendLimit => "APPENDLIMIT",
    }
}

pub(super) fn status_items(out: &mut Vec<u8>, items: &[StatusItem]) {
    out.push(b'(');
    let names: Vec<&str> = items.iter().map(|&i| status_item(i)).collect();
    out.extend_from_slice(names.join(" ").as_bytes());
    out.push(b')');
}

fn set(out: &mut Vec<u8>, s: &SequenceSet) {
    out.push(b' ');
    s.write(out);
}

impl Command {
    /// Appends the command, final CRLF included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        use CommandBody as B;
        out.extend_from_slice(self.tag.as_str().as_bytes());
        out.push(b' ');
        let name = match &self.body {
            B::Capability => "CAPABILITY",
            B::Noop => "NOOP",
            B::Logout => "LOGOUT",
            B::StartTls => "STARTTLS",
            B::Namespace => "NAMESPACE",
            B::Idle => "IDLE",
            B::Check => "CHECK",
            B::Close => "CLOSE",
            B::Unselect => "UNSELECT",
            B::Expunge => "EXPUNGE",
            _ => "",
        };
        out.extend_from_slice(name.as_bytes());
        self.encode_arguments(out);
        out.extend_from_slice(b"\r\n");
    }

    fn encode_arguments(&self, out: &mut Vec<u8>) {
        use CommandBody as B;
        match &self.body {
            B::Capability
            | B::Noop
            | B::Logout
            | B::StartTls
            | B::Namespace
            | B::Idle
            | B::Check
            | B::Close
            | B::Unselect
            | B::Expunge => {}
            B::Authenticate {
                mechanism,
                initial_response,
            } => {
                out.extend_from_slice(b"AUTHENTICATE ");
                out.extend_from_slice(mechanism.as_str().as_bytes());
                if let Some(ir) = initial_response {
                    out.push(b' ');
                    if ir.0.expose().is_empty() {
                        out.push(b'=');
                    } else {
                        super::base64::encode(ir.0.expose(), out);
                    }
                }
            }
            B::Login { username, password } => {
                out.extend_from_slice(b"LOGIN ");
                astring(out, username.as_bytes());
                out.push(b' ');
                astring(out, password.expose());
            }
            B::Enable { capabilities } => {
                out.extend_from_slice(b"ENABLE");
                for c in capabilities {
                    out.push(b' ');
                    out.extend_from_slice(c.as_str().as_bytes());
                }
            }
            B::Id { parameters: None } => out.extend_from_slice(b"ID NIL"),
            B::Id {
                parameters: Some(pairs),
            } => {
                out.extend_from_slice(b"ID (");
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    write_string(out, k.as_bytes(), true);
                    out.push(b' ');
                    match v {
                        Some(v) => write_string(out, v.as_bytes(), true),
                        None => out.extend_from_slice(b"NIL"),
                    }
                }
                out.push(b')');
            }
            B::Select { mailbox: m, params } | B::Examine { mailbox: m, params } => {
                out.extend_from_slice(if matches!(self.body, B::Select { .. }) {
                    b"SELECT "
                } else {
                    b"EXAMINE "
                });
                mailbox(out, m);
                let mut items: Vec<Vec<u8>> = Vec::new();
                if params.condstore {
                    items.push(b"CONDSTORE".to_vec());
                }
                if let Some(q) = &params.qresync {
                    let mut item = format!("QRESYNC ({} {}", q.uid_validity, q.modseq).into_bytes();
                    if let Some(k) = &q.known_uids {
                        set(&mut item, k);
                    }
                    if let Some((seqs, uids)) = &q.seq_match {
                        item.extend_from_slice(b" (");
                        seqs.write(&mut item);
                        set(&mut item, uids);
                        item.push(b')');
                    }
                    item.push(b')');
                    items.push(item);
                }
                if !items.is_empty() {
                    out.extend_from_slice(b" (");
                    out.extend_from_slice(&items.join(&b' '));
                    out.push(b')');
                }
            }
            B::Create {
                mailbox: m,
                special_use,
            } => {
                out.extend_from_slice(b"CREATE ");
                mailbox(out, m);
                if !special_use.is_empty() {
                    out.extend_from_slice(b" (USE ");
                    flags(out, special_use);
                    out.push(b')');
                }
            }
            B::Delete { mailbox: m } => {
                out.extend_from_slice(b"DELETE ");
                mailbox(out, m);
            }
            B::Rename { from, to } => {
                out.extend_from_slice(b"RENAME ");
                mailbox(out, from);
                out.push(b' ');
                mailbox(out, to);
            }
            B::Subscribe { mailbox: m } => {
                out.extend_from_slice(b"SUBSCRIBE ");
                mailbox(out, m);
            }
            B::Unsubscribe { mailbox: m } => {
                out.extend_from_slice(b"UNSUBSCRIBE ");
                mailbox(out, m);
            }
            B::List {
                extended,
                selection,
                reference,
                patterns,
                return_options,
            } => {
                out.extend_from_slice(b"LIST ");
                if *extended && selection.is_empty() && return_options.is_empty() {
                    out.extend_from_slice(b"() ");
                } else if !selection.is_empty() {
                    let names: Vec<&str> = selection
                        .iter()
                        .map(|s| match s {
                            ListSelectOption::Subscribed => "SUBSCRIBED",
                            ListSelectOption::Remote => "REMOTE",
                            ListSelectOption::RecursiveMatch => "RECURSIVEMATCH",
                            ListSelectOption::SpecialUse => "SPECIAL-USE",
                            ListSelectOption::Other(a) => a.as_str(),
                        })
                        .collect();
                    out.push(b'(');
                    out.extend_from_slice(names.join(" ").as_bytes());
                    out.extend_from_slice(b") ");
                }
                mailbox(out, reference);
                out.push(b' ');
                if patterns.len() == 1 {
                    list_mailbox(out, &patterns[0]);
                } else {
                    out.push(b'(');
                    for (i, p) in patterns.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        list_mailbox(out, p);
                    }
                    out.push(b')');
                }
                if !return_options.is_empty() {
                    out.extend_from_slice(b" RETURN (");
                    for (i, o) in return_options.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        match o {
                            ListReturnOption::Subscribed => out.extend_from_slice(b"SUBSCRIBED"),
                            ListReturnOption::Children => out.extend_from_slice(b"CHILDREN"),
                            ListReturnOption::SpecialUse => out.extend_from_slice(b"SPECIAL-USE"),
                            ListReturnOption::Status(items) => {
                                out.extend_from_slice(b"STATUS ");
                                status_items(out, items);
                            }
                            ListReturnOption::Other(a) => {
                                out.extend_from_slice(a.as_str().as_bytes())
                            }
                        }
                    }
                    out.push(b')');
                }
            }
            B::Lsub { reference, pattern } => {
                out.extend_from_slice(b"LSUB ");
                mailbox(out, reference);
                out.push(b' ');
                list_mailbox(out, pattern);
            }
            B::Status { mailbox: m, items } => {
                out.extend_from_slice(b"STATUS ");
                mailbox(out, m);
                out.push(b' ');
                status_items(out, items);
            }
            B::Append {
                mailbox: m,
                messages,
            } => {
                out.extend_from_slice(b"APPEND ");
                mailbox(out, m);
                for msg in messages {
                    out.push(b' ');
                    if !msg.flags.is_empty() {
                        flags(out, &msg.flags);
                        out.push(b' ');
                    }
                    if let Some(d) = &msg.date {
                        out.push(b'"');
                        d.write_unquoted(out);
                        out.extend_from_slice(b"\" ");
                    }
                    urlauth::append_data(out, &msg.data);
                }
            }
            B::UidExpunge { uids } => {
                out.extend_from_slice(b"UID EXPUNGE");
                set(out, uids);
            }
            B::Search { uid, search } => {
                out.extend_from_slice(if *uid { b"UID SEARCH" } else { b"SEARCH" });
                search_command(out, search);
            }
            B::Fetch {
                uid,
                set: s,
                attributes,
                modifiers,
            } => {
                out.extend_from_slice(if *uid { b"UID FETCH" } else { b"FETCH" });
                set(out, s);
                out.push(b' ');
                match attributes {
                    FetchAttributes::Macro(m) => out.extend_from_slice(match m {
                        FetchMacro::All => b"ALL",
                        FetchMacro::Fast => b"FAST",
                        FetchMacro::Full => b"FULL",
                    }),
                    FetchAttributes::List(list) => {
                        out.push(b'(');
                        for (i, a) in list.iter().enumerate() {
                            if i > 0 {
                                out.push(b' ');
                            }
                            fetch_attribute(out, a);
                        }
                        out.push(b')');
                    }
                }
                let mut mods: Vec<Vec<u8>> = Vec::new();
                if let Some(cs) = modifiers.changed_since {
                    mods.push(format!("CHANGEDSINCE {cs}").into_bytes());
                    if modifiers.vanished {
                        mods.push(b"VANISHED".to_vec());
                    }
                }
                if let Some(p) = modifiers.partial {
                    let mut m = b"PARTIAL ".to_vec();
                    p.write(&mut m);
                    mods.push(m);
                }
                if !mods.is_empty() {
                    out.extend_from_slice(b" (");
                    out.extend_from_slice(&mods.join(&b' '));
                    out.push(b')');
                }
            }
            B::Store {
                uid,
                set: s,
                unchanged_since,
                action,
                silent,
                flags: list,
            } => {
                out.extend_from_slice(if *uid { b"UID STORE" } else { b"STORE" });
                set(out, s);
                if let Some(u) = unchanged_since {
                    out.extend_from_slice(format!(" (UNCHANGEDSINCE {u})").as_bytes());
                }
                out.extend_from_slice(match action {
                    StoreAction::Replace => b" FLAGS",
                    StoreAction::Add => b" +FLAGS",
                    StoreAction::Remove => b" -FLAGS",
                });
                if *silent {
                    out.extend_from_slice(b".SILENT");
                }
                out.push(b' ');
                flags(out, list);
            }
            B::Copy {
                uid,
                set: s,
                mailbox: m,
            }
            | B::Move {
                uid,
                set: s,
                mailbox: m,
            } => {
                if *uid {
                    out.extend_from_slice(b"UID ");
                }
                out.extend_from_slice(if matches!(self.body, B::Copy { .. }) {
                    b"COPY"
                } else {
                    b"MOVE"
                });
                set(out, s);
                out.push(b' ');
                mailbox(out, m);
            }
            B::Sort {
                uid,
                criteria,
                search,
            } => {
                out.extend_from_slice(if *uid { b"UID SORT" } else { b"SORT" });
                search_return(out, &search.return_options);
                out.extend_from_slice(b" (");
                for (i, c) in criteria.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    if c.reverse {
                        out.extend_from_slice(b"REVERSE ");
                    }
                    out.extend_from_slice(match c.key {
                        SortKey::Arrival => b"ARRIVAL".as_slice(),
                        SortKey::Cc => b"CC",
                        SortKey::Date => b"DATE",
                        SortKey::From => b"FROM",
                        SortKey::Size => b"SIZE",
                        SortKey::Subject => b"SUBJECT",
                        SortKey::To => b"TO",
                        SortKey::DisplayFrom => b"DISPLAYFROM",
                        SortKey::DisplayTo => b"DISPLAYTO",
                    });
                }
                out.extend_from_slice(b") ");
                astring(
                    out,
                    search.charset.as_ref().map_or(b"UTF-8", |c| c.as_bytes()),
                );
                out.push(b' ');
                search_criteria(out, &search.criteria);
            }
            B::Thread {
                uid,
                algorithm,
                charset,
                criteria,
            } => {
                out.extend_from_slice(if *uid { b"UID THREAD " } else { b"THREAD " });
                out.extend_from_slice(
                    match algorithm {
                        ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
                        ThreadAlgorithm::References => "REFERENCES",
                        ThreadAlgorithm::Refs => "REFS",
                        ThreadAlgorithm::Other(a) => a.as_str(),
                    }
                    .as_bytes(),
                );
                out.push(b' ');
                astring(out, charset.as_bytes());
                out.push(b' ');
                search_criteria(out, criteria);
            }
            B::Compress { algorithm } => {
                out.extend_from_slice(b"COMPRESS ");
                out.extend_from_slice(algorithm.as_str().as_bytes());
            }
            B::CancelUpdate { tags } => context::cancel_update(out, tags),
            B::Notify(request) => context::notify(out, request),
            B::GenUrlAuth { .. } | B::ResetKey { .. } | B::UrlFetch { .. } => {
                urlauth::urlauth_command(out, &self.body);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::command::parse_command;

    /// parse → encode → parse gives the same command, and encoding is
    /// stable (encode of the re-parsed command is byte-identical).
    fn round_trip(input: &str) {
        let cmd = parse_command(input.as_bytes()).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
        let mut wire = Vec::new();
        cmd.encode(&mut wire);
        let again = parse_command(&wire)
            .unwrap_or_else(|e| panic!("{input:?} → {:?}: {e:?}", String::from_utf8_lossy(&wire)));
        assert_eq!(again, cmd, "{:?}", String::from_utf8_lossy(&wire));
        let mut wire2 = Vec::new();
        again.encode(&mut wire2);
        assert_eq!(wire2, wire);
    }

    #[test]
    fn every_command_round_trips() {
        for input in [
            "a CAPABILITY\r\n",
            "a NOOP\r\n",
            "a LOGOUT\r\n",
            "a STARTTLS\r\n",
            "a NAMESPACE\r\n",
            "a IDLE\r\n",
            "a CHECK\r\n",
            "a CLOSE\r\n",
            "a UNSELECT\r\n",
            "a EXPUNGE\r\n",
            "a AUTHENTICATE PLAIN\r\n",
            "a AUTHENTICATE PLAIN =\r\n",
            "a AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n",
            "a LOGIN fred \"p w\"\r\n",
            "a LOGIN \"nil\" {4}\r\na\r\nb\r\n",
            "a ENABLE IMAP4rev2 UTF8=ACCEPT\r\n",
            "a ID NIL\r\n",
            "a ID (\"name\" \"x\" \"v\" NIL)\r\n",
            "a ID ()\r\n",
            "a SELECT INBOX\r\n",
            "a EXAMINE x (CONDSTORE QRESYNC (1 2 3:4 (5 6)))\r\n",
            "a SELECT x (QRESYNC (1 2 (5 6)))\r\n",
            "a CREATE \"a b\" (USE (\\Drafts \\Sent))\r\n",
            "a CREATE \"Entwürfe\"\r\n",
            "a DELETE x\r\n",
            "a RENAME x y\r\n",
            "a SUBSCRIBE x\r\n",
            "a UNSUBSCRIBE x\r\n",
            "a LIST \"\" *\r\n",
            "a LIST (SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE X-Y) \"\" (a% \"b c\") RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS (MESSAGES SIZE) X-Z)\r\n",
            "a LSUB \"\" \"*\"\r\n",
            "a STATUS x (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT)\r\n",
            "a APPEND x (\\Seen) \" 1-Feb-2024 10:00:00 +0100\" {3}\r\nabc ~{2}\r\n\0\0 {0}\r\n\r\n",
            "a UID EXPUNGE 1:*\r\n",
            "a SEARCH ALL\r\n",
            "a UID SEARCH RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 OR (SEEN FLAGGED) NOT HEADER X {3}\r\na\nb UID $\r\n",
            "a SEARCH ANSWERED BCC x BEFORE 1-Jan-2020 BODY x CC x DELETED DRAFT FLAGGED FROM x KEYWORD k LARGER 5 NEW OLD ON 2-Feb-2021 RECENT SEEN SENTBEFORE 1-Jan-2020 SENTON 1-Jan-2020 SENTSINCE 1-Jan-2020 SINCE 1-Jan-2020 SMALLER 9 SUBJECT x TEXT x TO x UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k UNSEEN\r\n",
            "a SEARCH MODSEQ \"/flags/\\\\seen\" priv 5 MODSEQ 0 OLDER 5 YOUNGER 6 SAVEDBEFORE 1-Jan-2020 SAVEDON 1-Jan-2020 SAVEDSINCE 1-Jan-2020 SAVEDATESUPPORTED EMAILID abc THREADID T-1 1,3:5,7:*\r\n",
            "a FETCH 1:* ALL\r\n",
            "a FETCH 1 FAST\r\n",
            "a FETCH 1 FULL\r\n",
            "a UID FETCH 1:5 (FLAGS UID BODY.PEEK[1.2.HEADER.FIELDS (From \"To\")]<0.100> BODY[] BODY[2.MIME] BODY[TEXT] BINARY.PEEK[1]<1.2> BINARY[] BINARY.SIZE[2] PREVIEW (LAZY) MODSEQ SAVEDATE EMAILID THREADID ENVELOPE BODYSTRUCTURE BODY RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE INTERNALDATE) (CHANGEDSINCE 5 VANISHED)\r\n",
            "a FETCH 1 BODY[HEADER.FIELDS.NOT (X)] (CHANGEDSINCE 5)\r\n",
            "a STORE 1 FLAGS ()\r\n",
            "a UID STORE 1 (UNCHANGEDSINCE 0) +FLAGS.SILENT (\\Seen k)\r\n",
            "a STORE $ -FLAGS \\Deleted\r\n",
            "a COPY 1 x\r\n",
            "a UID COPY 1 x\r\n",
            "a MOVE 1 x\r\n",
            "a UID MOVE 1 x\r\n",
            "a SORT (REVERSE ARRIVAL CC DATE FROM SIZE SUBJECT TO DISPLAYFROM DISPLAYTO) UTF-8 ALL\r\n",
            "a UID SORT RETURN (COUNT) (DATE) US-ASCII SEEN UNSEEN\r\n",
            "a THREAD REFERENCES UTF-8 ALL\r\n",
            "a UID THREAD X-FOO \"UTF-8\" (SEEN)\r\n",
            "a COMPRESS DEFLATE\r\n",
            "a SEARCH RETURN (UPDATE CONTEXT PARTIAL -1:-100 MIN) ALL\r\n",
            "a UID SORT RETURN (PARTIAL 5:1 UPDATE) (DATE) UTF-8 ALL\r\n",
            "a UID FETCH 1:* (UID) (PARTIAL -1:-30 CHANGEDSINCE 4)\r\n",
            "a CANCELUPDATE \"a1\" \"b 2\"\r\n",
            "a NOTIFY NONE\r\n",
            "a NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER]) MessageExpunge FlagChange)) (subtree (x \"y z\") (MessageNew MessageExpunge MailboxName SubscriptionChange X-Ev)) (mailboxes INBOX NONE) (inboxes (MessageNew MessageExpunge)) (personal (MailboxName)) (subscribed (AnnotationChange MessageNew MessageExpunge))\r\n",
            "a APPEND x () CATENATE (TEXT {2}\r\nab URL \"/INBOX/;UID=1\" TEXT ~{1}\r\n\0) {1}\r\nc\r\n",
            "a GENURLAUTH \"imap://a@h/INBOX/;UID=1;URLAUTH=anonymous\" INTERNAL\r\n",
            "a RESETKEY\r\n",
            "a RESETKEY INBOX INTERNAL\r\n",
            "a URLFETCH x (y BODY BODYPARTSTRUCTURE) (z BINARY)\r\n",
        ] {
            round_trip(input);
        }
    }
}
