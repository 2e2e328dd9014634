//! An IMAP session in IDLE on an sdbox INBOX is told about changes other
//! programs make to the store while tern serves it: a delivery by
//! Dovecot's `dovecot-lda`, a flag set with `doveadm flags add`, and a
//! resync run through `tern admin`. Needs Dovecot 2.3 (dovecot-core, which
//! scripts/test-all.sh installs); fails when it is missing.
//!
//! Dovecot refuses to touch mail as root, so tern (via `mail_uid`) and
//! every tool here run as `nobody` on a store owned by `nobody`.

mod common;

use common::{Client, DEMO_USER, Options, Server, TempDir};
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DOVECOT_LDA: &str = "/usr/lib/dovecot/dovecot-lda";
const DOVEADM: &str = "/usr/bin/doveadm";
/// `nobody` / `nogroup` on Debian.
const NOBODY: u32 = 65534;

/// A program run as `nobody` with a clean environment, stdin `input`.
fn run_as_nobody(program: &str, args: &[&str], cwd: &Path, input: &[u8]) -> Output {
    assert!(
        Path::new(program).exists(),
        "{program} is needed (scripts/test-all.sh installs dovecot-core)"
    );
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("USER", "nobody")
        .env("HOME", cwd)
        .current_dir(cwd)
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Setup {
    srv: Server,
    /// Holds the store; removed on drop.
    _store: TempDir,
    /// The user's sdbox root and Dovecot's config for it.
    root: PathBuf,
    dovecot_conf: PathBuf,
}

fn start() -> Setup {
    let store = TempDir::new("sdbox-foreign");
    std::os::unix::fs::chown(store.path(), Some(NOBODY), Some(NOBODY)).unwrap();
    let root = store.path().join(DEMO_USER);
    let dovecot_conf = store.path().join("dovecot.conf");
    fs::write(
        &dovecot_conf,
        format!(
            "mail_location = sdbox:{root}\nbase_dir = {base}/dovecot-run\n\
             log_path = /dev/stderr\nssl = no\n",
            root = root.display(),
            base = store.path().display()
        ),
    )
    .unwrap();
    let srv = Server::start(Options {
        extra_config: format!(
            "mail_location = sdbox:{}/%n\nmail_uid = nobody\nmail_gid = nogroup\n\
             mailbox_idle_check_interval = 1 secs\n",
            store.path().display()
        ),
        ..Options::default()
    });
    Setup {
        srv,
        _store: store,
        root,
        dovecot_conf,
    }
}

impl Setup {
    fn inbox_dir(&self) -> PathBuf {
        self.root.join("mailboxes/INBOX/dbox-Mails")
    }

    fn doveadm(&self, args: &[&str]) -> Output {
        let mut all = vec!["-c", self.dovecot_conf.to_str().unwrap()];
        all.extend_from_slice(args);
        run_as_nobody(DOVEADM, &all, self.root.parent().unwrap(), b"")
    }

    /// Deliver with dovecot-lda. Dovecot keeps its own index of the store;
    /// when that is behind tern's files its first save finds `u.<uid>`
    /// taken, rebuilds and asks to be retried (EX_TEMPFAIL), as an MTA would.
    fn deliver_with_dovecot_lda(&self, message: &str) {
        let conf = self.dovecot_conf.to_str().unwrap().to_string();
        let mut last = None;
        for _ in 0..3 {
            let o = run_as_nobody(
                DOVECOT_LDA,
                &["-c", &conf],
                self.root.parent().unwrap(),
                message.as_bytes(),
            );
            if o.status.success() {
                return;
            }
            assert_eq!(o.status.code(), Some(75), "dovecot-lda: {}", show(&o));
            last = Some(o);
        }
        panic!("dovecot-lda kept deferring: {}", show(&last.unwrap()));
    }

    fn tern_admin(&self, args: &[&str]) -> Output {
        let conf = self.srv.dir.path().join("tern.conf");
        let mut all = vec!["-c", conf.to_str().unwrap(), "admin"];
        all.extend_from_slice(args);
        run_as_nobody(
            env!("CARGO_BIN_EXE_tern"),
            &all,
            self.root.parent().unwrap(),
            b"",
        )
    }
}

fn login_select_idle(srv: &Server) -> Client {
    let mut c = common::selected_with_one_message(srv);
    c.send("d IDLE");
    assert_eq!(c.line(), "+ idling");
    c
}

/// Nothing is sent while waiting: only IDLE's own poll can produce `want`
/// (the harness gives up after its read timeout and returns "").
fn pushed(c: &mut Client, want: &str) -> Vec<String> {
    let r = c.until(want);
    assert!(
        r.last().is_some_and(|l| l.starts_with(want)),
        "waited for {want:?}, got {r:?}"
    );
    r
}

#[test]
fn idle_sees_dovecot_lda_doveadm_and_tern_admin_changes() {
    let s = start();
    let mut c = login_select_idle(&s.srv);

    // 1. Dovecot's LDA delivers into the INBOX tern is serving.
    s.deliver_with_dovecot_lda("Subject: external\n\nhello from dovecot-lda\n");
    assert!(
        s.inbox_dir().join("u.2").exists(),
        "dovecot-lda saved elsewhere"
    );
    pushed(&mut c, "* 2 EXISTS");

    // 2. doveadm sets a flag: only Dovecot's transaction log changes.
    let o = s.doveadm(&["flags", "add", "\\Flagged", "mailbox", "INBOX", "uid", "2"]);
    assert!(o.status.success(), "doveadm flags: {}", show(&o));
    let r = pushed(&mut c, "* 2 FETCH");
    let fetch = r.last().unwrap();
    assert!(fetch.contains("\\Flagged"), "{fetch}");

    // 3. A mail file appears without a change of the directory's mtime
    //    (a restore keeping times), so this view cannot notice it alone;
    //    `tern admin force-resync` indexes it, and that is noticed.
    let dir = s.inbox_dir();
    let mtime = fs::metadata(&dir).unwrap().modified().unwrap();
    let file = dir.join("u.3");
    fs::copy(dir.join("u.2"), &file).unwrap();
    std::os::unix::fs::chown(&file, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::File::open(&dir)
        .unwrap()
        .set_times(fs::FileTimes::new().set_modified(mtime))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    c.send("DONE");
    let r = c.until("d ");
    assert!(r.last().unwrap().starts_with("d OK"), "{r:?}");
    assert!(
        !r.iter().any(|l| l == "* 3 EXISTS"),
        "seen without the admin command; the test proves nothing: {r:?}"
    );
    c.send("e IDLE");
    assert_eq!(c.line(), "+ idling");
    let o = s.tern_admin(&["force-resync", "-u", DEMO_USER, "INBOX"]);
    assert!(o.status.success(), "tern admin: {}", show(&o));
    pushed(&mut c, "* 3 EXISTS");

    c.send("DONE");
    assert!(c.until("e ").pop().unwrap().starts_with("e OK"));
    c.send("f FETCH 2:3 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    let r = c.until("f ");
    assert!(r.last().unwrap().starts_with("f OK"), "{r:?}");
    assert_eq!(
        r.iter().filter(|l| *l == "Subject: external").count(),
        2,
        "{r:?}"
    );
}
