//! One mail store, one owner shard, whatever name reaches it: with
//! `shards = 4`, every pairing of {IMAP login as `u`, `u@domain`, `U`,
//! master-user `u*master`, LMTP RCPT `u`, `u@domain`, `u+detail@domain`}
//! sees the other's changes (delivery, APPEND, STORE, EXPUNGE) at the next
//! NOOP, and an IDLE on one wakes with `* n EXISTS` for a change through
//! another — for sdbox, Maildir and mbox; `tern admin` resolves each
//! spelling to the same store. The users are chosen so that
//! routing by the typed name would put the spellings on different shards,
//! whose separate caches would not see each other's commits.

mod common;
mod pop3_support;

use std::fmt::Write as _;

use common::{Client, Options, Server, TempDir};
use pop3_support::Lmtp;

const SHARDS: usize = 4;
const DOMAIN: &str = "example.org";
const PASSWORD: &str = "secret";
const MASTER: &str = "master";
const MASTER_PASSWORD: &str = "masterpw";
const USERS: usize = 3;

/// Users whose bare and `@domain` names hash to different shards (the
/// spellings the old per-name routing separated).
fn users() -> Vec<String> {
    let users: Vec<String> = (0..200)
        .map(|i| format!("owner{i}"))
        .filter(|u| {
            tern::shard::owner_shard(u, SHARDS)
                != tern::shard::owner_shard(&format!("{u}@{DOMAIN}"), SHARDS)
        })
        .take(USERS)
        .collect();
    assert_eq!(
        users.len(),
        USERS,
        "not enough users that names would split"
    );
    users
}

/// A server with passwd-file users looked up as `%n` (the domain dropped),
/// `auth_username_format = %Lu` (so `U` logs in as `u`, while `u@domain`
/// stays a name of its own), a master passdb and `+` details.
fn server(dir: &TempDir, users: &[String], mail_location: &str) -> Server {
    let base = dir.path();
    let mut table = String::new();
    for u in users {
        let home = base.join("home").join(u);
        writeln!(table, "{u}:{{PLAIN}}{PASSWORD}::::{}::", home.display()).unwrap();
    }
    std::fs::write(base.join("users"), table).unwrap();
    std::fs::write(
        base.join("masters"),
        format!("{MASTER}:{{PLAIN}}{MASTER_PASSWORD}::::::\n"),
    )
    .unwrap();
    let users_file = base.join("users").display().to_string();
    let auth = format!(
        "auth_username_format = %Lu\n\
         auth_master_user_separator = *\n\
         passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%n {users_file}\n}}\n\
         passdb {{\n  driver = passwd-file\n  master = yes\n  args = scheme=PLAIN {masters}\n}}\n\
         userdb {{\n  driver = passwd-file\n  args = username_format=%n {users_file}\n}}\n",
        masters = base.join("masters").display(),
    );
    Server::start(Options {
        shards: SHARDS,
        disable_plaintext_auth: false,
        auth_blocks: Some(auth),
        extra_config: format!("mail_location = {mail_location}\nrecipient_delimiter = +\n"),
    })
}

/// An IMAP session over plain TCP on loopback.
struct Imap {
    c: Client,
    tag: u32,
    name: String,
}

impl Imap {
    fn login(srv: &Server, login: &str, password: &str) -> Imap {
        let mut c = Client::plain(srv.imap.port);
        let greeting = c.line();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let mut s = Imap {
            c,
            tag: 0,
            name: login.to_string(),
        };
        send(&mut s.c, &format!("t0 LOGIN \"{login}\" {password}"));
        let lines = s.c.until("t0 ");
        assert!(
            lines.last().is_some_and(|l| l.starts_with("t0 OK")),
            "LOGIN {login}: {lines:?}\nserver log:\n{}",
            srv.log_text()
        );
        s
    }

