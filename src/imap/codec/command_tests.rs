//! Parser tests: every command form, good and bad.

use super::*;
use crate::imap::codec::types::*;
use std::num::NonZeroU32;

fn body(input: &str) -> CommandBody {
    match parse_command(input.as_bytes()) {
        Ok(cmd) => {
            assert_eq!(cmd.tag.as_str(), "t1", "tag of {input:?}");
            cmd.body
        }
        Err(e) => panic!("{input:?} failed: {e:?}"),
    }
}

fn err(input: &str) -> ParseError {
    match parse_command(input.as_bytes()) {
        Ok(cmd) => panic!("{input:?} parsed as {cmd:?}"),
        Err(e) => e,
    }
}

fn tag() -> Option<Tag> {
    Tag::try_from("t1").ok()
}

fn nz(n: u32) -> SeqBound {
    SeqBound::Value(NonZeroU32::new(n).unwrap())
}

fn set(ranges: &[(SeqBound, SeqBound)]) -> SequenceSet {
    SequenceSet::Ranges(
        ranges
            .iter()
            .map(|&(start, end)| SeqRange { start, end })
            .collect(),
    )
}

fn atom(s: &str) -> Atom {
    Atom::try_from(s).unwrap()
}

#[test]
fn no_argument_commands() {
    let cases = [
        ("CAPABILITY", CommandBody::Capability),
        ("noop", CommandBody::Noop),
        ("Logout", CommandBody::Logout),
        ("STARTTLS", CommandBody::StartTls),
        ("NAMESPACE", CommandBody::Namespace),
        ("IDLE", CommandBody::Idle),
        ("CHECK", CommandBody::Check),
        ("CLOSE", CommandBody::Close),
        ("UNSELECT", CommandBody::Unselect),
        ("EXPUNGE", CommandBody::Expunge),
    ];
    for (name, want) in cases {
        assert_eq!(body(&format!("t1 {name}\r\n")), want);
        // Bare LF is accepted too.
        assert_eq!(body(&format!("t1 {name}\n")), want);
        let e = err(&format!("t1 {name} extra\r\n"));
        assert_eq!((e.tag, e.kind), (tag(), ParseErrorKind::TrailingData));
    }
}

#[test]
fn tag_errors() {
    let e = err("+ NOOP\r\n");
    assert_eq!((e.tag, e.kind), (None, ParseErrorKind::InvalidTag));
    let e = err("\r\n");
    assert_eq!(e.tag, None);
    let e = err("t1\r\n");
    assert_eq!((e.tag, e.kind), (tag(), ParseErrorKind::Expected("space")));
    let e = err("t1 FROB\r\n");
    assert_eq!((e.tag, e.kind), (tag(), ParseErrorKind::UnknownCommand));
    let e = err("t1 NOOP");
    assert_eq!(e.kind, ParseErrorKind::Expected("end of line"));
    let e = err("t1 UID NOOP\r\n");
    assert_eq!(e.kind, ParseErrorKind::UnknownCommand);
}

#[test]
fn login_forms() {
    let b = body("t1 LOGIN fred \"pa ss\\\"word\"\r\n");
    let CommandBody::Login { username, password } = b else {
        panic!("{b:?}")
    };
    assert_eq!(username.as_bytes(), b"fred");
    assert_eq!(password.expose(), b"pa ss\"word");
    let b = body("t1 LOGIN {4}\r\nfred {3+}\r\na\"b\r\n");
    let CommandBody::Login { username, password } = b else {
        panic!("{b:?}")
    };
    assert_eq!(username.as_bytes(), b"fred");
    assert_eq!(password.expose(), b"a\"b");
    assert!(!format!("{:?}", body("t1 LOGIN u secretpw\r\n")).contains("secretpw"));
    assert_eq!(err("t1 LOGIN fred\r\n").tag, tag());
    assert_eq!(err("t1 LOGIN fred \"unterminated\r\n").tag, tag());
    assert_eq!(
        err("t1 LOGIN {9}\r\nfred x\r\n").kind,
        ParseErrorKind::Incomplete
    );
}

#[test]
fn authenticate_forms() {
    assert_eq!(
        body("t1 AUTHENTICATE PLAIN\r\n"),
        CommandBody::Authenticate {
            mechanism: atom("PLAIN"),
            initial_response: None
        }
    );
    assert_eq!(
        body("t1 AUTHENTICATE PLAIN =\r\n"),
        CommandBody::Authenticate {
            mechanism: atom("PLAIN"),
            initial_response: Some(InitialResponse(Secret::new(vec![])))
        }
    );
    let b = body("t1 AUTHENTICATE PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n");
    let CommandBody::Authenticate {
        initial_response: Some(InitialResponse(data)),
        ..
    } = b
    else {
        panic!("{b:?}")
    };
    assert_eq!(data.expose(), b"\0tim\0tanstaaftanstaaf");
    assert_eq!(
        err("t1 AUTHENTICATE PLAIN AHRp!\r\n").kind,
        ParseErrorKind::InvalidBase64
    );
    assert_eq!(
        parse_authenticate_data(b"dGVzdA==\r\n"),
        Ok(AuthenticateData::Response(Secret::new(b"test".to_vec())))
    );
    assert_eq!(
        parse_authenticate_data(b"*\r\n"),
        Ok(AuthenticateData::Cancel)
    );
    assert!(parse_authenticate_data(b"###\r\n").is_err());
    assert_eq!(
        parse_authenticate_data(b"\r\n"),
        Ok(AuthenticateData::Response(Secret::new(vec![])))
    );
    assert!(parse_idle_done(b"done\r\n").is_ok());
    assert!(parse_idle_done(b"DONE x\r\n").is_err());
}

