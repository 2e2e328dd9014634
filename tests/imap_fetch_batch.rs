//! FETCH and SEARCH over many messages read content a group of messages
//! per storage job. What a client sees must not change: every message's
//! bytes equal those of a single-message FETCH (and what was appended),
//! groups split by size still answer every message in order, \Seen is set,
//! and a message file removed behind the server's back still gets NO after
//! the others are sent.

mod common;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

/// More than one group (64 messages) of the FETCH.
const MESSAGES: usize = 150;
/// Two neighbours this big cannot share one group's byte budget (4 MiB).
const BIG: [usize; 2] = [70, 71];

fn message(n: usize) -> String {
    let body_lines = if BIG.contains(&n) {
        2500 * 1024 / 80
    } else {
        n % 7
    };
    let mut m = format!(
        "Subject: m{n}\r\nFrom: a{n}@example.org\r\nX-Pad: {}\r\n\r\nfirst line of m{n}\r\n",
        "p".repeat(1 + n % 50)
    );
    for i in 0..body_lines {
        m.push_str(&format!("{i:08} {}\r\n", "y".repeat(69)));
    }
    if n.is_multiple_of(10) {
        m.push_str("needle in the body\r\n");
    }
    m
}

fn until_tag(c: &mut Client, tag: &str) -> Vec<String> {
    c.until(&format!("{tag} "))
}

fn ok(c: &mut Client, tag: &str, cmd: &str) -> Vec<String> {
    c.send(&format!("{tag} {cmd}"));
    let r = until_tag(c, tag);
    let last = r.last().cloned().unwrap_or_default();
    let shown: String = cmd.chars().take(60).collect();
    assert!(last.starts_with(&format!("{tag} OK")), "{shown}: {last}");
    r
}

fn login_with_mail() -> (Server, Client) {
    let srv = Server::start(Options::default());
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    ok(&mut c, "L", &format!("LOGIN {DEMO_USER} {DEMO_PASS}"));
    for (batch, range) in (1..=MESSAGES).collect::<Vec<_>>().chunks(25).enumerate() {
        let mut cmd = String::from("APPEND INBOX");
        for &n in range {
            let m = message(n);
            cmd.push_str(&format!(" {{{}+}}\r\n{m}", m.len()));
        }
        ok(&mut c, &format!("A{batch}"), &cmd);
    }
    let r = ok(&mut c, "S", "SELECT INBOX");
    assert!(
        r.iter().any(|l| l == &format!("* {MESSAGES} EXISTS")),
        "{r:?}"
    );
    (srv, c)
}

