//! POP3 reply encoding: status lines with RFC 2449/3206 response codes,
//! multi-line bodies, scan and unique-id listings, SASL challenges and CAPA.
//!
//! Everything appends to a caller-owned `Vec<u8>` so the driver can reuse one
//! output buffer per connection. Free text is sanitised (CR and LF become
//! spaces) because it may carry user-supplied names, and a stray CRLF would
//! let a client forge a second reply line.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::codec::MessageNumber;

/// `+OK` or `-ERR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Err,
}

/// Extended response codes (RFC 2449 §8, RFC 3206).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    /// The maildrop is locked by another session (`pop3_lock_session`).
    InUse,
    /// Logged in too soon after the previous login.
    LoginDelay,
    /// A temporary server problem; try again later.
    SysTemp,
    /// A permanent server problem.
    SysPerm,
    /// The credentials were wrong (as opposed to a server problem).
    Auth,
}

impl ResponseCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InUse => "IN-USE",
            Self::LoginDelay => "LOGIN-DELAY",
            Self::SysTemp => "SYS/TEMP",
            Self::SysPerm => "SYS/PERM",
            Self::Auth => "AUTH",
        }
    }
}

/// One single-line reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pop3Response<'a> {
    pub status: Status,
    pub code: Option<ResponseCode>,
    pub text: &'a str,
}

impl<'a> Pop3Response<'a> {
    pub fn ok(text: &'a str) -> Self {
        Self {
            status: Status::Ok,
            code: None,
            text,
        }
    }

    pub fn err(text: &'a str) -> Self {
        Self {
            status: Status::Err,
            code: None,
            text,
        }
    }

    pub fn with_code(self, code: ResponseCode) -> Self {
        Self {
            code: Some(code),
            ..self
        }
    }

