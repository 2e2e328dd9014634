//! LIST-EXTENDED, LSUB, BINARY, SEARCH (addresses, charsets), SORT,
//! THREAD=REFS and the fuzzy previews, each expectation being what Dovecot
//! 2.3.19 answered for the same mailboxes and messages.

use super::*;
use crate::storage::SpecialUse;

/// Runs one command given as bytes (8-bit search strings).
async fn cmd_bytes(c: &mut Client, line: &[u8]) -> String {
    let mut frame = line.to_vec();
    frame.extend_from_slice(b"\r\n");
    let cmd = match parse_command(&frame) {
        Ok(cmd) => cmd,
        Err(e) => panic!("{:?} does not parse: {e}", String::from_utf8_lossy(line)),
    };
    let flow = dispatch(&mut c.s, &mut c.out, cmd).await;
    assert_eq!(flow, Flow::Continue);
    c.out.take()
}

/// `a`, `a/b`, `a/b/c`, `x`, `x/y`, `Trash`; subscribed: INBOX, `a/b/c`,
/// `x`, `x/y`, `Trash`.
async fn tree(c: &mut Client) {
    for name in ["a", "a/b", "a/b/c", "x", "x/y", "Trash"] {
        c.ok(&format!("c CREATE {name}")).await;
    }
    for name in ["INBOX", "a/b/c", "x", "x/y", "Trash"] {
        c.ok(&format!("s SUBSCRIBE {name}")).await;
    }
}

fn sorted_lines(text: &str, prefix: &str) -> Vec<String> {
    let mut lines: Vec<String> = lines_with(text, prefix)
        .into_iter()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn list_extended_refuses_unknown_options() {
    with_client(async |c| {
        let text = c.cmd("a LIST (FOO) \"\" *").await;
        assert!(text.starts_with("a BAD "), "{text}");
        let text = c.cmd("b LIST () \"\" * RETURN (FOO)").await;
        assert!(text.starts_with("b BAD "), "{text}");
        let text = c.cmd("c LIST (RECURSIVEMATCH REMOTE) \"\" *").await;
        assert!(text.starts_with("c BAD "), "{text}");
        c.ok("d LIST (REMOTE) \"\" *").await;
    })
}

#[test]
fn recursivematch_childinfo_as_rfc5258_and_dovecot() {
    with_client(async |c| {
        tree(c).await;
        // `*` lists a/b/c itself, so its parents are not listed; x is
        // subscribed and has a subscribed child: CHILDINFO all the same.
        let text = c.ok("a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *").await;
        assert_eq!(
            sorted_lines(&text, "* LIST"),
            vec![
                "* LIST (\\Subscribed) \"/\" INBOX",
                "* LIST (\\Subscribed) \"/\" Trash",
                "* LIST (\\Subscribed) \"/\" a/b/c",
                "* LIST (\\Subscribed) \"/\" x (\"CHILDINFO\" (\"SUBSCRIBED\"))",
                "* LIST (\\Subscribed) \"/\" x/y",
            ]
        );
        // `%` hides a/b/c: its unsubscribed ancestor a is listed for it.
        let text = c
            .ok("b LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (CHILDREN)")
            .await;
        assert_eq!(
            sorted_lines(&text, "* LIST"),
            vec![
                "* LIST (\\HasChildren) \"/\" a (\"CHILDINFO\" (\"SUBSCRIBED\"))",
                "* LIST (\\Subscribed \\HasChildren) \"/\" x (\"CHILDINFO\" (\"SUBSCRIBED\"))",
                "* LIST (\\Subscribed \\HasNoChildren) \"/\" INBOX",
                "* LIST (\\Subscribed \\HasNoChildren) \"/\" Trash",
            ]
        );
        let text = c
            .ok("c LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (a a/b/c)")
            .await;
        assert_eq!(
            sorted_lines(&text, "* LIST"),
            vec!["* LIST (\\Subscribed) \"/\" a/b/c"]
        );
    })
}

#[test]
fn lsub_lists_an_unsubscribed_parent_noselect() {
    with_client(async |c| {
        tree(c).await;
        let text = c.ok("a LSUB \"\" %").await;
        assert_eq!(
            sorted_lines(&text, "* LSUB"),
            vec![
                "* LSUB () \"/\" INBOX",
                "* LSUB () \"/\" Trash",
                "* LSUB () \"/\" x",
                "* LSUB (\\Noselect) \"/\" a",
            ]
        );
        let text = c.ok("b LSUB \"\" a/%").await;
        assert_eq!(
            lines_with(&text, "* LSUB"),
            vec!["* LSUB (\\Noselect) \"/\" a/b"]
        );
        let text = c.ok("c LSUB \"\" *").await;
        assert!(!text.contains("\\Noselect"), "{text}");
        assert_eq!(lines_with(&text, "* LSUB").len(), 5, "{text}");
    })
}

#[test]
fn list_attributes_as_dovecot_prints_them() {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut settings = SessionSettings::default();
        settings.options.special_use = vec![("Trash".to_string(), SpecialUse::Trash)];
        let mut c = mail.client_with(settings);
        tree(&mut c).await;
        // Plain LIST: children and special-use; extended: only what is asked.
        let text = c.ok("a LIST \"\" Trash").await;
        assert_eq!(
            lines_with(&text, "* LIST"),
            vec!["* LIST (\\HasNoChildren \\Trash) \"/\" Trash"]
        );
        let text = c.ok("b LIST () \"\" Trash").await;
        assert_eq!(lines_with(&text, "* LIST"), vec!["* LIST () \"/\" Trash"]);
        let text = c.ok("c LIST \"\" x RETURN ()").await;
        assert_eq!(lines_with(&text, "* LIST"), vec!["* LIST () \"/\" x"]);
        let text = c.ok("d LIST \"\" x RETURN (SUBSCRIBED CHILDREN)").await;
        assert_eq!(
            lines_with(&text, "* LIST"),
            vec!["* LIST (\\Subscribed \\HasChildren) \"/\" x"]
        );
        let text = c
            .ok("e LIST (SUBSCRIBED) \"\" T* RETURN (SPECIAL-USE)")
            .await;
        assert_eq!(
            lines_with(&text, "* LIST"),
            vec!["* LIST (\\Subscribed \\Trash) \"/\" Trash"]
        );
        let text = c.ok("f LIST (SPECIAL-USE) \"\" *").await;
        assert_eq!(
            lines_with(&text, "* LIST"),
            vec!["* LIST (\\Trash) \"/\" Trash"]
        );
        let text = c.ok("g LSUB \"\" Trash").await;
        assert_eq!(
            lines_with(&text, "* LSUB"),
            vec!["* LSUB (\\Trash) \"/\" Trash"]
        );
        // A subscription whose mailbox is gone.
        c.ok("h DELETE x/y").await;
        let text = c.ok("i LIST (SUBSCRIBED) \"\" x/y").await;
        assert_eq!(
            lines_with(&text, "* LIST"),
            vec!["* LIST (\\Subscribed \\NonExistent) \"/\" x/y"]
        );
    })
}

