//! Errors carry file:line and Dovecot wording; hostile input is bounded and never panics.

use super::*;

#[test]
fn unknown_setting_has_location_and_suggestion() {
    let err = parse_err("hostname = x\nauth_mechanism = plain\n");
    assert_eq!(
        err,
        "Error in configuration file /nonexistent/test.conf line 2: Unknown setting: auth_mechanism (did you mean `auth_mechanisms`?)"
    );
    let err = parse_err("Auth_Mechanisms = plain\n");
    assert!(
        err.contains("Unknown setting: Auth_Mechanisms (did you mean `auth_mechanisms`?)"),
        "{err}"
    );
    let err = parse_err("mail_replica = tcp:a\n");
    assert!(
        err.contains("line 1: Unknown setting: mail_replica"),
        "{err}"
    );
    let err = parse_err("service lmtp {\n  inet_listener lmtp {\n    prot = 24\n  }\n}\n");
    assert!(
        err.contains("line 3: Unknown setting: service/inet_listener/prot (did you mean `port`?)"),
        "{err}"
    );
}

#[test]
fn section_syntax_errors() {
    assert!(parse_err("service imap {  process_limit }\n").contains("line 1: Garbage after '{'"));
    assert!(parse_err("passdb { driver = pam\n").contains("line 1: Garbage after '{'"));
    assert!(
        parse_err("service imap { inet_listener x { port = 1 } }\n").contains("Garbage after '{'")
    );
    assert!(parse_err("hostname = a\n}\n").contains("line 2: Unexpected '}'"));
    assert!(parse_err("protocol imap pop3 {\n}\n").contains("line 1: Expecting '{'"));
    assert!(parse_err("hostname\n").contains("line 1: Expecting '='"));
    let err = parse_err("hostname = a\nservice imap {\n  user = x\n\n");
    assert_eq!(
        err,
        "Error in configuration file /nonexistent/test.conf: Missing '}' (section started at /nonexistent/test.conf:2)"
    );
    let err = parse_err("servce imap {\n}\n");
    assert!(
        err.contains("Unknown section type: servce (did you mean `service`?)"),
        "{err}"
    );
    let err = parse_err("service imap-logn {\n}\n");
    assert!(
        err.contains("Unknown service: imap-logn (did you mean `imap-login`?)"),
        "{err}"
    );
    assert!(parse_err("protocol imap {\n protocol pop3 {\n }\n}\n").contains("line 2: "));
    assert!(parse_err("inet_listener x {\n}\n").contains("inside a service"));
    assert!(parse_err("remote 10.0.0.0/8 {\n local 10.1.1.1 {\n }\n}\n").contains("line 2"));
    assert!(parse_err("!bogus x\n").contains("Unknown directive"));
}

#[test]
fn value_errors_have_lines() {
    let err = parse_err("\nssl = maybe\n");
    assert!(
        err.contains("line 2: ssl: Invalid value 'maybe' (allowed: yes, no, required)"),
        "{err}"
    );
    assert!(parse_err("verbose_ssl = perhaps\n").contains("Invalid boolean value: perhaps"));
    assert!(
        parse_err("auth_failure_delay = 10\n")
            .contains("line 1: auth_failure_delay: Time interval '10' is missing units")
    );
    assert!(parse_err("imap_max_line_length = 64 q\n").contains("Invalid size"));
    assert!(parse_err("first_valid_uid = -5\n").contains("Invalid number"));
    assert!(parse_err("shard_cpus = 0-3,x\n").contains("Invalid CPU list"));
    assert!(parse_err("shards = zero\n").contains("Invalid shard count"));
    assert!(
        parse_err("service imap {\n  vsz_limit = lots\n}\n")
            .contains("line 2: service/vsz_limit: Invalid size")
    );
}

