//! The POP3 connection driver: feeds socket bytes to [`Pop3Session`] and
//! carries out its actions. Before login it runs on whichever shard
//! accepted the connection (TLS, CAPA, STLS, USER/PASS, AUTH); after a
//! successful password check and userdb lookup the whole connection,
//! session state included, moves to the shard that owns the user's store,
//! which opens the maildrop and serves the TRANSACTION and UPDATE states.

use std::rc::Rc;

use super::codec::Pop3ParserOptions;
use super::codec_dotstuff::{DotStuffOptions, Progress};
use super::codec_response::ResponseCode;
use super::driver_maildrop::{MaildropError, MaildropOptions, OpenMaildrop, maildrop_user};
use super::driver_sasl::{SaslExchange, SaslNext};
use super::logout::{SessionFacts, logout_text};
use super::session::{Pop3Action, Pop3Session, Pop3SessionOptions};
use crate::auth::secret::Secret;
use crate::net::driver_io::{Arrival, WRITE_PIECE, fill_unless_shutdown, send_in_pieces};
use crate::net::{Conn, PeerInfo};
use crate::shard::env::{AuthOutcome, AuthRequest, Env, Handoff, Protocol, UserInfo};
use crate::storage::StorageError;

/// Output is sent once this much of a RETR/TOP body has been encoded.
const STREAM_CHUNK: usize = 64 * 1024;

/// TOP reads this much of a message first.
const TOP_PREFIX: u64 = 64 * 1024;

/// What moves to the owner shard with the connection: the session is
/// waiting for the outcome of its login (maildrop open).
#[derive(Debug)]
pub struct Pop3Handoff {
    pub session_id: String,
    pub user: String,
    /// The user's userdb record, looked up on the accepting shard (it
    /// decides the owner shard).
    pub info: UserInfo,
    pub session: Pop3Session,
}

/// Serves a new connection (TLS already done for port 995).
pub async fn serve(mut conn: Conn, env: Rc<Env>) {
    conn.set_idle_timeout(env.settings.pop3.idle_timeout_preauth);
    let mut out = Vec::new();
    let options = session_options(&env, &conn);
    let session = Pop3Session::new(options, &env.settings.pop3.greeting, &mut out);
    let driver = Driver {
        session_id: env.new_session_id(),
        env,
        conn,
        session,
        out,
        sasl: None,
        maildrop: None,
        userip: None,
        rawlog: None,
    };
    driver.run().await;
}

/// Continues a session handed over by another shard: opens the maildrop
/// here, on the owner shard, and answers the pending login.
pub async fn resume(conn: Conn, state: Pop3Handoff, env: Rc<Env>) {
    let mut driver = Driver {
        session_id: state.session_id,
        env,
        conn,
        session: state.session,
        out: Vec::new(),
        sasl: None,
        maildrop: None,
        userip: None,
        rawlog: None,
    };
    driver.open_maildrop(&state.user, &state.info).await;
    driver.run().await;
}

fn session_options(env: &Env, conn: &Conn) -> Pop3SessionOptions {
    let s = &env.settings.pop3;
    let can_tls = s.tls_available && env.tls().is_some();
    Pop3SessionOptions {
        parser: Pop3ParserOptions {
            enable_last: s.pop3_enable_last,
        },
        max_line: s.max_line_length,
        workarounds: DotStuffOptions {
            outlook_no_nuls: s.pop3_outlook_no_nuls,
            oe_ns_eoh: s.pop3_oe_ns_eoh,
        },
        secured: conn.is_tls(),
        tls_available: can_tls && !conn.is_tls(),
        plaintext_auth_without_tls: !s.tls_required
            && (!s.disable_plaintext_auth || env.is_secured(Protocol::Pop3, false, &conn.peer)),
        sasl_mechanisms: s
            .auth_mechanisms
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .filter(|m| SaslExchange::start(m, None).is_some())
            .collect(),
        ..Pop3SessionOptions::default()
    }
}

/// What the run loop does after an action.
enum Flow {
    Continue,
    /// The connection is gone or unusable.
    Stop,
    /// Login worked for a user whose store another shard owns.
    Handoff {
        owner: usize,
        user: String,
        info: UserInfo,
    },
}

