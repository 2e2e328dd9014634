//! Session-level tests: commands run through [`dispatch`] against a store
//! (the in-memory one by default, see [`format`]), responses
//! collected in memory. No socket, no clock (SEARCH sees [`NOW`]).

mod any_state;
mod concurrency;
mod contexts;
mod dovecot_parity;
mod mailboxes;
mod messages;
mod notify;
mod searching;
mod selection;
mod two_sessions;
mod urlauth;

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::{Flow, dispatch};
use crate::config::ImapWorkaround;
use crate::imap::codec::parse_command;
use crate::imap::session::output::Collected;
use crate::imap::session::state::{OpenMail, Session, SessionSettings};
use crate::storage::memory::MemoryStore;
use crate::storage::testing::{TempDir, open_store, run};
use crate::storage::{AnyStore, ShardStorage};

/// The store the tests run on unless they say otherwise: in memory, or
/// the format on disk named by `TERN_SESSION_TEST_STORE` (`sdbox`,
/// `maildir`, `mbox`) to run the same tests through a real backend. All
/// pass on `memory` and `sdbox`; on Maildir and mbox the tests of renames
/// seen by a selected session differ by design (their views cannot follow
/// a rename, see `selected::after_own_rename`).
pub fn format() -> String {
    std::env::var("TERN_SESSION_TEST_STORE").unwrap_or_else(|_| "memory".to_string())
}

/// The session clock: 2023-11-14 22:13:20 UTC.
pub const NOW: i64 = 1_700_000_000;

/// Hands over a prepared store, or fails like a mail directory that
/// cannot be created.
struct Prepared(Option<AnyStore>);

impl OpenMail for Prepared {
    fn open(&self) -> Pin<Box<dyn Future<Output = Result<AnyStore, String>> + '_>> {
        let store = self.0.clone();
        Box::pin(async move { store.ok_or_else(|| "cannot create the mail directory".to_string()) })
    }
}

/// One logged-in session and what it wrote.
pub struct Client {
    pub s: Session,
    pub out: Collected,
}

impl Client {
    pub fn new(store: Option<AnyStore>, settings: SessionSettings) -> Client {
        let s = Session::new(
            "test-session".into(),
            "test".into(),
            settings,
            None,
            Box::new(Prepared(store)),
            Rc::new(|| NOW),
        );
        Client {
            s,
            out: Collected::default(),
        }
    }

    /// Runs one command line (CRLF added; literals written inline) and
    /// returns what the session wrote and the flow it asked for.
    pub async fn run(&mut self, line: &str) -> (Flow, String) {
        let frame = format!("{line}\r\n");
        let cmd = match parse_command(frame.as_bytes()) {
            Ok(c) => c,
            Err(e) => panic!("test command {line:?} does not parse: {e}"),
        };
        let flow = dispatch(&mut self.s, &mut self.out, cmd).await;
        (flow, self.out.take())
    }

    /// Runs one command that must continue the session normally.
    pub async fn cmd(&mut self, line: &str) -> String {
        let (flow, text) = self.run(line).await;
        assert_eq!(flow, Flow::Continue, "{line}: {text}");
        text
    }

    /// Runs one command whose tagged answer must be OK.
    pub async fn ok(&mut self, line: &str) -> String {
        let text = self.cmd(line).await;
        let tag = line.split(' ').next().unwrap_or("");
        assert!(
            text.contains(&format!("{tag} OK")),
            "{line}: expected OK, got {text}"
        );
        text
    }

    /// APPENDs `message` to `mailbox` (as a LITERAL+).
    pub async fn append(&mut self, mailbox: &str, flags: &str, message: &str) -> String {
        let line = format!(
            "ap APPEND {mailbox} ({flags}) {{{}+}}\r\n{message}",
            message.len()
        );
        self.ok(&line).await
    }
}

/// A test message numbered `n`.
pub fn message(n: u32) -> String {
    format!(
        "From: Sender {n} <s{n}@example.org>\r\nTo: rcpt@example.org\r\nSubject: note {n}\r\nDate: Tue, 14 Nov 2023 10:00:0{} +0000\r\nMessage-ID: <m{n}@example.org>\r\n\r\nBody text {n}.\r\n",
        n % 10
    )
}

/// A store of `format`, in memory or in a temporary directory with its
/// shard caches.
pub struct Mail {
    _disk: Option<(TempDir, Rc<ShardStorage>)>,
    pub store: AnyStore,
}

impl Mail {
    pub async fn new(format: &str) -> Mail {
        if format == "memory" {
            return Mail {
                _disk: None,
                store: AnyStore::Memory(MemoryStore::new()),
            };
        }
        let dir = TempDir::new("imap-session");
        let shard = Rc::new(ShardStorage::new(16 << 20));
        let store = open_store(&shard, dir.path(), format).await;
        Mail {
            _disk: Some((dir, shard)),
            store,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(Some(self.store.clone()), SessionSettings::default())
    }

    pub fn client_with(&self, settings: SessionSettings) -> Client {
        Client::new(Some(self.store.clone()), settings)
    }
}

/// Runs a test with one session on a fresh store.
pub fn with_client(f: impl AsyncFnOnce(&mut Client)) {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut c = mail.client();
        f(&mut c).await;
    })
}

/// Runs a test with two sessions of one user on one store.
pub fn with_two(f: impl AsyncFnOnce(&mut Client, &mut Client)) {
    run(async {
        let mail = Mail::new(&format()).await;
        let mut a = mail.client();
        let mut b = mail.client();
        f(&mut a, &mut b).await;
    })
}

/// Runs a test with INBOX holding `n` test messages, selected.
pub fn with_inbox(n: u32, f: impl AsyncFnOnce(&mut Client)) {
    with_client(async |c| {
        for i in 1..=n {
            c.append("INBOX", "", &message(i)).await;
        }
        c.ok("s SELECT INBOX").await;
        f(c).await;
    })
}

/// Settings with one client workaround on.
pub fn with_workaround(w: ImapWorkaround) -> SessionSettings {
    let mut settings = SessionSettings::default();
    settings.options.client_workarounds.push(w);
    settings
}

/// The lines of `text` starting with `prefix`.
pub fn lines_with<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.split("\r\n")
        .filter(|l| l.starts_with(prefix))
        .collect()
}