#[test]
fn enable_id_compress() {
    assert_eq!(
        body("t1 ENABLE IMAP4rev2 CONDSTORE\r\n"),
        CommandBody::Enable {
            capabilities: vec![atom("IMAP4rev2"), atom("CONDSTORE")]
        }
    );
    assert_eq!(err("t1 ENABLE\r\n").tag, tag());
    assert_eq!(body("t1 ID NIL\r\n"), CommandBody::Id { parameters: None });
    assert_eq!(
        body("t1 ID (\"name\" \"Thunderbird\" \"version\" NIL)\r\n"),
        CommandBody::Id {
            parameters: Some(vec![
                (AString::from("name"), Some(AString::from("Thunderbird"))),
                (AString::from("version"), None)
            ])
        }
    );
    assert_eq!(err("t1 ID (\"name\")\r\n").tag, tag());
    assert_eq!(
        body("t1 COMPRESS DEFLATE\r\n"),
        CommandBody::Compress {
            algorithm: atom("DEFLATE")
        }
    );
}

#[test]
fn select_examine_params() {
    assert_eq!(
        body("t1 SELECT inbox\r\n"),
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: SelectParams::default()
        }
    );
    assert_eq!(
        body("t1 EXAMINE \"Sent Items\" (CONDSTORE)\r\n"),
        CommandBody::Examine {
            mailbox: Mailbox::from("Sent Items"),
            params: SelectParams {
                condstore: true,
                qresync: None
            }
        }
    );
    assert_eq!(
        body(
            "t1 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:5 10:14)))\r\n"
        ),
        CommandBody::Select {
            mailbox: Mailbox::Inbox,
            params: SelectParams {
                condstore: false,
                qresync: Some(QResync {
                    uid_validity: 67890007,
                    modseq: 20050715194045000,
                    known_uids: Some(set(&[
                        (nz(41), nz(41)),
                        (nz(43), nz(211)),
                        (nz(214), nz(541))
                    ])),
                    seq_match: Some((set(&[(nz(1), nz(5))]), set(&[(nz(10), nz(14))]))),
                })
            }
        }
    );
    let b = body("t1 SELECT x (QRESYNC (1 2))\r\n");
    assert!(matches!(
        b,
        CommandBody::Select {
            params: SelectParams {
                qresync: Some(QResync {
                    known_uids: None,
                    seq_match: None,
                    ..
                }),
                ..
            },
            ..
        }
    ));
    let b = body("t1 SELECT x (QRESYNC (1 2 (1 2)))\r\n");
    assert!(matches!(
        b,
        CommandBody::Select {
            params: SelectParams {
                qresync: Some(QResync {
                    known_uids: None,
                    seq_match: Some(_),
                    ..
                }),
                ..
            },
            ..
        }
    ));
    assert_eq!(err("t1 SELECT x (FOO)\r\n").tag, tag());
    assert_eq!(
        err("t1 SELECT x (QRESYNC (0 2))\r\n").kind,
        ParseErrorKind::InvalidNumber
    );
    assert_eq!(err("t1 SELECT\r\n").tag, tag());
}

#[test]
fn mailbox_management() {
    assert_eq!(
        body("t1 CREATE Drafts (USE (\\Drafts))\r\n"),
        CommandBody::Create {
            mailbox: Mailbox::from("Drafts"),
            special_use: vec![Flag::Extension(atom("Drafts"))]
        }
    );
    assert_eq!(
        body("t1 CREATE a/b\r\n"),
        CommandBody::Create {
            mailbox: Mailbox::from("a/b"),
            special_use: vec![]
        }
    );
    assert_eq!(
        body("t1 DELETE x\r\n"),
        CommandBody::Delete {
            mailbox: Mailbox::from("x")
        }
    );
    assert_eq!(
        body("t1 RENAME INBOX \"old mail\"\r\n"),
        CommandBody::Rename {
            from: Mailbox::Inbox,
            to: Mailbox::from("old mail")
        }
    );
    assert_eq!(
        body("t1 SUBSCRIBE x\r\n"),
        CommandBody::Subscribe {
            mailbox: Mailbox::from("x")
        }
    );
    assert_eq!(
        body("t1 UNSUBSCRIBE x\r\n"),
        CommandBody::Unsubscribe {
            mailbox: Mailbox::from("x")
        }
    );
    assert_eq!(err("t1 RENAME x\r\n").tag, tag());
    assert_eq!(
        err("t1 CREATE x (FOO (\\Drafts))\r\n").kind,
        ParseErrorKind::Expected("USE")
    );
    // 8-bit (UTF-8) mailbox names are kept as bytes.
    assert_eq!(
        body("t1 CREATE \"Entwürfe\"\r\n"),
        CommandBody::Create {
            mailbox: Mailbox::from("Entwürfe"),
            special_use: vec![]
        }
    );
}