/// The untagged FETCH responses of a command, one text per message
/// (lines rejoined with CRLF, so message lines must not end in spaces:
/// `Client::line` trims them), in the order received.
fn fetch_blocks(lines: &[String]) -> Vec<(usize, String)> {
    let mut blocks: Vec<(usize, String)> = Vec::new();
    for l in &lines[..lines.len() - 1] {
        let seq = l
            .strip_prefix("* ")
            .and_then(|rest| rest.split_once(" FETCH ("))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        match (seq, blocks.last_mut()) {
            (Some(n), _) => blocks.push((n, format!("{l}\r\n"))),
            (None, Some((_, text))) => {
                text.push_str(l);
                text.push_str("\r\n");
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The literals (`{n}` + n bytes) of one response, in order.
fn literals(block: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = block;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find("}\r\n").map(|c| open + c) else {
            break;
        };
        let Ok(n) = rest[open + 1..close].parse::<usize>() else {
            rest = &rest[open + 1..];
            continue;
        };
        let start = close + 3;
        out.push(&rest[start..start + n]);
        rest = &rest[start + n..];
    }
    out
}

fn header_of(m: &str) -> &str {
    &m[..m.find("\r\n\r\n").unwrap() + 4]
}

/// One FETCH over every message equals one FETCH per message.
fn assert_same_as_single_fetches(c: &mut Client, items: &str) -> Vec<(usize, String)> {
    let all = fetch_blocks(&ok(c, "M", &format!("FETCH 1:* {items}")));
    let seqs: Vec<usize> = all.iter().map(|(n, _)| *n).collect();
    assert_eq!(seqs, (1..=MESSAGES).collect::<Vec<_>>(), "{items}");
    for (n, text) in &all {
        let one = fetch_blocks(&ok(c, "O", &format!("FETCH {n} {items}")));
        assert_eq!(one.len(), 1, "{items} {n}");
        assert!(one[0].1 == *text, "{items}: message {n} differs");
    }
    all
}

#[test]
fn fetching_many_messages_matches_single_fetches_byte_for_byte() {
    let (_srv, mut c) = login_with_mail();

    let items = "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[HEADER])";
    for (n, text) in assert_same_as_single_fetches(&mut c, items) {
        let m = message(n);
        let lits = literals(&text);
        assert_eq!(lits.len(), 2, "{n}");
        assert_eq!(
            lits[0],
            format!("Subject: m{n}\r\nFrom: a{n}@example.org\r\n\r\n"),
            "{n}"
        );
        assert_eq!(lits[1], header_of(&m), "{n}");
        assert!(text.contains(&format!("RFC822.SIZE {}", m.len())), "{n}");
    }

    let items = "(BODY.PEEK[] BODY.PEEK[TEXT]<2.12>)";
    for (n, text) in assert_same_as_single_fetches(&mut c, items) {
        let m = message(n);
        let lits = literals(&text);
        assert_eq!(lits.len(), 2, "{n}");
        assert!(lits[0] == m, "BODY[] of {n} is not what was appended");
        let body = &m[header_of(&m).len()..];
        assert_eq!(lits[1], &body[2..14], "{n}");
    }

    // Not PEEK: every message becomes \Seen and says so in the response.
    let all = fetch_blocks(&ok(&mut c, "N", "FETCH 1:* (BODY[HEADER])"));
    assert_eq!(all.len(), MESSAGES);
    for (n, text) in &all {
        assert!(text.contains("\\Seen"), "message {n}: {text}");
        assert_eq!(literals(text), vec![header_of(&message(*n))], "{n}");
    }
    let r = ok(&mut c, "U", "SEARCH UNSEEN");
    assert!(r.iter().any(|l| l == "* SEARCH"), "{r:?}");
}

#[test]
fn search_and_sort_on_content_see_every_message() {
    let (_srv, mut c) = login_with_mail();
    let r = ok(&mut c, "B", "SEARCH BODY needle");
    let want: Vec<String> = (1..=MESSAGES)
        .filter(|n| n.is_multiple_of(10))
        .map(|n| n.to_string())
        .collect();
    assert!(
        r.iter()
            .any(|l| *l == format!("* SEARCH {}", want.join(" "))),
        "{r:?}"
    );
    let r = ok(&mut c, "H", "SEARCH HEADER From a149@example.org");
    assert!(r.iter().any(|l| l == "* SEARCH 149"), "{r:?}");
    // Subjects m1..m150 sort as strings: m1, m10, m100, m101, ...
    let r = ok(&mut c, "T", "SORT (SUBJECT) UTF-8 ALL");
    let mut want: Vec<usize> = (1..=MESSAGES).collect();
    want.sort_by_key(|n| format!("m{n}"));
    let want: Vec<String> = want.iter().map(|n| n.to_string()).collect();
    assert!(
        r.iter().any(|l| *l == format!("* SORT {}", want.join(" "))),
        "{r:?}"
    );
}

#[test]
fn a_vanished_message_file_is_left_out_of_the_fetch_and_expunged() {
    let (srv, mut c) = login_with_mail();
    let file = srv
        .dir
        .path()
        .join(format!("mail/{DEMO_USER}/mailboxes/INBOX/dbox-Mails/u.3"));
    std::fs::remove_file(&file).unwrap();
    c.send("F FETCH 1:5 (BODY.PEEK[HEADER])");
    let r = until_tag(&mut c, "F");
    // Like a message another session expunged: the others are served,
    // the FETCH completes (a rebuild confirmed the file is gone).
    let last = r.last().cloned().unwrap_or_default();
    assert!(last.starts_with("F OK"), "{last}");
    let seqs: Vec<usize> = fetch_blocks(&r).iter().map(|(n, _)| *n).collect();
    assert_eq!(seqs, vec![1, 2, 4, 5], "{r:?}");
    // The resync expunged it: the next command reports it.
    let r = ok(&mut c, "P", "NOOP");
    assert!(r.iter().any(|l| l == "* 3 EXPUNGE"), "{r:?}");
}

#[test]
fn structure_items_match_single_fetches_byte_for_byte() {
    let (srv, mut c) = login_with_mail();
    let cache = srv.dir.path().join(format!(
        "mail/{DEMO_USER}/mailboxes/INBOX/dbox-Mails/tern.cache"
    ));
    assert!(!cache.exists(), "nothing cached before the first FETCH");
    // Cold: the batch FETCH computes every structure (a group of cache
    // misses per storage job); the single FETCHes after it are hits.
    let items = "(UID ENVELOPE BODYSTRUCTURE BODY)";
    for (n, text) in assert_same_as_single_fetches(&mut c, items) {
        let m = message(n);
        assert!(
            text.contains(&format!("\"m{n}\" ((NIL NIL \"a{n}\" \"example.org\"))")),
            "ENVELOPE of {n}: {text}"
        );
        let body_len = m.len() - header_of(&m).len();
        let lines = m[header_of(&m).len()..].matches("\r\n").count();
        let part = format!("\"7bit\" {body_len} {lines}");
        assert_eq!(
            text.matches(&part).count(),
            2,
            "BODY(STRUCTURE) of {n}: {text}"
        );
        assert!(text.contains(&format!("UID {n} ")), "{n}");
    }
    // The server answered from the mailbox's structure cache, which now
    // holds a record for every message.
    let cached = std::fs::metadata(&cache).map(|m| m.len()).unwrap_or(0);
    assert!(
        cached > 100 * MESSAGES as u64,
        "tern.cache is {cached} bytes"
    );
    // Structure and content items together; warm now.
    let items = "(ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODYSTRUCTURE RFC822.SIZE)";
    for (n, text) in assert_same_as_single_fetches(&mut c, items) {
        assert_eq!(
            literals(&text),
            vec![format!("Subject: m{n}\r\n\r\n")],
            "{n}"
        );
        assert!(
            text.contains(&format!("RFC822.SIZE {}", message(n).len())),
            "{n}"
        );
    }
    // Nothing was marked \Seen by the structure items.
    let r = ok(&mut c, "U", "SEARCH SEEN");
    assert!(r.iter().any(|l| l == "* SEARCH"), "{r:?}");
}

#[test]
fn a_vanished_message_file_fails_a_structure_fetch_after_the_others_are_sent() {
    let (srv, mut c) = login_with_mail();
    let file = srv
        .dir
        .path()
        .join(format!("mail/{DEMO_USER}/mailboxes/INBOX/dbox-Mails/u.3"));
    std::fs::remove_file(&file).unwrap();
    c.send("F FETCH 1:5 (ENVELOPE BODYSTRUCTURE)");
    let r = until_tag(&mut c, "F");
    let last = r.last().cloned().unwrap_or_default();
    assert!(last.starts_with("F NO"), "{last}");
    let seqs: Vec<usize> = fetch_blocks(&r).iter().map(|(n, _)| *n).collect();
    assert_eq!(seqs, vec![1, 2, 4, 5], "{r:?}");
    let r = ok(&mut c, "P", "NOOP");
    assert!(r.iter().any(|l| l == "* 3 EXPUNGE"), "{r:?}");
}
