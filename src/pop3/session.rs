//! The POP3 session state machine, sans-io.
//!
//! The driver (net/) feeds socket bytes to [`Pop3Session::receive`], sends
//! whatever the session appended to the output buffer, and carries out the
//! [`Pop3Action`]s the session asks for (authenticate, start TLS, stream a
//! message, commit deletions). Each action is answered by calling the
//! matching method (`login_succeeded`, `tls_established`, …); until then
//! `receive` consumes nothing, which keeps pipelined replies in order.
//!
//! The maildrop is a snapshot ([`MessageInfo`] per message) taken at login,
//! as RFC 1939 requires: numbers, sizes and UIDLs do not change during the
//! session. Deletions are only marks until QUIT enters the UPDATE state; a
//! dropped connection therefore deletes nothing.

use super::codec::{DEFAULT_MAX_LINE, MessageNumber, parse_sasl_continuation};
use super::codec::{Pop3Command, Pop3CommandError, Pop3ParserOptions, SaslContinuation};
use super::codec_dotstuff::{DotStuffOptions, DotStuffSummary, DotStuffer};
use super::codec_response::{
    Pop3Capabilities, Pop3Response, ResponseCode, encode_multiline_end, encode_multiline_line,
    encode_sasl_challenge, encode_scan_listing, encode_uidl_listing,
};
pub use super::logout::{LogoutStats, UidlDigest};
pub use super::session_maildrop::MessageInfo;
use super::session_maildrop::{Maildrop, number_of};
use crate::auth::secret::Secret;
use crate::net::line::{Framed, LineFramer};

/// Session settings from configuration and the listener.
#[derive(Debug, Clone)]
pub struct Pop3SessionOptions {
    pub parser: Pop3ParserOptions,
    /// Command line cap including CRLF.
    pub max_line: usize,
    pub workarounds: DotStuffOptions,
    /// The connection is already TLS (port 995).
    pub secured: bool,
    /// STLS can be offered (a TLS config exists and we are not secured).
    pub tls_available: bool,
    /// `!disable_plaintext_auth`: plaintext logins allowed without TLS.
    pub plaintext_auth_without_tls: bool,
    /// Mechanisms the auth layer offers, e.g. `["PLAIN", "LOGIN"]`.
    pub sasl_mechanisms: Vec<String>,
    /// After this many consecutive refused commands the connection is closed.
    pub max_bad_commands: u32,
}

impl Default for Pop3SessionOptions {
    fn default() -> Self {
        Self {
            parser: Pop3ParserOptions::default(),
            max_line: DEFAULT_MAX_LINE,
            workarounds: DotStuffOptions::default(),
            secured: false,
            tls_available: false,
            plaintext_auth_without_tls: false,
            sasl_mechanisms: vec!["PLAIN".into(), "LOGIN".into()],
            max_bad_commands: 10,
        }
    }
}

/// Work the session needs the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop3Action {
    /// Flush the output, run the TLS handshake, then call
    /// `tls_established`. Input received after STLS was discarded
    /// (RFC 2595 §4 / the STARTTLS injection attacks).
    StartTls,
    /// USER/PASS: check the credentials, then `login_succeeded` or
    /// `login_failed`.
    Login { user: String, password: Secret },
    /// AUTH: start the SASL exchange; answer with `sasl_challenge`,
    /// `login_succeeded` or `login_failed`.
    SaslStart {
        mechanism: String,
        initial_response: Option<Secret>,
    },
    /// The client's answer to the last challenge.
    SaslResponse(Secret),
    /// The client cancelled the exchange (the `-ERR` is already written);
    /// tell the auth layer to drop it.
    SaslCancelled,
    /// RETR (`body_lines: None`) or TOP: open the message, then call
    /// `message_opened` (which writes `+OK` and gives the encoder) or
    /// `message_unavailable`; after streaming, call `message_sent`.
    SendMessage {
        index: usize,
        body_lines: Option<u32>,
    },
    /// QUIT in the TRANSACTION state: expunge these messages (0-based
    /// indexes, ascending), then call `update_finished`.
    Update { expunge: Vec<usize> },
    /// Flush the output and close the connection.
    Close,
}

#[derive(Debug)]
enum Phase {
    Authorization {
        user: Option<String>,
    },
    /// In a SASL exchange: lines are continuations.
    Sasl,
    Transaction(Maildrop),
    Closed,
}

/// What the session is waiting for from the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Nothing,
    Tls,
    Auth,
    Message {
        index: usize,
        body_lines: Option<u32>,
    },
    Update,
}

/// One POP3 connection's protocol state.
#[derive(Debug)]
pub struct Pop3Session {
    options: Pop3SessionOptions,
    framer: LineFramer,
    phase: Phase,
    awaiting: Awaiting,
    secured: bool,
    bad_commands: u32,
    stats: LogoutStats,
}

impl Pop3Session {
    /// A new session; writes the greeting to `out`.
    pub fn new(options: Pop3SessionOptions, greeting: &str, out: &mut Vec<u8>) -> Self {
        Pop3Response::ok(greeting).encode(out);
        Self {
            framer: LineFramer::new(options.max_line),
            secured: options.secured,
            options,
            phase: Phase::Authorization { user: None },
            awaiting: Awaiting::Nothing,
            bad_commands: 0,
            stats: LogoutStats::default(),
        }
    }