#[test]
fn workarounds_are_validated() {
    let err = parse_err("imap_client_workarounds = delay-newmail bogus-thing\n");
    assert!(
        err.contains("line 1: imap_client_workarounds: Unknown workaround: bogus-thing"),
        "{err}"
    );
    let c = parse(
        "imap_client_workarounds = outlook-idle, TB-LSUB-FLAGS\npop3_client_workarounds = oe-ns-eoh\n",
    );
    assert_eq!(
        c.settings().imap_client_workarounds,
        vec![ImapWorkaround::TbLsubFlags]
    );
    assert_eq!(
        c.settings().pop3_client_workarounds,
        vec![Pop3Workaround::OeNsEoh]
    );
    assert!(
        c.warnings()
            .iter()
            .any(|w| w.contains("outlook-idle is obsolete (no longer necessary)"))
    );
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: false,
    });
    assert!(
        out.contains("imap_client_workarounds = tb-lsub-flags\n"),
        "{out}"
    );
}

#[test]
fn auth_settings_rejected_in_local_remote() {
    let err = parse_err("remote 192.0.2.0/24 {\n  auth_mechanisms = plain login\n}\n");
    assert!(
        err.contains(
            "line 2: Auth settings not supported inside local/remote blocks: auth_mechanisms"
        ),
        "{err}"
    );
    let err = parse_err("local 192.0.2.1 {\n  passdb {\n  }\n}\n");
    assert!(
        err.contains("line 2: passdb: Auth settings not supported inside local/remote blocks"),
        "{err}"
    );
    let c = parse("remote 192.0.2.0/24 {\n  disable_plaintext_auth = no\n}\n");
    assert!(c.settings().disable_plaintext_auth);
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "\u{0}\u{1}{}}}{{",
        "= = =",
        "{",
        "}",
        "a {",
        "\"",
        "'",
        "x = \"",
        "!include",
        "!include_try {",
        "!include {,,,}",
        "protocol ! {\n}",
        "local x/y {\n}",
        "key = $",
        "key = <",
        "service \"unterminated {",
        "\\",
        "\\\n\\\n",
        "hostname = \\",
        "#",
        "plugin {\nx = $nope\n}",
    ];
    for sample in samples {
        let _ = parse_str(sample, Path::new("/nonexistent/x.conf"));
    }
    // Bytes that are not UTF-8 in a file are read lossily, not rejected with a panic.
    let dir = TempDir::new();
    let path = dir.0.join("bin.conf");
    std::fs::write(&path, b"hostname = \xff\xfe\n").unwrap();
    assert_eq!(load(&path).unwrap().settings().hostname, "\u{fffd}\u{fffd}");
}

#[test]
fn nested_local_must_be_inside_parent() {
    let c =
        parse("local 10.0.0.0/8 {\n  local 10.1.0.0/16 {\n    login_greeting = inner\n  }\n}\n");
    let ctx = FilterContext {
        protocol: Some("imap"),
        local_ip: Some("10.1.2.3".parse().unwrap()),
        ..FilterContext::default()
    };
    assert_eq!(c.for_connection(&ctx).login_greeting, "inner");
    let err = parse_err("local 10.0.0.0/8 {\n  local 192.0.2.0/24 {\n  }\n}\n");
    assert!(
        err.contains("line 2: local 192.0.2.0/24 is not inside its parent local network"),
        "{err}"
    );
}

#[test]
fn hostile_inputs_are_bounded() {
    let deep = "local 10.0.0.0/8 {\n".repeat(100);
    assert!(parse_err(&deep).contains("Sections nested too deeply"));
    let doubling = "mail_plugins = a\n".to_string()
        + &"mail_plugins = $mail_plugins $mail_plugins\n".repeat(40);
    assert!(parse_err(&doubling).contains("Value too long after $ expansion"));
}

#[test]
fn total_input_is_capped() {
    let dir = TempDir::new();
    dir.write(
        "big.conf",
        &format!("# {}\nhostname = x\n", "x".repeat(8 << 20)),
    );
    let main = dir.write("main.conf", &"!include big.conf\n".repeat(10));
    let err = load(&main).unwrap_err().to_string();
    assert!(err.contains("line 8: Configuration too large"), "{err}");
}