const PARTS: &str = "Subject: bin\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n\
--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n\r\nplain seven\r\n\
--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nZGVjb2RlZCBiNjQ=\r\n\
--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n\
--zz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\r\n\
--zz--\r\n";

#[test]
fn binary_literals_and_empty_parts_as_dovecot() {
    with_client(async |c| {
        c.append("INBOX", "", PARTS).await;
        c.ok("s SELECT INBOX").await;
        let text = c
            .ok("a FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[3] BINARY.PEEK[4] BINARY.PEEK[2]<2.3>)")
            .await;
        assert!(
            text.starts_with(
                "* 1 FETCH (BINARY[1] {11}\r\nplain seven BINARY[2] ~{11}\r\ndecoded b64 \
BINARY.SIZE[2] 11 BINARY[3] {0}\r\n BINARY[4] {0}\r\n BINARY[2]<2> ~{3}\r\ncod)\r\n"
            ),
            "{text}"
        );
        // Parts that do not exist are empty, and part 1 of a leaf is itself.
        let text = c
            .ok("b FETCH 1 (BODY.PEEK[9] BINARY.PEEK[9] BINARY.SIZE[9] BODY.PEEK[1.1] BODY.PEEK[1.2])")
            .await;
        assert!(
            text.starts_with(
                "* 1 FETCH (BODY[9] {0}\r\n BINARY[9] {0}\r\n BINARY.SIZE[9] 0 \
BODY[1.1] {11}\r\nplain seven BODY[1.2] {0}\r\n)\r\n"
            ),
            "{text}"
        );
    })
}

const ADDRESSES: &str = "From: \"Joe Q. Public\" <john.q.public@example.com>\r\n\
To: Mary Smith <mary@x.test>, jdoe@example.org\r\n\
Cc: \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>, =?UTF-8?Q?=C3=89lise?= <e@x.test>\r\n\
Bcc: A Group:Ed Jones <c@a.test>,joe@where.test;\r\n\
Subject: addresses\r\n\r\nbody\r\n";

