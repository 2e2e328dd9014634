//! Authenticated and selected states: the owner-shard side of a session.
//! Reads frames, parses, dispatches to `commands::*`, reports untagged
//! updates per RFC 9051 §7.5.1 and flushes once per command.

use std::rc::Rc;

use super::ImapHandoff;
use super::commands::{self, Flow};
use super::io::{ImapIo, Incoming};
use super::prelogin::{atoms, frame_error, limits};
use super::selected::{Enabled, Selected};
use crate::config::ImapWorkaround;
use crate::imap::codec::response::{ResponseCode, Status, StatusResponse};
use crate::imap::codec::types::{CommandBody, Tag};
use crate::imap::codec::{FramingLimits, ParseErrorKind, parse_command};
use crate::net::Conn;
use crate::shard::env::{Env, Protocol, UserInfo};
use crate::storage::{AnyStore, MailboxName};

pub use super::logout::Stats;

pub struct Session {
    pub env: Rc<Env>,
    pub io: ImapIo,
    pub id: String,
    pub user: String,
    /// The user's mail, opened on first use ([`Session::mail_store`]).
    store: Option<AnyStore>,
    pub info: UserInfo,
    pub selected: Option<Selected>,
    pub enabled: Enabled,
    /// SEARCHRES `$` (UIDs).
    pub saved: Vec<u32>,
    /// The tagged answer of the running command, written after the
    /// untagged updates it must follow.
    pub reply: Option<StatusResponse>,
    pub stats: Stats,
    /// The client's ID fields were logged (`imap_id_log`, once a session).
    pub id_logged: bool,
    /// The `\Trash` mailbox, once looked up (for `%{trashed}`).
    pub trash_mailbox: Option<Option<MailboxName>>,
    /// A failed look for other writers' changes was logged (once a session).
    pub refresh_warned: bool,
}

impl Session {
    pub fn reply(&mut self, tag: &Tag, status: Status, code: Option<ResponseCode>, text: &str) {
        self.reply = Some(StatusResponse {
            tag: Some(tag.clone()),
            status,
            code,
            text: text.to_string(),
        });
    }

    pub fn ok(&mut self, tag: &Tag, text: &str) {
        self.reply(tag, Status::Ok, None, text);
    }

    pub fn ok_code(&mut self, tag: &Tag, code: ResponseCode, text: &str) {
        self.reply(tag, Status::Ok, Some(code), text);
    }

    pub fn no(&mut self, tag: &Tag, code: ResponseCode, text: &str) {
        self.reply(tag, Status::No, Some(code), text);
    }

    pub fn bad(&mut self, tag: &Tag, text: &str) {
        self.reply(tag, Status::Bad, None, text);
    }

    pub fn utf8(&self) -> bool {
        self.enabled.utf8 || self.enabled.rev2
    }

    /// The mail store, opened now if this is its first use.
    pub async fn mail_store(&mut self) -> Result<AnyStore, String> {
        if let Some(store) = &self.store {
            return Ok(store.clone());
        }
        let store = self.env.open_mail(Protocol::Imap, &self.info).await?;
        self.store = Some(store.clone());
        Ok(store)
    }

    pub fn workaround(&self, w: ImapWorkaround) -> bool {
        self.env
            .settings
            .imap
            .imap_options
            .client_workarounds
            .contains(&w)
    }

    /// Untagged updates after a command. `allow_expunge` is false after
    /// FETCH, STORE and SEARCH by sequence number (RFC 9051 §7.5.1);
    /// `allow_new` is false when delay-newmail holds EXISTS back.
    pub async fn sync(&mut self, allow_expunge: bool, allow_new: bool) {
        super::selected::follow_rename(self).await;
        let en = self.enabled;
        if let Some(sel) = self.selected.as_mut() {
            sel.sync(&mut self.io, allow_expunge, allow_new, en).await;
        }
    }
}

