//! LMTP command parser: one framed line in, one typed [`LmtpCommand`] out.
//!
//! Syntax is RFC 5321's. Keywords are case-insensitive; `MAIL FROM:` and
//! `RCPT TO:` must be written without a space before the path unless the
//! `whitespace-before-path` workaround is on. ESMTP parameters are parsed
//! into typed fields where we act on them (SIZE, BODY, ORCPT) and kept
//! verbatim otherwise, so the session can refuse unknown ones with 555.
//! Every error maps to a 500/501 reply through [`LmtpCommandError::reply`].

use thiserror::Error;

use super::codec_path::{PathError, PathOptions, ReversePath, SmtpAddress, parse_path};
use super::codec_reply::{EnhancedStatus, LmtpReply};
use crate::net::line::split_keyword;

/// RFC 5321 §4.5.3.1.4: command lines are at most 512 octets with CRLF.
pub const RFC5321_MAX_LINE: usize = 512;

/// Parser switches (`lmtp_client_workarounds`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LmtpParserOptions {
    /// `whitespace-before-path`: allow `MAIL FROM: <a@b>`.
    pub whitespace_before_path: bool,
    /// `mailbox-for-path`: allow `RCPT TO:a@b` without brackets.
    pub mailbox_for_path: bool,
}

/// `BODY=` (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    SevenBit,
    EightBitMime,
}

/// One ESMTP parameter we do not interpret: `KEYWORD[=value]`, keyword
/// upper-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsmtpParam {
    pub keyword: String,
    pub value: Option<String>,
}

/// Parameters of `MAIL FROM:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParams {
    /// `SIZE=n` (RFC 1870): the client's estimate, checked against our limit.
    pub size: Option<u64>,
    pub body: Option<BodyType>,
    pub other: Vec<EsmtpParam>,
}

/// Parameters of `RCPT TO:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcptParams {
    /// `ORCPT=addr-type;xtext` (RFC 3461), xtext-decoded: (type, address).
    pub orcpt: Option<(String, String)>,
    pub other: Vec<EsmtpParam>,
}

/// Every LMTP command tern understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LmtpCommand {
    /// `LHLO domain`. `domain_valid` is false when the argument is not a
    /// domain or address literal; like Dovecot we accept it anyway and
    /// write `unknown` in the Received header.
    Lhlo {
        domain: String,
        domain_valid: bool,
    },
    Mail {
        reverse_path: ReversePath,
        params: MailParams,
    },
    Rcpt {
        forward_path: SmtpAddress,
        params: RcptParams,
    },
    Data,
    Rset,
    Noop,
    Quit,
    /// `VRFY string`: answered with 252, never verified.
    Vrfy(String),
    StartTls,
}

