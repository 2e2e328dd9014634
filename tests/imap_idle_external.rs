//! IMAP IDLE on a Maildir or mbox notices mail that another program (an
//! MDA such as procmail or dovecot-lda) puts straight into the files: the
//! session polls every `mailbox_idle_check_interval` and pushes EXISTS.

mod common;

use std::io::Write;
use std::path::Path;

use common::{Client, DEMO_USER, Options, Server};

fn start(mail_location: String) -> Server {
    Server::start(Options {
        extra_config: format!(
            "mail_location = {mail_location}\nmailbox_idle_check_interval = 1 secs\n"
        ),
        ..Options::default()
    })
}

/// Logs in, appends one message over IMAP, selects INBOX and starts IDLE.
fn idle_with_one_message(srv: &Server) -> Client {
    let mut c = common::selected_with_one_message(srv);
    c.send("d IDLE");
    assert_eq!(c.line(), "+ idling");
    c
}

/// The client is told of the second message without sending anything,
/// then ends IDLE and can read it.
fn expect_pushed_and_readable(c: &mut Client) {
    // Nothing is sent: only IDLE's own poll can produce this line (the
    // harness gives up after its read timeout and `until` returns "").
    let r = c.until("* 2 EXISTS");
    assert_eq!(r.last().map(String::as_str), Some("* 2 EXISTS"), "{r:?}");
    c.send("DONE");
    assert!(c.until("d ").pop().unwrap().starts_with("d OK"));
    c.send("e FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    let r = c.until("e ");
    assert!(r.iter().any(|l| l == "Subject: external"), "{r:?}");
}

#[test]
fn idle_sees_mail_an_mda_put_into_the_maildir() {
    let base = common::TempDir::new("idle-maildir");
    let srv = start(format!("maildir:{}/maildirs/%n", base.path().display()));
    let mut c = idle_with_one_message(&srv);

    // The Maildir way: write in tmp/, rename into new/.
    let maildir = base.path().join("maildirs").join(DEMO_USER);
    assert!(
        maildir.join("new").is_dir(),
        "no Maildir at {}",
        maildir.display()
    );
    let tmp = maildir.join("tmp/1764300000.M1P1.external");
    std::fs::write(&tmp, "Subject: external\n\nhello\n").unwrap();
    std::fs::rename(&tmp, maildir.join("new/1764300000.M1P1.external")).unwrap();

    expect_pushed_and_readable(&mut c);
}

#[test]
fn idle_sees_mail_an_mda_appended_to_the_mbox() {
    let base = common::TempDir::new("idle-mbox");
    let spool = base.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let srv = start(format!(
        "mbox:{base}/mbox/%n:INBOX={base}/spool/%n",
        base = base.path().display()
    ));
    let mut c = idle_with_one_message(&srv);

    // procmail-style delivery: append a From_ line, the message and the
    // separating blank line to the spool file.
    append(
        &spool.join(DEMO_USER),
        "From mda@example.org  Sat Nov 28 11:26:13 2026\nSubject: external\n\nhello\n\n",
    );

    expect_pushed_and_readable(&mut c);
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    f.write_all(text.as_bytes()).unwrap();
}
