//! The pre-login session without a connection.

use super::*;
use crate::imap::codec::parse_command;
use crate::imap::session::output::Collected;
use std::path::Path;

/// IMAP settings as the config layer builds them from `text`.
fn settings(text: &str) -> ProtocolSettings {
    let path = Path::new("/etc/tern/tern.conf");
    let cfg = crate::config::parse_str(text, path).expect("config");
    let plan = crate::server::from_config::plan(&cfg, path).expect("plan");
    plan.protocols.imap.clone()
}

fn plaintext(settings: &ProtocolSettings) -> Link<'_> {
    Link {
        settings,
        session: "s1",
        remote_ip: "192.0.2.7",
        tls: false,
        secured: false,
        certificate: true,
    }
}

/// Runs one command line; returns the flow and what was written.
fn run(state: &mut Prelogin, link: &Link<'_>, line: &str) -> (PreloginFlow, String) {
    let frame = format!("{line}\r\n");
    let cmd = parse_command(frame.as_bytes()).expect("test command parses");
    let mut out = Collected::default();
    let flow = state.handle(link, &mut out, cmd);
    (flow, out.take())
}

#[test]
fn greeting_carries_the_capabilities() {
    let s = settings("ssl = no\nlogin_greeting = Hello there.\n");
    let link = plaintext(&s);
    let mut out = Collected::default();
    Prelogin::default().greet(&link, &mut out);
    let text = out.take();
    assert!(
        text.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "),
        "{text}"
    );
    assert!(text.ends_with("] Hello there.\r\n"), "{text}");
    assert!(
        !text.contains("STARTTLS"),
        "ssl = no offers no STARTTLS: {text}"
    );
}

#[test]
fn plaintext_login_is_disabled_without_tls() {
    let mut s = settings("ssl = no\n");
    s.tls_available = true;
    s.disable_plaintext_auth = true;
    let link = plaintext(&s);
    let caps = link.capabilities();
    assert!(caps.contains(" STARTTLS"), "{caps}");
    assert!(caps.ends_with(" LOGINDISABLED"), "{caps}");
    let (flow, text) = run(&mut Prelogin::default(), &link, "a LOGIN joe secret");
    assert_eq!(flow, PreloginFlow::Continue);
    assert_eq!(
        text,
        "a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
    );
}

#[test]
fn login_goes_to_the_driver_when_allowed() {
    let mut s = settings("ssl = no\n");
    s.disable_plaintext_auth = false;
    let link = plaintext(&s);
    assert!(link.capabilities().contains(" AUTH=PLAIN"));
    let (flow, text) = run(&mut Prelogin::default(), &link, "a LOGIN joe \"se cret\"");
    assert_eq!(
        flow,
        PreloginFlow::Login {
            user: b"joe".to_vec(),
            password: Secret::from("se cret")
        }
    );
    assert_eq!(text, "");
}

#[test]
fn tls_required_refuses_login_before_tls() {
    let mut s = settings("ssl = no\n");
    s.tls_required = true;
    let link = plaintext(&s);
    let (_, text) = run(&mut Prelogin::default(), &link, "a LOGIN joe secret");
    assert_eq!(text, "a NO [PRIVACYREQUIRED] TLS is required.\r\n");
}

#[test]
fn starttls_only_with_a_certificate_and_without_tls() {
    let mut s = settings("ssl = no\n");
    s.tls_available = true;
    let link = plaintext(&s);
    let (flow, text) = run(&mut Prelogin::default(), &link, "a STARTTLS");
    assert_eq!(flow, PreloginFlow::StartTls);
    assert_eq!(text, "a OK Begin TLS negotiation now.\r\n");
    let on_tls = Link { tls: true, ..link };
    let (flow, text) = run(&mut Prelogin::default(), &on_tls, "b STARTTLS");
    assert_eq!(flow, PreloginFlow::Continue);
    assert_eq!(text, "b BAD TLS is not available.\r\n");
    let no_cert = Link {
        certificate: false,
        ..link
    };
    let (_, text) = run(&mut Prelogin::default(), &no_cert, "c STARTTLS");
    assert_eq!(text, "c BAD TLS is not available.\r\n");
}

#[test]
fn authenticate_plain_with_initial_response() {
    let mut s = settings("ssl = no\n");
    s.disable_plaintext_auth = false;
    s.auth_mechanisms = vec!["plain".into()];
    let link = plaintext(&s);
    let (flow, _) = run(
        &mut Prelogin::default(),
        &link,
        "a AUTHENTICATE PLAIN AGpvZQBzZWNyZXQ=",
    );
    assert_eq!(
        flow,
        PreloginFlow::Authenticate {
            mechanism: Mechanism::Plain,
            initial: Some(Secret::from("AGpvZQBzZWNyZXQ="))
        }
    );
    let (flow, _) = run(&mut Prelogin::default(), &link, "b AUTHENTICATE PLAIN =");
    assert_eq!(
        flow,
        PreloginFlow::Authenticate {
            mechanism: Mechanism::Plain,
            initial: Some(Secret::from("="))
        }
    );
}

#[test]
fn authenticate_unlisted_mechanism_is_no() {
    let mut s = settings("ssl = no\n");
    s.disable_plaintext_auth = false;
    s.auth_mechanisms = vec!["plain".into()];
    let link = plaintext(&s);
    let (flow, text) = run(&mut Prelogin::default(), &link, "a AUTHENTICATE LOGIN");
    assert_eq!(flow, PreloginFlow::Continue);
    assert_eq!(text, "a NO Unsupported authentication mechanism.\r\n");
    let (_, text) = run(&mut Prelogin::default(), &link, "b AUTHENTICATE X-UNKNOWN");
    assert_eq!(text, "b NO Unsupported authentication mechanism.\r\n");
}

#[test]
fn capability_noop_id_and_logout() {
    let s = settings("ssl = no\n");
    let link = plaintext(&s);
    let mut state = Prelogin::default();
    let (_, text) = run(&mut state, &link, "a CAPABILITY");
    assert!(text.starts_with("* CAPABILITY IMAP4rev1 "), "{text}");
    assert!(
        text.ends_with(
            "a OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
        )
    );
    assert_eq!(
        run(&mut state, &link, "b NOOP").1,
        "b OK NOOP completed.\r\n"
    );
    let (_, text) = run(&mut state, &link, "c ID NIL");
    assert!(text.starts_with("* ID (\"name\" \"tern\""), "{text}");
    assert!(state.id_logged);
    let (flow, text) = run(&mut state, &link, "d LOGOUT");
    assert_eq!(flow, PreloginFlow::Logout);
    assert_eq!(text, "* BYE Logging out\r\nd OK Logout completed.\r\n");
}

#[test]
fn authenticated_commands_are_refused() {
    let s = settings("ssl = no\n");
    let link = plaintext(&s);
    let mut state = Prelogin::default();
    assert_eq!(
        run(&mut state, &link, "a ENABLE CONDSTORE").1,
        "a BAD ENABLE is not allowed before login.\r\n"
    );
    for line in [
        "b SELECT INBOX",
        "b LIST \"\" *",
        "b IDLE",
        "b COMPRESS DEFLATE",
    ] {
        assert_eq!(
            run(&mut state, &link, line).1,
            "b BAD Error in IMAP command: Unknown command or not allowed before login.\r\n",
            "{line}"
        );
    }
}