#[test]
fn list_forms() {
    assert_eq!(
        body("t1 LIST \"\" *\r\n"),
        CommandBody::List {
            extended: false,
            selection: vec![],
            reference: Mailbox::from(""),
            patterns: vec![b"*".to_vec()],
            return_options: vec![]
        }
    );
    assert_eq!(
        body(
            "t1 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX% \"Other/*\") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))\r\n"
        ),
        CommandBody::List {
            extended: true,
            selection: vec![
                ListSelectOption::Subscribed,
                ListSelectOption::RecursiveMatch
            ],
            reference: Mailbox::from(""),
            patterns: vec![b"INBOX%".to_vec(), b"Other/*".to_vec()],
            return_options: vec![
                ListReturnOption::Children,
                ListReturnOption::SpecialUse,
                ListReturnOption::Status(vec![StatusItem::Messages, StatusItem::Unseen])
            ]
        }
    );
    assert_eq!(
        body("t1 LIST () \"\" % RETURN ()\r\n"),
        CommandBody::List {
            extended: true,
            selection: vec![],
            reference: Mailbox::from(""),
            patterns: vec![b"%".to_vec()],
            return_options: vec![]
        }
    );
    assert_eq!(
        body("t1 LIST (REMOTE) \"\" \"*\"\r\n"),
        CommandBody::List {
            extended: true,
            selection: vec![ListSelectOption::Remote],
            reference: Mailbox::from(""),
            patterns: vec![b"*".to_vec()],
            return_options: vec![]
        }
    );
    assert_eq!(
        body("t1 LIST (remote SUBSCRIBED) \"\" * RETURN (CHILDREN)\r\n"),
        CommandBody::List {
            extended: true,
            selection: vec![ListSelectOption::Remote, ListSelectOption::Subscribed],
            reference: Mailbox::from(""),
            patterns: vec![b"*".to_vec()],
            return_options: vec![ListReturnOption::Children]
        }
    );
    let b = body("t1 LIST (REMOTE SPECIAL-USE X-FOO) \"\" %\r\n");
    assert!(
        matches!(b, CommandBody::List { selection, .. } if selection.len() == 3 && selection[2] == ListSelectOption::Other(atom("X-FOO")))
    );
    assert_eq!(
        body("t1 LSUB \"#news.\" \"comp.mail.*\"\r\n"),
        CommandBody::Lsub {
            reference: Mailbox::from("#news."),
            pattern: b"comp.mail.*".to_vec()
        }
    );
    assert_eq!(err("t1 LIST \"\"\r\n").tag, tag());
    assert_eq!(
        err("t1 LIST \"\" * FOO (X)\r\n").kind,
        ParseErrorKind::Expected("RETURN")
    );
}

#[test]
fn status_command() {
    assert_eq!(
        body(
            "t1 STATUS blurdybloop (UIDNEXT MESSAGES SIZE DELETED HIGHESTMODSEQ APPENDLIMIT UIDVALIDITY UNSEEN RECENT)\r\n"
        ),
        CommandBody::Status {
            mailbox: Mailbox::from("blurdybloop"),
            items: vec![
                StatusItem::UidNext,
                StatusItem::Messages,
                StatusItem::Size,
                StatusItem::Deleted,
                StatusItem::HighestModSeq,
                StatusItem::AppendLimit,
                StatusItem::UidValidity,
                StatusItem::Unseen,
                StatusItem::Recent
            ]
        }
    );
    assert_eq!(err("t1 STATUS x ()\r\n").tag, tag());
    assert_eq!(
        err("t1 STATUS x (BOGUS)\r\n").kind,
        ParseErrorKind::Expected("status item")
    );
}