/// Why a command line was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LmtpCommandError {
    #[error("Line too long")]
    LineTooLong,
    /// A command line ended with LF alone (Postfix's wording).
    #[error("Error: bare <LF> received")]
    BareLineFeed,
    /// A command line held a CR not followed by LF.
    #[error("Error: bare <CR> received")]
    BareCarriageReturn,
    #[error("Empty command")]
    Empty,
    #[error("Unknown command")]
    Unknown,
    #[error("{0} is not allowed in LMTP, use LHLO")]
    HeloInLmtp(&'static str),
    #[error("{command}: missing argument")]
    MissingArgument { command: &'static str },
    #[error("{command}: unexpected argument")]
    UnexpectedArgument { command: &'static str },
    #[error("Invalid syntax: expected {expected}")]
    Syntax { expected: &'static str },
    #[error("Invalid sender address: {0}")]
    InvalidSender(PathError),
    #[error("Invalid recipient address: {0}")]
    InvalidRecipient(PathError),
    #[error("Invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("Duplicate parameter: {0}")]
    DuplicateParameter(String),
    #[error("Unsupported BODY type")]
    UnsupportedBody,
    #[error("Command is not valid UTF-8")]
    NotUtf8,
}

impl LmtpCommandError {
    /// The reply to send (RFC 5321 §4.2.4 codes, RFC 3463 detail).
    pub fn reply(&self) -> LmtpReply {
        let (code, status) = match self {
            Self::LineTooLong | Self::BareLineFeed | Self::BareCarriageReturn => {
                (500, EnhancedStatus::new(5, 5, 2))
            }
            Self::Empty | Self::Unknown | Self::HeloInLmtp(_) => {
                (500, EnhancedStatus::new(5, 5, 1))
            }
            Self::InvalidSender(_) => (501, EnhancedStatus::new(5, 1, 7)),
            Self::InvalidRecipient(_) => (501, EnhancedStatus::new(5, 1, 3)),
            Self::MissingArgument { .. }
            | Self::UnexpectedArgument { .. }
            | Self::Syntax { .. }
            | Self::NotUtf8 => (501, EnhancedStatus::new(5, 5, 2)),
            Self::InvalidParameter(_) | Self::DuplicateParameter(_) | Self::UnsupportedBody => {
                (501, EnhancedStatus::new(5, 5, 4))
            }
        };
        LmtpReply::new(code, Some(status), self.to_string())
    }
}

impl LmtpCommand {
    /// Parses one line (without CRLF) as a command.
    pub fn parse(line: &[u8], options: &LmtpParserOptions) -> Result<Self, LmtpCommandError> {
        // STARTTLS is the longest keyword.
        let Some((keyword, rest)) = split_keyword::<8>(line) else {
            return Err(LmtpCommandError::Unknown);
        };
        if keyword.is_empty() {
            return Err(LmtpCommandError::Empty);
        }
        match keyword.as_bytes() {
            b"LHLO" => parse_lhlo(rest),
            b"HELO" => Err(LmtpCommandError::HeloInLmtp("HELO")),
            b"EHLO" => Err(LmtpCommandError::HeloInLmtp("EHLO")),
            b"MAIL" => parse_mail(rest, options),
            b"RCPT" => parse_rcpt(rest, options),
            b"DATA" => no_argument("DATA", rest, Self::Data),
            b"RSET" => no_argument("RSET", rest, Self::Rset),
            // RFC 5321 §4.1.1.9: NOOP may carry a string, which is ignored.
            b"NOOP" => Ok(Self::Noop),
            b"QUIT" => no_argument("QUIT", rest, Self::Quit),
            b"VRFY" => {
                let rest = trim(rest);
                if rest.is_empty() {
                    return Err(LmtpCommandError::MissingArgument { command: "VRFY" });
                }
                Ok(Self::Vrfy(utf8(rest)?))
            }
            b"STARTTLS" => no_argument("STARTTLS", rest, Self::StartTls),
            _ => Err(LmtpCommandError::Unknown),
        }
    }

    /// The keyword, for logs and counters.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Lhlo { .. } => "LHLO",
            Self::Mail { .. } => "MAIL",
            Self::Rcpt { .. } => "RCPT",
            Self::Data => "DATA",
            Self::Rset => "RSET",
            Self::Noop => "NOOP",
            Self::Quit => "QUIT",
            Self::Vrfy(_) => "VRFY",
            Self::StartTls => "STARTTLS",
        }
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn utf8(bytes: &[u8]) -> Result<String, LmtpCommandError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| LmtpCommandError::NotUtf8)
}

fn no_argument(
    command: &'static str,
    rest: &[u8],
    value: LmtpCommand,
) -> Result<LmtpCommand, LmtpCommandError> {
    if trim(rest).is_empty() {
        Ok(value)
    } else {
        Err(LmtpCommandError::UnexpectedArgument { command })
    }
}

fn parse_lhlo(rest: &[u8]) -> Result<LmtpCommand, LmtpCommandError> {
    let domain = trim(rest);
    if domain.is_empty() {
        return Err(LmtpCommandError::MissingArgument { command: "LHLO" });
    }
    let domain = utf8(domain)?;
    let domain_valid = SmtpAddress::new("x", Some(&domain)).is_ok();
    Ok(LmtpCommand::Lhlo {
        domain,
        domain_valid,
    })
}

/// Strips `prefix` (case-insensitive) and, with the workaround, spaces.
fn strip_keyword<'a>(
    rest: &'a [u8],
    prefix: &'static [u8],
    expected: &'static str,
    options: &LmtpParserOptions,
) -> Result<&'a [u8], LmtpCommandError> {
    if rest.len() < prefix.len() || !rest[..prefix.len()].eq_ignore_ascii_case(prefix) {
        return Err(LmtpCommandError::Syntax { expected });
    }
    let mut after = &rest[prefix.len()..];
    if options.whitespace_before_path {
        after = &after[after.iter().position(|&b| b != b' ').unwrap_or(after.len())..];
    }
    Ok(after)
}

