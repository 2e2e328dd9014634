//! Real PAM logins through the real server binary and its privileged auth
//! helper: local users made with useradd + chpasswd, a pam_unix service
//! file, IMAPS and POP3S. Needs root (fails with a note otherwise; CI runs as root).

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Client, Options, Server, require_root};

fn run(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Users and the PAM service file of one test; removed on drop, also when
/// the test fails.
struct Fixture {
    users: Vec<String>,
    pam_service: String,
}

impl Fixture {
    fn new() -> Fixture {
        let service = format!("tern-test-{}", std::process::id());
        fs::write(
            PathBuf::from("/etc/pam.d").join(&service),
            "auth required pam_unix.so\naccount required pam_unix.so\n",
        )
        .unwrap();
        Fixture {
            users: Vec::new(),
            pam_service: service,
        }
    }

    /// Creates a user with a password; `system` gives a uid below 1000.
    fn user(&mut self, tag: &str, password: &str, system: bool) -> String {
        let name = format!("t{tag}{}", std::process::id());
        let mut args = vec!["-M", "-s", "/usr/sbin/nologin"];
        if system {
            args.push("-r");
        }
        args.push(&name);
        assert!(run("useradd", &args), "useradd {name}");
        self.users.push(name.clone());
        let mut child = Command::new("chpasswd")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{name}:{password}").unwrap();
        assert!(child.wait().unwrap().success(), "chpasswd {name}");
        name
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for u in &self.users {
            let _ = run("userdel", &["-f", u]);
        }
        let _ = fs::remove_file(PathBuf::from("/etc/pam.d").join(&self.pam_service));
    }
}

fn imap_login(srv: &Server, user: &str, password: &str) -> String {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    let greeting = c.line();
    assert!(greeting.starts_with("* OK"), "{greeting}");
    c.send(&format!("a LOGIN \"{user}\" \"{password}\""));
    c.until("a ").pop().unwrap_or_default()
}

fn pop3_login(srv: &Server, user: &str, password: &str) -> String {
    let mut c = Client::tls(srv.pop3s.port, srv.tls_config());
    let greeting = c.line();
    assert!(greeting.starts_with("+OK"), "{greeting}");
    c.send(&format!("USER {user}"));
    let _ = c.line();
    c.send(&format!("PASS {password}"));
    c.line()
}

fn proc_field(pid: i32, field: &str) -> String {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field).map(|v| v.trim().to_string()))
        .unwrap_or_default()
}

fn children_of(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if proc_field(child, "PPid:") == pid.to_string() {
            out.push(child);
        }
    }
    out
}

/// The auth worker: the server's child (supervisor)'s child.
fn worker_pid(server: i32) -> Option<i32> {
    let sup = children_of(server)
        .into_iter()
        .find(|&p| proc_field(p, "Name:") == "tern-auth-sup")?;
    children_of(sup)
        .into_iter()
        .find(|&p| proc_field(p, "Name:") == "tern-auth")
}

fn wait_for_worker(server: i32, not: Option<i32>) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(p) = worker_pid(server).filter(|&p| Some(p) != not) {
            return p;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "no auth worker");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn auth_blocks(service: &str, overrides: &str) -> String {
    format!(
        "first_valid_uid = 1000\npassdb {{\n  driver = pam\n  args = {service}\n}}\nuserdb {{\n  driver = passwd\n  override_fields = {overrides}\n}}\n"
    )
}

