//! IMAP at mailbox scale (issue 4): a 100,000-message sdbox INBOX served by
//! the release `tern` binary over IMAPS. Measures SELECT, `FETCH 1:* (UID
//! FLAGS)`, `UID SEARCH UNSEEN` and `UID SEARCH SINCE`, first with the page
//! cache dropped and then warm; checks through /proc/<pid>/io that these
//! read no message bodies (the block reads stay far below the mail data);
//! and measures the server's PSS per session that selects the mailbox.
//!
//! Run: `cargo bench --bench imap_scale` (a few minutes on 2 vCPUs; most
//! of it is building the mailbox) or `-- --quick` for 10,000 messages.
//! Needs root (drop_caches, another process's /proc/<pid>/io). Writes
//! `bench/results/imap-scale-<date>.md`. Files go under
//! `TERN_BENCH_DISK_DIR` (default: the temp dir) and are removed.

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/common/mod.rs"]
mod harness;
#[path = "imap_scale/procfs.rs"]
mod procfs;
#[path = "imap_scale/session.rs"]
mod session;

use common::{ScratchDir, store};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;
use tern::storage::{FlagOp, Mailbox, SystemFlags};

/// Every `UNSEEN_EVERY`-th message is left unseen.
const UNSEEN_EVERY: usize = 10;
/// Internal date of message i is `FIRST_DATE + i` seconds (2026-11-28
/// 10:00 UTC onwards); `SINCE 29-Nov-2026` matches those from i = 50,400.
const FIRST_DATE: i64 = 1_795_860_000;
const MESSAGE_BYTES: usize = 2_000;
const WARM_RUNS: usize = 5;

/// jemalloc's knob (tikv-jemallocator's prefixed name): return freed pages
/// at once, so PSS shows live memory rather than what the allocator keeps
/// around after FETCH/SEARCH peaks. The server inherits it.
const MALLOC_CONF: (&str, &str) = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0");