#[test]
fn address_search_matches_dovecots_normal_form() {
    with_client(async |c| {
        c.append("INBOX", "", ADDRESSES).await;
        c.ok("s SELECT INBOX").await;
        for (key, hit) in [
            ("FROM \"q. public\"", true),
            ("FROM \"public <john\"", false),
            ("FROM \"\\\"Joe\"", true),
            ("TO \"mary smith <mary\"", false),
            ("TO \"\\\"mary smith\\\" <mary\"", true),
            ("TO \"mary@x.test>, jdoe\"", false),
            ("TO \"mary@x.test>, <jdoe\"", true),
            ("CC \"big\\\" box\"", false),
            ("CC giant", true),
            ("CC \"lise <e@\"", true),
            ("CC \"=?UTF-8\"", false),
            ("BCC \"group\\\": \\\"ed jones\\\" <c@a.test>, <joe\"", true),
            ("BCC \"where.test;\"", false),
            ("BCC \"where.test>;\"", true),
        ] {
            let text = c.ok(&format!("a SEARCH {key}")).await;
            let want = if hit {
                "* SEARCH 1\r\n"
            } else {
                "* SEARCH\r\n"
            };
            assert!(text.starts_with(want), "SEARCH {key}: {text}");
        }
    })
}

#[test]
fn search_strings_in_other_charsets_are_converted() {
    with_client(async |c| {
        c.append(
            "INBOX",
            "",
            "Subject: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\nFrom: =?ISO-8859-1?Q?Andr=E9?= <a@b>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nCaf\u{e9} \u{201c}smart\u{201d} \u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}\r\n",
        )
        .await;
        c.ok("s SELECT INBOX").await;
        for line in [
            &b"a SEARCH CHARSET ISO-8859-1 FROM {5+}\r\nAndr\xe9"[..],
            b"a SEARCH CHARSET latin1 BODY {4+}\r\ncaf\xe9",
            b"a SEARCH CHARSET WINDOWS-1252 BODY {6+}\r\n\x93smart",
            b"a SEARCH CHARSET KOI8-R BODY {6+}\r\n\xf0\xd2\xc9\xd7\xc5\xd4",
            b"a SEARCH CHARSET ISO-2022-JP SUBJECT {12+}\r\n\x1b$BF|K\\8l\x1b(B",
            b"a SEARCH CHARSET UTF-8 SUBJECT {9+}\r\n\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        ] {
            let text = cmd_bytes(c, line).await;
            assert!(
                text.starts_with("* SEARCH 1\r\na OK"),
                "{}: {text}",
                String::from_utf8_lossy(line)
            );
        }
        let text = cmd_bytes(c, b"b SEARCH CHARSET X-UNKNOWN BODY x").await;
        assert_eq!(text, "b NO [BADCHARSET (UTF-8)] Unsupported charset.\r\n");
        let text = cmd_bytes(c, b"c SEARCH CHARSET UTF-8 BODY {4+}\r\ncaf\xe9").await;
        assert!(text.starts_with("c BAD "), "{text}");
        let text = cmd_bytes(
            c,
            b"d SORT (ARRIVAL) KOI8-R BODY {6+}\r\n\xf0\xd2\xc9\xd7\xc5\xd4",
        )
        .await;
        assert!(text.starts_with("* SORT 1\r\nd OK"), "{text}");
        let text = cmd_bytes(c, b"e THREAD REFS X-UNKNOWN ALL").await;
        assert!(text.starts_with("e NO [BADCHARSET"), "{text}");
    })
}

#[test]
fn sort_keys_as_dovecot_orders_them() {
    with_client(async |c| {
        for m in [
            "To: A Group: Zed <zz@x>;\r\nCc: Yy Group: Zed <zz@x>;\r\nDate: Thu, 13 Feb 1969 23:32:54 -0330\r\nSubject: 1\r\n\r\nx\r\n",
            "To: Mm <mm@x>\r\nCc: \"Xx\" <xx@x>\r\nDate: Mon, 01 Jan 1990 00:00:00 +0000\r\nSubject: 2\r\n\r\nx\r\n",
            "To: =?UTF-8?Q?=C3=84rger?= Group: ;\r\nCc: bb@x\r\nDate: Mon, 01 Jan 1980 00:00:00 +0000\r\nSubject: 3\r\n\r\nx\r\n",
        ] {
            c.append("INBOX", "", m).await;
        }
        c.ok("s SELECT INBOX").await;
        for (criteria, want) in [
            ("TO", "3 1 2"),
            ("DISPLAYTO", "3 1 2"),
            ("CC", "3 2 1"),
            ("REVERSE CC", "1 2 3"),
            // A Date before 1970 wraps round to the far future (Dovecot).
            ("DATE", "3 2 1"),
        ] {
            let text = c.ok(&format!("a SORT ({criteria}) UTF-8 ALL")).await;
            assert!(
                text.starts_with(&format!("* SORT {want}\r\n")),
                "SORT ({criteria}): {text}"
            );
        }
    })
}