struct Driver {
    env: Rc<Env>,
    conn: Conn,
    session: Pop3Session,
    session_id: String,
    /// Replies not yet written to the connection.
    out: Vec<u8>,
    sasl: Option<SaslExchange>,
    maildrop: Option<OpenMaildrop>,
    /// This session's place in `mail_max_userip_connections`.
    userip: Option<crate::shard::env::UserIpSlot>,
    /// `rawlog_dir`: the conversation after login.
    rawlog: Option<crate::net::rawlog::Rawlog>,
}

impl Driver {
    async fn run(mut self) {
        loop {
            let line_buffered = memchr::memchr(b'\n', self.conn.buffered()).is_some();
            // Replies are batched while whole commands are buffered
            // (pipelining), and sent before waiting for more input.
            let flush_now = !line_buffered || self.out.len() >= WRITE_PIECE;
            if flush_now && !self.out.is_empty() {
                if !self.send_out().await {
                    self.log_end("Connection closed");
                    return;
                }
                self.out.clear();
            }
            if self.session.is_closed() {
                if !self.out.is_empty() && !self.send_out().await {
                    self.log_end("Connection closed");
                    return;
                }
                self.log_end("Logged out");
                self.conn.close().await;
                return;
            }
            // One command at a time, so a pipeline of commands with big
            // replies (LIST of a large maildrop) cannot pile up output.
            let buffered = self.conn.buffered();
            let take = memchr::memchr(b'\n', buffered).map_or(buffered.len(), |at| at + 1);
            let (used, action) = self.session.receive(&buffered[..take], &mut self.out);
            if let Some(r) = &self.rawlog {
                r.input(&buffered[..used]);
            }
            self.conn.consume(used);
            self.session.count_input(used as u64);
            if let Some(action) = action {
                match self.act(action).await {
                    Flow::Continue => continue,
                    Flow::Stop => {
                        self.log_end("Connection closed");
                        return;
                    }
                    Flow::Handoff { owner, user, info } => {
                        self.handoff(owner, user, info).await;
                        return;
                    }
                }
            }
            if used > 0 && line_buffered {
                continue;
            }
            if !self.out.is_empty() {
                if !self.send_out().await {
                    self.log_end("Connection closed");
                    return;
                }
                self.out.clear();
            }
            if self.session.is_closed() {
                continue;
            }
            match fill_unless_shutdown(&mut self.conn, self.env.shutdown.wait()).await {
                Arrival::Data => {}
                Arrival::Shutdown => {
                    self.say_goodbye("-ERR [SYS/TEMP] Server shutting down.\r\n", "Shutdown")
                        .await;
                    return;
                }
                Arrival::Timeout => {
                    self.say_goodbye("-ERR Disconnected for inactivity.\r\n", "Inactivity")
                        .await;
                    return;
                }
                Arrival::Closed => {
                    // A dropped connection never reaches UPDATE: the marks
                    // die with the session and nothing is deleted.
                    self.log_end("Connection closed");
                    return;
                }
            }
        }
    }

    async fn say_goodbye(mut self, line: &str, reason: &str) {
        if let Some(r) = &self.rawlog {
            r.output(line.as_bytes());
        }
        if self.conn.write_all(line.as_bytes()).await.is_ok() {
            self.session.count_output(line.len() as u64);
        }
        self.log_end(reason);
        self.conn.close().await;
    }

    /// Writes out the pending replies, counting them for `%o`; false when
    /// the client is gone.
    async fn send_out(&mut self) -> bool {
        if let Some(r) = &self.rawlog {
            r.output(&self.out);
        }
        if send_in_pieces(&mut self.conn, &self.out).await.is_err() {
            return false;
        }
        self.session.count_output(self.out.len() as u64);
        self.out.clear();
        true
    }

    fn log_end(&self, reason: &str) {
        log_end(
            &self.session_id,
            &self.env,
            &self.conn.peer,
            &self.session,
            self.maildrop.as_ref(),
            reason,
        );
    }