#[test]
fn append_forms() {
    let b = body(
        "t1 APPEND saved-messages (\\Seen $Junk) \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nHello\r\n",
    );
    let CommandBody::Append { mailbox, messages } = b else {
        panic!("{b:?}")
    };
    assert_eq!(mailbox, Mailbox::from("saved-messages"));
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].flags,
        vec![Flag::Seen, Flag::Keyword(atom("$Junk"))]
    );
    assert_eq!(messages[0].date.map(|d| d.zone_minutes()), Some(-480));
    assert_eq!(
        messages[0].data,
        AppendData::Literal {
            bytes: b"Hello".to_vec(),
            binary: false
        }
    );

    // MULTIAPPEND with LITERAL+ and literal8.
    let b = body("t1 APPEND x {2+}\r\nab ~{3+}\r\na\0b () {0}\r\n\r\n");
    let CommandBody::Append { messages, .. } = b else {
        panic!("{b:?}")
    };
    assert_eq!(messages.len(), 3);
    assert_eq!(
        messages[1].data,
        AppendData::Literal {
            bytes: b"a\0b".to_vec(),
            binary: true
        }
    );
    assert_eq!(
        messages[2].data,
        AppendData::Literal {
            bytes: Vec::new(),
            binary: false
        }
    );

    assert_eq!(err("t1 APPEND x\r\n").tag, tag());
    assert_eq!(err("t1 APPEND x (\\Seen)\r\n").tag, tag());
    assert_eq!(
        err("t1 APPEND x {3}\r\na\0b\r\n").kind,
        ParseErrorKind::NulInLiteral
    );
    assert_eq!(
        err("t1 APPEND x \"30-Feb-1994 21:52:25 -0800\" {1}\r\na\r\n").kind,
        ParseErrorKind::InvalidDate
    );
    assert_eq!(
        err("t1 APPEND x \"hello\"\r\n").kind,
        ParseErrorKind::InvalidDate
    );
}

#[test]
fn search_basic_and_return() {
    let b = body("t1 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n");
    assert_eq!(
        b,
        CommandBody::Search {
            uid: false,
            search: SearchCommand {
                return_options: None,
                charset: None,
                criteria: SearchKey::And(vec![
                    SearchKey::Flagged,
                    SearchKey::Since(ImapDate::new(1994, 2, 1).unwrap()),
                    SearchKey::Not(Box::new(SearchKey::From(AString::from("Smith"))))
                ])
            }
        }
    );
    let b = body("t1 UID SEARCH RETURN (MIN MAX COUNT ALL SAVE) CHARSET UTF-8 TEXT {3}\r\nÄb\r\n");
    let CommandBody::Search { uid: true, search } = b else {
        panic!("{b:?}")
    };
    assert_eq!(
        search.return_options,
        Some(vec![
            SearchReturnOption::Min,
            SearchReturnOption::Max,
            SearchReturnOption::Count,
            SearchReturnOption::All,
            SearchReturnOption::Save
        ])
    );
    assert_eq!(search.charset, Some(AString::from("UTF-8")));
    assert_eq!(
        search.criteria,
        SearchKey::Text(AString::new("Äb".as_bytes()))
    );
    let b = body("t1 SEARCH RETURN () $\r\n");
    assert!(
        matches!(b, CommandBody::Search { search: SearchCommand { return_options: Some(ref o), criteria: SearchKey::SequenceSet(SequenceSet::Saved), .. }, .. } if o.is_empty())
    );
    assert_eq!(err("t1 SEARCH\r\n").tag, tag());
    assert_eq!(
        err("t1 SEARCH BOGUS\r\n").kind,
        ParseErrorKind::Expected("search key")
    );
    assert_eq!(
        err("t1 SEARCH RETURN (BOGUS) ALL\r\n").kind,
        ParseErrorKind::Expected("search return option")
    );
}

