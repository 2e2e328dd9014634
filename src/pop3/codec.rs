//! POP3 command parser: one framed line in, one typed [`Pop3Command`] out.
//!
//! Keywords are case-insensitive. Arguments are separated by spaces; we
//! accept runs of spaces and trailing spaces because real clients send them,
//! except where the argument is "the rest of the line" (USER, PASS), which
//! RFC 1939 allows to contain spaces. Message numbers are 1-based and must
//! fit in `u32`; anything else is an error with a reason, never a panic.

use std::fmt;
use std::num::NonZeroU32;

use thiserror::Error;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

use crate::auth::secret::Secret;
use crate::net::line::split_keyword;

/// SASL lines (RFC 5034) are strict padded base64: whitespace, missing
/// padding and misplaced `=` are errors, so a garbled line is refused rather
/// than read as a different credential. Unused low bits in the last group are
/// ignored, as Dovecot does.
const SASL_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

fn decode_base64(text: &[u8]) -> Result<Vec<u8>, base64::DecodeError> {
    SASL_BASE64.decode(text)
}

/// RFC 2449 §4: a command line is at most 255 octets including CRLF.
pub const RFC2449_MAX_LINE: usize = 255;
/// Our default cap: lenient towards clients that send long user names or
/// SASL initial responses, still small enough to bound memory.
pub const DEFAULT_MAX_LINE: usize = 512;

/// Parser switches that come from configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pop3ParserOptions {
    /// `pop3_enable_last`: accept the obsolete RFC 1460 LAST command.
    pub enable_last: bool,
}

/// A 1-based message number as the client sends it (RFC 1939 "msg").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageNumber(NonZeroU32);

impl MessageNumber {
    /// Message number 1.
    pub const FIRST: Self = Self(NonZeroU32::MIN);

    /// `None` for 0, which is never a valid message number.
    pub fn new(number: u32) -> Option<Self> {
        NonZeroU32::new(number).map(Self)
    }

    /// The number as sent (1-based).
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// The 0-based index into the session's message list.
    pub fn index(self) -> usize {
        // u32 always fits in usize on the 32/64-bit targets we build for.
        (self.0.get() - 1) as usize
    }
}

impl fmt::Display for MessageNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Every POP3 command tern understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop3Command {
    /// `USER name` (the name is the rest of the line).
    User(String),
    /// `PASS password` (the rest of the line, spaces included).
    Pass(Secret),
    /// `APOP name digest`: parsed so we can answer "not supported" properly.
    Apop {
        name: String,
        digest: String,
    },
    /// `AUTH [mechanism [initial-response]]` (RFC 5034). A bare `AUTH`
    /// asks for the mechanism list. `=` as initial response means empty.
    Auth {
        mechanism: Option<String>,
        initial_response: Option<Secret>,
    },
    /// `STLS` (RFC 2595).
    Stls,
    /// `CAPA` (RFC 2449).
    Capa,
    Stat,
    List(Option<MessageNumber>),
    Retr(MessageNumber),
    Dele(MessageNumber),
    Rset,
    Noop,
    /// `TOP msg n`: header plus the first `lines` body lines.
    Top {
        message: MessageNumber,
        lines: u32,
    },
    Uidl(Option<MessageNumber>),
    Quit,
    /// `LAST` (RFC 1460), only when `pop3_enable_last` is on.
    Last,
}