fn parse_mail(rest: &[u8], options: &LmtpParserOptions) -> Result<LmtpCommand, LmtpCommandError> {
    let after = strip_keyword(rest, b"FROM:", "MAIL FROM:<address>", options)?;
    let path_options = PathOptions {
        mailbox_without_brackets: options.mailbox_for_path,
    };
    let (address, rest) =
        parse_path(after, path_options).map_err(LmtpCommandError::InvalidSender)?;
    let reverse_path = address.map_or(ReversePath::Null, ReversePath::Address);
    let mut params = MailParams::default();
    for (keyword, value) in split_params(rest)? {
        match keyword.as_str() {
            "SIZE" => {
                let size = value
                    .as_deref()
                    .and_then(parse_u64)
                    .ok_or_else(|| LmtpCommandError::InvalidParameter("SIZE".into()))?;
                set_once(&mut params.size, size, "SIZE")?;
            }
            "BODY" => {
                let body = match value.as_deref().map(str::to_ascii_uppercase).as_deref() {
                    Some("7BIT") => BodyType::SevenBit,
                    Some("8BITMIME") => BodyType::EightBitMime,
                    Some(_) => return Err(LmtpCommandError::UnsupportedBody),
                    None => return Err(LmtpCommandError::InvalidParameter("BODY".into())),
                };
                set_once(&mut params.body, body, "BODY")?;
            }
            _ => push_other(&mut params.other, keyword, value)?,
        }
    }
    Ok(LmtpCommand::Mail {
        reverse_path,
        params,
    })
}

fn parse_rcpt(rest: &[u8], options: &LmtpParserOptions) -> Result<LmtpCommand, LmtpCommandError> {
    let after = strip_keyword(rest, b"TO:", "RCPT TO:<address>", options)?;
    let path_options = PathOptions {
        mailbox_without_brackets: options.mailbox_for_path,
    };
    let (address, rest) =
        parse_path(after, path_options).map_err(LmtpCommandError::InvalidRecipient)?;
    let forward_path = address.ok_or(LmtpCommandError::InvalidRecipient(
        PathError::NullPathNotAllowed,
    ))?;
    let mut params = RcptParams::default();
    for (keyword, value) in split_params(rest)? {
        if keyword == "ORCPT" {
            let orcpt = value
                .as_deref()
                .and_then(parse_orcpt)
                .ok_or_else(|| LmtpCommandError::InvalidParameter("ORCPT".into()))?;
            set_once(&mut params.orcpt, orcpt, "ORCPT")?;
        } else {
            push_other(&mut params.other, keyword, value)?;
        }
    }
    Ok(LmtpCommand::Rcpt {
        forward_path,
        params,
    })
}