    /// Runs a command; panics unless it ends in OK. Returns every line.
    fn ok(&mut self, command: &str) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        send(&mut self.c, &format!("{tag} {command}"));
        let lines = self.c.until(&format!("{tag} "));
        let last = lines.last().cloned().unwrap_or_default();
        assert!(
            last.starts_with(&format!("{tag} OK")),
            "{}: {command}: {lines:?}",
            self.name
        );
        lines
    }

    fn select_inbox(&mut self) -> usize {
        let lines = self.ok("SELECT INBOX");
        lines
            .iter()
            .find_map(|l| l.strip_prefix("* ")?.strip_suffix(" EXISTS")?.parse().ok())
            .unwrap_or_else(|| panic!("{}: no EXISTS in {lines:?}", self.name))
    }

    fn append(&mut self, subject: &str) {
        let message = format!("From: a@{DOMAIN}\r\nSubject: {subject}\r\n\r\nbody\r\n");
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        send(
            &mut self.c,
            &format!("{tag} APPEND INBOX {{{}}}", message.len()),
        );
        let go = self.c.line();
        assert!(go.starts_with('+'), "{}: APPEND: {go}", self.name);
        send(&mut self.c, &message);
        let lines = self.c.until(&format!("{tag} "));
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
            "{}: APPEND: {lines:?}",
            self.name
        );
    }

    fn idle(&mut self) {
        self.tag += 1;
        send(&mut self.c, &format!("t{} IDLE", self.tag));
        let go = self.c.line();
        assert!(go.starts_with('+'), "{}: IDLE: {go}", self.name);
    }

    /// Waits in IDLE for `* n EXISTS`, then ends the IDLE.
    fn idle_wakes_with(&mut self, exists: usize, cause: &str) {
        let want = format!("* {exists} EXISTS");
        let lines = self.c.until(&want);
        assert_eq!(
            lines.last().map(String::as_str),
            Some(want.as_str()),
            "{}: IDLE did not wake for {cause}: {lines:?}",
            self.name
        );
        send(&mut self.c, "DONE");
        let tag = format!("t{}", self.tag);
        let lines = self.c.until(&format!("{tag} "));
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with(&format!("{tag} OK"))),
            "{}: IDLE end: {lines:?}",
            self.name
        );
    }

    /// NOOP's untagged lines must contain one satisfying `seen`.
    fn noop_sees(&mut self, cause: &str, seen: impl Fn(&str) -> bool) {
        let lines = self.ok("NOOP");
        assert!(
            lines.iter().any(|l| seen(l)),
            "{}: NOOP did not show {cause}: {lines:?}",
            self.name
        );
    }
}

/// One write per line: `Client::send` writes the CRLF separately, and
/// Nagle plus delayed ACKs then cost ~40 ms per command.
fn send(c: &mut Client, line: &str) {
    c.send_raw(format!("{line}\r\n").as_bytes());
}

enum Writer {
    Imap(usize),
    Lmtp(String),
}

/// POP3 `STAT` message count for `login`.
fn pop3_count(srv: &Server, login: &str) -> usize {
    let mut c = Client::plain(srv.pop3.port);
    assert!(c.line().starts_with("+OK"));
    send(&mut c, &format!("USER {login}"));
    assert!(c.line().starts_with("+OK"));
    send(&mut c, &format!("PASS {PASSWORD}"));
    let pass = c.line();
    assert!(pass.starts_with("+OK"), "POP3 {login}: {pass}");
    send(&mut c, "STAT");
    let stat = c.line();
    send(&mut c, "QUIT");
    let _ = c.line();
    stat.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("POP3 {login}: STAT {stat}"))
}