/// Why a command line was refused. The `Display` text is the reason sent
/// after `-ERR`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum Pop3CommandError {
    #[error("Line too long")]
    LineTooLong,
    #[error("Empty command")]
    Empty,
    #[error("Unknown command")]
    Unknown,
    #[error("{command}: missing argument")]
    MissingArgument { command: &'static str },
    #[error("{command}: too many arguments")]
    TooManyArguments { command: &'static str },
    #[error("{command}: invalid message number")]
    InvalidMessageNumber { command: &'static str },
    #[error("TOP: invalid line count")]
    InvalidLineCount,
    #[error("{command}: argument is not valid UTF-8")]
    NotUtf8 { command: &'static str },
    #[error("APOP: digest must be 32 hex digits")]
    InvalidDigest,
    #[error("AUTH: invalid mechanism name")]
    InvalidMechanism,
    #[error("Invalid base64 data")]
    InvalidBase64,
}

/// One client line during a SASL exchange (RFC 5034 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslContinuation {
    /// `*`: the client cancels; answer `-ERR`.
    Cancel,
    /// The base64-decoded response.
    Response(Secret),
}

impl Pop3Command {
    /// Parses one line (without CRLF) as a command.
    pub fn parse(line: &[u8], options: &Pop3ParserOptions) -> Result<Self, Pop3CommandError> {
        // Keywords are 3 or 4 letters; anything longer cannot match.
        let Some((keyword, rest)) = split_keyword::<4>(line) else {
            return Err(Pop3CommandError::Unknown);
        };
        if keyword.is_empty() {
            return Err(Pop3CommandError::Empty);
        }
        let mut args = Args::new(rest);
        let command = match keyword.as_bytes() {
            b"USER" => Self::User(utf8("USER", required("USER", trim_trailing_spaces(rest))?)?),
            b"PASS" => Self::Pass(Secret::new(required("PASS", rest)?.to_vec())),
            b"APOP" => parse_apop(rest)?,
            b"AUTH" => parse_auth(&mut args)?,
            b"STLS" => args.none("STLS", Self::Stls)?,
            b"CAPA" => args.none("CAPA", Self::Capa)?,
            b"STAT" => args.none("STAT", Self::Stat)?,
            b"LIST" => Self::List(args.optional_message("LIST")?),
            b"RETR" => Self::Retr(args.only_message("RETR")?),
            b"DELE" => Self::Dele(args.only_message("DELE")?),
            b"RSET" => args.none("RSET", Self::Rset)?,
            b"NOOP" => args.none("NOOP", Self::Noop)?,
            b"TOP" => parse_top(&mut args)?,
            b"UIDL" => Self::Uidl(args.optional_message("UIDL")?),
            b"QUIT" => args.none("QUIT", Self::Quit)?,
            b"LAST" if options.enable_last => args.none("LAST", Self::Last)?,
            _ => return Err(Pop3CommandError::Unknown),
        };
        Ok(command)
    }

    /// The keyword, for logs and counters.
    pub fn name(&self) -> &'static str {
        match self {
            Self::User(_) => "USER",
            Self::Pass(_) => "PASS",
            Self::Apop { .. } => "APOP",
            Self::Auth { .. } => "AUTH",
            Self::Stls => "STLS",
            Self::Capa => "CAPA",
            Self::Stat => "STAT",
            Self::List(_) => "LIST",
            Self::Retr(_) => "RETR",
            Self::Dele(_) => "DELE",
            Self::Rset => "RSET",
            Self::Noop => "NOOP",
            Self::Top { .. } => "TOP",
            Self::Uidl(_) => "UIDL",
            Self::Quit => "QUIT",
            Self::Last => "LAST",
        }
    }
}

/// Parses a client line sent in answer to a `+ challenge` during AUTH.
pub fn parse_sasl_continuation(line: &[u8]) -> Result<SaslContinuation, Pop3CommandError> {
    let line = trim_trailing_spaces(line);
    if line == b"*" {
        return Ok(SaslContinuation::Cancel);
    }
    decode_base64(line)
        .map(|bytes| SaslContinuation::Response(Secret::new(bytes)))
        .map_err(|_| Pop3CommandError::InvalidBase64)
}

fn required<'a>(command: &'static str, rest: &'a [u8]) -> Result<&'a [u8], Pop3CommandError> {
    if rest.is_empty() {
        Err(Pop3CommandError::MissingArgument { command })
    } else {
        Ok(rest)
    }
}

fn utf8(command: &'static str, bytes: &[u8]) -> Result<String, Pop3CommandError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| Pop3CommandError::NotUtf8 { command })
}

fn trim_trailing_spaces(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    &bytes[..end]
}

fn parse_apop(rest: &[u8]) -> Result<Pop3Command, Pop3CommandError> {
    let rest = trim_trailing_spaces(rest);
    // The digest is the last word; the name is everything before it.
    let split =
        memchr::memrchr(b' ', rest).ok_or(Pop3CommandError::MissingArgument { command: "APOP" })?;
    let name = trim_trailing_spaces(&rest[..split]);
    let digest = &rest[split + 1..];
    if name.is_empty() {
        return Err(Pop3CommandError::MissingArgument { command: "APOP" });
    }
    if digest.len() != 32 || !digest.iter().all(u8::is_ascii_hexdigit) {
        return Err(Pop3CommandError::InvalidDigest);
    }
    Ok(Pop3Command::Apop {
        name: utf8("APOP", name)?,
        digest: utf8("APOP", digest)?.to_ascii_lowercase(),
    })
}

fn parse_auth(args: &mut Args<'_>) -> Result<Pop3Command, Pop3CommandError> {
    let Some(mechanism) = args.next() else {
        return Ok(Pop3Command::Auth {
            mechanism: None,
            initial_response: None,
        });
    };
    // RFC 4422 mechanism names: upper-case letters, digits, '-' and '_';
    // we accept lower case and normalise.
    if mechanism.len() > 20
        || !mechanism
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Pop3CommandError::InvalidMechanism);
    }
    let mechanism = String::from_utf8_lossy(mechanism).to_ascii_uppercase();
    let initial_response = match args.next() {
        None => None,
        Some(b"=") => Some(Secret::new(Vec::new())),
        Some(encoded) => Some(Secret::new(
            decode_base64(encoded).map_err(|_| Pop3CommandError::InvalidBase64)?,
        )),
    };
    args.end("AUTH")?;
    Ok(Pop3Command::Auth {
        mechanism: Some(mechanism),
        initial_response,
    })
}