    async fn act(&mut self, action: Pop3Action) -> Flow {
        match action {
            Pop3Action::StartTls => self.start_tls().await,
            Pop3Action::Login { user, password } => {
                self.authenticate(user, password, "PLAIN").await
            }
            Pop3Action::SaslStart {
                mechanism,
                initial_response,
            } => {
                let initial = initial_response.as_ref().map(|r| r.expose());
                match SaslExchange::start(&mechanism, initial) {
                    Some((exchange, next)) => {
                        self.sasl = Some(exchange);
                        self.sasl_next(next).await
                    }
                    None => {
                        self.session.login_failed(
                            ResponseCode::Auth,
                            "Unsupported authentication mechanism.",
                            &mut self.out,
                        );
                        Flow::Continue
                    }
                }
            }
            Pop3Action::SaslResponse(response) => {
                let next = match self.sasl.as_mut() {
                    Some(exchange) => exchange.step(response.expose()),
                    None => SaslNext::Malformed,
                };
                self.sasl_next(next).await
            }
            Pop3Action::SaslCancelled => {
                self.sasl = None;
                Flow::Continue
            }
            Pop3Action::SendMessage { index, body_lines } => {
                self.send_message(index, body_lines.is_none()).await
            }
            Pop3Action::Update { expunge } => {
                let no_flags = self.env.settings.pop3.pop3_no_flag_updates;
                let ok = match self.maildrop.as_mut() {
                    Some(maildrop) => maildrop.update(&expunge, no_flags).await,
                    None => false,
                };
                self.session.update_finished(ok, &mut self.out);
                Flow::Continue
            }
            Pop3Action::Close => {
                let no_flags = self.env.settings.pop3.pop3_no_flag_updates;
                if let Some(maildrop) = self.maildrop.as_mut() {
                    maildrop.finish_without_update(no_flags).await;
                }
                Flow::Continue
            }
        }
    }

    async fn start_tls(&mut self) -> Flow {
        let Some(cfg) = self.env.tls() else {
            return Flow::Stop;
        };
        if !self.send_out().await {
            return Flow::Stop;
        }
        self.out.clear();
        if let Err(e) = self.conn.start_tls(cfg).await {
            tracing::info!(
                session = self.session_id,
                rip = %self.conn.peer.remote_ip(),
                "pop3-login: TLS handshake failed: {e}"
            );
            return Flow::Stop;
        }
        self.session.tls_established();
        Flow::Continue
    }

    async fn sasl_next(&mut self, next: SaslNext) -> Flow {
        match next {
            SaslNext::Challenge(challenge) => {
                self.session.sasl_challenge(challenge, &mut self.out);
                Flow::Continue
            }
            SaslNext::Done(credentials) => {
                let mechanism = match self.sasl.take() {
                    Some(SaslExchange::Plain) => "PLAIN",
                    _ => "LOGIN",
                };
                self.authenticate(credentials.user, credentials.password, mechanism)
                    .await
            }
            SaslNext::Malformed => {
                self.sasl = None;
                self.session.login_failed(
                    ResponseCode::Auth,
                    "Invalid authentication data.",
                    &mut self.out,
                );
                Flow::Continue
            }
        }
    }

    async fn authenticate(&mut self, user: String, password: Secret, mech: &'static str) -> Flow {
        let env = self.env.clone();
        let req = AuthRequest {
            service: Protocol::Pop3,
            user,
            password,
            remote_ip: self.conn.peer.remote.map(|a| a.ip()),
            local_ip: self.conn.peer.local.map(|a| a.ip()),
            secured: env.is_secured(Protocol::Pop3, self.conn.is_tls(), &self.conn.peer),
            mechanism: mech,
        };
        match env.auth.authenticate(req).await {
            AuthOutcome::Ok { user } => {
                tracing::info!(
                    session = self.session_id,
                    user,
                    method = mech,
                    rip = %self.conn.peer.remote_ip(),
                    shard = env.shard,
                    "pop3-login: Login"
                );
                let info = match maildrop_user(&env, &user).await {
                    Ok(info) => info,
                    Err(e) => {
                        self.maildrop_failed(&user, &e);
                        return Flow::Continue;
                    }
                };
                // Logged in: out of the pre-login budget, no login deadline.
                self.conn.finish_login();
                let owner = env.owner_of_store(&info, Protocol::Pop3);
                if owner != env.shard {
                    return Flow::Handoff { owner, user, info };
                }
                self.open_maildrop(&user, &info).await;
                Flow::Continue
            }
            AuthOutcome::Failed { reason } => {
                tracing::info!(
                    session = self.session_id,
                    rip = %self.conn.peer.remote_ip(),
                    "pop3-login: Authentication failed: {reason}"
                );
                // No delay here: the authenticator applies the uniform
                // auth_failure_delay itself (main's auth layer).
                self.session.login_failed(
                    ResponseCode::Auth,
                    "Authentication failed.",
                    &mut self.out,
                );
                Flow::Continue
            }
            AuthOutcome::TempFail { reason } => {
                tracing::warn!(
                    session = self.session_id,
                    "pop3-login: auth temporary failure: {reason}"
                );
                self.session.login_failed(
                    ResponseCode::SysTemp,
                    "Temporary authentication failure.",
                    &mut self.out,
                );
                Flow::Continue
            }
        }
    }