#[test]
fn a_date_before_1970_sorts_after_any_arrival_time() {
    with_client(async |c| {
        c.append(
            "INBOX",
            "",
            "Date: Thu, 13 Feb 1969 23:32:54 -0330\r\nSubject: old\r\n\r\nx\r\n",
        )
        .await;
        c.append("INBOX", "", "Subject: undated\r\n\r\nx\r\n").await;
        c.ok("s SELECT INBOX").await;
        // Dovecot 2.3: `* SORT 2 1` (the 1969 time wraps round).
        let text = c.ok("a SORT (DATE) UTF-8 ALL").await;
        assert!(text.starts_with("* SORT 2 1\r\n"), "{text}");
    })
}

fn threaded(n: u32, date_year: Option<u32>, in_reply_to: Option<u32>, subject: &str) -> String {
    let mut m = format!("From: a@b\r\nSubject: {subject}\r\nMessage-ID: <m{n}@x>\r\n");
    if let Some(y) = date_year {
        m.push_str(&format!("Date: Mon, 01 Jan {y} 00:00:00 +0000\r\n"));
    }
    if let Some(p) = in_reply_to {
        m.push_str(&format!("In-Reply-To: <m{p}@x>\r\n"));
    }
    m.push_str("\r\nbody\r\n");
    m
}

async fn thread_of(messages: &[String], algorithm: &str) -> String {
    let mail = Mail::new(&format()).await;
    let mut c = mail.client();
    for m in messages {
        c.append("INBOX", "", m).await;
    }
    c.ok("s SELECT INBOX").await;
    let text = c.ok(&format!("t THREAD {algorithm} UTF-8 ALL")).await;
    text.split("\r\n").next().unwrap_or_default().to_string()
}

#[test]
fn thread_refs_orders_threads_by_their_newest_message() {
    run(async {
        // The reply of 2010 makes the thread of message 2 the newest.
        let newest_reply = [
            threaded(1, Some(2000), None, "s1"),
            threaded(2, Some(1990), None, "s2"),
            threaded(3, Some(2010), Some(2), "s3"),
        ];
        assert_eq!(thread_of(&newest_reply, "REFS").await, "* THREAD (1)(2 3)");
        assert_eq!(
            thread_of(&newest_reply, "REFERENCES").await,
            "* THREAD (2 3)(1)"
        );
        // No gathering by subject.
        let same_subject = [
            threaded(1, Some(2000), None, "hello"),
            threaded(2, Some(2001), None, "Re: hello"),
            threaded(3, Some(2002), None, "other"),
        ];
        assert_eq!(thread_of(&same_subject, "REFS").await, "* THREAD (1)(2)(3)");
        assert_eq!(
            thread_of(&same_subject, "REFERENCES").await,
            "* THREAD (1 2)(3)"
        );
        // Equal dates: a thread under a missing parent comes first.
        let tie = [
            threaded(1, Some(2000), None, "a"),
            threaded(2, Some(2000), Some(9), "b"),
        ];
        assert_eq!(thread_of(&tie, "REFS").await, "* THREAD (2)(1)");
        // Siblings by date, as in REFERENCES.
        let siblings = [
            threaded(1, Some(2000), None, "p"),
            threaded(2, Some(2005), Some(1), "c"),
            threaded(3, Some(2001), Some(1), "c"),
            threaded(4, Some(1999), Some(1), "c"),
        ];
        assert_eq!(thread_of(&siblings, "REFS").await, "* THREAD (1 (4)(3)(2))");
    })
}

#[test]
fn fuzzy_previews_in_both_draft_forms() {
    with_client(async |c| {
        c.append("INBOX", "", "Subject: x\r\n\r\n> quoted\r\nhello\r\n")
            .await;
        c.ok("s SELECT INBOX").await;
        let text = c.ok("a FETCH 1 (UID PREVIEW (FUZZY) FLAGS)").await;
        assert!(
            text.starts_with("* 1 FETCH (UID 1 PREVIEW (FUZZY \"hello\") FLAGS ("),
            "{text}"
        );
        let text = c.ok("b FETCH 1 (SNIPPET PREVIEW)").await;
        assert!(
            text.starts_with("* 1 FETCH (SNIPPET (FUZZY \"hello\") PREVIEW \"hello\")\r\n"),
            "{text}"
        );
        let text = c
            .ok("c FETCH 1 (SNIPPET (LAZY=FUZZY) PREVIEW (lazy=fuzzy))")
            .await;
        assert!(
            text.starts_with("* 1 FETCH (SNIPPET (FUZZY \"hello\") PREVIEW (FUZZY \"hello\"))\r\n"),
            "{text}"
        );
        // Dovecot answers BAD to these: they do not parse.
        assert!(parse_command(b"d FETCH 1 (PREVIEW ())\r\n").is_err());
        assert!(parse_command(b"e FETCH 1 (SNIPPET (FOO))\r\n").is_err());
    })
}
