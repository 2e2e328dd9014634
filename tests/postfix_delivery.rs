//! Postfix in front of tern: a private, loopback-only Postfix instance
//! (its own config, queue and data directories under the test's temp dir)
//! delivers local mail through `mailbox_transport = lmtp:inet:…` to tern.
//! 100 messages go in with `sendmail`; every one must arrive, readable over
//! POP3S with the right `Return-Path` and `Delivered-To`. Postfix is
//! stopped afterwards, also when the test fails.
//!
//! Needs root (Postfix's master runs as root). When postfix is missing and
//! we are root on Debian, the test installs it ("No configuration", so the
//! system instance stays unconfigured and stopped).

mod common;
mod pop3_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Server;
use pop3_support::{alice, multiline, options, stat};

const MESSAGES: usize = 100;

fn postfix_installed() -> bool {
    Path::new("/usr/sbin/postfix").exists() && Path::new("/usr/sbin/sendmail").exists()
}

/// Installs Debian's postfix without configuring it.
fn install_postfix() -> bool {
    let script = "echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections \
                  && echo 'postfix postfix/mailname string localhost' | debconf-set-selections \
                  && apt-get update -qq && apt-get install -y -qq postfix";
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The private Postfix instance; stopped on drop.
struct Postfix {
    config: PathBuf,
    root: PathBuf,
}

impl Postfix {
    fn start(root: &Path, lmtp_port: u16) -> Postfix {
        let config = root.join("etc");
        let queue = root.join("queue");
        let data = root.join("data");
        for d in [&config, &queue, &data] {
            fs::create_dir_all(d).unwrap();
        }
        fs::write(
            config.join("main.cf"),
            format!(
                "compatibility_level = 3.6\n\
                 queue_directory = {queue}\n\
                 data_directory = {data}\n\
                 mail_owner = postfix\n\
                 setgid_group = postdrop\n\
                 myhostname = tern-test.localdomain\n\
                 mydomain = localdomain\n\
                 myorigin = $myhostname\n\
                 mydestination = $myhostname, localhost\n\
                 inet_interfaces = loopback-only\n\
                 inet_protocols = ipv4\n\
                 mynetworks = 127.0.0.0/8\n\
                 relayhost =\n\
                 mailbox_transport = lmtp:inet:127.0.0.1:{lmtp_port}\n\
                 local_recipient_maps =\n\
                 alias_maps =\n\
                 alias_database =\n\
                 smtputf8_enable = no\n\
                 biff = no\n\
                 maillog_file_prefixes = {root}\n\
                 maillog_file = {log}\n",
                queue = queue.display(),
                data = data.display(),
                root = root.display(),
                log = root.join("maillog").display(),
            ),
        )
        .unwrap();
        // Only unix-domain services: nothing listens on the network.
        let services = [
            "pickup    unix  n - n 60    1 pickup",
            "cleanup   unix  n - n -     0 cleanup",
            "qmgr      unix  n - n 300   1 qmgr",
            "rewrite   unix  - - n -     - trivial-rewrite",
            "bounce    unix  - - n -     0 bounce",
            "defer     unix  - - n -     0 bounce",
            "trace     unix  - - n -     0 bounce",
            "verify    unix  - - n -     1 verify",
            "flush     unix  n - n 1000? 0 flush",
            "proxymap  unix  - - n -     - proxymap",
            "showq     unix  n - n -     - showq",
            "error     unix  - - n -     - error",
            "retry     unix  - - n -     - error",
            "discard   unix  - - n -     - discard",
            "local     unix  - n n -     - local",
            "lmtp      unix  - - n -     - lmtp",
            "smtp      unix  - - n -     - smtp",
            "anvil     unix  - - n -     1 anvil",
            "scache    unix  - - n -     1 scache",
            "postlog   unix-dgram n - n - 1 postlogd",
        ];
        fs::write(config.join("master.cf"), services.join("\n") + "\n").unwrap();
        // master takes its lock in data_directory as the mail owner.
        let chown = Command::new("chown")
            .arg("postfix")
            .arg(&data)
            .status()
            .unwrap();
        assert!(chown.success(), "chown postfix {}", data.display());
        let pf = Postfix {
            config,
            root: root.to_path_buf(),
        };
        pf.run(&["check"]);
        pf.run(&["start"]);
        pf
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postfix {args:?}: {}{}\nmaillog:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.maillog()
        );
    }

    fn sendmail(&self, from: &str, to: &str, message: &str) {
        use std::io::Write;
        let mut child = Command::new("/usr/sbin/sendmail")
            .arg("-C")
            .arg(&self.config)
            .args(["-i", "-f", from, to])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "sendmail failed");
    }

    fn maillog(&self) -> String {
        fs::read_to_string(self.root.join("maillog")).unwrap_or_default()
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(&self.config)
            .arg("stop")
            .output();
    }
}