    /// On the owner shard: lock and list the maildrop, then answer the login.
    async fn open_maildrop(&mut self, user: &str, info: &UserInfo) {
        let s = &self.env.settings.pop3;
        self.conn.set_idle_timeout(s.idle_timeout_authed);
        let options = MaildropOptions {
            uidl_format: s.pop3_uidl_format.clone(),
            lock_session: s.pop3_lock_session,
        };
        let ip = self.conn.peer.remote.map(|a| a.ip());
        let limit = s.max_userip_connections;
        match self.env.userip.acquire(Protocol::Pop3, user, ip, limit) {
            Some(slot) => self.userip = Some(slot),
            None => {
                crate::metrics::login(
                    crate::metrics::Service::Pop3,
                    crate::metrics::LoginResult::UseripLimit,
                );
                tracing::info!(
                    session = self.session_id,
                    user,
                    "pop3: Maximum number of connections from user+IP exceeded (mail_max_userip_connections={limit})"
                );
                self.session.login_failed(
                    ResponseCode::InUse,
                    "Maximum number of connections from user+IP exceeded (mail_max_userip_connections)",
                    &mut self.out,
                );
                return;
            }
        }
        self.rawlog = self
            .env
            .start_rawlog(Protocol::Pop3, info, &self.session_id)
            .await;
        match OpenMaildrop::open(&self.env, info, &options).await {
            Ok((maildrop, snapshot)) => {
                self.maildrop = Some(maildrop);
                self.session.login_succeeded(snapshot, &mut self.out);
            }
            Err(e) => self.maildrop_failed(user, &e),
        }
    }

    /// Answers the pending login when the maildrop cannot be had.
    fn maildrop_failed(&mut self, user: &str, e: &MaildropError) {
        tracing::warn!(
            session = self.session_id,
            user,
            shard = self.env.shard,
            "pop3: cannot open the maildrop: {e}"
        );
        let (code, text) = e.reply();
        self.session.login_failed(code, text, &mut self.out);
    }

    async fn send_message(&mut self, index: usize, whole: bool) -> Flow {
        let Some(maildrop) = self.maildrop.as_ref() else {
            self.session.message_unavailable(true, &mut self.out);
            return Flow::Continue;
        };
        // TOP usually needs only the header and a few lines: read a prefix
        // first and the whole message only if the prefix is not enough.
        let prefix = if whole {
            None
        } else {
            match maildrop.read_prefix(index, TOP_PREFIX).await {
                Ok(prefix) => Some(prefix),
                Err(e) => return self.unreadable(e),
            }
        };
        let (first, need_rest) = match prefix {
            Some(prefix) => {
                let more = prefix.len() as u64 >= TOP_PREFIX;
                (prefix, more)
            }
            None => match maildrop.read(index).await {
                Ok(message) => (message, false),
                Err(e) => return self.unreadable(e),
            },
        };
        let Some(mut encoder) = self.session.message_opened(&mut self.out) else {
            return Flow::Continue;
        };
        let mut complete = false;
        for chunk in first.chunks(STREAM_CHUNK) {
            complete = encoder.feed(chunk, &mut self.out) == Progress::Complete;
            if !self.flush_if_full().await {
                return Flow::Stop;
            }
            if complete {
                break;
            }
        }
        if need_rest && !complete {
            let Some(maildrop) = self.maildrop.as_ref() else {
                return Flow::Stop;
            };
            let rest = match maildrop.read(index).await {
                // Already answered +OK: a failure now can only end the
                // reply early; drop the connection rather than lie.
                Ok(message) => message,
                Err(e) => {
                    tracing::warn!(session = self.session_id, "pop3: read failed mid-TOP: {e}");
                    return Flow::Stop;
                }
            };
            for chunk in rest
                .get(first.len()..)
                .unwrap_or_default()
                .chunks(STREAM_CHUNK)
            {
                let done = encoder.feed(chunk, &mut self.out) == Progress::Complete;
                if !self.flush_if_full().await {
                    return Flow::Stop;
                }
                if done {
                    break;
                }
            }
        }
        let summary = encoder.finish(&mut self.out);
        self.session.message_sent(summary);
        if whole && let Some(maildrop) = self.maildrop.as_mut() {
            maildrop.mark_retrieved(index);
        }
        Flow::Continue
    }