fn set_once<T>(slot: &mut Option<T>, value: T, keyword: &str) -> Result<(), LmtpCommandError> {
    if slot.is_some() {
        return Err(LmtpCommandError::DuplicateParameter(keyword.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

fn push_other(
    other: &mut Vec<EsmtpParam>,
    keyword: String,
    value: Option<String>,
) -> Result<(), LmtpCommandError> {
    if other.iter().any(|p| p.keyword == keyword) {
        return Err(LmtpCommandError::DuplicateParameter(keyword));
    }
    other.push(EsmtpParam { keyword, value });
    Ok(())
}

/// ` KEY[=value] KEY2…` after the path. RFC 5321 §4.1.2: keyword is
/// `(ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`, value is `1*(%d33-60 / %d62-126)`.
fn split_params(rest: &[u8]) -> Result<Vec<(String, Option<String>)>, LmtpCommandError> {
    if !rest.is_empty() && rest[0] != b' ' {
        return Err(LmtpCommandError::Syntax {
            expected: "a space after the address",
        });
    }
    let mut params = Vec::new();
    for word in rest.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let (keyword, value) = match memchr::memchr(b'=', word) {
            Some(eq) => (&word[..eq], Some(&word[eq + 1..])),
            None => (word, None),
        };
        let keyword_ok = keyword.first().is_some_and(u8::is_ascii_alphanumeric)
            && keyword
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        let value_ok = value.is_none_or(|v| {
            !v.is_empty() && v.iter().all(|&b| (33..=126).contains(&b) && b != b'=')
        });
        if !keyword_ok || !value_ok {
            return Err(LmtpCommandError::InvalidParameter(
                String::from_utf8_lossy(word).into_owned(),
            ));
        }
        let keyword = String::from_utf8_lossy(keyword).to_ascii_uppercase();
        let value = value.map(|v| String::from_utf8_lossy(v).into_owned());
        params.push((keyword, value));
    }
    Ok(params)
}

fn parse_u64(digits: &str) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `addr-type ";" xtext` (RFC 3461 §4.2); xtext `+XX` escapes decoded.
fn parse_orcpt(value: &str) -> Option<(String, String)> {
    let (addr_type, xtext) = value.split_once(';')?;
    if addr_type.is_empty() || xtext.is_empty() {
        return None;
    }
    let bytes = xtext.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'+' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    Some((
        addr_type.to_ascii_lowercase(),
        String::from_utf8(decoded).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<LmtpCommand, LmtpCommandError> {
        LmtpCommand::parse(line.as_bytes(), &LmtpParserOptions::default())
    }

    fn addr(local: &str, domain: &str) -> SmtpAddress {
        SmtpAddress::new(local, Some(domain)).unwrap()
    }

    fn reply_text(error: LmtpCommandError) -> String {
        let mut out = Vec::new();
        error.reply().encode(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lhlo() {
        assert_eq!(
            parse("LHLO mx.example.com"),
            Ok(LmtpCommand::Lhlo {
                domain: "mx.example.com".into(),
                domain_valid: true
            })
        );
        assert_eq!(
            parse("lhlo [192.0.2.1]"),
            Ok(LmtpCommand::Lhlo {
                domain: "[192.0.2.1]".into(),
                domain_valid: true
            })
        );
        assert_eq!(
            parse("LHLO not a domain!"),
            Ok(LmtpCommand::Lhlo {
                domain: "not a domain!".into(),
                domain_valid: false
            })
        );
        assert_eq!(
            parse("LHLO"),
            Err(LmtpCommandError::MissingArgument { command: "LHLO" })
        );
        assert_eq!(
            parse("LHLO   "),
            Err(LmtpCommandError::MissingArgument { command: "LHLO" })
        );
    }

    #[test]
    fn helo_and_ehlo_are_refused_with_500() {
        assert_eq!(parse("HELO x"), Err(LmtpCommandError::HeloInLmtp("HELO")));
        assert_eq!(parse("ehlo x"), Err(LmtpCommandError::HeloInLmtp("EHLO")));
        assert_eq!(
            reply_text(LmtpCommandError::HeloInLmtp("EHLO")),
            "500 5.5.1 EHLO is not allowed in LMTP, use LHLO\r\n"
        );
    }

    #[test]
    fn mail_from_forms() {
        assert_eq!(
            parse("MAIL FROM:<a@b.example>"),
            Ok(LmtpCommand::Mail {
                reverse_path: ReversePath::Address(addr("a", "b.example")),
                params: MailParams::default()
            })
        );
        assert_eq!(
            parse("mail from:<>"),
            Ok(LmtpCommand::Mail {
                reverse_path: ReversePath::Null,
                params: MailParams::default()
            })
        );
        let Ok(LmtpCommand::Mail { params, .. }) =
            parse("MAIL FROM:<a@b> SIZE=12345 body=8bitmime AUTH=<> X-Y")
        else {
            panic!("MAIL did not parse");
        };
        assert_eq!(params.size, Some(12345));
        assert_eq!(params.body, Some(BodyType::EightBitMime));
        assert_eq!(
            params.other,
            vec![
                EsmtpParam {
                    keyword: "AUTH".into(),
                    value: Some("<>".into())
                },
                EsmtpParam {
                    keyword: "X-Y".into(),
                    value: None
                }
            ]
        );
        let Ok(LmtpCommand::Mail { params, .. }) = parse("MAIL FROM:<> BODY=7BIT") else {
            panic!("MAIL did not parse");
        };
        assert_eq!(params.body, Some(BodyType::SevenBit));
    }

    #[test]
    fn mail_from_errors() {
        assert_eq!(
            parse("MAIL"),
            Err(LmtpCommandError::Syntax {
                expected: "MAIL FROM:<address>"
            })
        );
        assert_eq!(
            parse("MAIL TO:<a@b>"),
            Err(LmtpCommandError::Syntax {
                expected: "MAIL FROM:<address>"
            })
        );
        assert_eq!(
            parse("MAIL FROM: <a@b>"),
            Err(LmtpCommandError::InvalidSender(PathError::MissingBrackets))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b"),
            Err(LmtpCommandError::InvalidSender(PathError::MissingBrackets))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b>SIZE=1"),
            Err(LmtpCommandError::Syntax {
                expected: "a space after the address"
            })
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> SIZE=x"),
            Err(LmtpCommandError::InvalidParameter("SIZE".into()))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> SIZE"),
            Err(LmtpCommandError::InvalidParameter("SIZE".into()))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> SIZE=99999999999999999999999"),
            Err(LmtpCommandError::InvalidParameter("SIZE".into()))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> SIZE=1 SIZE=2"),
            Err(LmtpCommandError::DuplicateParameter("SIZE".into()))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> BODY=BINARYMIME"),
            Err(LmtpCommandError::UnsupportedBody)
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> =x"),
            Err(LmtpCommandError::InvalidParameter("=x".into()))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> K=a=b"),
            Err(LmtpCommandError::InvalidParameter("K=a=b".into()))
        );
        assert_eq!(
            parse("MAIL FROM:<a@b> X X"),
            Err(LmtpCommandError::DuplicateParameter("X".into()))
        );
        assert_eq!(
            reply_text(LmtpCommandError::InvalidSender(PathError::InvalidDomain)),
            "501 5.1.7 Invalid sender address: invalid domain\r\n"
        );
    }

    #[test]
    fn rcpt_to_forms() {
        assert_eq!(
            parse("RCPT TO:<user+box@example.com>"),
            Ok(LmtpCommand::Rcpt {
                forward_path: addr("user+box", "example.com"),
                params: RcptParams::default()
            })
        );
        let Ok(LmtpCommand::Rcpt { params, .. }) =
            parse("rcpt to:<u@x> ORCPT=rfc822;Orig+2Bdetail@x NOTIFY=NEVER")
        else {
            panic!("RCPT did not parse");
        };
        assert_eq!(
            params.orcpt,
            Some(("rfc822".into(), "Orig+detail@x".into()))
        );
        assert_eq!(
            params.other,
            vec![EsmtpParam {
                keyword: "NOTIFY".into(),
                value: Some("NEVER".into())
            }]
        );
    }

    #[test]
    fn rcpt_to_errors() {
        assert_eq!(
            parse("RCPT TO:<>"),
            Err(LmtpCommandError::InvalidRecipient(
                PathError::NullPathNotAllowed
            ))
        );
        assert_eq!(
            parse("RCPT TO:u@x"),
            Err(LmtpCommandError::InvalidRecipient(
                PathError::MissingBrackets
            ))
        );
        assert_eq!(
            parse("RCPT FROM:<u@x>"),
            Err(LmtpCommandError::Syntax {
                expected: "RCPT TO:<address>"
            })
        );
        assert_eq!(
            parse("RCPT TO:<u@x> ORCPT=bad"),
            Err(LmtpCommandError::InvalidParameter("ORCPT".into()))
        );
        assert_eq!(
            parse("RCPT TO:<u@x> ORCPT=rfc822;a+ZZ"),
            Err(LmtpCommandError::InvalidParameter("ORCPT".into()))
        );
        assert_eq!(
            parse("RCPT TO:<u@x> ORCPT=rfc822;a+4"),
            Err(LmtpCommandError::InvalidParameter("ORCPT".into()))
        );
        assert_eq!(
            reply_text(LmtpCommandError::InvalidRecipient(
                PathError::NullPathNotAllowed
            )),
            "501 5.1.3 Invalid recipient address: null path not allowed here\r\n"
        );
    }

    #[test]
    fn workarounds() {
        let lenient = LmtpParserOptions {
            whitespace_before_path: true,
            mailbox_for_path: true,
        };
        assert_eq!(
            LmtpCommand::parse(b"MAIL FROM:  <a@b>", &lenient),
            Ok(LmtpCommand::Mail {
                reverse_path: ReversePath::Address(addr("a", "b")),
                params: MailParams::default()
            })
        );
        assert_eq!(
            LmtpCommand::parse(b"RCPT TO: u@x NOTIFY=NEVER", &lenient).map(|c| c.name()),
            Ok("RCPT")
        );
    }

    #[test]
    fn simple_commands() {
        assert_eq!(parse("DATA"), Ok(LmtpCommand::Data));
        assert_eq!(parse("rset"), Ok(LmtpCommand::Rset));
        assert_eq!(parse("NOOP"), Ok(LmtpCommand::Noop));
        assert_eq!(parse("NOOP anything at all"), Ok(LmtpCommand::Noop));
        assert_eq!(parse("QUIT"), Ok(LmtpCommand::Quit));
        assert_eq!(parse("STARTTLS"), Ok(LmtpCommand::StartTls));
        assert_eq!(
            parse("VRFY postmaster"),
            Ok(LmtpCommand::Vrfy("postmaster".into()))
        );
        assert_eq!(
            parse("VRFY"),
            Err(LmtpCommandError::MissingArgument { command: "VRFY" })
        );
        assert_eq!(
            parse("DATA x"),
            Err(LmtpCommandError::UnexpectedArgument { command: "DATA" })
        );
        assert_eq!(
            parse("QUIT now"),
            Err(LmtpCommandError::UnexpectedArgument { command: "QUIT" })
        );
        assert_eq!(
            parse("RSET x"),
            Err(LmtpCommandError::UnexpectedArgument { command: "RSET" })
        );
    }

    #[test]
    fn unknown_empty_and_reply_codes() {
        assert_eq!(parse(""), Err(LmtpCommandError::Empty));
        assert_eq!(parse("BDAT 10 LAST"), Err(LmtpCommandError::Unknown));
        assert_eq!(parse("VERYLONGKEYWORD"), Err(LmtpCommandError::Unknown));
        assert_eq!(
            reply_text(LmtpCommandError::Unknown),
            "500 5.5.1 Unknown command\r\n"
        );
        assert_eq!(
            reply_text(LmtpCommandError::LineTooLong),
            "500 5.5.2 Line too long\r\n"
        );
        assert_eq!(
            reply_text(LmtpCommandError::MissingArgument { command: "LHLO" }),
            "501 5.5.2 LHLO: missing argument\r\n"
        );
        assert_eq!(
            reply_text(LmtpCommandError::UnsupportedBody),
            "501 5.5.4 Unsupported BODY type\r\n"
        );
        assert_eq!(
            LmtpCommand::parse(b"VRFY \xff", &LmtpParserOptions::default()),
            Err(LmtpCommandError::NotUtf8)
        );
    }

    #[test]
    fn names() {
        for line in [
            "LHLO x",
            "MAIL FROM:<>",
            "RCPT TO:<a@b>",
            "DATA",
            "RSET",
            "NOOP",
            "QUIT",
            "VRFY a",
            "STARTTLS",
        ] {
            let command = parse(line).unwrap();
            assert!(line.starts_with(command.name()), "{line}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let options = LmtpParserOptions {
            whitespace_before_path: true,
            mailbox_for_path: true,
        };
        let alphabet = b"<>@:=; +\"\\aZ9\xff";
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let tail = [*a, *b, *c];
                    for prefix in [
                        &b"MAIL FROM:<x@y> "[..],
                        b"RCPT TO:",
                        b"RCPT TO:<u@x> ORCPT=rfc822;",
                        b"LHLO ",
                    ] {
                        let mut line = prefix.to_vec();
                        line.extend_from_slice(&tail);
                        let _ = LmtpCommand::parse(&line, &options);
                    }
                }
            }
        }
        assert_eq!(parse("NOOP"), Ok(LmtpCommand::Noop));
    }
}