    /// Appends `+OK [CODE] text\r\n` (the code and text only when present).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.status {
            Status::Ok => b"+OK",
            Status::Err => b"-ERR",
        });
        if let Some(code) = self.code {
            out.extend_from_slice(b" [");
            out.extend_from_slice(code.as_str().as_bytes());
            out.push(b']');
        }
        if !self.text.is_empty() {
            out.push(b' ');
            push_sanitised(out, self.text.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn push_sanitised(out: &mut Vec<u8>, text: &[u8]) {
    out.extend(
        text.iter()
            .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
}

/// Appends one line of a multi-line body: a leading `.` is doubled and CRLF
/// added. The line must not contain CR or LF (they are replaced by spaces).
pub fn encode_multiline_line(out: &mut Vec<u8>, line: &[u8]) {
    if line.first() == Some(&b'.') {
        out.push(b'.');
    }
    push_sanitised(out, line);
    out.extend_from_slice(b"\r\n");
}

/// Appends the `.` line that ends every multi-line reply.
pub fn encode_multiline_end(out: &mut Vec<u8>) {
    out.extend_from_slice(b".\r\n");
}

/// Appends a LIST scan listing line: `n octets\r\n` (also the text after
/// `+OK ` for `LIST n`).
pub fn encode_scan_listing(out: &mut Vec<u8>, message: MessageNumber, octets: u64) {
    let mut line = String::with_capacity(24);
    // Writing to a String cannot fail.
    let _ = write!(line, "{message} {octets}\r\n");
    out.extend_from_slice(line.as_bytes());
}

/// Appends a UIDL listing line: `n unique-id\r\n`. RFC 1939 limits the id to
/// 1..70 printable ASCII characters (0x21..0x7E); other bytes become `_`
/// so a bad `pop3_uidl_format` cannot break the framing.
pub fn encode_uidl_listing(out: &mut Vec<u8>, message: MessageNumber, unique_id: &str) {
    out.extend_from_slice(message.to_string().as_bytes());
    out.push(b' ');
    let safe = unique_id
        .bytes()
        .take(70)
        .map(|b| if (0x21..=0x7e).contains(&b) { b } else { b'_' });
    out.extend(safe);
    out.extend_from_slice(b"\r\n");
}

/// Appends a SASL server challenge: `+ base64\r\n` (RFC 5034 §4). An empty
/// challenge is sent as `+ \r\n`.
pub fn encode_sasl_challenge(out: &mut Vec<u8>, challenge: &[u8]) {
    out.extend_from_slice(b"+ ");
    out.extend_from_slice(STANDARD.encode(challenge).as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The RFC 2449 EXPIRE capability argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpirePolicy {
    Never,
    Days(u32),
}

/// What the CAPA reply lists. The defaults match what Dovecot 2.3 lists for
/// a pre-login connection with STLS available, minus SASL mechanisms (those
/// come from the auth layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pop3Capabilities {
    pub top: bool,
    pub uidl: bool,
    pub resp_codes: bool,
    pub pipelining: bool,
    pub auth_resp_code: bool,
    pub stls: bool,
    /// USER/PASS; off when plaintext auth is disabled on this connection.
    pub user: bool,
    /// Listed as `SASL M1 M2`; the line is left out when empty.
    pub sasl_mechanisms: Vec<String>,
    pub login_delay: Option<u32>,
    pub expire: Option<ExpirePolicy>,
    pub implementation: Option<String>,
}

impl Default for Pop3Capabilities {
    fn default() -> Self {
        Self {
            top: true,
            uidl: true,
            resp_codes: true,
            pipelining: true,
            auth_resp_code: true,
            stls: false,
            user: true,
            sasl_mechanisms: Vec::new(),
            login_delay: None,
            expire: None,
            implementation: None,
        }
    }
}

impl Pop3Capabilities {
    /// Appends the whole CAPA reply: `+OK`, one capability per line, `.`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        Pop3Response::ok("").encode(out);
        let mut lines: Vec<String> = vec!["CAPA".into()];
        let flags = [
            (self.top, "TOP"),
            (self.uidl, "UIDL"),
            (self.resp_codes, "RESP-CODES"),
            (self.pipelining, "PIPELINING"),
            (self.auth_resp_code, "AUTH-RESP-CODE"),
            (self.stls, "STLS"),
            (self.user, "USER"),
        ];
        lines.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| (*name).to_owned()),
        );
        if !self.sasl_mechanisms.is_empty() {
            lines.push(format!("SASL {}", self.sasl_mechanisms.join(" ")));
        }
        if let Some(delay) = self.login_delay {
            lines.push(format!("LOGIN-DELAY {delay}"));
        }
        match self.expire {
            Some(ExpirePolicy::Never) => lines.push("EXPIRE NEVER".into()),
            Some(ExpirePolicy::Days(days)) => lines.push(format!("EXPIRE {days}")),
            None => {}
        }
        if let Some(implementation) = &self.implementation {
            lines.push(format!("IMPLEMENTATION {implementation}"));
        }
        for line in &lines {
            encode_multiline_line(out, line.as_bytes());
        }
        encode_multiline_end(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn status_lines() {
        assert_eq!(text(|o| Pop3Response::ok("").encode(o)), "+OK\r\n");
        assert_eq!(
            text(|o| Pop3Response::ok("Logged in.").encode(o)),
            "+OK Logged in.\r\n"
        );
        assert_eq!(
            text(|o| Pop3Response::err("No such message").encode(o)),
            "-ERR No such message\r\n"
        );
    }

    #[test]
    fn every_response_code() {
        let cases = [
            (ResponseCode::InUse, "-ERR [IN-USE] Mailbox locked\r\n"),
            (
                ResponseCode::LoginDelay,
                "-ERR [LOGIN-DELAY] Mailbox locked\r\n",
            ),
            (ResponseCode::SysTemp, "-ERR [SYS/TEMP] Mailbox locked\r\n"),
            (ResponseCode::SysPerm, "-ERR [SYS/PERM] Mailbox locked\r\n"),
            (ResponseCode::Auth, "-ERR [AUTH] Mailbox locked\r\n"),
        ];
        for (code, expected) in cases {
            assert_eq!(
                text(|o| Pop3Response::err("Mailbox locked")
                    .with_code(code)
                    .encode(o)),
                expected
            );
        }
        assert_eq!(
            text(|o| Pop3Response::err("")
                .with_code(ResponseCode::Auth)
                .encode(o)),
            "-ERR [AUTH]\r\n"
        );
    }

    #[test]
    fn text_cannot_inject_lines() {
        assert_eq!(
            text(|o| Pop3Response::err("bad\r\n+OK forged").encode(o)),
            "-ERR bad  +OK forged\r\n"
        );
    }

    #[test]
    fn multiline_lines_are_byte_stuffed() {
        let got = text(|o| {
            encode_multiline_line(o, b".hidden");
            encode_multiline_line(o, b"plain");
            encode_multiline_line(o, b".");
            encode_multiline_end(o);
        });
        assert_eq!(got, "..hidden\r\nplain\r\n..\r\n.\r\n");
    }

    #[test]
    fn listings() {
        let one = MessageNumber::new(1).unwrap();
        assert_eq!(text(|o| encode_scan_listing(o, one, 120)), "1 120\r\n");
        assert_eq!(
            text(|o| encode_uidl_listing(o, one, "00000001502a3b7c")),
            "1 00000001502a3b7c\r\n"
        );
        assert_eq!(
            text(|o| encode_uidl_listing(o, one, "a b\r\n")),
            "1 a_b__\r\n"
        );
        let long = "x".repeat(100);
        assert_eq!(
            text(|o| encode_uidl_listing(o, one, &long)).len(),
            2 + 70 + 2
        );
    }

    #[test]
    fn sasl_challenges() {
        assert_eq!(text(|o| encode_sasl_challenge(o, b"")), "+ \r\n");
        assert_eq!(
            text(|o| encode_sasl_challenge(o, b"Username:")),
            "+ VXNlcm5hbWU6\r\n"
        );
        for (plain, coded) in [("f", "Zg=="), ("fo", "Zm8="), ("foobar", "Zm9vYmFy")] {
            assert_eq!(
                text(|o| encode_sasl_challenge(o, plain.as_bytes())),
                format!("+ {coded}\r\n")
            );
        }
        let every_byte: Vec<u8> = (0..=255).collect();
        let line = text(|o| encode_sasl_challenge(o, &every_byte));
        let coded = line.trim_start_matches("+ ").trim_end_matches("\r\n");
        let back = super::super::codec::parse_sasl_continuation(coded.as_bytes());
        assert_eq!(
            back,
            Ok(super::super::codec::SaslContinuation::Response(
                crate::auth::secret::Secret::new(every_byte)
            ))
        );
    }

    #[test]
    fn default_capa_like_dovecot() {
        let caps = Pop3Capabilities {
            stls: true,
            sasl_mechanisms: vec!["PLAIN".into(), "LOGIN".into()],
            ..Pop3Capabilities::default()
        };
        assert_eq!(
            text(|o| caps.encode(o)),
            "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n"
        );
    }

    #[test]
    fn capa_optional_lines() {
        let caps = Pop3Capabilities {
            top: false,
            uidl: false,
            resp_codes: false,
            pipelining: false,
            auth_resp_code: false,
            stls: false,
            user: false,
            sasl_mechanisms: Vec::new(),
            login_delay: Some(900),
            expire: Some(ExpirePolicy::Never),
            implementation: Some("tern".into()),
        };
        assert_eq!(
            text(|o| caps.encode(o)),
            "+OK\r\nCAPA\r\nLOGIN-DELAY 900\r\nEXPIRE NEVER\r\nIMPLEMENTATION tern\r\n.\r\n"
        );
        let days = Pop3Capabilities {
            expire: Some(ExpirePolicy::Days(30)),
            ..Pop3Capabilities::default()
        };
        assert!(text(|o| days.encode(o)).contains("\r\nEXPIRE 30\r\n"));
    }
}
