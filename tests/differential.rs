//! Differential test: scripted IMAP conversations run against tern and
//! against Debian's Dovecot 2.3, responses normalised and compared line by
//! line (issue 13, "How to prove it").
//!
//! # Running
//!
//! `cargo test --test differential` runs every script. Environment:
//! - `DIFF_SCRIPT=name[,name…]` runs only those scripts (a trailing `*` is a
//!   prefix match: `DIFF_SCRIPT='fetch-*'`) and prints both transcripts
//!   (add `-- --nocapture` to see them when the run passes).
//! - `DIFF_OUT=dir` writes `name.tern.txt` / `name.dovecot.txt` for every
//!   script run.
//! - `DIFF_JOBS=n` scripts in parallel (default 4).
//!
//! # Scripts
//!
//! `tests/differential/scripts/*.imap`, several scripts per file:
//!
//! ```text
//! # a comment
//! @blob NAME          a literal's content: the lines up to `@end`, each
//! ...                 ending in CRLF; usable in every script of the file
//! @end
//! === script-name     starts a script (names are unique across files)
//! @corpus none        optional: do not append the seed corpus first
//! a1 SELECT INBOX     tagged command: session `a` (the tag's leading
//!                     lowercase letters), sent, then waited for
//! & a2 NOOP           sent without waiting (pipelining)
//! wait a2             waits for one tag; `wait a` for all of session a's
//! expect a +          waits for a continuation request on session a
//! raw a DONE          sends a line as it is (no tag)
//! ```
//!
//! In a command line, `{:NAME}` is a synchronising literal holding blob
//! NAME, `{+:NAME}` the same as LITERAL+; `{"text"}` / `{+"text"}` an
//! inline literal (`\r \n \" \\ \xHH` escapes). `~` before `{` makes it a
//! literal8 for BINARY. `<<M2>>` / `<<V1>>` stand for the server's real
//! value of the second MODSEQ / first UIDVALIDITY seen in this script (the
//! normalised transcripts show those labels). The corpus messages are blobs
//! `corpus01`…`corpus20`.
//!
//! Every session is a fresh login (tern: LOGIN over loopback as the script's
//! own user; Dovecot: its own PREAUTH `imap` process on the script's mail
//! directory). Before the script, unless `@corpus none`, a setup session
//! APPENDs the corpus (`tests/differential/corpus/index.txt`: file, flags,
//! internal date) to INBOX and logs out. Sessions are dropped at the end
//! without LOGOUT; responses not yet read then are not compared.
//!
//! # Known differences
//!
//! `tests/differential/expected-differences.txt`: `script-name reason`. The
//! test fails on a difference not listed there, and on a listed one that no
//! longer occurs.

mod common;
#[path = "differential/normalise.rs"]
mod normalise;
#[path = "differential/runner.rs"]
mod runner;
#[path = "differential/script.rs"]
mod script;
#[path = "differential/targets.rs"]
mod targets;
#[path = "differential/wire.rs"]
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use runner::{here, load_corpus, run_on};
use script::Script;
use targets::Target;

struct Outcome2 {
    tern: Vec<String>,
    dovecot: Vec<String>,
    dovecot_log: String,
}

fn first_difference(a: &[String], b: &[String]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

fn load_expected() -> BTreeMap<String, String> {
    let path = here().join("expected-differences.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        assert!(
            !reason.trim().is_empty(),
            "expected-differences.txt:{}: {name} has no reason",
            no + 1
        );
        assert!(
            out.insert(name.to_string(), reason.trim().to_string())
                .is_none(),
            "expected-differences.txt:{}: {name} listed twice",
            no + 1
        );
    }
    out
}

fn selected(name: &str, filter: &[String]) -> bool {
    filter.is_empty()
        || filter.iter().any(|f| match f.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == f,
        })
}

