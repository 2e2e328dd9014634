//! Authenticated and selected states, the owner-shard side of a
//! connection: reads frames, parses them, hands each command to the
//! session ([`commands::dispatch`]), carries out the [`Flow`] it returns
//! and flushes once per command.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Instant;

use super::ImapHandoff;
use super::disconnect::{self, LastCommand, Why, command_name};
use super::idle;
use super::io::{ImapIo, Incoming};
use super::prelogin::{bad_command, frame_error, limits};
use crate::imap::codec::response::{ResponseCode, Status};
use crate::imap::codec::types::Tag;
use crate::imap::codec::{FramingLimits, parse_command};
use crate::imap::session::capability::{append_limit, atoms, authed};
use crate::imap::session::commands::{self, Flow};
use crate::imap::session::logout::{SessionFacts, logout_text};
use crate::imap::session::{OpenMail, Output, Session, SessionSettings};
use crate::net::Conn;
use crate::shard::env::{Env, Protocol, UserInfo};
use crate::storage::AnyStore;

/// Opens the user's mail through the shard's storage.
struct ShardMail {
    env: Rc<Env>,
    info: UserInfo,
}

impl OpenMail for ShardMail {
    fn open(&self) -> Pin<Box<dyn Future<Output = Result<AnyStore, String>> + '_>> {
        Box::pin(self.env.open_mail(Protocol::Imap, &self.info))
    }
}

/// Seconds since the UNIX epoch by the system clock.
fn wall_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A logged-in connection: the session and what only the driver holds.
pub struct Authed {
    pub env: Rc<Env>,
    pub io: ImapIo,
    pub info: UserInfo,
    pub session: Session,
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
        crate::metrics::login(
            crate::metrics::Service::Imap,
            crate::metrics::LoginResult::UseripLimit,
        );
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
    io.rawlog = env
        .start_rawlog(Protocol::Imap, &info, &state.session)
        .await;
    io.status(
        tag.as_ref(),
        Status::Ok,
        Some(ResponseCode::Capability(atoms(&authed(
            &env.settings.imap.imap_options,
        )))),
        "Logged in",
    );
    if io.flush().await.is_err() {
        return;
    }
    let settings = SessionSettings {
        options: env.settings.imap.imap_options.clone(),
    };
    let opener = Box::new(ShardMail {
        env: env.clone(),
        info: info.clone(),
    });
    let session = Session::new(
        state.session,
        state.user,
        settings,
        store,
        opener,
        Rc::new(wall_clock),
    );
    let mut s = Authed {
        env,
        io,
        info,
        session,
    };
    let reason = run(&mut s).await;
    log_logout(&s, reason);
    // TLS close_notify, then the socket is shut down.
    s.io.conn.close().await;
}

/// The command loop; returns the disconnect reason for the log line.
async fn run(s: &mut Authed) -> String {
    let mut last: Option<(String, Instant)> = None;
    let why = serve_commands(s, &mut last).await;
    let last = last.map(|(name, at)| LastCommand {
        name,
        ago: at.elapsed(),
    });
    let unfinished = s.io.unfinished_input();
    disconnect::reason(why, last.as_ref(), &unfinished)
}

/// Serves commands until the connection ends; `last` follows the last
/// command that completed.
async fn serve_commands(s: &mut Authed, last: &mut Option<(String, Instant)>) -> Why {
    loop {
        let frame = match s.io.next(&s.env).await {
            Incoming::Frame(f) => f,
            Incoming::FrameError(e) => {
                let go_on = frame_error(&mut s.io, &e);
                if s.io.flush().await.is_err() {
                    return Why::Closed;
                }
                if !go_on {
                    return Why::ProtocolError;
                }
                continue;
            }
            Incoming::LiteralRefused { tag, too_big } => {
                if too_big {
                    s.io.no(
                        tag.as_ref(),
                        Some(ResponseCode::TooBig),
                        "Message too large.",
                    );
                } else {
                    s.io.bad(tag.as_ref(), "Literal too large.");
                }
                if s.io.flush().await.is_err() {
                    return Why::Closed;
                }
                continue;
            }
            Incoming::Shutdown => {
                s.io.status(None, Status::Bye, None, "Server shutting down.");
                let _ = s.io.flush().await;
                return Why::Shutdown;
            }
            Incoming::Timeout => {
                s.io.status(None, Status::Bye, None, "Disconnected for inactivity.");
                let _ = s.io.flush().await;
                return Why::Inactivity(s.env.settings.imap.idle_timeout_authed.as_secs());
            }
            Incoming::Closed => return Why::Closed,
        };
        let name = command_name(frame.as_bytes());
        let cmd = match parse_command(frame.as_bytes()) {
            Ok(c) => c,
            Err(e) => {
                bad_command(&mut s.io, &e);
                if s.io.flush().await.is_err() {
                    return Why::Closed;
                }
                continue;
            }
        };
        let command = crate::metrics::imap_command_index(frame.as_bytes());
        drop(frame);
        let started = std::time::Instant::now();
        let flow = commands::dispatch(&mut s.session, &mut s.io, cmd).await;
        crate::metrics::imap_command(command, started.elapsed());
        *last = Some((name, Instant::now()));
        match flow {
            Flow::Continue => {}
            Flow::Logout => {
                let _ = s.io.flush().await;
                return Why::LoggedOut;
            }
            Flow::Close => {
                let _ = s.io.flush().await;
                return Why::Closed;
            }
            Flow::StartCompression => {
                // The tagged OK goes out uncompressed.
                if s.io.flush().await.is_err() {
                    return Why::Closed;
                }
                s.io.start_deflate();
            }
            Flow::Idle(tag) => {
                if let Err(why) = idle::wait(s, &tag).await {
                    let _ = s.io.flush().await;
                    return why;
                }
                *last = Some(("IDLE".to_string(), Instant::now()));
            }
        }
        if s.io.flush().await.is_err() {
            return Why::Closed;
        }
    }
}

/// Logs the end of a logged-in session: the disconnect reason, then
/// `imap_logout_format` expanded.
fn log_logout(s: &Authed, reason: String) {
    let peer = &s.io.conn.peer;
    let session = &s.session;
    let facts = SessionFacts {
        user: &session.user,
        home: &s.info.home,
        session: &session.id,
        local_ip: peer.local.map(|a| a.ip()),
        remote_ip: peer.remote.map(|a| a.ip()),
        bytes_in: s.io.bytes_in,
        bytes_out: s.io.bytes_out,
    };
    let format = &s.env.settings.imap.imap_options.logout_format;
    let text = logout_text(format, &session.stats, &facts).unwrap_or_else(|e| {
        tracing::error!(
            session = session.id,
            user = session.user,
            "imap: Failed to expand imap_logout_format={format}: {e}"
        );
        String::new()
    });
    tracing::info!(
        session = session.id,
        user = session.user,
        shard = s.env.shard,
        "imap: {reason}{}{text}",
        if text.is_empty() { "" } else { " " },
    );
}

/// Framing once logged in: a literal may be as large as APPENDLIMIT
/// (synchronizing ones over it get NO [TOOBIG] before `+`, others BAD [TOOBIG]).
fn authed_limits(env: &Env) -> FramingLimits {
    let base = limits(env);
    let append_limit = append_limit(&env.settings.imap.imap_options);
    FramingLimits {
        max_literal_size: append_limit,
        max_command_literals: base.max_command_literals.max(append_limit),
        ..base
    }
}
