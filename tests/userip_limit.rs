//! `mail_max_userip_connections`: one more login of the same user from the
//! same IP than allowed is refused; closing a session frees its slot.

mod common;

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server};

fn pop3_login(srv: &Server) -> (Client, String) {
    let mut c = Client::tls(srv.pop3s.port, srv.tls_config());
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("USER {DEMO_USER}"));
    assert!(c.line().starts_with("+OK"));
    c.send(&format!("PASS {DEMO_PASS}"));
    let r = c.line();
    (c, r)
}

#[test]
fn pop3_sessions_per_user_and_ip_are_limited() {
    let srv = Server::start(Options {
        extra_config: "mail_max_userip_connections = 2\n".into(),
        ..Options::default()
    });
    let (mut a, r) = pop3_login(&srv);
    assert!(r.starts_with("+OK"), "{r}");
    let (_b, r) = pop3_login(&srv);
    assert!(r.starts_with("+OK"), "{r}");
    let (_c, r) = pop3_login(&srv);
    assert!(r.starts_with("-ERR [IN-USE]"), "{r}");
    a.send("QUIT");
    assert!(a.line().starts_with("+OK"));
    assert!(a.at_eof());
    // the slot is free again once the first session is gone
    let mut r = String::new();
    for _ in 0..50 {
        let (_d, got) = pop3_login(&srv);
        r = got;
        if r.starts_with("+OK") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(r.starts_with("+OK"), "{r}");
}