/// One format at a time: three 4-shard servers starting at once on a
/// small shared machine can take longer than the harness waits.
static ONE_SERVER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn every_pairing_sees_every_change(mail_location: &str) {
    let _serial = ONE_SERVER_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = TempDir::new("ownership");
    let users = users();
    let srv = server(&dir, &users, mail_location);
    for u in &users {
        let logins = [
            (u.clone(), PASSWORD),
            (format!("{u}@{DOMAIN}"), PASSWORD),
            (u.to_uppercase(), PASSWORD),
            (format!("{u}*{MASTER}"), MASTER_PASSWORD),
        ];
        // POP3 first, so its shard (by the old rule) has the store cached
        // before anything changes.
        let pop3_login = format!("{}@{DOMAIN}", u.to_uppercase());
        assert_eq!(pop3_count(&srv, &pop3_login), 0);
        let mut sessions: Vec<Imap> = logins
            .iter()
            .map(|(login, pw)| Imap::login(&srv, login, pw))
            .collect();
        for s in &mut sessions {
            assert_eq!(s.select_inbox(), 0, "{}", s.name);
        }
        let mut writers: Vec<Writer> = (0..sessions.len()).map(Writer::Imap).collect();
        writers.extend(
            [
                u.clone(),
                format!("{u}@{DOMAIN}"),
                format!("{u}+detail@{DOMAIN}"),
            ]
            .into_iter()
            .map(Writer::Lmtp),
        );
        let mut count = 0;
        for writer in &writers {
            let me = match writer {
                Writer::Imap(i) => Some(*i),
                Writer::Lmtp(_) => None,
            };
            let observers: Vec<usize> = (0..sessions.len()).filter(|&i| Some(i) != me).collect();
            for &o in &observers {
                sessions[o].idle();
            }
            count += 1;
            let cause = match writer {
                Writer::Imap(i) => {
                    sessions[*i].append("via IMAP");
                    format!("APPEND by {}", sessions[*i].name)
                }
                Writer::Lmtp(rcpt) => {
                    let mut l = Lmtp::connect(srv.lmtp.port);
                    let message = format!("From: a@{DOMAIN}\r\nSubject: via LMTP\r\n\r\nbody\r\n");
                    let (rcpts, data) = l.deliver(&format!("a@{DOMAIN}"), &[rcpt], &message);
                    assert!(rcpts[0].starts_with("250"), "RCPT {rcpt}: {rcpts:?}");
                    assert!(data[0].starts_with("250"), "DATA {rcpt}: {data:?}");
                    l.quit();
                    format!("LMTP delivery to {rcpt}")
                }
            };
            for &o in &observers {
                sessions[o].idle_wakes_with(count, &cause);
            }
            let Some(w) = me else {
                continue;
            };
            // The writer's own view has the new message as `count`.
            let writer_name = sessions[w].name.clone();
            sessions[w].ok(&format!("STORE {count} +FLAGS (\\Flagged)"));
            for &o in &observers {
                sessions[o].noop_sees(&format!("STORE by {writer_name}"), |l| {
                    l.starts_with(&format!("* {count} FETCH")) && l.contains("\\Flagged")
                });
            }
            sessions[w].ok(&format!("STORE {count} +FLAGS.SILENT (\\Deleted)"));
            sessions[w].ok("EXPUNGE");
            for &o in &observers {
                sessions[o].noop_sees(&format!("EXPUNGE by {writer_name}"), |l| {
                    l == format!("* {count} EXPUNGE")
                });
            }
            count -= 1;
        }
        for mut s in sessions {
            s.ok("LOGOUT");
        }
        // Three LMTP deliveries stay; every IMAP append was expunged.
        assert_eq!(count, 3);
        assert_eq!(pop3_count(&srv, &pop3_login), count, "POP3 as {pop3_login}");
        // The admin CLI (its own process) resolves every spelling to the
        // same store and sees what the server committed.
        for spelling in [u.clone(), format!("{u}@{DOMAIN}"), u.to_uppercase()] {
            let status = admin_status(&srv, &spelling);
            assert!(
                status.contains(&format!("messages={count} ")),
                "tern admin mailbox status -u {spelling}: {status}"
            );
        }
    }
    let log = srv.log_text();
    assert!(
        !log.contains("does not own it"),
        "a store was opened off its owner shard:\n{log}"
    );
}

/// `tern admin mailbox status -u USER INBOX` against the server's config.
fn admin_status(srv: &Server, user: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("-c")
        .arg(srv.dir.path().join("tern.conf"))
        .args(["admin", "mailbox", "status", "-u", user, "INBOX"])
        .output()
        .expect("run tern admin");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn sdbox_every_spelling_reaches_one_owner() {
    every_pairing_sees_every_change("sdbox:~/sdbox");
}

#[test]
fn maildir_every_spelling_reaches_one_owner() {
    every_pairing_sees_every_change("maildir:~/Maildir");
}

#[test]
fn mbox_every_spelling_reaches_one_owner() {
    every_pairing_sees_every_change("mbox:~/mail:INBOX=~/inbox");
}
