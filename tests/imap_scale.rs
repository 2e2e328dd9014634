//! A big mailbox: SELECT, `FETCH 1:* (UID FLAGS)` and `UID SEARCH` work
//! from the index alone and stay fast (debug build, shared machine: the
//! bounds are loose, the point is "no body reads", which would be orders
//! of magnitude slower).

mod common;

use std::time::Instant;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

const MESSAGES: usize = 5_000;

fn until_tag(c: &mut Client, tag: &str) -> Vec<String> {
    let r = c.until(&format!("{tag} "));
    assert!(
        r.last().unwrap().starts_with(&format!("{tag} OK")),
        "{:?}",
        r.last()
    );
    r
}

#[test]
fn a_big_mailbox_answers_from_the_index() {
    let srv = Server::start(Options::default());
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("L LOGIN {DEMO_USER} {DEMO_PASS}"));
    until_tag(&mut c, "L");
    let started = Instant::now();
    for batch in 0..MESSAGES / 1000 {
        let mut cmd = format!("A{batch} APPEND INBOX");
        for i in 0..1000 {
            let n = batch * 1000 + i;
            let m = format!(
                "Subject: n{n}\r\nMessage-ID: <n{n}@x>\r\n\r\n{}\r\n",
                "x".repeat(2000)
            );
            let flags = if n % 3 == 0 { "(\\Seen)" } else { "()" };
            cmd.push_str(&format!(" {flags} {{{}+}}\r\n{m}", m.len()));
        }
        c.send(&cmd);
        until_tag(&mut c, &format!("A{batch}"));
    }
    eprintln!("appended {MESSAGES} in {:?}", started.elapsed());

    let t = Instant::now();
    c.send("S2 SELECT INBOX");
    let r = until_tag(&mut c, "S2");
    assert!(
        r.iter().any(|l| l == &format!("* {MESSAGES} EXISTS")),
        "{r:?}"
    );
    let select = t.elapsed();

    let t = Instant::now();
    c.send("F FETCH 1:* (UID FLAGS)");
    let r = until_tag(&mut c, "F");
    assert_eq!(r.len(), MESSAGES + 1);
    let fetch = t.elapsed();

    let t = Instant::now();
    c.send("U UID SEARCH UNSEEN");
    let r = until_tag(&mut c, "U");
    let hits = r[0].split(' ').count() - 2;
    assert_eq!(hits, MESSAGES - MESSAGES.div_ceil(3));
    let search = t.elapsed();
    // Informational only: speed is measured by bench/imap_scale, not here.
    eprintln!("select {select:?} fetch {fetch:?} search {search:?}");
}