    /// RETR/TOP could not read the message: `-ERR [SYS/PERM]` when it is
    /// gone (expunged by IMAP meanwhile), `[SYS/TEMP]` otherwise.
    fn unreadable(&mut self, e: StorageError) -> Flow {
        let gone = matches!(
            e,
            StorageError::NoSuchMessage(_) | StorageError::MailboxGone
        );
        if !gone {
            tracing::warn!(session = self.session_id, "pop3: read failed: {e}");
        }
        self.session.message_unavailable(!gone, &mut self.out);
        Flow::Continue
    }

    /// Sends the encoded body once a chunk's worth is buffered; false when
    /// the client is gone.
    async fn flush_if_full(&mut self) -> bool {
        if self.out.len() < STREAM_CHUNK {
            return true;
        }
        if !self.send_out().await {
            return false;
        }
        self.out.clear();
        true
    }

    async fn handoff(self, owner: usize, user: String, info: UserInfo) {
        let Driver {
            env,
            mut conn,
            mut session,
            session_id,
            out,
            ..
        } = self;
        // Replies to commands pipelined before the login (USER's +OK) go out
        // first.
        if send_in_pieces(&mut conn, &out).await.is_err() {
            return;
        }
        session.count_output(out.len() as u64);
        let parts = match conn.into_parts().await {
            Ok(parts) => parts,
            Err(e) => {
                tracing::warn!(session = session_id, "pop3-login: handoff failed: {e}");
                return;
            }
        };
        tracing::debug!(
            session = session_id,
            from = env.shard,
            to = owner,
            "pop3-login: handed off to the owner shard"
        );
        let handoff = Handoff {
            protocol: Protocol::Pop3,
            conn: parts,
            state: Box::new(Pop3Handoff {
                session_id,
                user,
                info,
                session,
            }),
        };
        if !env.handoff(owner, handoff).await {
            tracing::warn!("pop3-login: owner shard {owner} unreachable");
        }
    }
}

/// Dovecot's logout line (`pop3_logout_format`'s default) for logged-in
/// sessions; a short line for connections that never logged in.
fn log_end(
    session_id: &str,
    env: &Env,
    peer: &PeerInfo,
    session: &Pop3Session,
    maildrop: Option<&OpenMaildrop>,
    reason: &str,
) {
    match maildrop {
        Some(maildrop) => {
            let format = &env.settings.pop3.pop3_logout_format;
            let facts = SessionFacts {
                user: &maildrop.user,
                session: session_id,
                local_ip: peer.local.map(|a| a.ip()),
                remote_ip: peer.remote.map(|a| a.ip()),
            };
            let text = logout_text(format, &session.stats(), &facts).unwrap_or_else(|e| {
                tracing::error!(
                    session = session_id,
                    user = maildrop.user,
                    "pop3: Failed to expand pop3_logout_format={format}: {e}"
                );
                String::new()
            });
            tracing::info!(
                session = session_id,
                user = maildrop.user,
                shard = env.shard,
                "pop3: Disconnected: {reason}{}{text}",
                if text.is_empty() { "" } else { " " },
            );
        }
        None => tracing::debug!(
            session = session_id,
            shard = env.shard,
            "pop3-login: Disconnected: {reason}"
        ),
    }
}