/// Continues a connection on the owner shard after login and the userdb
/// lookup (handed off or not): opens the user's mail, answers the login
/// command, serves.
pub async fn resume(mut conn: Conn, state: ImapHandoff, env: Rc<Env>) {
    conn.set_idle_timeout(env.settings.imap.idle_timeout_authed);
    let mut io = ImapIo::new(conn, authed_limits(&env), state.pending);
    io.bytes_in = state.bytes_in;
    io.bytes_out = state.bytes_out;
    io.logged_in = true;
    let tag = Tag::try_from(state.tag.as_str()).ok();
    let info = state.info;
    let max = env.settings.imap.max_userip_connections;
    let remote = io.conn.peer.remote.map(|a| a.ip());
    let Some(_slot) = env.userip.acquire(Protocol::Imap, &state.user, remote, max) else {
        tracing::info!(
            session = state.session,
            user = state.user,
            "imap: too many connections from user+IP"
        );
        io.status(
            None,
            Status::Bye,
            None,
            &format!("Maximum number of connections from user+IP exceeded (mail_max_userip_connections={max})"),
        );
        let _ = io.flush().await;
        return;
    };
    // Opened now to warm the shard's caches; if that fails (e.g. the mail
    // directory cannot be created yet) the login still succeeds, as in
    // Dovecot, and mailbox commands retry and answer NO [SERVERBUG].
    let store = match env.open_mail(Protocol::Imap, &info).await {
        Ok(store) => Some(store),
        Err(e) => {
            tracing::warn!(
                session = state.session,
                user = state.user,
                "imap: cannot open mail yet: {e}"
            );
            None
        }
    };
    io.status(
        tag.as_ref(),
        Status::Ok,
        Some(ResponseCode::Capability(atoms(&super::capability::authed(
            &env.settings.imap.imap_options,
        )))),
        "Logged in",
    );
    if io.flush().await.is_err() {
        return;
    }
    let mut s = Session {
        env,
        io,
        id: state.session,
        user: state.user,
        store,
        info,
        selected: None,
        enabled: Enabled::default(),
        saved: Vec::new(),
        reply: None,
        stats: Stats::default(),
        id_logged: false,
        trash_mailbox: None,
        refresh_warned: false,
    };
    let reason = run(&mut s).await;
    super::logout::log(&s, reason);
    // TLS close_notify, then the socket is shut down.
    s.io.conn.close().await;
}

/// The command loop; returns the disconnect reason for the log line.
async fn run(s: &mut Session) -> &'static str {
    loop {
        let frame = match s.io.next(&s.env).await {
            Incoming::Frame(f) => f,
            Incoming::FrameError(e) => {
                let go_on = frame_error(&mut s.io, &e);
                if s.io.flush().await.is_err() {
                    return "Disconnected";
                }
                if !go_on {
                    return "Disconnected: protocol error";
                }
                continue;
            }
            Incoming::LiteralRefused { tag, too_big } => {
                if too_big {
                    s.io.no_opt(
                        tag.as_ref(),
                        Some(ResponseCode::TooBig),
                        "Message too large.",
                    );
                } else {
                    s.io.bad(tag.as_ref(), "Literal too large.");
                }
                if s.io.flush().await.is_err() {
                    return "Disconnected";
                }
                continue;
            }
            Incoming::Shutdown => {
                s.io.status(None, Status::Bye, None, "Server shutting down.");
                let _ = s.io.flush().await;
                return "Disconnected: server shutting down";
            }
            Incoming::Timeout => {
                s.io.status(None, Status::Bye, None, "Disconnected for inactivity.");
                let _ = s.io.flush().await;
                return "Disconnected for inactivity";
            }
            Incoming::Closed => return "Disconnected",
        };
        let cmd = match parse_command(frame.as_bytes()) {
            Ok(c) => c,
            Err(e) => {
                let text = match e.kind {
                    ParseErrorKind::UnknownCommand => {
                        "Error in IMAP command: Unknown command.".to_string()
                    }
                    k => format!("Error in IMAP command: {k}."),
                };
                s.io.bad(e.tag.as_ref(), &text);
                if s.io.flush().await.is_err() {
                    return "Disconnected";
                }
                continue;
            }
        };
        drop(frame);
        let tag = cmd.tag;
        let flow = commands::dispatch(s, &tag, cmd.body).await;
        match flow {
            Flow::Continue => {}
            Flow::Logout => {
                let _ = s.io.flush().await;
                return "Logged out";
            }
            Flow::Close => {
                let _ = s.io.flush().await;
                return "Disconnected";
            }
        }
        if s.io.flush().await.is_err() {
            return "Disconnected";
        }
    }
}

/// Framing once logged in: a literal may be as large as APPENDLIMIT
/// (synchronizing ones over it get NO [TOOBIG] before `+`, others BAD [TOOBIG]).
fn authed_limits(env: &Env) -> FramingLimits {
    let base = limits(env);
    let append_limit = super::capability::append_limit(&env.settings.imap.imap_options);
    FramingLimits {
        max_literal_size: append_limit,
        max_command_literals: base.max_command_literals.max(append_limit),
        ..base
    }
}

/// Commands whose untagged EXPUNGEs must wait (RFC 9051 §7.5.1).
pub fn allows_expunge(body: &CommandBody) -> bool {
    match body {
        CommandBody::Fetch { uid, .. }
        | CommandBody::Store { uid, .. }
        | CommandBody::Search { uid, .. }
        | CommandBody::Sort { uid, .. }
        | CommandBody::Thread { uid, .. } => *uid,
        _ => true,
    }
}
