//! Every syntax form of §1: settings, comments, quoting, continuation, sections, references.

use super::*;

#[test]
fn settings_with_and_without_spaces() {
    let c = parse(
        "auth_mechanisms = plain login\nhostname=mx.example.org\n  recipient_delimiter   =   -  \n",
    );
    let s = c.settings();
    assert_eq!(s.auth_mechanisms, vec!["plain", "login"]);
    assert_eq!(s.hostname, "mx.example.org");
    assert_eq!(s.recipient_delimiter, "-");
}

#[test]
fn comments_and_quotes() {
    let c = parse(concat!(
        "# a comment line\n",
        "   # an indented comment\n",
        "login_greeting = \"Hello \\\"quoted\\\" # not a comment\" # but this is\n",
        "hostname = mx # trailing comment\n",
        "imap_capability = 'single # quoted'\n",
    ));
    assert_eq!(
        c.settings().login_greeting,
        "Hello \"quoted\" # not a comment"
    );
    assert_eq!(c.settings().hostname, "mx");
    assert_eq!(c.settings().imap_capability, "single # quoted");
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn ambiguous_hash_warns_and_cuts() {
    let c = parse("hostname = foo#bar\n");
    assert_eq!(c.settings().hostname, "foo");
    assert_eq!(c.warnings().len(), 1);
    assert!(
        c.warnings()[0].contains("line 1: Ambiguous '#'"),
        "{:?}",
        c.warnings()
    );
}

#[test]
fn quote_at_one_end_is_literal() {
    let c = parse("hostname = \"half\nimap_capability = a\"\n");
    assert_eq!(c.settings().hostname, "\"half");
    assert_eq!(c.settings().imap_capability, "a\"");
}

#[test]
fn crlf_and_continuation() {
    let c = parse(
        "hostname = a\r\npostmaster_address = postmaster@\\\r\n  example.org\r\nmail_uid = vmail\r\n",
    );
    assert_eq!(c.settings().hostname, "a");
    assert_eq!(c.settings().postmaster_address, "postmaster@ example.org");
    assert_eq!(c.settings().mail_uid, "vmail");
    let err = parse_err("hostname = a\n\nbogus_one = \\\n x\n");
    assert!(
        err.contains("line 4: Unknown setting: bogus_one"),
        "doveconf names the last line: {err}"
    );
}

/// Checked against doveconf 2.3.19.1: comments go first, per physical line.
#[test]
fn comments_and_continuations_interact_like_doveconf() {
    // A comment ending in `\` continues nothing.
    let c = parse("# a comment \\\nhostname = kept\n");
    assert_eq!(c.settings().hostname, "kept");
    // A `\` after a comment is part of the comment.
    let c = parse("hostname = x # trailing \\\nmail_uid = y\n");
    assert_eq!(
        (
            c.settings().hostname.as_str(),
            c.settings().mail_uid.as_str()
        ),
        ("x", "y")
    );
    // A comment line or an empty line ends a continuation.
    for text in ["hostname = a \\\n# c\n  b\n", "hostname = a \\\n\n  b\n"] {
        let err = parse_err(text);
        assert!(err.contains("line 3: Expecting '='"), "{err}");
        let ok = parse(&text.replace("  b\n", ""));
        assert_eq!(ok.settings().hostname, "a");
    }
    // Inside quotes a `#` is text, so the backslash still continues the line.
    let c = parse("login_greeting = \"a # b \\\n c\"\n");
    assert_eq!(c.settings().login_greeting, "a # b c");
}

#[test]
fn section_forms() {
    let c = parse(concat!(
        "passdb {\n  driver = pam\n}\n",
        "service imap-login {\n  inet_listener imap {\n    port = 1143\n  }\n}\n",
        "namespace \"my inbox\" {\n  inbox = yes\n  mailbox \"Sent Items\" {\n    special_use = \\Sent\n  }\n}\n",
        "plugin{\n  anything_goes = 1\n}\n",
    ));
    let s = c.settings();
    assert_eq!(s.passdbs[0].driver, "pam");
    let imap = s.service("imap-login").unwrap();
    assert_eq!(imap.inet_listeners[0].port, 1143);
    assert_eq!(s.namespaces[0].name, "my inbox");
    assert!(s.namespaces[0].inbox);
    assert_eq!(s.namespaces[0].mailboxes[0].name, "Sent Items");
    assert_eq!(s.namespaces[0].mailboxes[0].special_use, vec!["\\Sent"]);
    assert_eq!(s.plugin_setting("anything_goes"), Some("1"));
}

#[test]
fn quoted_section_names_end_at_the_first_unescaped_quote() {
    let c = parse("namespace inbox {\n  mailbox \"a \\\" {b\" {\n    auto = create\n  }\n}\n");
    let mailbox = &c.settings().namespaces[0].mailboxes[0];
    assert_eq!(mailbox.name, "a \" {b");
    assert!(
        parse_err("namespace inbox {\n  mailbox \"open {\n  }\n}\n")
            .contains("Missing closing quote in section name")
    );
}

#[test]
fn repeated_settings_and_sections() {
    let c = parse(concat!(
        "hostname = a\nhostname = b\n",
        "passdb {\n driver = passwd-file\n args = /etc/a\n}\npassdb {\n driver = pam\n}\n",
        "service imap-login {\n inet_listener imap {\n  port = 1\n }\n}\n",
        "service imap-login {\n inet_listener imap {\n  address = 127.0.0.1\n }\n}\n",
    ));
    let s = c.settings();
    assert_eq!(s.hostname, "b");
    let drivers: Vec<&str> = s.passdbs.iter().map(|p| p.driver.as_str()).collect();
    assert_eq!(drivers, vec!["passwd-file", "pam"]);
    let imap = s.service("imap-login").unwrap();
    let listener = imap
        .inet_listeners
        .iter()
        .find(|l| l.name.as_deref() == Some("imap"))
        .unwrap();
    assert_eq!(listener.port, 1);
    assert_eq!(listener.address, Some(vec!["127.0.0.1".to_string()]));
    assert_eq!(
        s.services.iter().filter(|s| s.name == "imap-login").count(),
        1
    );
}

#[test]
fn setting_references() {
    let c = parse(concat!(
        "mail_plugins = quota\n",
        "mail_plugins = $mail_plugins   notify\n",
        "state_dir = $base_dir\n",
        "hostname = x$base_dir\n",
        "imap_capability = \"$base_dir\"\n",
        "protocol imap {\n  mail_plugins = $mail_plugins imap_quota\n}\n",
        "mail_plugins = $mail_plugins replication\n",
    ));
    let s = c.settings();
    assert_eq!(s.mail_plugins, vec!["quota", "notify", "replication"]);
    assert_eq!(s.state_dir, PathBuf::from("/run/dovecot"));
    assert_eq!(s.hostname, "x$base_dir");
    assert_eq!(s.imap_capability, "$base_dir");
    // The filter saw the value at the time it was parsed.
    assert_eq!(
        c.for_protocol("imap").mail_plugins,
        vec!["quota", "notify", "imap_quota"]
    );
    assert!(
        parse_err("state_dir = $base_dir/state\n")
            .contains("line 1: Unknown variable: $base_dir/state")
    );
}

#[test]
fn env_references() {
    // PATH is set in every test environment; an unset variable gives the empty string.
    let path = std::env::var("PATH").unwrap_or_default();
    let c = parse("mail_temp_dir = $ENV:PATH\nhostname = a $ENV:TERN_TEST_SURELY_UNSET b\n");
    assert_eq!(c.settings().mail_temp_dir, PathBuf::from(path));
    assert_eq!(
        c.settings().hostname,
        "a  b",
        "an empty expansion keeps its place"
    );
}

#[test]
fn one_line_sections_are_an_extension() {
    let c = parse(concat!(
        "service imap-login {\n  inet_listener imaps { port = 1993 ssl = yes }\n}\n",
        "userdb { driver = passwd override_fields = uid=vmail gid=vmail }\n",
        "passdb { driver=pam args = \"a = b\" }\n",
        "plugin { }\n",
    ));
    let s = c.settings();
    let imaps = &s.service("imap-login").unwrap().inet_listeners[1];
    assert_eq!((imaps.port, imaps.ssl), (1993, true));
    assert_eq!(s.userdbs[0].driver, "passwd");
    assert_eq!(s.userdbs[0].override_fields, "uid=vmail gid=vmail");
    assert_eq!(s.passdbs[0].driver, "pam");
    assert_eq!(s.passdbs[0].args.expose(), "a = b");
    assert_eq!(c.warnings().len(), 4, "{:?}", c.warnings());
    assert!(c.warnings()[0].contains("line 2: one-line section is a tern extension"));
    let out = c.render(RenderOptions {
        non_default_only: true,
        show_secrets: true,
    });
    assert!(
        out.contains("  inet_listener imaps {\n    port = 1993\n    ssl = yes\n  }\n"),
        "{out}"
    );
    let err = parse_err("service imap { vsz_limit = huge }\n");
    assert!(
        err.contains("line 1: service/vsz_limit: Invalid size"),
        "{err}"
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let c = parse("\u{feff}hostname = bom\r\n");
    assert_eq!(c.settings().hostname, "bom");
}
