//! Other programs write into the Maildir or mbox tern serves (an MDA, here
//! the test writing the files the way one does): an IMAP session sees it
//! at its next command, not only at NOOP; IDLE wakes within
//! `mailbox_idle_check_interval`; and neither POP3 DELE/QUIT nor IMAP
//! EXPUNGE removes or hides a message the session did not know about.

mod common;

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Client, DEMO_PASS, DEMO_USER, Options, Server, TempDir};

#[derive(Clone, Copy)]
enum Format {
    Maildir,
    Mbox,
}

/// A running tern serving the demo user's mail in `format` under `base`.
struct Setup {
    format: Format,
    base: TempDir,
    srv: Server,
}

impl Setup {
    fn start(format: Format) -> Setup {
        let base = TempDir::new("foreign");
        let location = match format {
            Format::Maildir => format!("maildir:{}/maildirs/%n", base.path().display()),
            Format::Mbox => {
                fs::create_dir_all(base.path().join("spool")).unwrap();
                format!(
                    "mbox:{b}/mbox/%n:INBOX={b}/spool/%n",
                    b = base.path().display()
                )
            }
        };
        let srv = Server::start(Options {
            extra_config: format!(
                "mail_location = {location}\nmailbox_idle_check_interval = 1 secs\n"
            ),
            ..Options::default()
        });
        Setup { format, base, srv }
    }

    fn maildir(&self) -> PathBuf {
        self.base.path().join("maildirs").join(DEMO_USER)
    }

    fn spool(&self) -> PathBuf {
        self.base.path().join("spool").join(DEMO_USER)
    }

    /// Deliver a message the way an MDA does, behind tern's back.
    fn deliver(&self, subject: &str) {
        match self.format {
            Format::Maildir => {
                let dir = self.maildir();
                assert!(dir.join("new").is_dir(), "no Maildir at {}", dir.display());
                let name = format!("1764300000.M{}P1.mda", common::rand_u64());
                let tmp = dir.join("tmp").join(&name);
                fs::write(&tmp, format!("Subject: {subject}\n\nhello\n")).unwrap();
                fs::rename(&tmp, dir.join("new").join(&name)).unwrap();
            }
            Format::Mbox => {
                let spool = self.spool();
                let _lock = Dotlock::take(&spool);
                let mut f = fs::OpenOptions::new()
                    .append(true)
                    .open(&spool)
                    .unwrap_or_else(|e| panic!("{}: {e}", spool.display()));
                write!(
                    f,
                    "From mda@example.org  Sat Nov 28 11:26:13 2026\nSubject: {subject}\n\nhello\n\n"
                )
                .unwrap();
            }
        }
    }

    fn imap(&self) -> Client {
        let mut c = Client::tls(self.srv.imaps.port, self.srv.tls_config());
        assert!(c.line().starts_with("* OK"));
        c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
        assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
        c
    }

    fn pop3(&self) -> Client {
        let mut c = Client::tls(self.srv.pop3s.port, self.srv.tls_config());
        assert!(c.line().starts_with("+OK"));
        c.send(&format!("USER {DEMO_USER}"));
        assert!(c.line().starts_with("+OK"));
        c.send(&format!("PASS {DEMO_PASS}"));
        let l = c.line();
        assert!(l.starts_with("+OK"), "{l}");
        c
    }
}

/// `<file>.lock` taken with O_EXCL, as procmail and Postfix's local do.
struct Dotlock(PathBuf);

impl Dotlock {
    fn take(file: &Path) -> Dotlock {
        let lock = PathBuf::from(format!("{}.lock", file.display()));
        let start = Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(_) => return Dotlock(lock),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    assert!(start.elapsed() < Duration::from_secs(20), "lock held");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("{}: {e}", lock.display()),
            }
        }
    }
}

