//! Property checks on generated input (a small deterministic PRNG, no extra crates):
//! parsing never panics, and whatever parses survives `parse(render(c))` unchanged.

use super::*;

/// xorshift64*: deterministic, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const TOKENS: &[&str] = &[
    "hostname",
    "login_greeting",
    "mail_plugins",
    "ssl",
    "listen",
    "auth_mechanisms",
    "imap_client_workarounds",
    "auth_failure_delay",
    "imap_max_line_length",
    "plugin",
    "passdb",
    "userdb",
    "namespace",
    "mailbox",
    "service",
    "imap-login",
    "lmtp",
    "inet_listener",
    "unix_listener",
    "port",
    "mode",
    "driver",
    "args",
    "protocol",
    "imap",
    "!imap",
    "local",
    "remote",
    "local_name",
    "10.0.0.0/8",
    "::1",
    "mail.example.org",
    "=",
    "=",
    "=",
    "{",
    "{",
    "}",
    "}",
    "\"",
    "'",
    "#",
    "\\",
    "$mail_plugins",
    "$",
    "$ENV:HOME",
    "<",
    "!include",
    "!include_try",
    "*",
    "{a,b}",
    "yes",
    "no",
    "required",
    "0600",
    "993",
    "2 mins",
    "64k",
    "delay-newmail",
    "outlook-idle",
    "%u",
    "%%",
    "é",
    "\u{0}",
    "\t",
    " ",
    " ",
    " ",
    "\n",
    "\n",
    "\r\n",
    "x#y",
];

fn soup(rng: &mut Rng) -> String {
    let len = 1 + rng.next() % 40;
    (0..len)
        .map(|_| rng.pick(TOKENS))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn random_token_soups_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for _ in 0..3000 {
        let text = soup(&mut rng);
        if let Ok(config) = parse_str(&text, Path::new("/nonexistent/fuzz.conf")) {
            parsed += 1;
            let _ = config.render(RenderOptions::default());
            let _ = config.for_protocol("imap");
        }
    }
    assert!(
        parsed > 0,
        "the generator should produce some valid configs"
    );
}

/// Small valid configurations assembled from known-good lines.
fn valid_config(rng: &mut Rng) -> String {
    const TOP: &[&str] = &[
        "hostname = mx.example.org",
        "login_greeting = \"Hi # there \\\"you\\\"\"",
        "login_greeting = '  padded  '",
        "mail_plugins = $mail_plugins quota",
        "mail_plugins = $mail_plugins notify",
        "auth_mechanisms = plain   login",
        "listen = *,  ::",
        "ssl = required",
        "ssl = no",
        "auth_failure_delay = 120 secs",
        "imap_max_line_length = 65536",
        "imap_client_workarounds = tb-lsub-flags, outlook-idle",
        "pop3_client_workarounds = oe-ns-eoh",
        "login_trusted_networks = 10.0.0.0/8 ::1",
        "shard_cpus = 0-3,8",
        "shards = 4",
        "mail_location = sdbox:/var/mail/%n/",
        "postmaster_address = x$hostname",
        "imap_capability = \"$literal\"",
        "recipient_delimiter = \"<\"",
    ];
    const BLOCKS: &[&str] = &[
        "passdb {\n  driver = pam\n  deny = no\n}",
        "passdb {\n  driver = passwd-file\n  args = scheme=CRYPT /etc/users\n}",
        "userdb {\n  driver = static\n  args = uid=vmail gid=vmail home=/var/mail/%n\n}",
        "service imap-login {\n  inet_listener imap {\n    port = 0\n  }\n}",
        "service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = 24\n  }\n}",
        "service imap-login {\n  inet_listener imaps { port = 1993 ssl = yes }\n}",
        "service auth {\n  unix_listener /var/spool/postfix/private/auth {\n    mode = 0666\n  }\n}",
        "plugin {\n  mail_replica = tcp:peer:12345\n  quota = maildir:User quota\n}",
        "namespace inbox {\n  inbox = yes\n  mailbox \"Sent Items\" {\n    special_use = \\Sent\n  }\n}",
        "protocol imap {\n  mail_plugins = $mail_plugins imap_quota\n  imap_idle_notify_interval = 1 min\n}",
        "protocol !imap {\n  mail_max_userip_connections = 3\n}",
        "remote 192.0.2.0/24 {\n  login_greeting = remote\n  protocol pop3 {\n    pop3_enable_last = yes\n  }\n}",
        "local 198.51.100.1 {\n  ssl = yes\n}",
        "local_name mail.example.org {\n  hostname = sni\n}",
    ];
    let lines = 1 + rng.next() % 12;
    (0..lines)
        .map(|_| {
            if rng.next().is_multiple_of(3) {
                rng.pick(BLOCKS)
            } else {
                rng.pick(TOP)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn random_valid_configs_round_trip() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let contexts = [
        FilterContext::default(),
        FilterContext {
            protocol: Some("imap"),
            ..FilterContext::default()
        },
        FilterContext {
            protocol: Some("pop3"),
            remote_ip: "192.0.2.9".parse().ok(),
            ..FilterContext::default()
        },
        FilterContext {
            protocol: Some("lmtp"),
            local_ip: "198.51.100.1".parse().ok(),
            local_name: Some("mail.example.org"),
            ..FilterContext::default()
        },
    ];
    for round in 0..100 {
        let text = valid_config(&mut rng);
        let config = parse_str(&text, Path::new("/nonexistent/gen.conf"))
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{text}"));
        for non_default_only in [true, false] {
            let out = config.render(RenderOptions {
                non_default_only,
                show_secrets: true,
            });
            let again = parse_str(&out, Path::new("/nonexistent/gen.conf")).unwrap_or_else(|e| {
                panic!("round {round}: {e}\n--- input\n{text}--- output\n{out}")
            });
            for ctx in &contexts {
                assert_eq!(
                    again.for_connection(ctx),
                    config.for_connection(ctx),
                    "round {round} ctx {ctx:?}\n--- input\n{text}--- output\n{out}"
                );
            }
            let twice = again.render(RenderOptions {
                non_default_only,
                show_secrets: true,
            });
            assert_eq!(twice, out, "round {round}: render is not stable");
        }
    }
}