#[test]
fn tern_matches_dovecot() {
    common::require_program(targets::DOVECOT_IMAP, "dovecot-imapd");
    if common::is_root() {
        common::require_program("setpriv", "util-linux");
    }
    let started = Instant::now();
    let corpus = load_corpus();
    let blobs: HashMap<String, Vec<u8>> = corpus
        .messages
        .iter()
        .enumerate()
        .map(|(i, (_, m))| (format!("corpus{:02}", i + 1), m.clone()))
        .collect();
    let scripts =
        script::load_dir(&here().join("scripts"), &blobs).unwrap_or_else(|e| panic!("{e}"));
    let mut names = std::collections::HashSet::new();
    for s in &scripts {
        assert!(
            names.insert(s.name.clone()),
            "script {} defined twice ({})",
            s.name,
            s.origin
        );
    }
    let filter: Vec<String> = std::env::var("DIFF_SCRIPT")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let chosen: Vec<(usize, &Script)> = scripts
        .iter()
        .enumerate()
        .filter(|(_, s)| selected(&s.name, &filter))
        .collect();
    assert!(
        !chosen.is_empty(),
        "no script matches DIFF_SCRIPT={filter:?}"
    );
    let out_dir = std::env::var_os("DIFF_OUT").map(PathBuf::from);
    if let Some(d) = &out_dir {
        std::fs::create_dir_all(d).expect("DIFF_OUT");
    }

    let homes = common::TempDir::new("diff-homes");
    let srv = common::Server::start(common::Options {
        shards: 2,
        extra_config: targets::NAMESPACE.to_string(),
        disable_plaintext_auth: false,
        auth_blocks: Some(targets::tern_auth_blocks(homes.path())),
    });
    let dovecot_root = common::TempDir::new("diff-dovecot");
    if common::is_root() {
        let _ = std::os::unix::fs::chown(dovecot_root.path(), Some(65534), Some(65534));
    }
    let tern = Target::Tern {
        port: srv.imap.port,
    };
    let dovecot = Target::Dovecot {
        root: dovecot_root.path().to_path_buf(),
        template: Mutex::new(None),
    };

    let jobs: usize = std::env::var("DIFF_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Outcome2>>> = chosen.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((index, script)) = chosen.get(i) else {
                        return;
                    };
                    let (t, _) = run_on(&tern, *index, script, &corpus);
                    let (d, log) = run_on(&dovecot, *index, script, &corpus);
                    *results[i].lock().expect("result slot") = Some(Outcome2 {
                        tern: t,
                        dovecot: d,
                        dovecot_log: log,
                    });
                }
            });
        }
    });

    let expected = load_expected();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut listed = 0;
    let show_all = !filter.is_empty();
    for ((_, script), slot) in chosen.iter().zip(&results) {
        let r = slot
            .lock()
            .expect("result")
            .take()
            .expect("every script ran");
        if let Some(d) = &out_dir {
            let _ = std::fs::write(
                d.join(format!("{}.tern.txt", script.name)),
                r.tern.join("\n") + "\n",
            );
            let _ = std::fs::write(
                d.join(format!("{}.dovecot.txt", script.name)),
                r.dovecot.join("\n") + "\n",
            );
        }
        let diff = first_difference(&r.tern, &r.dovecot);
        let report = |line: usize| {
            format!(
                "=== {} ({})\nfirst difference at transcript line {}:\n  tern:    {}\n  dovecot: {}\n--- tern\n{}\n--- dovecot\n{}\n--- dovecot log\n{}\n",
                script.name,
                script.origin,
                line + 1,
                r.tern.get(line).map(String::as_str).unwrap_or("<end>"),
                r.dovecot.get(line).map(String::as_str).unwrap_or("<end>"),
                r.tern.join("\n"),
                r.dovecot.join("\n"),
                r.dovecot_log,
            )
        };
        match (diff, expected.get(&script.name)) {
            (Some(line), None) => {
                eprintln!("DIFFERENT (not listed): {}", report(line));
                unexpected.push(script.name.clone());
            }
            (Some(line), Some(reason)) => {
                listed += 1;
                if show_all {
                    eprintln!("different as listed ({reason}): {}", report(line));
                }
            }
            (None, Some(_)) => {
                eprintln!("SAME but listed as different: {}", script.name);
                fixed.push(script.name.clone());
            }
            (None, None) => {
                if show_all {
                    eprintln!("=== {}: same\n{}\n", script.name, r.tern.join("\n"));
                }
            }
        }
    }
    let unknown: Vec<&String> = if filter.is_empty() {
        expected.keys().filter(|k| !names.contains(*k)).collect()
    } else {
        Vec::new()
    };
    let summary = format!(
        "{} scripts in {:.1}s: {} same, {} different as listed, {} different and not listed {:?}, \
         {} listed but now the same {:?}, {} listed names without a script {:?}",
        chosen.len(),
        started.elapsed().as_secs_f64(),
        chosen.len() - listed - unexpected.len(),
        listed,
        unexpected.len(),
        unexpected,
        fixed.len(),
        fixed,
        unknown.len(),
        unknown
    );
    eprintln!("{summary}");
    assert!(
        unexpected.is_empty() && fixed.is_empty() && unknown.is_empty(),
        "{summary}"
    );
}