fn parse_top(args: &mut Args<'_>) -> Result<Pop3Command, Pop3CommandError> {
    let message = args.message("TOP")?;
    let lines = args
        .next()
        .ok_or(Pop3CommandError::MissingArgument { command: "TOP" })?;
    let lines = parse_u32(lines).ok_or(Pop3CommandError::InvalidLineCount)?;
    args.end("TOP")?;
    Ok(Pop3Command::Top { message, lines })
}

/// Digits only: no sign, no spaces; `None` on overflow.
fn parse_u32(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

/// Space-separated argument cursor.
struct Args<'a> {
    rest: &'a [u8],
}

impl<'a> Args<'a> {
    fn new(rest: &'a [u8]) -> Self {
        Self { rest }
    }

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.rest.iter().position(|&b| b != b' ')?;
        let rest = &self.rest[start..];
        let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }

    fn end(&mut self, command: &'static str) -> Result<(), Pop3CommandError> {
        match self.next() {
            None => Ok(()),
            Some(_) => Err(Pop3CommandError::TooManyArguments { command }),
        }
    }

    fn none(
        &mut self,
        command: &'static str,
        value: Pop3Command,
    ) -> Result<Pop3Command, Pop3CommandError> {
        self.end(command).map(|()| value)
    }

    fn message(&mut self, command: &'static str) -> Result<MessageNumber, Pop3CommandError> {
        let word = self
            .next()
            .ok_or(Pop3CommandError::MissingArgument { command })?;
        parse_u32(word)
            .and_then(MessageNumber::new)
            .ok_or(Pop3CommandError::InvalidMessageNumber { command })
    }

    fn only_message(&mut self, command: &'static str) -> Result<MessageNumber, Pop3CommandError> {
        let number = self.message(command)?;
        self.end(command)?;
        Ok(number)
    }

    fn optional_message(
        &mut self,
        command: &'static str,
    ) -> Result<Option<MessageNumber>, Pop3CommandError> {
        if self.rest.iter().all(|&b| b == b' ') {
            return Ok(None);
        }
        let number = self.message(command)?;
        self.end(command)?;
        Ok(Some(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Pop3Command, Pop3CommandError> {
        Pop3Command::parse(line.as_bytes(), &Pop3ParserOptions::default())
    }

    fn msg(n: u32) -> MessageNumber {
        MessageNumber::new(n).unwrap()
    }

    #[test]
    fn argumentless_commands_any_case() {
        let cases = [
            ("STLS", Pop3Command::Stls),
            ("capa", Pop3Command::Capa),
            ("StAt", Pop3Command::Stat),
            ("rset", Pop3Command::Rset),
            ("NOOP", Pop3Command::Noop),
            ("quit", Pop3Command::Quit),
            ("LIST", Pop3Command::List(None)),
            ("uidl", Pop3Command::Uidl(None)),
            ("QUIT  ", Pop3Command::Quit),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line), Ok(expected), "{line}");
        }
    }

    #[test]
    fn argumentless_commands_refuse_arguments() {
        assert_eq!(
            parse("STAT 1"),
            Err(Pop3CommandError::TooManyArguments { command: "STAT" })
        );
        assert_eq!(
            parse("QUIT now"),
            Err(Pop3CommandError::TooManyArguments { command: "QUIT" })
        );
    }

    #[test]
    fn message_number_commands() {
        assert_eq!(parse("LIST 3"), Ok(Pop3Command::List(Some(msg(3)))));
        assert_eq!(parse("retr 1"), Ok(Pop3Command::Retr(msg(1))));
        assert_eq!(
            parse("DELE 0004294967295"),
            Ok(Pop3Command::Dele(msg(u32::MAX)))
        );
        assert_eq!(parse("UIDL 12"), Ok(Pop3Command::Uidl(Some(msg(12)))));
        assert_eq!(
            parse("TOP 2 0"),
            Ok(Pop3Command::Top {
                message: msg(2),
                lines: 0
            })
        );
        assert_eq!(
            parse("top 2  10 "),
            Ok(Pop3Command::Top {
                message: msg(2),
                lines: 10
            })
        );
    }

    #[test]
    fn bad_message_numbers() {
        let invalid = |c| Err(Pop3CommandError::InvalidMessageNumber { command: c });
        assert_eq!(parse("RETR 0"), invalid("RETR"));
        assert_eq!(parse("RETR -1"), invalid("RETR"));
        assert_eq!(parse("RETR +1"), invalid("RETR"));
        assert_eq!(parse("RETR 1x"), invalid("RETR"));
        assert_eq!(parse("DELE 4294967296"), invalid("DELE"));
        assert_eq!(parse("LIST 99999999999999999999"), invalid("LIST"));
        assert_eq!(
            parse("RETR"),
            Err(Pop3CommandError::MissingArgument { command: "RETR" })
        );
        assert_eq!(
            parse("RETR 1 2"),
            Err(Pop3CommandError::TooManyArguments { command: "RETR" })
        );
        assert_eq!(
            parse("UIDL 1 2"),
            Err(Pop3CommandError::TooManyArguments { command: "UIDL" })
        );
        assert_eq!(
            parse("TOP 1"),
            Err(Pop3CommandError::MissingArgument { command: "TOP" })
        );
        assert_eq!(parse("TOP 1 -1"), Err(Pop3CommandError::InvalidLineCount));
        assert_eq!(
            parse("TOP 1 4294967296"),
            Err(Pop3CommandError::InvalidLineCount)
        );
        assert_eq!(
            parse("TOP 1 2 3"),
            Err(Pop3CommandError::TooManyArguments { command: "TOP" })
        );
    }

    #[test]
    fn message_number_index_is_zero_based() {
        assert_eq!(msg(1).index(), 0);
        assert_eq!(msg(7).index(), 6);
        assert_eq!(msg(7).to_string(), "7");
        assert!(MessageNumber::new(0).is_none());
    }

    #[test]
    fn user_and_pass_take_the_rest_of_the_line() {
        assert_eq!(
            parse("USER alice@example.com"),
            Ok(Pop3Command::User("alice@example.com".into()))
        );
        assert_eq!(parse("user bob "), Ok(Pop3Command::User("bob".into())));
        let Ok(Pop3Command::Pass(secret)) = parse("PASS  correct horse battery ") else {
            panic!("PASS did not parse");
        };
        assert_eq!(secret.expose(), b" correct horse battery ");
        assert_eq!(
            parse("PASS"),
            Err(Pop3CommandError::MissingArgument { command: "PASS" })
        );
        assert_eq!(
            parse("USER"),
            Err(Pop3CommandError::MissingArgument { command: "USER" })
        );
        assert_eq!(
            Pop3Command::parse(b"USER \xff", &Pop3ParserOptions::default()),
            Err(Pop3CommandError::NotUtf8 { command: "USER" })
        );
    }

    #[test]
    fn password_never_shows_in_debug() {
        let command = parse("PASS hunter2").unwrap();
        assert!(!format!("{command:?}").contains("hunter2"));
    }

    #[test]
    fn apop_is_parsed() {
        assert_eq!(
            parse("APOP mrose c4c9334bac560ecc979e58001b3e22fb"),
            Ok(Pop3Command::Apop {
                name: "mrose".into(),
                digest: "c4c9334bac560ecc979e58001b3e22fb".into()
            })
        );
        assert_eq!(
            parse("APOP mrose c4c9"),
            Err(Pop3CommandError::InvalidDigest)
        );
        assert_eq!(
            parse("APOP c4c9334bac560ecc979e58001b3e22fb"),
            Err(Pop3CommandError::MissingArgument { command: "APOP" })
        );
        assert_eq!(
            parse("APOP"),
            Err(Pop3CommandError::MissingArgument { command: "APOP" })
        );
    }

    #[test]
    fn auth_forms() {
        assert_eq!(
            parse("AUTH"),
            Ok(Pop3Command::Auth {
                mechanism: None,
                initial_response: None
            })
        );
        assert_eq!(
            parse("auth plain"),
            Ok(Pop3Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial_response: None
            })
        );
        assert_eq!(
            parse("AUTH PLAIN AGFsaWNlAHNlY3JldA=="),
            Ok(Pop3Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial_response: Some(Secret::new(b"\0alice\0secret".to_vec()))
            })
        );
        assert_eq!(
            parse("AUTH EXTERNAL ="),
            Ok(Pop3Command::Auth {
                mechanism: Some("EXTERNAL".into()),
                initial_response: Some(Secret::new(Vec::new()))
            })
        );
        assert_eq!(
            parse("AUTH PLAIN !!!!"),
            Err(Pop3CommandError::InvalidBase64)
        );
        assert_eq!(parse("AUTH PL@IN"), Err(Pop3CommandError::InvalidMechanism));
        assert_eq!(
            parse("AUTH PLAIN AA== extra"),
            Err(Pop3CommandError::TooManyArguments { command: "AUTH" })
        );
    }

    #[test]
    fn sasl_continuation_lines() {
        assert_eq!(parse_sasl_continuation(b"*"), Ok(SaslContinuation::Cancel));
        assert_eq!(
            parse_sasl_continuation(b"dXNlcg=="),
            Ok(SaslContinuation::Response(Secret::new(b"user".to_vec())))
        );
        assert_eq!(
            parse_sasl_continuation(b""),
            Ok(SaslContinuation::Response(Secret::new(Vec::new())))
        );
        assert_eq!(
            parse_sasl_continuation(b"not base64"),
            Err(Pop3CommandError::InvalidBase64)
        );
    }

    fn decoded(line: &[u8]) -> Result<Vec<u8>, Pop3CommandError> {
        match parse_sasl_continuation(line)? {
            SaslContinuation::Response(secret) => Ok(secret.expose().to_vec()),
            SaslContinuation::Cancel => panic!("{line:?} is not a cancel"),
        }
    }

    #[test]
    fn sasl_base64_decodes_rfc4648_vectors() {
        let vectors = [
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in vectors {
            assert_eq!(decoded(coded.as_bytes()), Ok(plain.as_bytes().to_vec()));
        }
        // The low bits of the last group carry nothing; like Dovecot, ignore them.
        assert_eq!(decoded(b"Zh=="), Ok(b"f".to_vec()));
    }

    #[test]
    fn sasl_base64_refuses_malformed_lines() {
        for bad in [
            &b"Zg="[..],
            b"Z g=",
            b"Zg==Zm8=",
            b"Z===",
            b"Zm=v",
            b"Zg",
            b"\xff\xff\xff\xff",
        ] {
            assert_eq!(
                decoded(bad),
                Err(Pop3CommandError::InvalidBase64),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn last_only_when_enabled() {
        assert_eq!(parse("LAST"), Err(Pop3CommandError::Unknown));
        let enabled = Pop3ParserOptions { enable_last: true };
        assert_eq!(Pop3Command::parse(b"last", &enabled), Ok(Pop3Command::Last));
    }

    #[test]
    fn unknown_and_empty() {
        assert_eq!(parse(""), Err(Pop3CommandError::Empty));
        assert_eq!(parse(" STAT"), Err(Pop3CommandError::Empty));
        assert_eq!(parse("XTND XMIT"), Err(Pop3CommandError::Unknown));
        assert_eq!(parse("STATUS"), Err(Pop3CommandError::Unknown));
        assert_eq!(parse("ST"), Err(Pop3CommandError::Unknown));
    }

    #[test]
    fn error_texts_name_the_command() {
        assert_eq!(
            Pop3CommandError::InvalidMessageNumber { command: "RETR" }.to_string(),
            "RETR: invalid message number"
        );
        assert_eq!(Pop3CommandError::Unknown.to_string(), "Unknown command");
    }

    #[test]
    fn names_match_keywords() {
        let options = Pop3ParserOptions { enable_last: true };
        for line in [
            "USER a", "PASS b", "AUTH", "STLS", "CAPA", "STAT", "LIST", "RETR 1", "DELE 1", "RSET",
            "NOOP", "TOP 1 1", "UIDL", "QUIT", "LAST",
        ] {
            let command = Pop3Command::parse(line.as_bytes(), &options).unwrap();
            assert!(line.starts_with(command.name()), "{line}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap stand-in for the fuzz target: every 1- and 2-byte line and
        // a spread of longer ones.
        let options = Pop3ParserOptions { enable_last: true };
        for a in 0..=255u8 {
            let _ = Pop3Command::parse(&[a], &options);
            for b in 0..=255u8 {
                let _ = Pop3Command::parse(&[a, b], &options);
                let _ = Pop3Command::parse(&[b'T', b'O', b'P', b' ', a, b' ', b], &options);
                let _ = parse_sasl_continuation(&[a, b]);
            }
        }
        assert_eq!(parse("NOOP"), Ok(Pop3Command::Noop));
    }
}