impl Drop for Dotlock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Appends `subjects` over IMAP on an authenticated client.
fn append(c: &mut Client, subjects: &[&str]) {
    for (i, s) in subjects.iter().enumerate() {
        let msg = format!("Subject: {s}\r\n\r\nbody\r\n");
        c.send_raw(format!("p{i} APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len()).as_bytes());
        let r = c.until(&format!("p{i} "));
        assert!(r.last().unwrap().starts_with(&format!("p{i} OK")), "{r:?}");
    }
}

/// Sends `cmd` with `tag`, returns the untagged lines; the answer is OK.
fn ok(c: &mut Client, tag: &str, cmd: &str) -> Vec<String> {
    c.send(&format!("{tag} {cmd}"));
    let mut r = c.until(&format!("{tag} "));
    let last = r.pop().unwrap_or_default();
    assert!(
        last.starts_with(&format!("{tag} OK")),
        "{cmd}: {last} after {r:?}"
    );
    r
}

/// Subjects of every message of INBOX, seen by a new IMAP session.
fn subjects_seen_by_a_new_session(t: &Setup) -> Vec<String> {
    let mut c = t.imap();
    ok(&mut c, "s", "SELECT INBOX");
    let r = ok(
        &mut c,
        "f",
        "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
    );
    ok(&mut c, "z", "LOGOUT");
    r.iter()
        .filter_map(|l| l.strip_prefix("Subject: "))
        .map(str::to_string)
        .collect()
}

fn pop3_stat(c: &mut Client) -> String {
    c.send("STAT");
    c.line()
}

fn seen_at_the_next_fetch_and_search(format: Format) {
    let t = Setup::start(format);
    let mut c = t.imap();
    append(&mut c, &["mine"]);
    ok(&mut c, "s", "SELECT INBOX");

    t.deliver("outside one");
    let r = ok(&mut c, "f", "UID FETCH 1:* (FLAGS)");
    assert!(r.iter().any(|l| l == "* 2 EXISTS"), "{r:?}");
    let r = ok(&mut c, "g", "FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    assert!(r.iter().any(|l| l == "Subject: outside one"), "{r:?}");

    t.deliver("outside two");
    let r = ok(&mut c, "h", "SEARCH ALL");
    assert!(r.iter().any(|l| l == "* 3 EXISTS"), "{r:?}");
    let r = ok(&mut c, "i", "UID SEARCH SUBJECT \"outside two\"");
    assert_eq!(r.last().map(String::as_str), Some("* SEARCH 3"), "{r:?}");
    ok(&mut c, "z", "LOGOUT");
}

#[test]
fn maildir_delivery_is_seen_at_the_next_fetch_and_search() {
    seen_at_the_next_fetch_and_search(Format::Maildir);
}

#[test]
fn mbox_delivery_is_seen_at_the_next_fetch_and_search() {
    seen_at_the_next_fetch_and_search(Format::Mbox);
}

#[test]
fn maildir_flag_set_by_another_program_is_seen_at_the_next_fetch() {
    let t = Setup::start(Format::Maildir);
    let mut c = t.imap();
    append(&mut c, &["mine"]);
    ok(&mut c, "s", "SELECT INBOX");
    // Another IMAP server's client flags the message: a rename in cur/.
    let cur = t.maildir().join("cur");
    let file = fs::read_dir(&cur)
        .unwrap()
        .flatten()
        .chain(fs::read_dir(t.maildir().join("new")).unwrap().flatten())
        .map(|e| e.path())
        .next()
        .expect("the appended message's file");
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let stem = name.split(':').next().unwrap();
    fs::rename(&file, cur.join(format!("{stem}:2,F"))).unwrap();
    let r = ok(&mut c, "f", "FETCH 1 (FLAGS)");
    assert!(
        r.iter()
            .any(|l| l.starts_with("* 1 FETCH") && l.contains("\\Flagged")),
        "{r:?}"
    );
    ok(&mut c, "z", "LOGOUT");
}

fn idle_wakes_within_the_check_interval(format: Format) {
    let t = Setup::start(format);
    let mut c = t.imap();
    append(&mut c, &["mine"]);
    ok(&mut c, "s", "SELECT INBOX");
    c.send("d IDLE");
    assert_eq!(c.line(), "+ idling");
    let delivered = Instant::now();
    t.deliver("while idling");
    // Nothing is sent: only IDLE's own poll can produce this line.
    let r = c.until("* 2 EXISTS");
    let waited = delivered.elapsed();
    assert_eq!(r.last().map(String::as_str), Some("* 2 EXISTS"), "{r:?}");
    // One check interval (1 s) plus a loaded machine's slack.
    assert!(waited < Duration::from_secs(5), "took {waited:?}");
    c.send("DONE");
    assert!(c.until("d ").pop().unwrap().starts_with("d OK"));
    ok(&mut c, "z", "LOGOUT");
}

#[test]
fn maildir_idle_wakes_within_the_check_interval() {
    idle_wakes_within_the_check_interval(Format::Maildir);
}

#[test]
fn mbox_idle_wakes_within_the_check_interval() {
    idle_wakes_within_the_check_interval(Format::Mbox);
}

fn pop3_quit_keeps_mail_delivered_after_login(format: Format) {
    let t = Setup::start(format);
    let mut c = t.imap();
    append(&mut c, &["first", "second"]);
    ok(&mut c, "z", "LOGOUT");

    // The login itself catches up with what was delivered behind tern.
    t.deliver("before login");
    let mut p = t.pop3();
    let stat = pop3_stat(&mut p);
    assert!(stat.starts_with("+OK 3 "), "{stat}");
    t.deliver("after login");
    p.send("DELE 1");
    assert!(p.line().starts_with("+OK"));
    p.send("QUIT");
    assert!(p.line().starts_with("+OK"));

    let mut p = t.pop3();
    let stat = pop3_stat(&mut p);
    assert!(
        stat.starts_with("+OK 3 "),
        "DELE 1 removed only message 1: {stat}"
    );
    p.send("QUIT");
    p.line();
    assert_eq!(
        subjects_seen_by_a_new_session(&t),
        vec!["second", "before login", "after login"]
    );
}

#[test]
fn maildir_pop3_quit_keeps_mail_delivered_after_login() {
    pop3_quit_keeps_mail_delivered_after_login(Format::Maildir);
}

#[test]
fn mbox_pop3_quit_keeps_mail_delivered_after_login() {
    pop3_quit_keeps_mail_delivered_after_login(Format::Mbox);
}

fn expunge_keeps_mail_the_view_had_not_seen(format: Format) {
    let t = Setup::start(format);
    let mut c = t.imap();
    append(&mut c, &["doomed", "kept"]);
    ok(&mut c, "s", "SELECT INBOX");
    ok(&mut c, "d", "STORE 1 +FLAGS.SILENT (\\Deleted)");
    t.deliver("unseen by the view");
    let r = ok(&mut c, "e", "EXPUNGE");
    assert!(r.iter().any(|l| l == "* 1 EXPUNGE"), "{r:?}");
    assert!(
        r.iter().any(|l| l == "* 2 EXISTS"),
        "the delivery is announced: {r:?}"
    );
    ok(&mut c, "z", "LOGOUT");
    assert_eq!(
        subjects_seen_by_a_new_session(&t),
        vec!["kept", "unseen by the view"]
    );
}

#[test]
fn maildir_expunge_keeps_mail_the_view_had_not_seen() {
    expunge_keeps_mail_the_view_had_not_seen(Format::Maildir);
}

#[test]
fn mbox_expunge_keeps_mail_the_view_had_not_seen() {
    expunge_keeps_mail_the_view_had_not_seen(Format::Mbox);
}