fn key(s: &str) -> SearchKey {
    match body(&format!("t1 SEARCH {s}\r\n")) {
        CommandBody::Search { search, .. } => search.criteria,
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_search_key() {
    let d = ImapDate::new(2024, 3, 9).unwrap();
    let a = || AString::from("x y");
    let cases: Vec<(&str, SearchKey)> = vec![
        ("ALL", SearchKey::All),
        ("ANSWERED", SearchKey::Answered),
        ("BCC \"x y\"", SearchKey::Bcc(a())),
        ("BEFORE 9-Mar-2024", SearchKey::Before(d)),
        ("BODY \"x y\"", SearchKey::Body(a())),
        ("CC \"x y\"", SearchKey::Cc(a())),
        ("DELETED", SearchKey::Deleted),
        ("DRAFT", SearchKey::Draft),
        ("FLAGGED", SearchKey::Flagged),
        ("FROM \"x y\"", SearchKey::From(a())),
        (
            "HEADER X-Spam \"x y\"",
            SearchKey::Header(AString::from("X-Spam"), a()),
        ),
        (
            "KEYWORD $Junk",
            SearchKey::Keyword(Flag::Keyword(atom("$Junk"))),
        ),
        ("LARGER 10000000000", SearchKey::Larger(10_000_000_000)),
        ("NEW", SearchKey::New),
        ("NOT SEEN", SearchKey::Not(Box::new(SearchKey::Seen))),
        ("OLD", SearchKey::Old),
        ("ON \"09-Mar-2024\"", SearchKey::On(d)),
        (
            "OR SEEN 1:*",
            SearchKey::Or(
                Box::new(SearchKey::Seen),
                Box::new(SearchKey::SequenceSet(set(&[(nz(1), SeqBound::Largest)]))),
            ),
        ),
        ("RECENT", SearchKey::Recent),
        ("SEEN", SearchKey::Seen),
        ("SENTBEFORE 9-Mar-2024", SearchKey::SentBefore(d)),
        ("SENTON 9-mar-2024", SearchKey::SentOn(d)),
        ("SENTSINCE 9-Mar-2024", SearchKey::SentSince(d)),
        ("SINCE 9-Mar-2024", SearchKey::Since(d)),
        ("SMALLER 5", SearchKey::Smaller(5)),
        ("SUBJECT \"x y\"", SearchKey::Subject(a())),
        ("TEXT \"x y\"", SearchKey::Text(a())),
        ("TO \"x y\"", SearchKey::To(a())),
        (
            "UID 5:*",
            SearchKey::Uid(set(&[(nz(5), SeqBound::Largest)])),
        ),
        ("UID $", SearchKey::Uid(SequenceSet::Saved)),
        ("UNANSWERED", SearchKey::Unanswered),
        ("UNDELETED", SearchKey::Undeleted),
        ("UNDRAFT", SearchKey::Undraft),
        ("UNFLAGGED", SearchKey::Unflagged),
        (
            "UNKEYWORD foo",
            SearchKey::Unkeyword(Flag::Keyword(atom("foo"))),
        ),
        ("UNSEEN", SearchKey::Unseen),
        (
            "MODSEQ 620162338",
            SearchKey::ModSeq {
                entry: None,
                modseq: 620162338,
            },
        ),
        (
            "MODSEQ \"/flags/\\\\draft\" all 620162338",
            SearchKey::ModSeq {
                entry: Some((AString::from("/flags/\\draft"), EntryType::All)),
                modseq: 620162338,
            },
        ),
        ("OLDER 3600", SearchKey::Older(3600)),
        ("YOUNGER 60", SearchKey::Younger(60)),
        ("SAVEDATEBEFORE 9-Mar-2024", SearchKey::SaveDateBefore(d)),
        ("SAVEDATEON 9-Mar-2024", SearchKey::SaveDateOn(d)),
        ("SAVEDATESINCE 9-Mar-2024", SearchKey::SaveDateSince(d)),
        ("SAVEDATESUPPORTED", SearchKey::SaveDateSupported),
        ("SAVEDBEFORE 9-Mar-2024", SearchKey::SaveDateBefore(d)),
        ("SAVEDON 9-Mar-2024", SearchKey::SaveDateOn(d)),
        ("SAVEDSINCE 9-Mar-2024", SearchKey::SaveDateSince(d)),
        (
            "EMAILID M6d99ac3275bb4e",
            SearchKey::EmailId(atom("M6d99ac3275bb4e")),
        ),
        (
            "THREADID T64b478a75b7ea9",
            SearchKey::ThreadId(atom("T64b478a75b7ea9")),
        ),
        (
            "2,4:7",
            SearchKey::SequenceSet(set(&[(nz(2), nz(2)), (nz(4), nz(7))])),
        ),
        (
            "(SEEN FLAGGED)",
            SearchKey::And(vec![SearchKey::Seen, SearchKey::Flagged]),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(key(text), want, "{text}");
    }
}

#[test]
fn bad_search_keys_keep_tag() {
    for bad in [
        "BEFORE 31-Feb-2024",
        "LARGER x",
        "OLDER 0",
        "KEYWORD \\Seen(",
        "HEADER x",
        "OR SEEN",
        "NOT",
        "(SEEN",
        "()",
        "UID 0",
        "MODSEQ \"/flags/x\" bogus 5",
        "MODSEQ 9223372036854775808",
        // Found by fuzzing: an entry name that is not "/flags/<flag>".
        "MODSEQ \"/f\u{e9}aH RETK/\\\\seen\" priv 5",
        "MODSEQ \"/flags/\" priv 5",
        "EMAILID a.b",
        "1:2:3",
    ] {
        let e = err(&format!("t1 SEARCH {bad}\r\n"));
        assert_eq!(e.tag, tag(), "{bad}");
    }
}

#[test]
fn search_nesting_is_bounded() {
    let deep = format!("t1 SEARCH {}SEEN{}\r\n", "(".repeat(40), ")".repeat(40));
    assert_eq!(err(&deep).kind, ParseErrorKind::TooDeep);
    let nots = format!("t1 SEARCH {}SEEN\r\n", "NOT ".repeat(10_000));
    assert_eq!(err(&nots).kind, ParseErrorKind::TooDeep);
    let ors = format!("t1 SEARCH {}SEEN{}\r\n", "OR SEEN ".repeat(100), "");
    assert_eq!(err(&ors).kind, ParseErrorKind::TooDeep);
    let ok = format!("t1 SEARCH {}SEEN{}\r\n", "(".repeat(20), ")".repeat(20));
    assert!(parse_command(ok.as_bytes()).is_ok());
}

fn fetch_attrs(s: &str) -> FetchAttributes {
    match body(&format!("t1 FETCH 1 {s}\r\n")) {
        CommandBody::Fetch { attributes, .. } => attributes,
        other => panic!("{other:?}"),
    }
}

#[test]
fn fetch_macros_and_simple_attributes() {
    assert_eq!(fetch_attrs("ALL"), FetchAttributes::Macro(FetchMacro::All));
    assert_eq!(
        fetch_attrs("fast"),
        FetchAttributes::Macro(FetchMacro::Fast)
    );
    assert_eq!(
        fetch_attrs("FULL"),
        FetchAttributes::Macro(FetchMacro::Full)
    );
    use FetchAttribute as A;
    assert_eq!(
        fetch_attrs(
            "(FLAGS INTERNALDATE RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT ENVELOPE BODY BODYSTRUCTURE UID MODSEQ SAVEDATE EMAILID THREADID PREVIEW)"
        ),
        FetchAttributes::List(vec![
            A::Flags,
            A::InternalDate,
            A::Rfc822Size,
            A::Rfc822,
            A::Rfc822Header,
            A::Rfc822Text,
            A::Envelope,
            A::Body,
            A::BodyStructure,
            A::Uid,
            A::ModSeq,
            A::SaveDate,
            A::EmailId,
            A::ThreadId,
            A::Preview {
                lazy: false,
                fuzzy: false
            },
        ])
    );
    assert_eq!(fetch_attrs("UID"), FetchAttributes::List(vec![A::Uid]));
    assert_eq!(
        fetch_attrs("(PREVIEW (LAZY) UID)"),
        FetchAttributes::List(vec![
            A::Preview {
                lazy: true,
                fuzzy: false
            },
            A::Uid
        ])
    );
    // Dovecot's older draft forms (PREVIEW=FUZZY, SNIPPET=FUZZY).
    assert_eq!(
        fetch_attrs("(PREVIEW (FUZZY) SNIPPET PREVIEW (lazy=fuzzy) SNIPPET (LAZY=FUZZY))"),
        FetchAttributes::List(vec![
            A::Preview {
                lazy: false,
                fuzzy: true
            },
            A::Snippet { lazy: false },
            A::Preview {
                lazy: true,
                fuzzy: true
            },
            A::Snippet { lazy: true },
        ])
    );
}

#[test]
fn fetch_sections() {
    use FetchAttribute as A;
    let sec = |part: Vec<u32>, text| Section { part, text };
    let cases: Vec<(&str, FetchAttribute)> = vec![
        (
            "BODY[]",
            A::BodySection {
                peek: false,
                section: Section::default(),
                partial: None,
            },
        ),
        (
            "BODY.PEEK[]<0.1024>",
            A::BodySection {
                peek: true,
                section: Section::default(),
                partial: Some(Partial {
                    origin: 0,
                    length: 1024,
                }),
            },
        ),
        (
            "BODY[HEADER]",
            A::BodySection {
                peek: false,
                section: sec(vec![], Some(SectionText::Header)),
                partial: None,
            },
        ),
        (
            "BODY[TEXT]",
            A::BodySection {
                peek: false,
                section: sec(vec![], Some(SectionText::Text)),
                partial: None,
            },
        ),
        (
            "BODY[1.2.3]",
            A::BodySection {
                peek: false,
                section: sec(vec![1, 2, 3], None),
                partial: None,
            },
        ),
        (
            "BODY[1.2.MIME]",
            A::BodySection {
                peek: false,
                section: sec(vec![1, 2], Some(SectionText::Mime)),
                partial: None,
            },
        ),
        (
            "body.peek[4.header]",
            A::BodySection {
                peek: true,
                section: sec(vec![4], Some(SectionText::Header)),
                partial: None,
            },
        ),
        (
            "BODY.PEEK[HEADER.FIELDS (DATE FROM \"Subject\")]",
            A::BodySection {
                peek: true,
                section: sec(
                    vec![],
                    Some(SectionText::HeaderFields(vec![
                        b"DATE".to_vec(),
                        b"FROM".to_vec(),
                        b"Subject".to_vec(),
                    ])),
                ),
                partial: None,
            },
        ),
        (
            "BODY[2.HEADER.FIELDS.NOT (X-Spam)]<10.20>",
            A::BodySection {
                peek: false,
                section: sec(
                    vec![2],
                    Some(SectionText::HeaderFieldsNot(vec![b"X-Spam".to_vec()])),
                ),
                partial: Some(Partial {
                    origin: 10,
                    length: 20,
                }),
            },
        ),
        (
            "BINARY[]",
            A::Binary {
                peek: false,
                part: vec![],
                partial: None,
            },
        ),
        (
            "BINARY.PEEK[1.2]<0.5>",
            A::Binary {
                peek: true,
                part: vec![1, 2],
                partial: Some(Partial {
                    origin: 0,
                    length: 5,
                }),
            },
        ),
        ("BINARY.SIZE[3]", A::BinarySize { part: vec![3] }),
    ];
    for (text, want) in cases {
        assert_eq!(
            fetch_attrs(text),
            FetchAttributes::List(vec![want]),
            "{text}"
        );
    }
    for bad in [
        "BODY[MIME]",
        "BODY[0]",
        "BODY[1.]",
        "BODY[HEADER.FIELDS]",
        "BODY[HEADER.FIELDS ()]",
        "BODY[]<1>",
        "BODY[]<1.0>",
        "BODY.PEEK",
        "BINARY[HEADER]",
        "BINARY.SIZE",
        "(UID",
        "()",
        "RFC822.BOGUS",
        "(PREVIEW (EAGER))",
    ] {
        let e = err(&format!("t1 FETCH 1 {bad}\r\n"));
        assert_eq!(e.tag, tag(), "{bad}");
    }
}

#[test]
fn fetch_sets_and_modifiers() {
    let b = body("t1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n");
    let CommandBody::Fetch {
        uid,
        set: s,
        modifiers,
        ..
    } = b
    else {
        panic!("{b:?}")
    };
    assert!(uid);
    assert_eq!(s, set(&[(nz(1), SeqBound::Largest)]).clone());
    assert_eq!(
        modifiers,
        FetchModifiers {
            changed_since: Some(12345),
            vanished: true,
            partial: None,
        }
    );
    let e = err("t1 FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)\r\n");
    assert_eq!(e.kind, ParseErrorKind::VanishedWithoutChangedSince);
    let e = err("t1 UID FETCH 1 FLAGS (VANISHED)\r\n");
    assert_eq!(e.kind, ParseErrorKind::VanishedWithoutChangedSince);
    assert_eq!(
        err("t1 FETCH 0 FLAGS\r\n").kind,
        ParseErrorKind::InvalidNumber
    );
    assert_eq!(err("t1 FETCH 1, FLAGS\r\n").tag, tag());
    // `$` stands alone (RFC 5182).
    assert_eq!(err("t1 FETCH 1,$ FLAGS\r\n").tag, tag());
    assert!(matches!(
        body("t1 FETCH $ FLAGS\r\n"),
        CommandBody::Fetch {
            set: SequenceSet::Saved,
            ..
        }
    ));
}

#[test]
fn store_forms() {
    assert_eq!(
        body("t1 STORE 2:4 +FLAGS (\\Deleted)\r\n"),
        CommandBody::Store {
            uid: false,
            set: set(&[(nz(2), nz(4))]),
            unchanged_since: None,
            action: StoreAction::Add,
            silent: false,
            flags: vec![Flag::Deleted]
        }
    );
    assert_eq!(
        body("t1 UID STORE 1 (UNCHANGEDSINCE 320162338) -FLAGS.SILENT \\Seen $Forwarded\r\n"),
        CommandBody::Store {
            uid: true,
            set: set(&[(nz(1), nz(1))]),
            unchanged_since: Some(320162338),
            action: StoreAction::Remove,
            silent: true,
            flags: vec![Flag::Seen, Flag::Keyword(atom("$Forwarded"))]
        }
    );
    assert!(matches!(
        body("t1 STORE 1 FLAGS ()\r\n"),
        CommandBody::Store { action: StoreAction::Replace, ref flags, .. } if flags.is_empty()
    ));
    assert_eq!(
        err("t1 STORE 1 FLAG (\\Seen)\r\n").kind,
        ParseErrorKind::Expected("FLAGS or FLAGS.SILENT")
    );
    assert_eq!(err("t1 STORE 1 +FLAGS\r\n").tag, tag());
    assert_eq!(err("t1 STORE 1 (UNCHANGEDSINCE x) FLAGS ()\r\n").tag, tag());
}

#[test]
fn copy_move_expunge() {
    assert_eq!(
        body("t1 COPY 2:4 MEETING\r\n"),
        CommandBody::Copy {
            uid: false,
            set: set(&[(nz(2), nz(4))]),
            mailbox: Mailbox::from("MEETING")
        }
    );
    assert_eq!(
        body("t1 UID MOVE 42 Trash\r\n"),
        CommandBody::Move {
            uid: true,
            set: set(&[(nz(42), nz(42))]),
            mailbox: Mailbox::from("Trash")
        }
    );
    assert_eq!(
        body("t1 MOVE 1 inbox\r\n"),
        CommandBody::Move {
            uid: false,
            set: set(&[(nz(1), nz(1))]),
            mailbox: Mailbox::Inbox
        }
    );
    assert_eq!(
        body("t1 UID EXPUNGE 3000:3002\r\n"),
        CommandBody::UidExpunge {
            uids: set(&[(nz(3000), nz(3002))])
        }
    );
    assert_eq!(err("t1 UID EXPUNGE\r\n").tag, tag());
    assert_eq!(err("t1 COPY 1\r\n").tag, tag());
}

#[test]
fn sort_and_thread() {
    let b = body("t1 UID SORT (REVERSE DATE SUBJECT DISPLAYFROM) UTF-8 SINCE 1-Feb-1994\r\n");
    let CommandBody::Sort {
        uid: true,
        criteria,
        search,
    } = b
    else {
        panic!("{b:?}")
    };
    assert_eq!(
        criteria,
        vec![
            SortCriterion {
                reverse: true,
                key: SortKey::Date
            },
            SortCriterion {
                reverse: false,
                key: SortKey::Subject
            },
            SortCriterion {
                reverse: false,
                key: SortKey::DisplayFrom
            },
        ]
    );
    assert_eq!(search.charset, Some(AString::from("UTF-8")));
    let b = body("t1 SORT RETURN (MIN COUNT) (ARRIVAL) US-ASCII ALL\r\n");
    assert!(matches!(
        b,
        CommandBody::Sort {
            search: SearchCommand {
                return_options: Some(_),
                ..
            },
            ..
        }
    ));
    assert_eq!(
        body("t1 THREAD REFERENCES UTF-8 (SEEN NOT DELETED)\r\n"),
        CommandBody::Thread {
            uid: false,
            algorithm: ThreadAlgorithm::References,
            charset: AString::from("UTF-8"),
            criteria: SearchKey::And(vec![
                SearchKey::Seen,
                SearchKey::Not(Box::new(SearchKey::Deleted))
            ])
        }
    );
    assert!(matches!(
        body("t1 UID THREAD orderedsubject UTF-8 ALL\r\n"),
        CommandBody::Thread {
            uid: true,
            algorithm: ThreadAlgorithm::OrderedSubject,
            ..
        }
    ));
    assert_eq!(err("t1 SORT () UTF-8 ALL\r\n").tag, tag());
    assert_eq!(
        err("t1 SORT (BOGUS) UTF-8 ALL\r\n").kind,
        ParseErrorKind::Expected("sort key")
    );
    assert_eq!(err("t1 THREAD REFERENCES UTF-8\r\n").tag, tag());
}

#[test]
fn garbage_never_panics() {
    // A cheap deterministic sweep; the fuzz targets do the real work.
    let seeds: [&[u8]; 6] = [
        b"t1 FETCH 1:* (BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.10> FLAGS)\r\n",
        b"t1 SEARCH OR (NOT SEEN) UID 1:* HEADER {3}\r\nabc x\r\n",
        b"t1 APPEND x (\\Seen) \" 1-Jan-2000 00:00:00 +0000\" ~{2}\r\nab\r\n",
        b"t1 SELECT x (QRESYNC (1 2 3:4 (5 6)))\r\n",
        b"t1 LIST (SUBSCRIBED) \"\" (a b) RETURN (STATUS (MESSAGES))\r\n",
        b"t1 UID STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen)\r\n",
    ];
    for seed in seeds {
        for cut in 0..seed.len() {
            let _ = parse_command(&seed[..cut]);
            let mut flipped = seed.to_vec();
            flipped[cut] ^= 0x20;
            let _ = parse_command(&flipped);
            flipped[cut] = b'{';
            let _ = parse_command(&flipped);
        }
        assert!(
            parse_command(seed).is_ok(),
            "{:?}",
            String::from_utf8_lossy(seed)
        );
    }
}

#[test]
fn missing_or_bad_arguments_keep_tag() {
    for bad in [
        "t1 AUTHENTICATE\r\n",
        "t1 AUTHENTICATE PLAIN x y\r\n",
        "t1 LOGIN\r\n",
        "t1 ENABLE (x)\r\n",
        "t1 ID\r\n",
        "t1 ID (\"a\" \"b\"\r\n",
        "t1 SELECT x ()\r\n",
        "t1 SELECT x (QRESYNC (1))\r\n",
        "t1 CREATE\r\n",
        "t1 CREATE x (USE (\\Drafts)\r\n",
        "t1 DELETE\r\n",
        "t1 SUBSCRIBE\r\n",
        "t1 UNSUBSCRIBE a b\r\n",
        "t1 LSUB x\r\n",
        "t1 STATUS x\r\n",
        "t1 APPEND\r\n",
        "t1 UID\r\n",
        "t1 UID FETCH\r\n",
        "t1 SEARCH CHARSET\r\n",
        "t1 SORT (DATE)\r\n",
        "t1 THREAD\r\n",
        "t1 THREAD REFERENCES\r\n",
        "t1 COMPRESS\r\n",
        "t1 COMPRESS \"DEFLATE\"\r\n",
        "t1 MOVE 1:*\r\n",
        "t1 STORE 1 +FLAGS (\\*)\r\n",
    ] {
        let e = err(bad);
        assert_eq!(e.tag, tag(), "{bad}");
    }
}

#[test]
fn error_text_is_fit_for_a_bad_response() {
    let e = err("t1 FETCH 1 BOGUS\r\n");
    let text = e.to_string();
    assert!(text.starts_with("expected fetch attribute"), "{text}");
    assert!(!text.contains('\n'));
}