    /// True after login.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.phase, Phase::Transaction(_))
    }

    /// True once the connection should be closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Counters for the logout log line.
    pub fn stats(&self) -> LogoutStats {
        self.stats
    }

    /// Client bytes the driver handed to [`Pop3Session::receive`] and had
    /// consumed (`%i`).
    pub fn count_input(&mut self, bytes: u64) {
        self.stats.bytes_in += bytes;
    }

    /// Reply bytes the driver wrote to the client (`%o`).
    pub fn count_output(&mut self, bytes: u64) {
        self.stats.bytes_out += bytes;
    }

    /// Processes input until an action is needed or the input is used up.
    /// Returns the bytes consumed; the caller keeps the rest for the next
    /// call (after resolving the action).
    pub fn receive(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, Option<Pop3Action>) {
        let mut consumed = 0;
        while self.awaiting == Awaiting::Nothing && !self.is_closed() && consumed < input.len() {
            let (used, frame) = self.framer.feed(&input[consumed..]);
            consumed += used;
            let line = match frame {
                None => continue,
                Some(Framed::TooLong) => Err(Pop3CommandError::LineTooLong),
                Some(Framed::Line(line)) => Ok(line.to_vec()),
            };
            let action = match line {
                Ok(line) => self.line(&line, out),
                Err(error) => self.refuse(&error, out),
            };
            if action == Some(Pop3Action::StartTls) {
                // Nothing the client sent before the handshake may be used.
                self.framer = LineFramer::new(self.options.max_line);
                return (input.len(), action);
            }
            if action.is_some() {
                return (consumed, action);
            }
        }
        (consumed, None)
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<Pop3Action> {
        if matches!(self.phase, Phase::Sasl) {
            return self.sasl_line(line, out);
        }
        let bad_before = self.bad_commands;
        let action = match Pop3Command::parse(line, &self.options.parser) {
            Ok(command) => self.command(command, out),
            Err(error) => self.refuse(&error, out),
        };
        // Like Dovecot, only consecutive failures count toward the limit.
        if self.bad_commands == bad_before {
            self.bad_commands = 0;
        }
        action
    }

    fn refuse(&mut self, error: &Pop3CommandError, out: &mut Vec<u8>) -> Option<Pop3Action> {
        self.err(&error.to_string(), out)
    }

    /// Writes `-ERR text`, counting it toward the bad-command limit.
    fn err(&mut self, text: &str, out: &mut Vec<u8>) -> Option<Pop3Action> {
        self.bad_commands += 1;
        if self.bad_commands >= self.options.max_bad_commands {
            Pop3Response::err("Too many invalid commands.").encode(out);
            self.phase = Phase::Closed;
            return Some(Pop3Action::Close);
        }
        Pop3Response::err(text).encode(out);
        None
    }

    fn sasl_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<Pop3Action> {
        match parse_sasl_continuation(line) {
            Ok(SaslContinuation::Cancel) => {
                self.phase = Phase::Authorization { user: None };
                Pop3Response::err("Authentication aborted by client.").encode(out);
                Some(Pop3Action::SaslCancelled)
            }
            Ok(SaslContinuation::Response(response)) => {
                self.awaiting = Awaiting::Auth;
                Some(Pop3Action::SaslResponse(response))
            }
            Err(error) => {
                self.phase = Phase::Authorization { user: None };
                Pop3Response::err(&error.to_string()).encode(out);
                Some(Pop3Action::SaslCancelled)
            }
        }
    }

    fn plaintext_allowed(&self) -> bool {
        self.secured || self.options.plaintext_auth_without_tls
    }

    fn capabilities(&self) -> Pop3Capabilities {
        let authenticated = self.is_authenticated();
        let plaintext = self.plaintext_allowed();
        Pop3Capabilities {
            stls: !authenticated && !self.secured && self.options.tls_available,
            user: !authenticated && plaintext,
            sasl_mechanisms: if authenticated {
                Vec::new()
            } else {
                self.visible_mechanisms()
            },
            ..Pop3Capabilities::default()
        }
    }

    /// Plaintext mechanisms are hidden until the connection is secure.
    fn visible_mechanisms(&self) -> Vec<String> {
        let plaintext = self.plaintext_allowed();
        self.options
            .sasl_mechanisms
            .iter()
            .filter(|m| plaintext || !is_plaintext_mechanism(m))
            .cloned()
            .collect()
    }

    fn command(&mut self, command: Pop3Command, out: &mut Vec<u8>) -> Option<Pop3Action> {
        match command {
            Pop3Command::Capa => {
                self.capabilities().encode(out);
                return None;
            }
            Pop3Command::Quit => return self.quit(out),
            _ => {}
        }
        if matches!(self.phase, Phase::Transaction(_)) {
            self.transaction_command(command, out)
        } else {
            self.authorization_command(command, out)
        }
    }

    fn quit(&mut self, out: &mut Vec<u8>) -> Option<Pop3Action> {
        let Phase::Transaction(maildrop) = &self.phase else {
            Pop3Response::ok("Logging out").encode(out);
            self.phase = Phase::Closed;
            return Some(Pop3Action::Close);
        };
        let expunge: Vec<usize> = (0..maildrop.deleted.len())
            .filter(|&i| maildrop.deleted[i])
            .collect();
        if expunge.is_empty() {
            Pop3Response::ok("Logging out.").encode(out);
            self.phase = Phase::Closed;
            return Some(Pop3Action::Close);
        }
        self.awaiting = Awaiting::Update;
        Some(Pop3Action::Update { expunge })
    }

    fn authorization_command(
        &mut self,
        command: Pop3Command,
        out: &mut Vec<u8>,
    ) -> Option<Pop3Action> {
        match command {
            Pop3Command::Stls => {
                if self.secured || !self.options.tls_available {
                    return self.err("TLS is not available.", out);
                }
                Pop3Response::ok("Begin TLS negotiation now.").encode(out);
                self.awaiting = Awaiting::Tls;
                Some(Pop3Action::StartTls)
            }
            Pop3Command::User(name) => {
                if !self.plaintext_allowed() {
                    return self.plaintext_refused(out);
                }
                self.phase = Phase::Authorization { user: Some(name) };
                Pop3Response::ok("").encode(out);
                None
            }
            Pop3Command::Pass(password) => {
                if !self.plaintext_allowed() {
                    return self.plaintext_refused(out);
                }
                let Phase::Authorization { user: Some(user) } = &self.phase else {
                    return self.err("No username given.", out);
                };
                let user = user.clone();
                self.awaiting = Awaiting::Auth;
                Some(Pop3Action::Login { user, password })
            }
            Pop3Command::Apop { .. } => self.err("APOP is not supported.", out),
            Pop3Command::Auth {
                mechanism: None, ..
            } => {
                Pop3Response::ok("").encode(out);
                for mechanism in self.visible_mechanisms() {
                    encode_multiline_line(out, mechanism.as_bytes());
                }
                encode_multiline_end(out);
                None
            }
            Pop3Command::Auth {
                mechanism: Some(mechanism),
                initial_response,
            } => {
                if !self.visible_mechanisms().contains(&mechanism) {
                    if is_plaintext_mechanism(&mechanism)
                        && self.options.sasl_mechanisms.contains(&mechanism)
                    {
                        return self.plaintext_refused(out);
                    }
                    return self.err("Unsupported authentication mechanism.", out);
                }
                self.phase = Phase::Sasl;
                self.awaiting = Awaiting::Auth;
                Some(Pop3Action::SaslStart {
                    mechanism,
                    initial_response,
                })
            }
            _ => self.err("Unknown command.", out),
        }
    }

    fn plaintext_refused(&mut self, out: &mut Vec<u8>) -> Option<Pop3Action> {
        self.bad_commands += 1;
        Pop3Response::err(
            "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.",
        )
        .with_code(ResponseCode::Auth)
        .encode(out);
        None
    }

    fn transaction_command(
        &mut self,
        command: Pop3Command,
        out: &mut Vec<u8>,
    ) -> Option<Pop3Action> {
        let Phase::Transaction(maildrop) = &mut self.phase else {
            return None;
        };
        match command {
            Pop3Command::Stat => {
                let (count, size) = maildrop.live_totals();
                Pop3Response::ok(&format!("{count} {size}")).encode(out);
                None
            }
            Pop3Command::List(None) => {
                // Dovecot's wording; clients only look at "+OK".
                let (count, _) = maildrop.live_totals();
                Pop3Response::ok(&format!("{count} messages:")).encode(out);
                for (index, info) in maildrop.live() {
                    encode_scan_listing(out, number_of(index), info.size);
                }
                encode_multiline_end(out);
                None
            }
            Pop3Command::Uidl(None) => {
                Pop3Response::ok("").encode(out);
                for (index, info) in maildrop.live() {
                    encode_uidl_listing(out, number_of(index), &info.uidl);
                }
                encode_multiline_end(out);
                None
            }
            Pop3Command::List(Some(number)) => match maildrop.live_message(number) {
                Ok(info) => {
                    let mut line = Vec::new();
                    encode_scan_listing(&mut line, number, info.size);
                    ok_with_listing(&line, out);
                    None
                }
                Err(text) => self.err(&text, out),
            },
            Pop3Command::Uidl(Some(number)) => match maildrop.live_message(number) {
                Ok(info) => {
                    let mut line = Vec::new();
                    encode_uidl_listing(&mut line, number, &info.uidl);
                    ok_with_listing(&line, out);
                    None
                }
                Err(text) => self.err(&text, out),
            },
            Pop3Command::Retr(number) => self.send(number, None, out),
            Pop3Command::Top { message, lines } => self.send(message, Some(lines), out),
            Pop3Command::Dele(number) => match maildrop.live_message(number) {
                Ok(_) => {
                    maildrop.deleted[number.index()] = true;
                    maildrop.last_accessed = maildrop.last_accessed.max(number.get());
                    Pop3Response::ok("Marked to be deleted.").encode(out);
                    None
                }
                Err(text) => self.err(&text, out),
            },
            Pop3Command::Rset => {
                maildrop.deleted.iter_mut().for_each(|d| *d = false);
                maildrop.last_accessed = 0;
                Pop3Response::ok("").encode(out);
                None
            }
            Pop3Command::Noop => {
                Pop3Response::ok("").encode(out);
                None
            }
            Pop3Command::Last => {
                Pop3Response::ok(&maildrop.last_accessed.to_string()).encode(out);
                None
            }
            _ => self.err("Unknown command.", out),
        }
    }

    fn send(
        &mut self,
        number: MessageNumber,
        body_lines: Option<u32>,
        out: &mut Vec<u8>,
    ) -> Option<Pop3Action> {
        let Phase::Transaction(maildrop) = &mut self.phase else {
            return None;
        };
        if let Err(text) = maildrop.live_message(number) {
            return self.err(&text, out);
        }
        maildrop.last_accessed = maildrop.last_accessed.max(number.get());
        let index = number.index();
        self.awaiting = Awaiting::Message { index, body_lines };
        Some(Pop3Action::SendMessage { index, body_lines })
    }

    /// STLS finished: the connection is now secure. Anything learnt before
    /// the handshake (a USER name) is forgotten (RFC 2595 §4).
    pub fn tls_established(&mut self) {
        if self.awaiting == Awaiting::Tls {
            self.awaiting = Awaiting::Nothing;
            self.secured = true;
            self.phase = Phase::Authorization { user: None };
        }
    }

    /// Writes a SASL challenge (`+ base64`) and waits for the client's line.
    pub fn sasl_challenge(&mut self, challenge: &[u8], out: &mut Vec<u8>) {
        if self.awaiting == Awaiting::Auth && matches!(self.phase, Phase::Sasl) {
            encode_sasl_challenge(out, challenge);
            self.awaiting = Awaiting::Nothing;
        }
    }

    /// Login worked and the maildrop is locked and listed: enter the
    /// TRANSACTION state.
    pub fn login_succeeded(&mut self, messages: Vec<MessageInfo>, out: &mut Vec<u8>) {
        if self.awaiting != Awaiting::Auth {
            return;
        }
        self.awaiting = Awaiting::Nothing;
        self.stats.message_count = messages.len() as u64;
        self.stats.mailbox_size = messages.iter().map(|m| m.size).sum();
        self.stats.uidls_before = UidlDigest::of(messages.iter().map(|m| m.uidl.as_str()));
        self.stats.uidls_after = self.stats.uidls_before;
        self.phase = Phase::Transaction(Maildrop::new(messages));
        Pop3Response::ok("Logged in.").encode(out);
    }

    /// Login failed: `code` is `Auth` for bad credentials, `InUse` when the
    /// maildrop is locked, `SysTemp` for server trouble.
    pub fn login_failed(&mut self, code: ResponseCode, text: &str, out: &mut Vec<u8>) {
        if self.awaiting != Awaiting::Auth {
            return;
        }
        self.awaiting = Awaiting::Nothing;
        self.phase = Phase::Authorization { user: None };
        Pop3Response::err(text).with_code(code).encode(out);
    }

    /// The message for the pending RETR/TOP is open: writes the `+OK` line
    /// and returns the body encoder to stream it with.
    pub fn message_opened(&mut self, out: &mut Vec<u8>) -> Option<DotStuffer> {
        let Awaiting::Message { index, body_lines } = self.awaiting else {
            return None;
        };
        let Phase::Transaction(maildrop) = &self.phase else {
            return None;
        };
        let size = maildrop.messages.get(index).map_or(0, |m| m.size);
        let workarounds = self.options.workarounds;
        if let Some(lines) = body_lines {
            Pop3Response::ok("").encode(out);
            Some(DotStuffer::top(lines, workarounds))
        } else {
            Pop3Response::ok(&format!("{size} octets")).encode(out);
            Some(DotStuffer::retr(workarounds))
        }
    }

    /// The message could not be opened (expunged by IMAP meanwhile, I/O
    /// error): writes `-ERR` and goes on.
    pub fn message_unavailable(&mut self, temporary: bool, out: &mut Vec<u8>) {
        if !matches!(self.awaiting, Awaiting::Message { .. }) {
            return;
        }
        self.awaiting = Awaiting::Nothing;
        let response = Pop3Response::err("Message can't be read.");
        let code = if temporary {
            ResponseCode::SysTemp
        } else {
            ResponseCode::SysPerm
        };
        response.with_code(code).encode(out);
    }

    /// The body was streamed completely (the encoder's `finish` ran).
    pub fn message_sent(&mut self, summary: DotStuffSummary) {
        let Awaiting::Message { body_lines, .. } = self.awaiting else {
            return;
        };
        self.awaiting = Awaiting::Nothing;
        if body_lines.is_some() {
            self.stats.top_count += 1;
            self.stats.top_bytes += summary.message_octets;
        } else {
            self.stats.retr_count += 1;
            self.stats.retr_bytes += summary.message_octets;
        }
    }

    /// UPDATE finished. If every expunge worked, writes `+OK`; otherwise
    /// `-ERR [SYS/TEMP]` (RFC 1939 §6: some deletions may have failed).
    /// The session is closed either way.
    pub fn update_finished(&mut self, all_expunged: bool, out: &mut Vec<u8>) {
        if self.awaiting != Awaiting::Update {
            return;
        }
        self.awaiting = Awaiting::Nothing;
        // As Dovecot: deletions count only once the whole UPDATE worked.
        if let Phase::Transaction(maildrop) = &self.phase
            && all_expunged
        {
            let deleted = maildrop.deleted_messages();
            self.stats.deleted_count = deleted.len() as u64;
            self.stats.deleted_bytes = deleted.iter().map(|m| m.size).sum();
            self.stats.uidls_after = UidlDigest::of(maildrop.live().map(|(_, m)| m.uidl.as_str()));
        }
        if all_expunged {
            Pop3Response::ok("Logging out.").encode(out);
        } else {
            Pop3Response::err("Some messages couldn't be deleted.")
                .with_code(ResponseCode::SysTemp)
                .encode(out);
        }
        self.phase = Phase::Closed;
    }
}