#[test]
fn pam_logins_through_the_privileged_helper() {
    require_root("real PAM logins need local users and a pam.d service");
    let mut fx = Fixture::new();
    let good = fx.user("a", "Right-Pass-1", false);
    let locked = fx.user("l", "Locked-Pass-1", false);
    let expired = fx.user("e", "Expired-Pass-1", false);
    let system = fx.user("s", "System-Pass-1", true);
    assert!(run("usermod", &["-L", &locked]));
    assert!(run("chage", &["-E", "0", &expired]));

    let srv = Server::start(Options {
        auth_blocks: Some(auth_blocks(&fx.pam_service, "home=/tmp/tern-test-home/%n")),
        // Trusted: no per-IP penalty between the test's many failures.
        extra_config:
            "mail_uid = nobody\nmail_gid = nogroup\nlogin_trusted_networks = 127.0.0.0/8\n".into(),
        ..Options::default()
    });
    // Mail is stored as the unprivileged user, as with a real vmail setup.
    assert!(run(
        "chown",
        &["-R", "nobody:nogroup", srv.dir.path().to_str().unwrap()]
    ));

    // The serving process (every thread) runs as nobody; the helper is root.
    for task in fs::read_dir(format!("/proc/{}/task", srv.pid()))
        .unwrap()
        .flatten()
    {
        let status = fs::read_to_string(task.path().join("status")).unwrap();
        assert!(
            status.contains("Uid:\t65534\t65534\t65534\t65534"),
            "{status}"
        );
        assert!(
            status.contains("Gid:\t65534\t65534\t65534\t65534"),
            "{status}"
        );
    }
    let worker = wait_for_worker(srv.pid(), None);
    assert!(proc_field(worker, "Uid:").starts_with("0\t"));

    // Right password over IMAPS and POP3S.
    let r = imap_login(&srv, &good, "Right-Pass-1");
    assert!(r.starts_with("a OK"), "{r}\n{}", srv.log_text());
    let r = pop3_login(&srv, &good, "Right-Pass-1");
    assert!(r.starts_with("+OK"), "{r}\n{}", srv.log_text());

    // Wrong password: NO, after the failure delay (100 ms in the harness).
    let t = Instant::now();
    let r = imap_login(&srv, &good, "wrong");
    assert!(r.starts_with("a NO"), "{r}");
    assert!(t.elapsed() >= Duration::from_millis(100));
    let r = pop3_login(&srv, &good, "wrong");
    assert!(r.starts_with("-ERR"), "{r}");
    // Unknown user: the same answer.
    let r = imap_login(&srv, "nosuchuser-tern", "x");
    assert!(r.starts_with("a NO [AUTHENTICATIONFAILED]"), "{r}");

    // Locked, expired, and system (uid < first_valid_uid) accounts.
    for (user, pw) in [
        (&locked, "Locked-Pass-1"),
        (&expired, "Expired-Pass-1"),
        (&system, "System-Pass-1"),
    ] {
        let r = imap_login(&srv, user, pw);
        assert!(r.starts_with("a NO"), "{user}: {r}");
    }

    // Names that could escape a path never get to the helper.
    for bad in ["../etc", "a/b", "a%00b"] {
        let r = imap_login(&srv, bad, "x");
        assert!(r.starts_with("a NO"), "{bad}: {r}");
    }

    // Kill the worker while a login waits for it: that login fails with a
    // temporary error, the next one succeeds with the restarted worker.
    let old = wait_for_worker(srv.pid(), None);
    unsafe { libc::kill(old, libc::SIGSTOP) };
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    let _ = c.line();
    c.send(&format!("b LOGIN \"{good}\" \"Right-Pass-1\""));
    std::thread::sleep(Duration::from_millis(300));
    unsafe { libc::kill(old, libc::SIGKILL) };
    let r = c.until("b ").pop().unwrap_or_default();
    assert!(
        r.starts_with("b NO [UNAVAILABLE]"),
        "{r}\n{}",
        srv.log_text()
    );
    let new = wait_for_worker(srv.pid(), Some(old));
    assert_ne!(new, old);
    let r = imap_login(&srv, &good, "Right-Pass-1");
    assert!(r.starts_with("a OK"), "{r}\n{}", srv.log_text());

    let log = srv.log_text();
    for expected in [
        "auth: pam(",
        "Password mismatch",
        // a password locked with `usermod -L` is a mismatch to pam_unix
        "not permitted (see first_valid_uid",
        "invalid user name",
        "restarting it",
    ] {
        assert!(log.contains(expected), "log lacks {expected:?}:\n{log}");
    }
    assert!(
        !log.contains("Right-Pass-1") && !log.contains("Locked-Pass-1"),
        "password in the log"
    );
}

#[test]
fn seed_style_override_fields_pick_the_unprivileged_user() {
    require_root("it creates local users and drops privileges");
    let mut fx = Fixture::new();
    let good = fx.user("o", "Seed-Pass-1", false);
    let srv = Server::start(Options {
        auth_blocks: Some(auth_blocks(
            &fx.pam_service,
            "uid=nobody gid=nogroup home=/tmp/tern-test-home/%n/",
        )),
        ..Options::default()
    });
    assert!(proc_field(srv.pid(), "Uid:").starts_with("65534\t"));
    let r = imap_login(&srv, &good, "Seed-Pass-1");
    assert!(r.starts_with("a OK"), "{r}\n{}", srv.log_text());
    let r = pop3_login(&srv, &good, "nope");
    assert!(r.starts_with("-ERR"), "{r}");
}

/// The helper must not outlive the server. The server runs as `nobody`
/// by then, so the kernel does not deliver the helper's parent-death
/// signal; the supervisor has to notice on its own and leave (it used to
/// restart workers forever).
#[test]
fn auth_helper_exits_with_the_unprivileged_server() {
    require_root("the auth helper only runs when started as root");
    let mut srv = Server::start(Options {
        extra_config: "mail_uid = nobody\nmail_gid = nogroup\n".into(),
        ..Options::default()
    });
    assert!(proc_field(srv.pid(), "Uid:").starts_with("65534\t"));
    let sup = children_of(srv.pid())
        .into_iter()
        .find(|&p| proc_field(p, "Name:") == "tern-auth-sup")
        .expect("auth supervisor running");
    let worker = wait_for_worker(srv.pid(), None);
    srv.signal(libc::SIGTERM);
    assert_eq!(srv.wait_exit(Duration::from_secs(15)), Some(0));
    // Gone, or a zombie waiting for a reaper that is not ours.
    let gone = |pid: i32| {
        let state = proc_field(pid, "State:");
        state.is_empty() || state.starts_with('Z')
    };
    let t = Instant::now();
    while !(gone(sup) && gone(worker)) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "auth helper still running after the server exited: supervisor {}, worker {}",
            proc_field(sup, "State:"),
            proc_field(worker, "State:")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