#[test]
fn postfix_delivers_100_messages_through_lmtp() {
    common::require_root("it installs and starts a private Postfix");
    if !postfix_installed() && !install_postfix() {
        panic!("postfix is missing and could not be installed");
    }
    let srv = Server::start(options());
    let postfix = Postfix::start(&srv.dir.path().join("postfix"), srv.lmtp.port);
    for i in 0..MESSAGES {
        let rcpt = if i % 2 == 0 {
            "alice@localhost"
        } else {
            "alice@tern-test.localdomain"
        };
        postfix.sendmail(
            "sender@example.org",
            rcpt,
            &format!("From: sender@example.org\nTo: {rcpt}\nSubject: postfix {i}\n\nbody {i}\n.dot line\n"),
        );
    }

    // Wait for the queue to drain into tern.
    let deadline = Instant::now() + Duration::from_secs(120);
    let count = loop {
        let mut c = alice(&srv);
        let (n, _) = stat(&mut c);
        c.send("QUIT");
        c.line();
        if n >= MESSAGES || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(
        count,
        MESSAGES,
        "not everything arrived\nmaillog:\n{}\ntern:\n{}",
        postfix.maillog(),
        srv.log_text()
    );

    let mut c = alice(&srv);
    let mut subjects = std::collections::BTreeSet::new();
    for n in 1..=MESSAGES {
        c.send(&format!("RETR {n}"));
        let ok = c.line();
        assert!(ok.starts_with("+OK"), "{ok}");
        let msg = multiline(&mut c);
        assert_eq!(msg[0], "Return-Path: <sender@example.org>", "{msg:?}");
        assert!(
            msg[1] == "Delivered-To: alice@localhost"
                || msg[1] == "Delivered-To: alice@tern-test.localdomain",
            "{msg:?}"
        );
        assert!(msg[2].starts_with("Received: from "), "{msg:?}");
        assert!(
            msg.iter().any(|l| l == "..dot line"),
            "dot-stuffed: {msg:?}"
        );
        let subject = msg
            .iter()
            .find(|l| l.starts_with("Subject: postfix "))
            .cloned()
            .unwrap_or_else(|| panic!("{msg:?}"));
        subjects.insert(subject);
    }
    assert_eq!(subjects.len(), MESSAGES, "every message exactly once");
    c.send("QUIT");
    c.line();

    // The same messages over IMAP, with the trace headers Postfix asked for.
    let mut i = common::Client::tls(srv.imaps.port, srv.tls_config());
    assert!(i.line().starts_with("* OK"));
    i.send(&format!(
        "a LOGIN {} {}",
        common::DEMO_USER,
        common::DEMO_PASS
    ));
    assert!(i.until("a ").pop().unwrap().starts_with("a OK"));
    i.send("b SELECT INBOX");
    let sel = i.until("b ");
    assert!(
        sel.iter().any(|l| l == &format!("* {MESSAGES} EXISTS")),
        "{sel:?}"
    );
    i.send("c FETCH 1:* (BODY.PEEK[HEADER.FIELDS (RETURN-PATH DELIVERED-TO SUBJECT)])");
    // Header literals end with a blank line, which `until` takes for the
    // end of the stream: read up to the tagged reply instead.
    let mut lines = Vec::new();
    while lines.len() < 20 * MESSAGES {
        let l = i.line();
        let done = l.starts_with("c ");
        lines.push(l);
        if done {
            break;
        }
    }
    assert!(lines.last().unwrap().starts_with("c OK"), "{lines:?}");
    let returns = lines
        .iter()
        .filter(|l| *l == "Return-Path: <sender@example.org>")
        .count();
    let delivered = lines
        .iter()
        .filter(|l| l.starts_with("Delivered-To: alice@"))
        .count();
    let imap_subjects: std::collections::BTreeSet<_> = lines
        .iter()
        .filter(|l| l.starts_with("Subject: postfix "))
        .cloned()
        .collect();
    assert_eq!(returns, MESSAGES, "{lines:?}");
    assert_eq!(delivered, MESSAGES, "{lines:?}");
    assert_eq!(imap_subjects, subjects);
    i.send("d LOGOUT");
    i.until("d ");
    drop(postfix);
}
