//! The LMTP session state machine, sans-io.
//!
//! The driver feeds socket bytes to [`LmtpSession::receive`], sends the
//! replies the session appended, stores the decoded DATA body the session
//! appended to the body buffer (spooling it wherever it likes), and
//! carries out the [`LmtpAction`]s: resolve a recipient, deliver the
//! message, start TLS, close. Each action is answered by the matching
//! method; until then `receive` consumes nothing, so replies to pipelined
//! commands stay in order (RFC 2920).
//!
//! One transaction: LHLO, MAIL, RCPT… (each resolved by the driver), DATA,
//! body, then one reply per accepted recipient (RFC 2033 §4.2), in RCPT
//! order. A `250` for a recipient must only be reported once the message is
//! durable in that user's mailbox; that is the driver's contract when it
//! calls `delivery_finished`.

use std::net::IpAddr;

use super::codec::{
    LmtpCommand, LmtpCommandError, LmtpParserOptions, MailParams, RFC5321_MAX_LINE,
};
use super::codec_data::{DataDecoder, DataError};
use super::codec_headers::{
    ReceivedHeader, delivered_to_header, local_delivery_headers, return_path_header,
};
use super::codec_path::{ReversePath, SmtpAddress, split_detail};
use super::codec_reply::{EnhancedStatus, LhloCapabilities, LmtpReply};
use crate::net::line::{Framed, LineFramer};

/// Session settings from configuration and the listener.
#[derive(Debug, Clone)]
pub struct LmtpSessionOptions {
    pub parser: LmtpParserOptions,
    /// Command line cap including CRLF.
    pub max_line: usize,
    /// Largest accepted message (`None`: unlimited). Advertised as SIZE.
    pub max_message_size: Option<u64>,
    /// Our host name, for the greeting, LHLO and Received.
    pub hostname: String,
    /// `recipient_delimiter`; every character is a delimiter.
    pub recipient_delimiter: String,
    /// RCPTs accepted per transaction before `452 4.5.3`.
    pub max_recipients: usize,
    /// After this many consecutive refused commands the connection is closed.
    pub max_bad_commands: u32,
    /// STARTTLS can be offered.
    pub tls_available: bool,
    /// The client's address; `None` on a unix socket.
    pub remote_ip: Option<IpAddr>,
}

impl Default for LmtpSessionOptions {
    fn default() -> Self {
        Self {
            parser: LmtpParserOptions::default(),
            max_line: RFC5321_MAX_LINE,
            max_message_size: None,
            hostname: "localhost".into(),
            recipient_delimiter: "+".into(),
            max_recipients: 1000,
            max_bad_commands: 20,
            tls_available: false,
            remote_ip: None,
        }
    }
}

/// The per-transaction facts for the `Received` header.
#[derive(Debug, Clone, Copy)]
pub struct TraceInfo<'a> {
    /// Also sent in the `250 … Saved` replies.
    pub transaction_id: &'a str,
    /// TLS description when the connection is encrypted.
    pub tls: Option<&'a str>,
    /// When DATA ended, seconds since the epoch.
    pub unix_time: i64,
    pub utc_offset_minutes: i32,
}

/// A recipient the driver accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedRecipient {
    /// The address as given in RCPT TO.
    pub address: SmtpAddress,
    /// The user name the userdb returned (delivery target).
    pub user: String,
    /// The `+detail`, for `lmtp_save_to_detail_mailbox`.
    pub detail: Option<String>,
}

/// What the userdb lookup for one RCPT said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientVerdict {
    /// Deliverable; `user` is the canonical user name.
    Accepted { user: String },
    /// No such user: `550 5.1.1`.
    UnknownUser,
    /// Userdb or shard trouble: `451 4.3.0`, the MTA retries.
    TemporaryFailure,
    /// Any other refusal with its own reply (quota, concurrency limit…).
    Refused(LmtpReply),
}

/// Result of delivering to one accepted recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Durable in the mailbox.
    Delivered,
    /// `451 4.3.0`: try again later.
    TemporaryFailure,
    /// Any other reply (e.g. `552 5.2.2` over quota).
    Failed(LmtpReply),
}

/// Work the session needs the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LmtpAction {
    /// Look the user up (userdb, owner shard), then call
    /// `recipient_resolved`. `user` is the address with the detail removed.
    ResolveRecipient {
        address: SmtpAddress,
        user: SmtpAddress,
        detail: Option<String>,
    },
    /// The body is complete and within limits: deliver what was appended to
    /// the body buffer since DATA (prefixed by `trace_headers`) to each
    /// recipient, then call `delivery_finished` with one outcome per
    /// recipient, in this order.
    Deliver {
        sender: ReversePath,
        recipients: Vec<AcceptedRecipient>,
        size: u64,
    },
    /// The DATA body was refused (too large): drop the spooled body. The
    /// per-recipient replies are already written.
    DiscardBody,
    /// Flush, run the TLS handshake, then call `tls_established`. Input
    /// after STARTTLS was discarded.
    StartTls,
    /// Flush and close.
    Close,
}

