//! LMTP reply encoding: multi-line `250-`/`250 ` replies, RFC 3463 enhanced
//! status codes, the LHLO capability list and per-recipient DATA replies.
//!
//! Free text is sanitised (CR/LF → space) because it can contain addresses
//! the client sent; a stray CRLF would forge an extra reply and
//! desynchronise a pipelining MTA.

use std::fmt;

use super::codec_path::SmtpAddress;

/// RFC 3463 `class.subject.detail`, e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedStatus {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl EnhancedStatus {
    pub const fn new(class: u8, subject: u16, detail: u16) -> Self {
        Self {
            class,
            subject,
            detail,
        }
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One (possibly multi-line) reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmtpReply {
    /// Three-digit reply code (RFC 5321 §4.2).
    pub code: u16,
    /// Prefixed to every line when present.
    pub status: Option<EnhancedStatus>,
    /// At least one line; an empty text gives `250 2.0.0` style lines.
    pub lines: Vec<String>,
}

impl LmtpReply {
    pub fn new(code: u16, status: Option<EnhancedStatus>, text: impl Into<String>) -> Self {
        Self {
            code,
            status,
            lines: vec![text.into()],
        }
    }

    /// Adds another line of text (sent as `code-` continuation lines).
    pub fn with_line(mut self, text: impl Into<String>) -> Self {
        self.lines.push(text.into());
        self
    }

    pub fn is_success(&self) -> bool {
        (200..400).contains(&self.code)
    }

    /// 4xx: the client should retry later.
    pub fn is_temporary_failure(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// Appends the wire form: `250-first\r\n … 250 last\r\n`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let code = self.code.clamp(100, 599).to_string();
        let count = self.lines.len().max(1);
        for index in 0..count {
            let text = self.lines.get(index).map_or("", String::as_str);
            out.extend_from_slice(code.as_bytes());
            out.push(if index + 1 == count { b' ' } else { b'-' });
            let mut rest = String::new();
            if let Some(status) = self.status {
                rest.push_str(&status.to_string());
                if !text.is_empty() {
                    rest.push(' ');
                }
            }
            rest.push_str(text);
            out.extend(
                rest.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
    }

    /// `220 host greeting` (no enhanced code: RFC 2034 §3 exempts it).
    pub fn greeting(hostname: &str, text: &str) -> Self {
        Self::new(220, None, format!("{hostname} {text}"))
    }

    /// `250 2.0.0 OK` for MAIL, RCPT, RSET, NOOP.
    pub fn ok() -> Self {
        Self::new(250, Some(EnhancedStatus::new(2, 0, 0)), "OK")
    }

    /// `354 OK` after DATA (RFC 2034 exempts 3xx from enhanced codes in
    /// practice; Dovecot sends none).
    pub fn start_data() -> Self {
        Self::new(354, None, "OK")
    }

    /// `221 2.0.0 Bye` for QUIT.
    pub fn bye() -> Self {
        Self::new(221, Some(EnhancedStatus::new(2, 0, 0)), "Bye")
    }

    /// `252 2.3.3 …`: VRFY is never answered truthfully (RFC 5321 §3.5.3).
    pub fn vrfy_cannot_verify() -> Self {
        Self::new(252, Some(EnhancedStatus::new(2, 3, 3)), "Try RCPT instead")
    }

    /// `503 5.5.1 …` for commands out of sequence (RCPT before MAIL, …).
    pub fn bad_sequence(text: &str) -> Self {
        Self::new(503, Some(EnhancedStatus::new(5, 5, 1)), text)
    }

    /// `554 5.5.1 No valid recipients` for DATA without accepted RCPT.
    pub fn no_valid_recipients() -> Self {
        Self::new(
            554,
            Some(EnhancedStatus::new(5, 5, 1)),
            "No valid recipients",
        )
    }

    /// One per-recipient reply after DATA: `code status <rcpt> text`.
    pub fn for_recipient(
        code: u16,
        status: EnhancedStatus,
        recipient: &SmtpAddress,
        text: &str,
    ) -> Self {
        Self::new(
            code,
            Some(status),
            format!("<{}> {text}", recipient.encode()),
        )
    }

    /// `250 2.0.0 <rcpt> ID Saved` (Dovecot's success form).
    pub fn delivered(recipient: &SmtpAddress, session_id: &str) -> Self {
        Self::for_recipient(
            250,
            EnhancedStatus::new(2, 0, 0),
            recipient,
            &format!("{session_id} Saved"),
        )
    }

    /// `552 5.3.4 <rcpt> …` when the body passed the size limit.
    pub fn too_big(recipient: &SmtpAddress) -> Self {
        Self::for_recipient(
            552,
            EnhancedStatus::new(5, 3, 4),
            recipient,
            "Message size exceeds fixed maximum message size",
        )
    }

    /// `451 4.3.0 <rcpt> Temporary internal failure`.
    pub fn temporary_failure(recipient: &SmtpAddress) -> Self {
        Self::for_recipient(
            451,
            EnhancedStatus::new(4, 3, 0),
            recipient,
            "Temporary internal failure",
        )
    }

    /// `550 5.1.1 <rcpt> User doesn't exist: rcpt` for an unknown user.
    pub fn unknown_user(recipient: &SmtpAddress) -> Self {
        let address = recipient.encode();
        Self::new(
            550,
            Some(EnhancedStatus::new(5, 1, 1)),
            format!("<{address}> User doesn't exist: {address}"),
        )
    }
}

/// What LHLO advertises. LMTP has no 8BITMIME-less mode worth offering and
/// PIPELINING is required by RFC 2033, so both default on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LhloCapabilities {
    pub eight_bit_mime: bool,
    pub enhanced_status_codes: bool,
    pub pipelining: bool,
    /// `SIZE n`; `Some(0)` advertises `SIZE` without a fixed limit.
    pub size: Option<u64>,
    pub starttls: bool,
    pub smtputf8: bool,
    /// Anything else, sent as is.
    pub extra: Vec<String>,
}

impl Default for LhloCapabilities {
    fn default() -> Self {
        Self {
            eight_bit_mime: true,
            enhanced_status_codes: true,
            pipelining: true,
            size: None,
            starttls: false,
            smtputf8: false,
            extra: Vec::new(),
        }
    }
}

impl LhloCapabilities {
    /// The LHLO reply: hostname first, then the keywords in alphabetical
    /// order like Dovecot's lib-smtp. No enhanced codes (RFC 2034 §3).
    pub fn reply(&self, hostname: &str) -> LmtpReply {
        let mut reply = LmtpReply::new(250, None, hostname);
        let flags = [
            (self.eight_bit_mime, "8BITMIME"),
            (self.enhanced_status_codes, "ENHANCEDSTATUSCODES"),
            (self.pipelining, "PIPELINING"),
        ];
        for (on, name) in flags {
            if on {
                reply = reply.with_line(name);
            }
        }
        match self.size {
            Some(0) => reply = reply.with_line("SIZE"),
            Some(limit) => reply = reply.with_line(format!("SIZE {limit}")),
            None => {}
        }
        if self.smtputf8 {
            reply = reply.with_line("SMTPUTF8");
        }
        if self.starttls {
            reply = reply.with_line("STARTTLS");
        }
        for extra in &self.extra {
            reply = reply.with_line(extra.clone());
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(reply: &LmtpReply) -> String {
        let mut out = Vec::new();
        reply.encode(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn rcpt() -> SmtpAddress {
        SmtpAddress::new("user", Some("example.com")).unwrap()
    }

    #[test]
    fn single_and_multi_line() {
        assert_eq!(wire(&LmtpReply::ok()), "250 2.0.0 OK\r\n");
        let multi = LmtpReply::new(250, Some(EnhancedStatus::new(2, 0, 0)), "one")
            .with_line("two")
            .with_line("three");
        assert_eq!(
            wire(&multi),
            "250-2.0.0 one\r\n250-2.0.0 two\r\n250 2.0.0 three\r\n"
        );
        assert_eq!(wire(&LmtpReply::new(250, None, "")), "250 \r\n");
        assert_eq!(
            wire(&LmtpReply::new(250, Some(EnhancedStatus::new(2, 0, 0)), "")),
            "250 2.0.0\r\n"
        );
        let empty = LmtpReply {
            code: 250,
            status: None,
            lines: Vec::new(),
        };
        assert_eq!(wire(&empty), "250 \r\n");
    }

    #[test]
    fn fixed_replies() {
        assert_eq!(
            wire(&LmtpReply::greeting("mx.example", "tern ready.")),
            "220 mx.example tern ready.\r\n"
        );
        assert_eq!(wire(&LmtpReply::start_data()), "354 OK\r\n");
        assert_eq!(wire(&LmtpReply::bye()), "221 2.0.0 Bye\r\n");
        assert_eq!(
            wire(&LmtpReply::vrfy_cannot_verify()),
            "252 2.3.3 Try RCPT instead\r\n"
        );
        assert_eq!(
            wire(&LmtpReply::bad_sequence("MAIL needed first")),
            "503 5.5.1 MAIL needed first\r\n"
        );
        assert_eq!(
            wire(&LmtpReply::no_valid_recipients()),
            "554 5.5.1 No valid recipients\r\n"
        );
    }

    #[test]
    fn per_recipient_replies() {
        assert_eq!(
            wire(&LmtpReply::delivered(&rcpt(), "Xq3pKzOl0WUTAAAA")),
            "250 2.0.0 <user@example.com> Xq3pKzOl0WUTAAAA Saved\r\n"
        );
        assert_eq!(
            wire(&LmtpReply::too_big(&rcpt())),
            "552 5.3.4 <user@example.com> Message size exceeds fixed maximum message size\r\n"
        );
        assert_eq!(
            wire(&LmtpReply::temporary_failure(&rcpt())),
            "451 4.3.0 <user@example.com> Temporary internal failure\r\n"
        );
        assert_eq!(
            wire(&LmtpReply::unknown_user(&rcpt())),
            "550 5.1.1 <user@example.com> User doesn't exist: user@example.com\r\n"
        );
    }

    #[test]
    fn classification() {
        assert!(LmtpReply::ok().is_success());
        assert!(LmtpReply::start_data().is_success());
        assert!(LmtpReply::temporary_failure(&rcpt()).is_temporary_failure());
        assert!(!LmtpReply::too_big(&rcpt()).is_success());
        assert!(!LmtpReply::too_big(&rcpt()).is_temporary_failure());
    }

    #[test]
    fn text_cannot_inject_replies() {
        let reply = LmtpReply::new(250, None, "a\r\n250 forged");
        assert_eq!(wire(&reply), "250 a  250 forged\r\n");
    }

    #[test]
    fn lhlo_capabilities() {
        let caps = LhloCapabilities {
            size: Some(10_485_760),
            ..LhloCapabilities::default()
        };
        assert_eq!(
            wire(&caps.reply("mx.example")),
            "250-mx.example\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 SIZE 10485760\r\n"
        );
        let all = LhloCapabilities {
            size: Some(0),
            starttls: true,
            smtputf8: true,
            extra: vec!["XCLIENT ADDR".into()],
            ..LhloCapabilities::default()
        };
        assert_eq!(
            wire(&all.reply("h")),
            "250-h\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-SIZE\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n250 XCLIENT ADDR\r\n"
        );
        let bare = LhloCapabilities {
            eight_bit_mime: false,
            enhanced_status_codes: false,
            pipelining: false,
            ..LhloCapabilities::default()
        };
        assert_eq!(wire(&bare.reply("h")), "250 h\r\n");
    }

    #[test]
    fn enhanced_status_display() {
        assert_eq!(EnhancedStatus::new(5, 1, 1).to_string(), "5.1.1");
        assert_eq!(EnhancedStatus::new(4, 3, 0).to_string(), "4.3.0");
    }
}