fn main() {
    if std::env::var_os(MALLOC_CONF.0).is_none() {
        // Set before any thread exists: re-run this binary with it.
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
        let status = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env(MALLOC_CONF.0, MALLOC_CONF.1)
            .status()
            .unwrap_or_else(|e| panic!("re-running the benchmark failed: {e}"));
        std::process::exit(status.code().unwrap_or(1));
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 10_000 } else { 100_000 };
    let sessions = if quick { 5 } else { 20 };
    let disk_base = common::disk_bench_base();
    let mut out = String::new();
    let date = today();
    let _ = writeln!(
        out,
        "# tern IMAP scale benchmark, {date}{}\n\n{}- build: `cargo bench` profile (release) for the \
         server binary and the client\n- command: `cargo bench --bench imap_scale{}`\n",
        if quick { " (quick)" } else { "" },
        common::machine::describe(&disk_base),
        if quick { " -- --quick" } else { "" },
    );

    eprintln!("building a {n}-message INBOX on tmpfs");
    let disk = ScratchDir::new(&disk_base, "imap-scale");
    let t = Instant::now();
    build_mailbox(&common::cpu_bench_base(), disk.path(), n);
    let mail_bytes = procfs::bytes_of_files(disk.path(), "u.");
    let all_bytes = procfs::bytes_of_files(disk.path(), "");
    let _ = writeln!(
        out,
        "- mailbox: {n} messages of about {MESSAGE_BYTES} bytes, every {UNSEEN_EVERY}th unseen, \
         appended through the Mailbox trait on tmpfs, then copied to disk ({:.0} s); \
         mail files {:.1} MiB, index and other files {:.1} MiB\n",
        t.elapsed().as_secs_f64(),
        mib(mail_bytes),
        mib(all_bytes - mail_bytes),
    );

    let srv = harness::Server::start(harness::Options {
        shards: 1,
        extra_config: format!(
            "mail_location = sdbox:{}/mail\nmail_max_userip_connections = {}\n",
            disk.path().display(),
            sessions + 2
        ),
        ..harness::Options::default()
    });
    let pid = srv.pid();
    let cold = common::machine::is_root() && drop_page_cache();
    // Log in first: the binary's pages for TLS and login, evicted too,
    // come back before the measured commands.
    let mut c = session::Session::open(&srv);
    c.command("NOOP", "noop");
    let read_before = procfs::read_bytes(pid);
    let hwm_before = procfs::hwm_kib(pid);
    let mut rows = vec![
        c.command("SELECT INBOX", "select"),
        c.command("FETCH 1:* (UID FLAGS)", "fetch"),
        c.command("UID SEARCH UNSEEN", "search"),
        c.command("UID SEARCH SINCE 29-Nov-2026", "search"),
    ];
    let read_after = procfs::read_bytes(pid);
    let hwm_after = procfs::hwm_kib(pid);
    assert_eq!(rows[0].count, n, "SELECT did not report {n} EXISTS");
    assert_eq!(rows[1].count, n, "FETCH 1:* did not answer {n} messages");
    assert_eq!(rows[2].count, n.div_ceil(UNSEEN_EVERY));

    let _ = writeln!(
        out,
        "## Latency (client-side: command sent to tagged OK, over IMAPS on loopback)\n\n\
         | command | result | first run{} | median of {WARM_RUNS} warm runs |\n|---|---|---|---|",
        if cold { ", page cache dropped" } else { "" }
    );
    for row in &mut rows {
        let mut warm: Vec<f64> = (0..WARM_RUNS)
            .map(|_| c.command(&row.command, row.kind).millis)
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} {} | {:.0} ms | {:.0} ms |",
            row.command,
            row.count,
            row.unit(),
            row.millis,
            common::median(&mut warm)
        );
    }
    c.logout();

    let _ = writeln!(out, "\n## Message bodies are not read\n");
    match (read_before, read_after, cold) {
        (Some(a), Some(b), true) => {
            let read = b.saturating_sub(a);
            let _ = writeln!(
                out,
                "With the page cache dropped (then LOGIN and NOOP), the four commands above made \
                 the server read {:.1} MiB from disk (`read_bytes` in /proc/<pid>/io), against {:.1} MiB of mail \
                 files and {:.1} MiB of index and other files: {:.1} % of the mail data.",
                mib(read),
                mib(mail_bytes),
                mib(all_bytes - mail_bytes),
                100.0 * read as f64 / mail_bytes.max(1) as f64
            );
            assert!(
                read < mail_bytes / 4,
                "the server read {read} bytes: message bodies were read"
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "Not measured: needs root (drop_caches, /proc/<pid>/io)."
            );
        }
    }
    if let (Some(a), Some(b)) = (hwm_before, hwm_after) {
        let _ = writeln!(
            out,
            "\nPeak RSS (VmHWM) went from {:.1} MiB to {:.1} MiB over those commands (includes \
             loading the shared index on first SELECT).",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        );
    }

    let _ = writeln!(
        out,
        "\n## Memory per session (PSS from /proc/<pid>/smaps_rollup)\n"
    );
    out.push_str(&memory_per_session(&srv, sessions, n));
    let _ = writeln!(
        out,
        "\n## How to reproduce\n\n```sh\nsetsid sh -c 'echo -10 > /proc/self/autogroup; exec cargo bench \
         --bench imap_scale'\n```\n\nRun as root. The server runs with one shard and the test \
         harness's config (tests/common/mod.rs), `mail_location` pointing at the copied store, \
         and with `{}={}` so that jemalloc hands freed pages back at once and PSS counts live \
         memory only (the benchmark sets it itself).",
        MALLOC_CONF.0, MALLOC_CONF.1
    );
    print!("{out}");
    let suffix = if quick { "-quick" } else { "" };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench/results")
        .join(format!("imap-scale-{date}{suffix}.md"));
    match std::fs::write(&path, &out) {
        Ok(()) => eprintln!("wrote {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}

/// PSS with `count` sessions logged in, then with all of them selecting
/// the mailbox (the shared index is already loaded by then).
fn memory_per_session(srv: &harness::Server, count: usize, n: usize) -> String {
    let pid = srv.pid();
    // One session holds the mailbox open so the shard's index stays loaded.
    let mut holder = session::Session::open(srv);
    holder.command("SELECT INBOX", "select");
    let base = procfs::pss_kib(pid);
    let mut clients: Vec<session::Session> =
        (0..count).map(|_| session::Session::open(srv)).collect();
    let logged_in = procfs::pss_kib(pid);
    for c in &mut clients {
        c.command("SELECT INBOX", "select");
    }
    let selected = procfs::pss_kib(pid);
    for c in &mut clients {
        c.command("FETCH 1:* (UID FLAGS)", "fetch");
    }
    let after_fetch = procfs::pss_kib(pid);
    let (Some(base), Some(logged_in), Some(selected), Some(after_fetch)) =
        (base, logged_in, selected, after_fetch)
    else {
        return "Not measured: /proc/<pid>/smaps_rollup unreadable.\n".into();
    };
    let per = |a: u64, b: u64| (b as f64 - a as f64) * 1024.0 / count as f64;
    let select_bytes = per(logged_in, selected);
    format!(
        "| state | server PSS | per session |\n|---|---|---|\n\
         | one session selecting INBOX (shared index loaded) | {:.1} MiB | |\n\
         | + {count} sessions logged in | {:.1} MiB | {:.0} KiB |\n\
         | + those {count} sessions SELECT INBOX | {:.1} MiB | {:.0} KiB ({:.1} bytes per message) |\n\
         | + each ran `FETCH 1:* (UID FLAGS)` | {:.1} MiB | {:.0} KiB |\n",
        base as f64 / 1024.0,
        logged_in as f64 / 1024.0,
        per(base, logged_in) / 1024.0,
        selected as f64 / 1024.0,
        select_bytes / 1024.0,
        select_bytes / n as f64,
        after_fetch as f64 / 1024.0,
        per(selected, after_fetch) / 1024.0,
    )
}

/// Appends `n` messages on tmpfs (100,000 fsyncs on disk would dominate),
/// clears `\Seen` on every UNSEEN_EVERY-th, and copies the store to `dest`.
fn build_mailbox(fast_base: &Path, dest: &Path, n: usize) {
    common::shard_executor().run(async {
        let fx = store::filled_inbox(fast_base, "imap-scale-src", 0, MESSAGE_BYTES).await;
        fill_dated(&fx.inbox, n).await;
        let unseen: Vec<u32> = fx.inbox.uids().into_iter().step_by(UNSEEN_EVERY).collect();
        fx.inbox
            .store(&unseen, FlagOp::Remove, SystemFlags::SEEN, &[], None)
            .await
            .unwrap_or_else(|e| panic!("STORE failed: {e}"));
        copy_tree(fx.dir.path(), dest)
            .unwrap_or_else(|e| panic!("copying the store to {} failed: {e}", dest.display()));
    });
}

async fn fill_dated<M: Mailbox>(mailbox: &M, n: usize) {
    let mut done = 0;
    while done < n {
        let k = 1_000.min(n - done);
        let reqs = (done..done + k)
            .map(|i| tern::storage::AppendRequest {
                message: common::messages::small(i, MESSAGE_BYTES),
                flags: SystemFlags::SEEN,
                internal_date: Some(FIRST_DATE + i as i64),
                ..Default::default()
            })
            .collect();
        mailbox
            .append(reqs)
            .await
            .unwrap_or_else(|e| panic!("append failed after {done}: {e}"));
        done += k;
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

fn drop_page_cache() -> bool {
    let synced = std::process::Command::new("sync")
        .status()
        .is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", b"3\n").is_ok()
}

fn today() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "undated".into())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
