//! URLAUTH (RFC 4467) and CATENATE (RFC 4469) over TLS against the real
//! binary: GENURLAUTH → URLFETCH, the key surviving a restart, RESETKEY,
//! and an APPEND assembled from a literal and a URL.

mod common;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, selected_with_one_message};

/// What `selected_with_one_message` appends.
const MESSAGE: &str = "Subject: via imap\r\n\r\nbody\r\n";

fn urlauth_server() -> Server {
    Server::start(Options {
        extra_config: "imap_urlauth_host = localhost\n".into(),
        ..Options::default()
    })
}

fn login(srv: &Server) -> Client {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    c
}

/// `* URLFETCH <url> {n}` + data lines, or `* URLFETCH <url> NIL`.
fn urlfetch(c: &mut Client, tag: &str, url: &str) -> Vec<String> {
    c.send(&format!("{tag} URLFETCH {url}"));
    let lines = c.until(&format!("{tag} "));
    assert!(
        lines.last().unwrap().starts_with(&format!("{tag} OK")),
        "{lines:?}"
    );
    lines
}

#[test]
fn genurlauth_urlfetch_and_catenate_over_tls() {
    let mut srv = urlauth_server();
    let mut c = selected_with_one_message(&srv);

    c.send("d CAPABILITY");
    let caps = c.until("d ").join(" ");
    for cap in ["CATENATE", "URL-PARTIAL", "URLAUTH", "URLAUTH=BINARY"] {
        assert!(caps.split(' ').any(|c| c == cap), "{cap} missing: {caps}");
    }

    let rump = format!("imap://{DEMO_USER}@localhost/INBOX/;UID=1;URLAUTH=authuser");
    c.send(&format!("e GENURLAUTH \"{rump}\" INTERNAL"));
    let lines = c.until("e ");
    assert!(lines.last().unwrap().starts_with("e OK"), "{lines:?}");
    let url = lines[0]
        .strip_prefix("* GENURLAUTH ")
        .unwrap_or_else(|| panic!("{lines:?}"))
        .to_string();
    assert!(url.starts_with(&format!("{rump}:internal:")), "{url}");

    let fetched = urlfetch(&mut c, "f", &url);
    assert_eq!(
        fetched[0],
        format!("* URLFETCH {url} {{{}}}", MESSAGE.len())
    );
    assert_eq!(fetched[1..4], ["Subject: via imap", "", "body"]);

    // CATENATE with a synchronizing literal and a URL of the first message.
    let text = "X-Prefix: 1\r\n";
    c.send(&format!("g APPEND INBOX CATENATE (TEXT {{{}}}", text.len()));
    assert!(c.line().starts_with('+'));
    c.send_raw(format!("{text} URL \"/INBOX/;UID=1\")\r\n").as_bytes());
    let lines = c.until("g ");
    assert!(
        lines.last().unwrap().starts_with("g OK [APPENDUID "),
        "{lines:?}"
    );
    c.send("h UID FETCH 2 BODY.PEEK[]");
    let lines = c.until("h ");
    let joined = lines.join("\n");
    assert!(
        joined.contains(&format!(
            "BODY[] {{{}}}\nX-Prefix: 1\nSubject: via imap\n\nbody\n)",
            text.len() + MESSAGE.len()
        )),
        "{joined}"
    );
    c.send("i APPEND INBOX CATENATE (URL \"/INBOX/;UID=99\")");
    let lines = c.until("i ");
    assert_eq!(
        lines.last().unwrap(),
        "i NO [BADURL /INBOX/;UID=99] Message not found"
    );

    // The key is durable: the URL still works after a restart.
    drop(c);
    srv.restart();
    let mut c = login(&srv);
    let fetched = urlfetch(&mut c, "b", &url);
    assert!(
        fetched[0].ends_with(&format!("{{{}}}", MESSAGE.len())),
        "{fetched:?}"
    );

    // RESETKEY makes the URLs made with the old key useless.
    c.send("c RESETKEY INBOX");
    assert_eq!(
        c.until("c ").pop().unwrap(),
        "c OK [URLMECH INTERNAL] Key removed."
    );
    let fetched = urlfetch(&mut c, "d", &url);
    assert_eq!(fetched[0], format!("* URLFETCH {url} NIL"));
}