/// `+OK n size` from a listing line `n size\r\n`.
fn ok_with_listing(line: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"+OK ");
    out.extend_from_slice(line);
}

fn is_plaintext_mechanism(mechanism: &str) -> bool {
    matches!(mechanism, "PLAIN" | "LOGIN")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

    /// An in-memory maildrop and auth backend standing in for the driver.
    struct Harness {
        session: Pop3Session,
        messages: Vec<Vec<u8>>,
        password: &'static [u8],
        locked: bool,
        expunged: Vec<usize>,
        closed: bool,
        out: Vec<u8>,
    }

    impl Harness {
        fn new(options: Pop3SessionOptions, messages: &[&[u8]]) -> Self {
            let mut out = Vec::new();
            let session = Pop3Session::new(options, "tern ready.", &mut out);
            Self {
                session,
                messages: messages.iter().map(|m| m.to_vec()).collect(),
                password: b"secret",
                locked: false,
                expunged: Vec::new(),
                closed: false,
                out,
            }
        }

        fn plain() -> Self {
            let options = Pop3SessionOptions {
                plaintext_auth_without_tls: true,
                ..Pop3SessionOptions::default()
            };
            Self::new(
                options,
                &[
                    b"Subject: one\r\n\r\nbody 1\r\n",
                    b"Subject: two\n\n.dot\nline2\nline3\n",
                ],
            )
        }

        fn snapshot(&self) -> Vec<MessageInfo> {
            self.messages
                .iter()
                .enumerate()
                .map(|(i, m)| MessageInfo {
                    size: m.len() as u64 + m.iter().filter(|&&b| b == b'\n').count() as u64
                        - m.windows(2).filter(|w| w == b"\r\n").count() as u64,
                    uidl: format!("uid{}", i + 1),
                })
                .collect()
        }

        fn login_result(&mut self, ok: bool) {
            if !ok {
                self.session.login_failed(
                    ResponseCode::Auth,
                    "Authentication failed.",
                    &mut self.out,
                );
            } else if self.locked {
                self.session
                    .login_failed(ResponseCode::InUse, "Mailbox is locked.", &mut self.out);
            } else {
                let snapshot = self.snapshot();
                self.session.login_succeeded(snapshot, &mut self.out);
            }
        }

        /// Feeds `input` (in one go), resolving actions; returns new output.
        fn send(&mut self, input: &str) -> String {
            let start = self.out.len();
            let mut rest = input.as_bytes().to_vec();
            loop {
                let (used, action) = self.session.receive(&rest, &mut self.out);
                rest.drain(..used);
                match action {
                    None => break,
                    Some(action) => self.resolve(action),
                }
                if self.closed {
                    break;
                }
            }
            String::from_utf8_lossy(&self.out[start..]).into_owned()
        }

        fn resolve(&mut self, action: Pop3Action) {
            match action {
                Pop3Action::StartTls => self.session.tls_established(),
                Pop3Action::Login { user, password } => {
                    let ok = user == "alice" && password.expose() == self.password;
                    self.login_result(ok);
                }
                Pop3Action::SaslStart {
                    mechanism,
                    initial_response,
                } => {
                    assert_eq!(mechanism, "PLAIN");
                    match initial_response {
                        Some(response) => self.check_plain(response.expose()),
                        None => self.session.sasl_challenge(b"", &mut self.out),
                    }
                }
                Pop3Action::SaslResponse(response) => self.check_plain(response.expose()),
                Pop3Action::SaslCancelled => {}
                Pop3Action::SendMessage { index, .. } => {
                    let message = self.messages[index].clone();
                    let mut out = std::mem::take(&mut self.out);
                    let mut encoder = self.session.message_opened(&mut out).unwrap();
                    // Stream in small chunks, as a storage read would.
                    for chunk in message.chunks(3) {
                        if encoder.feed(chunk, &mut out)
                            == super::super::codec_dotstuff::Progress::Complete
                        {
                            break;
                        }
                    }
                    let summary = encoder.finish(&mut out);
                    self.out = out;
                    self.session.message_sent(summary);
                }
                Pop3Action::Update { expunge } => {
                    self.expunged = expunge;
                    self.session.update_finished(true, &mut self.out);
                    self.closed = true;
                }
                Pop3Action::Close => self.closed = true,
            }
        }

        fn check_plain(&mut self, response: &[u8]) {
            let ok = response == b"\0alice\0secret";
            self.login_result(ok);
        }

        fn send_raw(&mut self, input: &[u8]) {
            let mut rest = input.to_vec();
            while !self.closed {
                let (used, action) = self.session.receive(&rest, &mut self.out);
                rest.drain(..used);
                match action {
                    None => break,
                    Some(action) => self.resolve(action),
                }
            }
        }

        fn login(&mut self) {
            let reply = self.send("USER alice\r\nPASS secret\r\n");
            assert_eq!(reply, "+OK\r\n+OK Logged in.\r\n");
        }
    }

    #[test]
    fn greeting_and_quit_before_login() {
        let mut h = Harness::plain();
        assert_eq!(String::from_utf8_lossy(&h.out), "+OK tern ready.\r\n");
        assert_eq!(h.send("QUIT\r\n"), "+OK Logging out\r\n");
        assert!(h.closed && h.session.is_closed());
    }

    #[test]
    fn user_pass_login_and_failure() {
        let mut h = Harness::plain();
        assert_eq!(h.send("PASS secret\r\n"), "-ERR No username given.\r\n");
        assert_eq!(
            h.send("USER alice\r\nPASS wrong\r\n"),
            "+OK\r\n-ERR [AUTH] Authentication failed.\r\n"
        );
        assert!(!h.session.is_authenticated());
        // The user name is forgotten after a failure.
        assert_eq!(h.send("PASS secret\r\n"), "-ERR No username given.\r\n");
        h.login();
        assert!(h.session.is_authenticated());
    }

    #[test]
    fn locked_maildrop_gives_in_use() {
        let mut h = Harness::plain();
        h.locked = true;
        assert_eq!(
            h.send("USER alice\r\nPASS secret\r\n"),
            "+OK\r\n-ERR [IN-USE] Mailbox is locked.\r\n"
        );
    }

    #[test]
    fn plaintext_refused_without_tls_until_stls() {
        let options = Pop3SessionOptions {
            tls_available: true,
            ..Pop3SessionOptions::default()
        };
        let mut h = Harness::new(options, &[b"a\r\n"]);
        let capa = h.send("CAPA\r\n");
        assert!(capa.contains("STLS\r\n"));
        assert!(!capa.contains("USER\r\n"));
        assert!(!capa.contains("SASL"));
        assert_eq!(
            h.send("USER alice\r\n"),
            "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
        );
        assert!(
            h.send("AUTH PLAIN\r\n")
                .starts_with("-ERR [AUTH] Plaintext")
        );
        // A USER given before STLS does not survive it.
        let options = Pop3SessionOptions {
            tls_available: true,
            plaintext_auth_without_tls: true,
            ..Pop3SessionOptions::default()
        };
        let mut early = Harness::new(options, &[]);
        assert_eq!(
            early.send("USER alice\r\nSTLS\r\n"),
            "+OK\r\n+OK Begin TLS negotiation now.\r\n"
        );
        assert_eq!(early.send("PASS secret\r\n"), "-ERR No username given.\r\n");
        // Bytes pipelined after STLS are discarded (injection defence).
        assert_eq!(
            h.send("STLS\r\nUSER mallory\r\n"),
            "+OK Begin TLS negotiation now.\r\n"
        );
        let capa = h.send("CAPA\r\n");
        assert!(!capa.contains("STLS"));
        assert!(capa.contains("USER\r\nSASL PLAIN LOGIN\r\n"));
        assert_eq!(h.send("STLS\r\n"), "-ERR TLS is not available.\r\n");
        h.login();
    }

    #[test]
    fn sasl_plain_with_and_without_initial_response() {
        let mut h = Harness::plain();
        assert_eq!(
            h.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
            "+OK Logged in.\r\n"
        );

        let mut h = Harness::plain();
        assert_eq!(h.send("AUTH PLAIN\r\n"), "+ \r\n");
        assert_eq!(
            h.send("AGFsaWNlAHdyb25n\r\n"),
            "-ERR [AUTH] Authentication failed.\r\n"
        );
        assert_eq!(
            h.send("AUTH PLAIN\r\n*\r\n"),
            "+ \r\n-ERR Authentication aborted by client.\r\n"
        );
        assert_eq!(
            h.send("AUTH PLAIN\r\n!!\r\n"),
            "+ \r\n-ERR Invalid base64 data\r\n"
        );
        assert_eq!(
            h.send("AUTH CRAM-MD5\r\n"),
            "-ERR Unsupported authentication mechanism.\r\n"
        );
        assert_eq!(h.send("AUTH\r\n"), "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
        assert_eq!(
            h.send("AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n"),
            "+ \r\n+OK Logged in.\r\n"
        );
    }

    #[test]
    fn apop_and_transaction_commands_before_login() {
        let mut h = Harness::plain();
        assert_eq!(
            h.send("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n"),
            "-ERR APOP is not supported.\r\n"
        );
        assert_eq!(h.send("STAT\r\n"), "-ERR Unknown command.\r\n");
        assert_eq!(h.send("RETR 1\r\n"), "-ERR Unknown command.\r\n");
    }

    #[test]
    fn stat_list_uidl() {
        let mut h = Harness::plain();
        h.login();
        // Message 2 has 5 bare LFs, counted as CRLF: 31 + 5 = 36 octets.
        assert_eq!(h.send("STAT\r\n"), "+OK 2 60\r\n");
        assert_eq!(
            h.send("LIST\r\n"),
            "+OK 2 messages:\r\n1 24\r\n2 36\r\n.\r\n"
        );
        assert_eq!(h.send("LIST 2\r\n"), "+OK 2 36\r\n");
        assert_eq!(h.send("LIST 3\r\n"), "-ERR There's no message 3.\r\n");
        assert_eq!(h.send("UIDL\r\n"), "+OK\r\n1 uid1\r\n2 uid2\r\n.\r\n");
        assert_eq!(h.send("UIDL 1\r\n"), "+OK 1 uid1\r\n");
        assert_eq!(
            h.send("LIST 0\r\n"),
            "-ERR LIST: invalid message number\r\n"
        );
    }

    #[test]
    fn retr_and_top_stream_the_message() {
        let mut h = Harness::plain();
        h.login();
        assert_eq!(
            h.send("RETR 1\r\n"),
            "+OK 24 octets\r\nSubject: one\r\n\r\nbody 1\r\n.\r\n"
        );
        assert_eq!(
            h.send("RETR 2\r\n"),
            "+OK 36 octets\r\nSubject: two\r\n\r\n..dot\r\nline2\r\nline3\r\n.\r\n"
        );
        assert_eq!(
            h.send("TOP 2 1\r\n"),
            "+OK\r\nSubject: two\r\n\r\n..dot\r\n.\r\n"
        );
        assert_eq!(h.send("TOP 2 0\r\n"), "+OK\r\nSubject: two\r\n\r\n.\r\n");
        let stats = h.session.stats();
        assert_eq!((stats.retr_count, stats.retr_bytes), (2, 60));
        assert_eq!(stats.top_count, 2);
        assert_eq!(stats.top_bytes, 22 + 16);
    }

    #[test]
    fn pipelined_commands_are_answered_in_order() {
        let mut h = Harness::plain();
        let all = h.send("USER alice\r\nPASS secret\r\nSTAT\r\nRETR 1\r\nNOOP\r\n");
        assert_eq!(
            all,
            "+OK\r\n+OK Logged in.\r\n+OK 2 60\r\n+OK 24 octets\r\nSubject: one\r\n\r\nbody 1\r\n.\r\n+OK\r\n"
        );
    }

    #[test]
    fn dele_rset_and_update_semantics() {
        let mut h = Harness::plain();
        h.login();
        assert_eq!(h.send("DELE 1\r\n"), "+OK Marked to be deleted.\r\n");
        assert_eq!(h.send("DELE 1\r\n"), "-ERR Message is deleted.\r\n");
        assert_eq!(h.send("RETR 1\r\n"), "-ERR Message is deleted.\r\n");
        assert_eq!(h.send("LIST 1\r\n"), "-ERR Message is deleted.\r\n");
        assert_eq!(h.send("STAT\r\n"), "+OK 1 36\r\n");
        assert_eq!(h.send("LIST\r\n"), "+OK 1 messages:\r\n2 36\r\n.\r\n");
        assert_eq!(h.send("UIDL\r\n"), "+OK\r\n2 uid2\r\n.\r\n");
        assert_eq!(h.send("RSET\r\n"), "+OK\r\n");
        assert_eq!(h.send("STAT\r\n"), "+OK 2 60\r\n");
        assert_eq!(h.send("DELE 2\r\n"), "+OK Marked to be deleted.\r\n");
        assert!(h.expunged.is_empty(), "nothing is deleted before QUIT");
        assert_eq!(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
        assert_eq!(h.expunged, vec![1]);
        let stats = h.session.stats();
        assert_eq!((stats.deleted_count, stats.deleted_bytes), (1, 36));
        assert_eq!(stats.message_count, 2);
        assert_eq!(stats.uidls_before.count, 2);
        assert_eq!(stats.uidls_after, UidlDigest::of(["uid1"].into_iter()));
    }

    #[test]
    fn quit_without_deletes_needs_no_update() {
        let mut h = Harness::plain();
        h.login();
        assert_eq!(h.send("QUIT\r\n"), "+OK Logging out.\r\n");
        assert!(h.closed);
        assert!(h.expunged.is_empty());
    }

    #[test]
    fn dropped_connection_deletes_nothing() {
        let mut h = Harness::plain();
        h.login();
        h.send("DELE 1\r\nDELE 2\r\n");
        // The driver simply drops the session: no Update action was issued.
        drop(h.session);
        assert!(h.expunged.is_empty());
    }

    #[test]
    fn failed_update_reports_sys_temp() {
        let mut h = Harness::plain();
        h.login();
        h.send("DELE 1\r\n");
        let mut out = Vec::new();
        let (_, action) = h.session.receive(b"QUIT\r\n", &mut out);
        assert_eq!(action, Some(Pop3Action::Update { expunge: vec![0] }));
        h.session.update_finished(false, &mut out);
        assert_eq!(
            out,
            b"-ERR [SYS/TEMP] Some messages couldn't be deleted.\r\n"
        );
        assert!(h.session.is_closed());
    }

    #[test]
    fn unreadable_message_gets_an_error() {
        let mut h = Harness::plain();
        h.login();
        let mut out = Vec::new();
        let (_, action) = h.session.receive(b"RETR 1\r\nNOOP\r\n", &mut out);
        assert_eq!(
            action,
            Some(Pop3Action::SendMessage {
                index: 0,
                body_lines: None
            })
        );
        // While the action is pending nothing more is consumed.
        assert_eq!(h.session.receive(b"NOOP\r\n", &mut out), (0, None));
        h.session.message_unavailable(true, &mut out);
        assert_eq!(out, b"-ERR [SYS/TEMP] Message can't be read.\r\n");
        assert_eq!(h.session.receive(b"NOOP\r\n", &mut out).0, 6);
    }

    #[test]
    fn last_command() {
        let options = Pop3SessionOptions {
            plaintext_auth_without_tls: true,
            parser: Pop3ParserOptions { enable_last: true },
            ..Pop3SessionOptions::default()
        };
        let mut h = Harness::new(options, &[b"a\r\n", b"b\r\n", b"c\r\n"]);
        h.login();
        assert_eq!(h.send("LAST\r\n"), "+OK 0\r\n");
        h.send("RETR 2\r\n");
        assert_eq!(h.send("LAST\r\n"), "+OK 2\r\n");
        h.send("TOP 1 0\r\n");
        assert_eq!(h.send("LAST\r\n"), "+OK 2\r\n");
        h.send("DELE 3\r\n");
        assert_eq!(h.send("LAST\r\n"), "+OK 3\r\n");
        h.send("RSET\r\n");
        assert_eq!(h.send("LAST\r\n"), "+OK 0\r\n");
    }

    #[test]
    fn capa_after_login_drops_auth_lines() {
        let options = Pop3SessionOptions {
            secured: true,
            tls_available: true,
            ..Pop3SessionOptions::default()
        };
        let mut h = Harness::new(options, &[]);
        let before = h.send("CAPA\r\n");
        assert!(before.contains("USER\r\nSASL PLAIN LOGIN\r\n"));
        assert!(!before.contains("STLS"));
        h.login();
        assert_eq!(
            h.send("CAPA\r\n"),
            "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n.\r\n"
        );
        assert_eq!(h.send("STAT\r\n"), "+OK 0 0\r\n");
        assert_eq!(h.send("LIST\r\n"), "+OK 0 messages:\r\n.\r\n");
        assert_eq!(h.send("USER bob\r\n"), "-ERR Unknown command.\r\n");
    }

    #[test]
    fn too_many_bad_commands_closes() {
        let mut h = Harness::plain();
        let reply = h.send(&"BOGUS\r\n".repeat(12));
        assert_eq!(reply.matches("-ERR Unknown command\r\n").count(), 9);
        assert!(reply.ends_with("-ERR Too many invalid commands.\r\n"));
        assert!(h.closed);
    }

    #[test]
    fn a_good_command_resets_the_bad_command_count() {
        let mut h = Harness::plain();
        let reply = h.send(&"BOGUS\r\nCAPA\r\n".repeat(20));
        assert!(!h.closed);
        assert_eq!(reply.matches("-ERR Unknown command\r\n").count(), 20);
    }

    #[test]
    fn overlong_line_is_refused_and_session_continues() {
        let mut h = Harness::plain();
        let long = format!("USER {}\r\nQUIT\r\n", "a".repeat(600));
        assert_eq!(h.send(&long), "-ERR Line too long\r\n+OK Logging out\r\n");
    }

    #[test]
    fn input_split_anywhere_gives_the_same_transcript() {
        let script = "USER alice\r\nPASS secret\r\nLIST\r\nTOP 2 2\r\nDELE 1\r\nQUIT\r\n";
        let mut whole = Harness::plain();
        let expected = whole.send(script);
        for split in 0..script.len() {
            let mut h = Harness::plain();
            let mut got = h.send(&script[..split]);
            got.push_str(&h.send(&script[split..]));
            assert_eq!(got, expected, "split at {split}");
            assert_eq!(h.expunged, vec![0]);
        }
    }

    #[test]
    fn random_input_never_panics_and_always_answers() {
        let words: [&[u8]; 16] = [
            b"USER alice",
            b"PASS secret",
            b"AUTH PLAIN",
            b"AGFsaWNlAHNlY3JldA==",
            b"*",
            b"STAT",
            b"LIST 1",
            b"RETR 2",
            b"TOP 1 1",
            b"DELE 1",
            b"RSET",
            b"UIDL",
            b"CAPA",
            b"\xff\x00",
            b"\r",
            b"QUIT",
        ];
        let mut rng = XorShift64::new(0x1234_5678_9abc_def0);
        for _ in 0..500 {
            let mut h = Harness::plain();
            let input = rng.lines(&words, 12);
            let before = h.out.len();
            let lossy = String::from_utf8_lossy(&input).into_owned();
            h.send_raw(&input);
            assert!(h.out.len() > before, "no reply to {lossy:?}");
        }
    }
}
