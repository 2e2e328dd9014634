//! Not-authenticated state: greeting, CAPABILITY, NOOP, LOGOUT, STARTTLS,
//! ID, LOGIN and AUTHENTICATE on whichever shard accepted the connection,
//! then the handoff to the user's owner shard.

use std::rc::Rc;

use super::ImapHandoff;
use super::io::{ImapIo, Incoming};
use crate::auth::sasl::{Mechanism, SaslServer, SaslStep};
use crate::auth::secret::Secret;
use crate::imap::codec::response::{ResponseCode, Status};
use crate::imap::codec::types::Tag;
use crate::imap::codec::{
    FrameError, FramingLimits, LiteralMode, ParseError, ParseErrorKind, parse_command,
};
use crate::imap::session::Output;
use crate::imap::session::literals::PRELOGIN_LITERAL_MAX;
use crate::imap::session::prelogin::{Link, Prelogin, PreloginFlow};
use crate::net::Conn;
use crate::shard::env::{AuthOutcome, AuthRequest, Env, Handoff, Protocol};

/// Answers a command that does not parse.
pub fn bad_command(io: &mut ImapIo, e: &ParseError) {
    let text = match e.kind {
        ParseErrorKind::UnknownCommand => "Error in IMAP command: Unknown command.".to_string(),
        k => format!("Error in IMAP command: {k}."),
    };
    io.bad(e.tag.as_ref(), &text);
}

pub fn limits(env: &Env) -> FramingLimits {
    FramingLimits {
        max_line_length: env.settings.imap.max_line_length,
        ..FramingLimits::default()
    }
}

/// Answers a refused frame. `false` when the connection must close.
pub fn frame_error(io: &mut ImapIo, e: &FrameError) -> bool {
    match e {
        FrameError::LineTooLong { tag } => io.bad(tag.as_ref(), "Command line too long."),
        // A synchronizing literal was refused before `+`: the command
        // failed, nothing else went wrong (RFC 7889 NO [TOOBIG]). A
        // non-synchronizing one already came in over the limit: the client
        // broke the rules, which is BAD (RFC 7888 §4).
        FrameError::LiteralTooLarge { tag, mode, .. } => io.status(
            tag.as_ref(),
            match mode {
                LiteralMode::Sync => Status::No,
                LiteralMode::NonSync => Status::Bad,
            },
            Some(ResponseCode::TooBig),
            "Literal too large.",
        ),
        FrameError::BadLiteralLength { tag, .. } => {
            if e.is_fatal() {
                io.status(None, Status::Bye, None, "Unreadable literal length.");
                return false;
            }
            io.bad(tag.as_ref(), "Invalid literal length.")
        }
    }
    true
}

/// What the pre-login session needs to know about this connection.
fn link<'a>(env: &'a Env, conn: &Conn, session: &'a str, remote_ip: &'a str) -> Link<'a> {
    Link {
        settings: &env.settings.imap,
        session,
        remote_ip,
        tls: conn.is_tls(),
        secured: env.is_secured(Protocol::Imap, conn.is_tls(), &conn.peer),
        certificate: env.tls().is_some(),
    }
}