#[derive(Debug)]
struct Transaction {
    sender: ReversePath,
    recipients: Vec<AcceptedRecipient>,
    /// RCPT waiting for the driver's verdict.
    pending: Option<(SmtpAddress, Option<String>)>,
}

#[derive(Debug)]
enum Phase {
    /// Before LHLO.
    Greeted,
    /// After LHLO; `None` outside a transaction.
    Ready(Option<Transaction>),
    /// Receiving the DATA body.
    Data(Transaction, DataDecoder),
    /// Waiting for `delivery_finished`.
    Delivering(Transaction),
    Closed,
}

/// One LMTP connection's protocol state.
#[derive(Debug)]
pub struct LmtpSession {
    options: LmtpSessionOptions,
    framer: LineFramer,
    phase: Phase,
    lhlo_domain: Option<String>,
    /// Waiting for the driver (RCPT lookup, TLS handshake).
    blocked: bool,
    secured: bool,
    bad_commands: u32,
}

impl LmtpSession {
    /// A new session; writes the `220` greeting to `out`.
    pub fn new(options: LmtpSessionOptions, greeting: &str, out: &mut Vec<u8>) -> Self {
        LmtpReply::greeting(&options.hostname, greeting).encode(out);
        Self {
            framer: LineFramer::new(options.max_line),
            options,
            phase: Phase::Greeted,
            lhlo_domain: None,
            blocked: false,
            secured: false,
            bad_commands: 0,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Processes input until an action is needed or the input is used up.
    /// Replies go to `out`; decoded DATA body bytes go to `body`. Returns
    /// the bytes consumed; keep the rest for the next call.
    pub fn receive(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        body: &mut Vec<u8>,
    ) -> (usize, Option<LmtpAction>) {
        let mut consumed = 0;
        while !self.blocked && consumed < input.len() {
            match &mut self.phase {
                Phase::Closed | Phase::Delivering(_) => break,
                Phase::Data(_, decoder) => {
                    let progress = decoder.feed(&input[consumed..], body);
                    consumed += progress.consumed;
                    if progress.complete {
                        return (consumed, self.data_complete(out));
                    }
                }
                Phase::Greeted | Phase::Ready(_) => {
                    let (used, frame) = self.framer.feed(&input[consumed..]);
                    consumed += used;
                    let action = match frame {
                        None => None,
                        Some(Framed::TooLong) => self.refuse(&LmtpCommandError::LineTooLong, out),
                        Some(Framed::Line(line)) => {
                            let line = line.to_vec();
                            let bad_before = self.bad_commands;
                            // Strict line ends (RFC 5321 §2.3.8): a line the
                            // next hop might split differently is refused,
                            // never guessed at.
                            let parsed = if self.framer.last_line_had_bare_lf() {
                                Err(LmtpCommandError::BareLineFeed)
                            } else if memchr::memchr(b'\r', &line).is_some() {
                                Err(LmtpCommandError::BareCarriageReturn)
                            } else {
                                LmtpCommand::parse(&line, &self.options.parser)
                            };
                            let action = match parsed {
                                Ok(command) => self.command(command, out),
                                Err(error) => self.refuse(&error, out),
                            };
                            // Only consecutive failures count toward the limit.
                            if self.bad_commands == bad_before {
                                self.bad_commands = 0;
                            }
                            action
                        }
                    };
                    if action == Some(LmtpAction::StartTls) {
                        self.framer = LineFramer::new(self.options.max_line);
                        return (input.len(), action);
                    }
                    if action.is_some() {
                        return (consumed, action);
                    }
                }
            }
        }
        (consumed, None)
    }

    fn refuse(&mut self, error: &LmtpCommandError, out: &mut Vec<u8>) -> Option<LmtpAction> {
        self.bad(error.reply(), out)
    }

    /// Writes a failure reply, counting it toward the bad-command limit.
    fn bad(&mut self, reply: LmtpReply, out: &mut Vec<u8>) -> Option<LmtpAction> {
        self.bad_commands += 1;
        if self.bad_commands >= self.options.max_bad_commands {
            LmtpReply::new(
                421,
                Some(EnhancedStatus::new(4, 7, 0)),
                "Too many invalid commands",
            )
            .encode(out);
            self.phase = Phase::Closed;
            return Some(LmtpAction::Close);
        }
        reply.encode(out);
        None
    }

    fn command(&mut self, command: LmtpCommand, out: &mut Vec<u8>) -> Option<LmtpAction> {
        match command {
            LmtpCommand::Lhlo {
                domain,
                domain_valid,
            } => {
                self.lhlo_domain = domain_valid.then_some(domain);
                self.phase = Phase::Ready(None);
                self.capabilities()
                    .reply(&self.options.hostname)
                    .encode(out);
                None
            }
            LmtpCommand::Noop => {
                LmtpReply::ok().encode(out);
                None
            }
            LmtpCommand::Rset => {
                if let Phase::Ready(transaction) = &mut self.phase {
                    *transaction = None;
                }
                LmtpReply::ok().encode(out);
                None
            }
            LmtpCommand::Quit => {
                LmtpReply::bye().encode(out);
                self.phase = Phase::Closed;
                Some(LmtpAction::Close)
            }
            LmtpCommand::Vrfy(_) => {
                LmtpReply::vrfy_cannot_verify().encode(out);
                None
            }
            LmtpCommand::StartTls => self.starttls(out),
            LmtpCommand::Mail {
                reverse_path,
                params,
            } => self.mail(reverse_path, &params, out),
            LmtpCommand::Rcpt {
                forward_path,
                params,
            } => {
                if let Some(unknown) = params.other.first() {
                    return self.bad(unsupported_parameter(&unknown.keyword), out);
                }
                self.rcpt(forward_path, out)
            }
            LmtpCommand::Data => self.data(out),
        }
    }

    fn capabilities(&self) -> LhloCapabilities {
        LhloCapabilities {
            size: Some(self.options.max_message_size.unwrap_or(0)),
            starttls: self.options.tls_available && !self.secured,
            ..LhloCapabilities::default()
        }
    }

    fn starttls(&mut self, out: &mut Vec<u8>) -> Option<LmtpAction> {
        if self.secured || !self.options.tls_available {
            return self.bad(
                LmtpReply::new(454, Some(EnhancedStatus::new(4, 7, 0)), "TLS not available"),
                out,
            );
        }
        if matches!(self.phase, Phase::Ready(Some(_))) {
            return self.bad(
                LmtpReply::bad_sequence("STARTTLS inside a transaction"),
                out,
            );
        }
        LmtpReply::new(
            220,
            Some(EnhancedStatus::new(2, 0, 0)),
            "Begin TLS negotiation now",
        )
        .encode(out);
        self.blocked = true;
        Some(LmtpAction::StartTls)
    }

    fn mail(
        &mut self,
        sender: ReversePath,
        params: &MailParams,
        out: &mut Vec<u8>,
    ) -> Option<LmtpAction> {
        match &self.phase {
            Phase::Greeted => return self.bad(LmtpReply::bad_sequence("LHLO needed first"), out),
            Phase::Ready(Some(_)) => {
                return self.bad(LmtpReply::bad_sequence("MAIL already given"), out);
            }
            _ => {}
        }
        if let Some(unknown) = params.other.first() {
            return self.bad(unsupported_parameter(&unknown.keyword), out);
        }
        if let (Some(announced), Some(limit)) = (params.size, self.options.max_message_size)
            && announced > limit
        {
            return self.bad(
                LmtpReply::new(
                    552,
                    Some(EnhancedStatus::new(5, 3, 4)),
                    "Message size exceeds fixed maximum message size",
                ),
                out,
            );
        }
        self.phase = Phase::Ready(Some(Transaction {
            sender,
            recipients: Vec::new(),
            pending: None,
        }));
        LmtpReply::new(250, Some(EnhancedStatus::new(2, 1, 0)), "OK").encode(out);
        None
    }

    fn rcpt(&mut self, address: SmtpAddress, out: &mut Vec<u8>) -> Option<LmtpAction> {
        let max_recipients = self.options.max_recipients;
        let Phase::Ready(Some(transaction)) = &mut self.phase else {
            return self.bad(LmtpReply::bad_sequence("MAIL needed first"), out);
        };
        if transaction.recipients.len() >= max_recipients {
            LmtpReply::new(
                452,
                Some(EnhancedStatus::new(4, 5, 3)),
                "Too many recipients",
            )
            .encode(out);
            return None;
        }
        let split = split_detail(&address, &self.options.recipient_delimiter);
        transaction.pending = Some((address.clone(), split.detail.clone()));
        self.blocked = true;
        Some(LmtpAction::ResolveRecipient {
            address,
            user: split.user,
            detail: split.detail,
        })
    }

    fn data(&mut self, out: &mut Vec<u8>) -> Option<LmtpAction> {
        let phase = std::mem::replace(&mut self.phase, Phase::Closed);
        match phase {
            Phase::Ready(Some(transaction)) if !transaction.recipients.is_empty() => {
                LmtpReply::start_data().encode(out);
                self.phase =
                    Phase::Data(transaction, DataDecoder::new(self.options.max_message_size));
                None
            }
            Phase::Ready(Some(transaction)) => {
                self.phase = Phase::Ready(Some(transaction));
                self.bad(LmtpReply::no_valid_recipients(), out)
            }
            other => {
                let text = if matches!(other, Phase::Greeted) {
                    "LHLO needed first"
                } else {
                    "MAIL needed first"
                };
                self.phase = other;
                self.bad(LmtpReply::bad_sequence(text), out)
            }
        }
    }

    fn data_complete(&mut self, out: &mut Vec<u8>) -> Option<LmtpAction> {
        let phase = std::mem::replace(&mut self.phase, Phase::Ready(None));
        let Phase::Data(transaction, decoder) = phase else {
            self.phase = phase;
            return None;
        };
        match decoder.finish() {
            Ok(summary) => {
                let action = LmtpAction::Deliver {
                    sender: transaction.sender.clone(),
                    recipients: transaction.recipients.clone(),
                    size: summary.size,
                };
                self.phase = Phase::Delivering(transaction);
                Some(action)
            }
            Err(error) => {
                for recipient in &transaction.recipients {
                    let reply = match error {
                        DataError::TooLarge { .. } => LmtpReply::too_big(&recipient.address),
                        // Unreachable after a complete body; fail safe.
                        DataError::Incomplete => LmtpReply::temporary_failure(&recipient.address),
                    };
                    reply.encode(out);
                }
                Some(LmtpAction::DiscardBody)
            }
        }
    }

    /// The driver's verdict for the pending RCPT.
    pub fn recipient_resolved(&mut self, verdict: RecipientVerdict, out: &mut Vec<u8>) {
        let Phase::Ready(Some(transaction)) = &mut self.phase else {
            return;
        };
        let Some((address, detail)) = transaction.pending.take() else {
            return;
        };
        self.blocked = false;
        let reply = match verdict {
            RecipientVerdict::Accepted { user } => {
                transaction.recipients.push(AcceptedRecipient {
                    address,
                    user,
                    detail,
                });
                LmtpReply::new(250, Some(EnhancedStatus::new(2, 1, 5)), "OK")
            }
            RecipientVerdict::UnknownUser => LmtpReply::unknown_user(&address),
            RecipientVerdict::TemporaryFailure => LmtpReply::temporary_failure(&address),
            RecipientVerdict::Refused(reply) => reply,
        };
        reply.encode(out);
    }

    /// STARTTLS finished: the connection is secure; the client must LHLO
    /// again (RFC 3207 §4.2).
    pub fn tls_established(&mut self) {
        if self.blocked && !matches!(self.phase, Phase::Ready(Some(_))) {
            self.blocked = false;
            self.secured = true;
            self.phase = Phase::Greeted;
            self.lhlo_domain = None;
        }
    }

    /// Headers to prepend to the stored message during `Deliver`:
    /// Return-Path, Delivered-To (single recipient only) and Received, as
    /// Dovecot writes them. `tls` describes the TLS session, if any.
    pub fn trace_headers(
        &self,
        transaction_id: &str,
        tls: Option<&str>,
        unix_time: i64,
        utc_offset_minutes: i32,
    ) -> Option<String> {
        let Phase::Delivering(transaction) = &self.phase else {
            return None;
        };
        let recipient = match transaction.recipients.as_slice() {
            [only] => Some(&only.address),
            _ => None,
        };
        let received = ReceivedHeader {
            lhlo_domain: self.lhlo_domain.as_deref(),
            remote_ip: self.options.remote_ip,
            tls,
            hostname: &self.options.hostname,
            session_id: transaction_id,
            envelope_from: &transaction.sender,
            recipient,
            unix_time,
            utc_offset_minutes,
        };
        Some(local_delivery_headers(&received))
    }

    /// Headers for one recipient of the transaction being delivered:
    /// Return-Path, that recipient's `Delivered-To`, and (if `received`)
    /// a `Received` whose `for` clause names that recipient. The driver
    /// delivers per recipient anyway, so each copy can say whom it is for,
    /// even in a multi-recipient transaction (Dovecot's `trace_headers`
    /// form omits both then).
    pub fn trace_headers_for(
        &self,
        recipient: &SmtpAddress,
        trace: &TraceInfo<'_>,
        received: bool,
    ) -> Option<String> {
        let Phase::Delivering(transaction) = &self.phase else {
            return None;
        };
        let mut out = return_path_header(&transaction.sender);
        out.push_str(&delivered_to_header(recipient));
        if received {
            let header = ReceivedHeader {
                lhlo_domain: self.lhlo_domain.as_deref(),
                remote_ip: self.options.remote_ip,
                tls: trace.tls,
                hostname: &self.options.hostname,
                session_id: trace.transaction_id,
                envelope_from: &transaction.sender,
                recipient: Some(recipient),
                unix_time: trace.unix_time,
                utc_offset_minutes: trace.utc_offset_minutes,
            };
            out.push_str(&header.encode());
        }
        Some(out)
    }

    /// Delivery finished: one outcome per recipient in RCPT order. Writes
    /// the per-recipient replies (RFC 2033 §4.2); a missing outcome counts
    /// as a temporary failure so the MTA retries rather than loses mail.
    pub fn delivery_finished(
        &mut self,
        transaction_id: &str,
        outcomes: &[DeliveryOutcome],
        out: &mut Vec<u8>,
    ) {
        let phase = std::mem::replace(&mut self.phase, Phase::Ready(None));
        let Phase::Delivering(transaction) = phase else {
            self.phase = phase;
            return;
        };
        for (index, recipient) in transaction.recipients.iter().enumerate() {
            let reply = match outcomes.get(index) {
                Some(DeliveryOutcome::Delivered) => {
                    LmtpReply::delivered(&recipient.address, transaction_id)
                }
                Some(DeliveryOutcome::Failed(reply)) => reply.clone(),
                Some(DeliveryOutcome::TemporaryFailure) | None => {
                    LmtpReply::temporary_failure(&recipient.address)
                }
            };
            reply.encode(out);
        }
    }
}

fn unsupported_parameter(keyword: &str) -> LmtpReply {
    LmtpReply::new(
        555,
        Some(EnhancedStatus::new(5, 5, 4)),
        format!("Unsupported parameter: {keyword}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

    /// An in-memory userdb and mail store standing in for the driver.
    struct Harness {
        session: LmtpSession,
        users: Vec<&'static str>,
        broken_users: Vec<&'static str>,
        mailboxes: Vec<(String, Option<String>, Vec<u8>)>,
        body: Vec<u8>,
        out: Vec<u8>,
        closed: bool,
        tls_started: bool,
        fail_delivery_for: Option<&'static str>,
    }

    impl Harness {
        fn new(options: LmtpSessionOptions) -> Self {
            let mut out = Vec::new();
            let session = LmtpSession::new(options, "tern ready", &mut out);
            Self {
                session,
                users: vec!["alice@example.com", "bob@example.com"],
                broken_users: vec!["flaky@example.com"],
                mailboxes: Vec::new(),
                body: Vec::new(),
                out,
                closed: false,
                tls_started: false,
                fail_delivery_for: None,
            }
        }

        fn standard() -> Self {
            Self::new(LmtpSessionOptions {
                hostname: "store.example".into(),
                max_message_size: Some(1000),
                remote_ip: Some("192.0.2.9".parse().unwrap()),
                ..LmtpSessionOptions::default()
            })
        }

        fn send(&mut self, input: &str) -> String {
            self.send_bytes(input.as_bytes())
        }

        fn send_bytes(&mut self, input: &[u8]) -> String {
            let start = self.out.len();
            let mut rest = input.to_vec();
            while !self.closed {
                let (used, action) = self.session.receive(&rest, &mut self.out, &mut self.body);
                rest.drain(..used);
                match action {
                    Some(action) => self.resolve(action),
                    None => break,
                }
            }
            String::from_utf8_lossy(&self.out[start..]).into_owned()
        }

        fn resolve(&mut self, action: LmtpAction) {
            match action {
                LmtpAction::ResolveRecipient { user, .. } => {
                    let name = user.encode();
                    let verdict = if self.users.contains(&name.as_str()) {
                        RecipientVerdict::Accepted { user: name }
                    } else if self.broken_users.contains(&name.as_str()) {
                        RecipientVerdict::TemporaryFailure
                    } else {
                        RecipientVerdict::UnknownUser
                    };
                    self.session.recipient_resolved(verdict, &mut self.out);
                }
                LmtpAction::Deliver {
                    recipients, size, ..
                } => {
                    assert_eq!(size, self.body.len() as u64);
                    let headers = self
                        .session
                        .trace_headers("TID", None, 1_795_873_051, 0)
                        .unwrap();
                    let mut outcomes = Vec::new();
                    for recipient in &recipients {
                        if Some(recipient.user.as_str()) == self.fail_delivery_for {
                            outcomes.push(DeliveryOutcome::TemporaryFailure);
                            continue;
                        }
                        let mut message = headers.clone().into_bytes();
                        message.extend_from_slice(&self.body);
                        self.mailboxes.push((
                            recipient.user.clone(),
                            recipient.detail.clone(),
                            message,
                        ));
                        outcomes.push(DeliveryOutcome::Delivered);
                    }
                    self.body.clear();
                    self.session
                        .delivery_finished("TID", &outcomes, &mut self.out);
                }
                LmtpAction::DiscardBody => self.body.clear(),
                LmtpAction::StartTls => {
                    self.tls_started = true;
                    self.session.tls_established();
                }
                LmtpAction::Close => self.closed = true,
            }
        }
    }

    const LHLO_REPLY: &str = "250-store.example\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 SIZE 1000\r\n";

    #[test]
    fn greeting_lhlo_quit() {
        let mut h = Harness::standard();
        assert_eq!(
            String::from_utf8_lossy(&h.out),
            "220 store.example tern ready\r\n"
        );
        assert_eq!(h.send("LHLO mx.example\r\n"), LHLO_REPLY);
        assert_eq!(h.send("QUIT\r\n"), "221 2.0.0 Bye\r\n");
        assert!(h.closed && h.session.is_closed());
    }

    #[test]
    fn single_recipient_delivery_with_dovecot_headers() {
        let mut h = Harness::standard();
        let replies = h.send(
            "LHLO mx.example\r\nMAIL FROM:<sender@remote.example> SIZE=20 BODY=8BITMIME\r\n\
             RCPT TO:<alice+lists@example.com>\r\nDATA\r\n",
        );
        assert_eq!(
            replies,
            format!("{LHLO_REPLY}250 2.1.0 OK\r\n250 2.1.5 OK\r\n354 OK\r\n")
        );
        assert_eq!(
            h.send("Subject: hi\r\n\r\n..dotted\nbody\r\n.\r\n"),
            "250 2.0.0 <alice+lists@example.com> TID Saved\r\n"
        );
        assert_eq!(h.mailboxes.len(), 1);
        let (user, detail, message) = &h.mailboxes[0];
        assert_eq!(user, "alice@example.com");
        assert_eq!(detail.as_deref(), Some("lists"));
        let message = String::from_utf8_lossy(message);
        assert_eq!(
            message,
            "Return-Path: <sender@remote.example>\r\n\
             Delivered-To: alice+lists@example.com\r\n\
             Received: from mx.example ([192.0.2.9])\r\n\
             \tby store.example with LMTP\r\n\
             \tid TID\r\n\
             \t(envelope-from <sender@remote.example>)\r\n\
             \tfor <alice+lists@example.com>; Sat, 28 Nov 2026 13:37:31 +0000\r\n\
             Subject: hi\r\n\r\n.dotted\r\nbody\r\n"
        );
    }

    #[test]
    fn mixed_recipients_get_one_reply_each() {
        let mut h = Harness::standard();
        h.fail_delivery_for = Some("bob@example.com");
        let replies = h.send(
            "LHLO mx\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<nobody@example.com>\r\n\
             RCPT TO:<flaky@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\nhello\r\n.\r\n",
        );
        assert!(replies.ends_with(
            "250 2.1.5 OK\r\n\
             550 5.1.1 <nobody@example.com> User doesn't exist: nobody@example.com\r\n\
             451 4.3.0 <flaky@example.com> Temporary internal failure\r\n\
             250 2.1.5 OK\r\n\
             354 OK\r\n\
             250 2.0.0 <alice@example.com> TID Saved\r\n\
             451 4.3.0 <bob@example.com> Temporary internal failure\r\n"
        ));
        // Two recipients: no Delivered-To and no "for" clause.
        let message = String::from_utf8_lossy(&h.mailboxes[0].2).into_owned();
        assert!(message.starts_with("Return-Path: <>\r\nReceived: from mx ([192.0.2.9])"));
        assert!(!message.contains("Delivered-To"));
        assert!(message.contains("(envelope-from <>); "));
        assert!(message.ends_with("hello\r\n"));
    }

    #[test]
    fn sequence_errors() {
        let mut h = Harness::standard();
        assert_eq!(
            h.send("MAIL FROM:<a@b>\r\n"),
            "503 5.5.1 LHLO needed first\r\n"
        );
        assert_eq!(h.send("DATA\r\n"), "503 5.5.1 LHLO needed first\r\n");
        h.send("LHLO x\r\n");
        assert_eq!(
            h.send("RCPT TO:<alice@example.com>\r\n"),
            "503 5.5.1 MAIL needed first\r\n"
        );
        assert_eq!(h.send("DATA\r\n"), "503 5.5.1 MAIL needed first\r\n");
        h.send("MAIL FROM:<a@b>\r\n");
        assert_eq!(
            h.send("MAIL FROM:<a@b>\r\n"),
            "503 5.5.1 MAIL already given\r\n"
        );
        assert_eq!(h.send("DATA\r\n"), "554 5.5.1 No valid recipients\r\n");
        assert_eq!(
            h.send("RCPT TO:<nobody@example.com>\r\n").get(..3),
            Some("550")
        );
        assert_eq!(h.send("DATA\r\n"), "554 5.5.1 No valid recipients\r\n");
        assert_eq!(h.send("RSET\r\n"), "250 2.0.0 OK\r\n");
        assert_eq!(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0 OK\r\n");
    }

    #[test]
    fn helo_ehlo_and_garbage() {
        let mut h = Harness::standard();
        assert_eq!(
            h.send("EHLO x\r\n"),
            "500 5.5.1 EHLO is not allowed in LMTP, use LHLO\r\n"
        );
        assert_eq!(
            h.send("HELO x\r\n"),
            "500 5.5.1 HELO is not allowed in LMTP, use LHLO\r\n"
        );
        assert_eq!(h.send("FOO\r\n"), "500 5.5.1 Unknown command\r\n");
        let long = format!("LHLO {}\r\nNOOP\r\n", "a".repeat(600));
        assert_eq!(h.send(&long), "500 5.5.2 Line too long\r\n250 2.0.0 OK\r\n");
        assert_eq!(h.send("VRFY alice\r\n"), "252 2.3.3 Try RCPT instead\r\n");
    }

    /// Bare LF or CR in a command line is refused like Postfix does, and
    /// the refused line has no effect.
    #[test]
    fn bare_line_ends_in_commands_are_refused() {
        let mut h = Harness::standard();
        assert_eq!(
            h.send("LHLO x\n"),
            "500 5.5.2 Error: bare <LF> received\r\n"
        );
        assert_eq!(
            h.send("LHLO x\rMAIL FROM:<a@b>\r\n"),
            "500 5.5.2 Error: bare <CR> received\r\n"
        );
        assert_eq!(
            h.send("MAIL FROM:<a@b>\r\n"),
            "503 5.5.1 LHLO needed first\r\n"
        );
        assert_eq!(h.send("LHLO x\r\n"), LHLO_REPLY);
        assert_eq!(
            h.send("MAIL FROM:<a@b>\n"),
            "500 5.5.2 Error: bare <LF> received\r\n"
        );
        assert_eq!(
            h.send("RCPT TO:<alice@example.com>\r\n"),
            "503 5.5.1 MAIL needed first\r\n"
        );
    }

    /// Issue 16 item 4: the smuggling input gives one message with the
    /// original envelope.
    #[test]
    fn smuggling_input_gives_one_message_with_the_original_envelope() {
        let mut h = Harness::standard();
        h.send("LHLO x\r\nMAIL FROM:<bob@example.org>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n");
        let replies = h.send(
            "Subject: hi\r\n\r\nhello\n.\nMAIL FROM:<ceo@bank.example>\nRCPT TO:<alice@example.com>\nDATA\nforged\n.\n\r\n.\r\n",
        );
        assert_eq!(replies.matches("250 2.0.0").count(), 1, "{replies}");
        assert_eq!(h.mailboxes.len(), 1);
        let message = String::from_utf8_lossy(&h.mailboxes[0].2).into_owned();
        assert!(
            message.starts_with("Return-Path: <bob@example.org>\r\n"),
            "{message}"
        );
        assert!(
            message.contains("\r\nMAIL FROM:<ceo@bank.example>\r\n"),
            "{message}"
        );
    }

    #[test]
    fn parameters_and_size_limits() {
        let mut h = Harness::standard();
        h.send("LHLO x\r\n");
        assert_eq!(
            h.send("MAIL FROM:<a@b> SIZE=5000\r\n"),
            "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
        );
        assert_eq!(
            h.send("MAIL FROM:<a@b> AUTH=<>\r\n"),
            "555 5.5.4 Unsupported parameter: AUTH\r\n"
        );
        h.send("MAIL FROM:<a@b>\r\n");
        assert_eq!(
            h.send("RCPT TO:<alice@example.com> NOTIFY=NEVER\r\n"),
            "555 5.5.4 Unsupported parameter: NOTIFY\r\n"
        );
        assert_eq!(
            h.send("RCPT TO:<alice@example.com> ORCPT=rfc822;alice@example.com\r\n"),
            "250 2.1.5 OK\r\n"
        );
        h.send("DATA\r\n");
        let big = format!("{}\r\n.\r\n", "x".repeat(2000));
        assert_eq!(
            h.send(&big),
            "552 5.3.4 <alice@example.com> Message size exceeds fixed maximum message size\r\n"
        );
        assert!(h.body.is_empty());
        assert!(h.mailboxes.is_empty());
        // The session is ready for the next transaction.
        assert_eq!(h.send("MAIL FROM:<a@b>\r\n"), "250 2.1.0 OK\r\n");
    }

    #[test]
    fn too_many_recipients() {
        let mut h = Harness::new(LmtpSessionOptions {
            max_recipients: 1,
            ..LmtpSessionOptions::default()
        });
        let replies = h.send("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n");
        assert!(replies.ends_with("250 2.1.5 OK\r\n452 4.5.3 Too many recipients\r\n"));
    }

    #[test]
    fn pipelined_transactions_in_one_write() {
        let mut h = Harness::standard();
        let replies = h.send(
            "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\none\r\n.\r\n\
             MAIL FROM:<c@d>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n",
        );
        assert_eq!(replies.matches(" Saved\r\n").count(), 2);
        assert!(replies.ends_with("221 2.0.0 Bye\r\n"));
        assert_eq!(h.mailboxes.len(), 2);
        assert!(h.mailboxes[1].2.ends_with(b"two\r\n"));
        assert_eq!(h.mailboxes[1].0, "bob@example.com");
    }

    #[test]
    fn split_anywhere_gives_the_same_transcript() {
        let script = "LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\n.a\r\nb\nc\r\n.\r\nQUIT\r\n";
        let expected = Harness::standard().send(script);
        for split in 0..script.len() {
            let mut h = Harness::standard();
            let mut got = h.send(&script[..split]);
            got.push_str(&h.send(&script[split..]));
            assert_eq!(got, expected, "split at {split}");
            assert!(h.mailboxes[0].2.ends_with(b"a\r\nb\r\nc\r\n"));
        }
    }

    #[test]
    fn starttls_resets_to_greeted_and_drops_pipelined_input() {
        let mut h = Harness::new(LmtpSessionOptions {
            tls_available: true,
            ..LmtpSessionOptions::default()
        });
        assert!(
            h.send("LHLO x\r\n")
                .contains("250-PIPELINING\r\n250-SIZE\r\n250 STARTTLS\r\n")
        );
        assert_eq!(
            h.send("STARTTLS\r\nMAIL FROM:<evil@x>\r\n"),
            "220 2.0.0 Begin TLS negotiation now\r\n"
        );
        assert!(h.tls_started);
        assert_eq!(
            h.send("MAIL FROM:<a@b>\r\n"),
            "503 5.5.1 LHLO needed first\r\n"
        );
        assert!(!h.send("LHLO x\r\n").contains("STARTTLS"));
        assert_eq!(h.send("STARTTLS\r\n"), "454 4.7.0 TLS not available\r\n");
    }

    #[test]
    fn too_many_bad_commands_closes() {
        let mut h = Harness::new(LmtpSessionOptions {
            max_bad_commands: 3,
            ..LmtpSessionOptions::default()
        });
        let replies = h.send("X\r\nY\r\nZ\r\nNOOP\r\n");
        assert_eq!(
            replies,
            "500 5.5.1 Unknown command\r\n500 5.5.1 Unknown command\r\n421 4.7.0 Too many invalid commands\r\n"
        );
        assert!(h.closed);
    }

    #[test]
    fn a_good_command_resets_the_bad_command_count() {
        let mut h = Harness::new(LmtpSessionOptions {
            max_bad_commands: 3,
            ..LmtpSessionOptions::default()
        });
        h.send(&"X\r\nY\r\nNOOP\r\n".repeat(5));
        assert!(!h.closed);
    }

    #[test]
    fn missing_outcomes_count_as_temporary_failures() {
        let mut h = Harness::standard();
        let mut out = Vec::new();
        let mut body = Vec::new();
        let script = b"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice@example.com>\r\n";
        let (used, action) = h.session.receive(script, &mut out, &mut body);
        assert!(matches!(action, Some(LmtpAction::ResolveRecipient { .. })));
        h.session.recipient_resolved(
            RecipientVerdict::Accepted {
                user: "alice".into(),
            },
            &mut out,
        );
        assert_eq!(used, script.len());
        let (_, action) = h
            .session
            .receive(b"DATA\r\nx\r\n.\r\n", &mut out, &mut body);
        assert!(matches!(action, Some(LmtpAction::Deliver { .. })));
        // While delivering, nothing more is consumed.
        assert_eq!(
            h.session.receive(b"NOOP\r\n", &mut out, &mut body),
            (0, None)
        );
        out.clear();
        h.session.delivery_finished("T", &[], &mut out);
        assert_eq!(
            out,
            b"451 4.3.0 <alice@example.com> Temporary internal failure\r\n"
        );
        assert!(h.session.trace_headers("T", None, 0, 0).is_none());
    }

    #[test]
    fn random_input_never_panics_and_quit_always_works() {
        let words: [&[u8]; 14] = [
            b"LHLO x",
            b"MAIL FROM:<a@b>",
            b"MAIL FROM:<>",
            b"RCPT TO:<alice@example.com>",
            b"RCPT TO:<zed@example.com>",
            b"DATA",
            b".",
            b"..x",
            b"body",
            b"RSET",
            b"NOOP",
            b"\xff<>@",
            b"STARTTLS",
            b"QUIT",
        ];
        let mut rng = XorShift64::new(0x0fed_cba9_8765_4321);
        for _ in 0..500 {
            let mut h = Harness::standard();
            let input = rng.lines(&words, 16);
            h.send_bytes(&input);
            // Whatever state that left, ending any body and quitting must
            // close the session cleanly.
            h.send("\r\n.\r\nQUIT\r\n");
            assert!(
                h.closed,
                "not closed after {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[cfg(test)]
mod per_recipient_header_tests {
    use super::*;

    #[test]
    fn each_recipient_gets_its_own_delivered_to_and_for_clause() {
        let mut out = Vec::new();
        let mut body = Vec::new();
        let options = LmtpSessionOptions {
            hostname: "store.example".into(),
            ..LmtpSessionOptions::default()
        };
        let mut session = LmtpSession::new(options, "ready", &mut out);
        let script = b"LHLO mx.example\r\nMAIL FROM:<s@x.example>\r\n\
                       RCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\nDATA\r\nhi\r\n.\r\n";
        let mut rest = &script[..];
        let mut recipients = Vec::new();
        loop {
            let (used, action) = session.receive(rest, &mut out, &mut body);
            rest = &rest[used..];
            match action {
                Some(LmtpAction::ResolveRecipient { user, .. }) => session.recipient_resolved(
                    RecipientVerdict::Accepted {
                        user: user.encode(),
                    },
                    &mut out,
                ),
                Some(LmtpAction::Deliver { recipients: r, .. }) => {
                    recipients = r;
                    break;
                }
                Some(other) => panic!("unexpected {other:?}"),
                None => break,
            }
        }
        assert_eq!(recipients.len(), 2);
        let trace = TraceInfo {
            transaction_id: "T1",
            tls: None,
            unix_time: 0,
            utc_offset_minutes: 0,
        };
        let second = session
            .trace_headers_for(&recipients[1].address, &trace, true)
            .unwrap();
        assert!(second.starts_with("Return-Path: <s@x.example>\r\nDelivered-To: b@x.example\r\n"));
        assert!(second.contains("\tfor <b@x.example>; Thu, 01 Jan 1970"));
        let bare = session
            .trace_headers_for(&recipients[0].address, &trace, false)
            .unwrap();
        assert_eq!(
            bare,
            "Return-Path: <s@x.example>\r\nDelivered-To: a@x.example\r\n"
        );
    }
}