/// Serves a freshly accepted (and, for imaps, TLS-established) connection.
pub async fn serve(mut conn: Conn, env: Rc<Env>) {
    let session = env.new_session_id();
    conn.set_idle_timeout(env.settings.imap.idle_timeout_preauth);
    let rip = conn.peer.remote_ip();
    let mut io = ImapIo::new(conn, limits(&env), Vec::new());
    io.literal_limit = PRELOGIN_LITERAL_MAX;
    let mut state = Prelogin::default();
    state.greet(&link(&env, &io.conn, &session, &rip), &mut io);
    if io.flush().await.is_err() {
        return;
    }
    loop {
        let frame = match io.next(&env).await {
            Incoming::Frame(f) => f,
            Incoming::FrameError(e) => {
                let go_on = frame_error(&mut io, &e);
                if io.flush().await.is_err() || !go_on {
                    return;
                }
                continue;
            }
            Incoming::LiteralRefused { tag, .. } => {
                io.bad(
                    tag.as_ref(),
                    "Literals are only accepted by LOGIN and AUTHENTICATE before login.",
                );
                if io.flush().await.is_err() {
                    return;
                }
                continue;
            }
            Incoming::Shutdown => {
                io.status(None, Status::Bye, None, "Server shutting down.");
                let _ = io.flush().await;
                io.conn.close().await;
                return;
            }
            Incoming::Timeout => {
                io.status(None, Status::Bye, None, "Disconnected for inactivity.");
                let _ = io.flush().await;
                io.conn.close().await;
                return;
            }
            Incoming::Closed => return,
        };
        let cmd = match parse_command(frame.as_bytes()) {
            Ok(c) => c,
            Err(e) => {
                bad_command(&mut io, &e);
                if io.flush().await.is_err() {
                    return;
                }
                continue;
            }
        };
        let tag = cmd.tag.clone();
        let here = link(&env, &io.conn, &session, &rip);
        match state.handle(&here, &mut io, cmd) {
            PreloginFlow::Continue => {}
            PreloginFlow::Logout => {
                let _ = io.flush().await;
                io.conn.close().await;
                return;
            }
            PreloginFlow::StartTls => {
                if io.flush().await.is_err() {
                    return;
                }
                // Pipelined plaintext must not leak into the TLS session.
                drop(io.take_pending_input());
                // The session offered TLS because a certificate is set.
                let Some(cfg) = env.tls() else {
                    return;
                };
                if let Err(e) = io.conn.start_tls(cfg).await {
                    tracing::info!(session, rip = %rip, "imap-login: TLS handshake failed: {e}");
                    return;
                }
                continue;
            }
            PreloginFlow::Login { user, password } => {
                if let Some(done) =
                    authenticate(&env, &mut io, &session, &tag, user, password, "LOGIN").await
                {
                    login_done(io, env, done).await;
                    return;
                }
            }
            PreloginFlow::Authenticate { mechanism, initial } => {
                match sasl(&env, &mut io, &tag, mechanism, initial).await {
                    Ok(Some((user, pass, mech))) => {
                        if let Some(done) =
                            authenticate(&env, &mut io, &session, &tag, user, pass, mech).await
                        {
                            login_done(io, env, done).await;
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(()) => return,
                }
            }
        }
        if io.flush().await.is_err() {
            return;
        }
    }
}

/// Runs an AUTHENTICATE exchange. `Ok(None)`: answered (BAD/NO) already;
/// `Err`: the connection is gone.
async fn sasl(
    env: &Env,
    io: &mut ImapIo,
    tag: &Tag,
    mech: Mechanism,
    token: Option<Secret>,
) -> Result<Option<(Vec<u8>, Secret, &'static str)>, ()> {
    let (mut server, mut step) = SaslServer::start(mech, token.as_ref().map(|t| t.expose()));
    loop {
        match step {
            SaslStep::Challenge(text) => {
                io.push_raw(format!("+ {text}\r\n").as_bytes());
                if io.flush().await.is_err() {
                    return Err(());
                }
                let line = match io.next_raw_line(env).await {
                    Incoming::Frame(f) => f,
                    // The response line has no tag of its own: the
                    // AUTHENTICATE command is what fails, so it gets the
                    // tagged reply (an untagged one would leave it pending).
                    Incoming::FrameError(FrameError::LineTooLong { .. }) => {
                        io.bad(Some(tag), "Authentication response too large.");
                        return Ok(None);
                    }
                    Incoming::FrameError(e) => {
                        if !frame_error(io, &e) {
                            return Err(());
                        }
                        return Ok(None);
                    }
                    _ => return Err(()),
                };
                if line.line() == b"*" {
                    io.bad(Some(tag), "Authentication aborted by client.");
                    return Ok(None);
                }
                step = server.step(line.line());
            }
            SaslStep::Done(creds) => {
                return Ok(Some((
                    creds.authcid.into_bytes(),
                    creds.password,
                    mech.name(),
                )));
            }
            SaslStep::Failed(e) => {
                io.bad(Some(tag), &format!("Invalid authentication data: {e}."));
                return Ok(None);
            }
            _ => {
                io.no(Some(tag), None, "Unsupported authentication mechanism.");
                return Ok(None);
            }
        }
    }
}

/// A successful password check.
struct LoginDone {
    session: String,
    user: String,
    tag: Tag,
}

async fn authenticate(
    env: &Env,
    io: &mut ImapIo,
    session: &str,
    tag: &Tag,
    user: Vec<u8>,
    password: Secret,
    mech: &'static str,
) -> Option<LoginDone> {
    let secured = env.is_secured(Protocol::Imap, io.conn.is_tls(), &io.conn.peer);
    let req = AuthRequest {
        service: Protocol::Imap,
        user: String::from_utf8_lossy(&user).into_owned(),
        password,
        remote_ip: io.conn.peer.remote.map(|a| a.ip()),
        local_ip: io.conn.peer.local.map(|a| a.ip()),
        secured,
        mechanism: mech,
    };
    match env.auth.authenticate(req).await {
        AuthOutcome::Ok { user } => {
            tracing::info!(
                session, user, method = mech, rip = %io.conn.peer.remote_ip(), shard = env.shard,
                tls = io.conn.is_tls(), "imap-login: Login"
            );
            Some(LoginDone {
                session: session.to_string(),
                user,
                tag: tag.clone(),
            })
        }
        AuthOutcome::Failed { reason } => {
            tracing::info!(session, rip = %io.conn.peer.remote_ip(), "imap-login: Authentication failed: {reason}");
            // The authenticator already applied auth_failure_delay.
            io.no(
                Some(tag),
                Some(ResponseCode::AuthenticationFailed),
                "Authentication failed.",
            );
            None
        }
        AuthOutcome::TempFail { reason } => {
            tracing::warn!(session, "imap-login: auth temporary failure: {reason}");
            io.no(
                Some(tag),
                Some(ResponseCode::Unavailable),
                "Temporary authentication failure.",
            );
            None
        }
    }
}

/// Looks the user up, then continues on this shard or moves the
/// connection to the shard that owns the user's store.
async fn login_done(mut io: ImapIo, env: Rc<Env>, done: LoginDone) {
    if io.flush().await.is_err() {
        return;
    }
    let lookup = super::userdb::lookup_after_login(
        &env,
        &mut io,
        &done.session,
        &done.user,
        Some(&done.tag),
    );
    let Some(info) = lookup.await else {
        let _ = io.flush().await;
        return;
    };
    // Logged in: out of the pre-login budget, no login deadline.
    io.conn.finish_login();
    let owner = env.owner_of_store(&info, Protocol::Imap);
    let state = ImapHandoff {
        session: done.session,
        user: done.user,
        info,
        tag: done.tag.to_string(),
        pending: io.take_pending_input(),
        bytes_in: io.bytes_in,
        bytes_out: io.bytes_out,
    };
    if owner == env.shard {
        super::authed::resume(io.conn, state, env).await;
        return;
    }
    let parts = match io.conn.into_parts().await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("imap-login: handoff failed: {e}");
            return;
        }
    };
    let h = Handoff {
        protocol: Protocol::Imap,
        conn: parts,
        state: Box::new(state),
    };
    tracing::debug!(
        from = env.shard,
        to = owner,
        "imap-login: handed off to the owner shard"
    );
    if !env.handoff(owner, h).await {
        tracing::warn!("imap-login: owner shard {owner} unreachable");
    }
}
