//! Frame → typed [`Command`]. Total: any bytes give a command or a
//! [`ParseError`] that carries the tag when one could be read, so the
//! session can answer `tag BAD ...` (or `* BAD ...`).

use super::base64;
use super::parse::cursor::{Cursor, Fail, PResult};
use super::parse::mailbox::{append, list, select_params, status_item};
use super::parse::message::{copy_or_move, fetch, search, sort, store, thread};
use super::parse::urlauth;
use super::types::{
    AString, AuthenticateData, Command, CommandBody, InitialResponse, Secret, SelectParams, Tag,
    is_astring_char,
};

/// What was wrong, in words fit for the text of a BAD response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("missing or invalid tag")]
    InvalidTag,
    #[error("unknown command")]
    UnknownCommand,
    #[error("expected {0}")]
    Expected(&'static str),
    #[error("invalid number")]
    InvalidNumber,
    #[error("invalid date")]
    InvalidDate,
    #[error("literal longer than the command")]
    Incomplete,
    #[error("NUL in a non-binary literal")]
    NulInLiteral,
    #[error("unexpected data after the command")]
    TrailingData,
    #[error("nesting too deep")]
    TooDeep,
    #[error("invalid base64")]
    InvalidBase64,
    #[error("VANISHED requires CHANGEDSINCE")]
    VanishedWithoutChangedSince,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {position})")]
pub struct ParseError {
    /// The command's tag, when it could be read: answer `tag BAD`, else
    /// `* BAD`.
    pub tag: Option<Tag>,
    pub kind: ParseErrorKind,
    pub position: usize,
}

/// Parses one complete command frame (see [`super::framing`]).
pub fn parse_command(frame: &[u8]) -> Result<Command, ParseError> {
    let tag_end = frame
        .iter()
        .position(|&b| !is_astring_char(b))
        .unwrap_or(frame.len());
    let tag = Tag::try_from(&frame[..tag_end]).map_err(|_| ParseError {
        tag: None,
        kind: ParseErrorKind::InvalidTag,
        position: 0,
    })?;
    let mut c = Cursor::at(frame, tag_end);
    let body = body_to_eol(&mut c).map_err(|f| ParseError {
        tag: Some(tag.clone()),
        kind: f.kind,
        position: f.pos,
    })?;
    Ok(Command { tag, body })
}

fn body_to_eol(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let body = command_body(c)?;
    c.eol()?;
    Ok(body)
}

/// A line sent in answer to an AUTHENTICATE challenge: base64 or `*`.
pub fn parse_authenticate_data(line: &[u8]) -> Result<AuthenticateData, ParseError> {
    let line = strip_eol(line);
    if line == b"*" {
        return Ok(AuthenticateData::Cancel);
    }
    base64::decode(line)
        .map(|d| AuthenticateData::Response(Secret::new(d)))
        .ok_or(ParseError {
            tag: None,
            kind: ParseErrorKind::InvalidBase64,
            position: 0,
        })
}

/// The line that ends IDLE: `DONE`, any case.
pub fn parse_idle_done(line: &[u8]) -> Result<(), ParseError> {
    if strip_eol(line).eq_ignore_ascii_case(b"DONE") {
        Ok(())
    } else {
        Err(ParseError {
            tag: None,
            kind: ParseErrorKind::Expected("DONE"),
            position: 0,
        })
    }
}

fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn command_body(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    use CommandBody as B;
    let start = c.pos();
    let name = c.token().to_ascii_uppercase();
    let body = match name.as_slice() {
        b"CAPABILITY" => B::Capability,
        b"NOOP" => B::Noop,
        b"LOGOUT" => B::Logout,
        b"STARTTLS" => B::StartTls,
        b"NAMESPACE" => B::Namespace,
        b"IDLE" => B::Idle,
        b"CHECK" => B::Check,
        b"CLOSE" => B::Close,
        b"UNSELECT" => B::Unselect,
        b"EXPUNGE" => B::Expunge,
        b"AUTHENTICATE" => authenticate(c)?,
        b"LOGIN" => {
            c.sp()?;
            let username = AString::new(c.astring()?);
            c.sp()?;
            let password = Secret::from(c.astring()?);
            B::Login { username, password }
        }
        b"ENABLE" => {
            let mut capabilities = Vec::new();
            while c.peek() == Some(b' ') || capabilities.is_empty() {
                c.sp()?;
                capabilities.push(c.atom()?);
            }
            B::Enable { capabilities }
        }
        b"ID" => id(c)?,
        b"SELECT" | b"EXAMINE" => {
            c.sp()?;
            let mailbox = c.mailbox()?;
            let params = if c.peek() == Some(b' ') {
                c.sp()?;
                select_params(c)?
            } else {
                SelectParams::default()
            };
            if name == b"SELECT" {
                B::Select { mailbox, params }
            } else {
                B::Examine { mailbox, params }
            }
        }
        b"CREATE" => {
            c.sp()?;
            let mailbox = c.mailbox()?;
            let mut special_use = Vec::new();
            if c.peek() == Some(b' ') {
                c.sp()?;
                c.expect(b'(', "(")?;
                if !c.keyword("USE") {
                    return c.fail(ParseErrorKind::Expected("USE"));
                }
                c.sp()?;
                special_use = c.flag_list()?;
                c.expect(b')', ")")?;
            }
            B::Create {
                mailbox,
                special_use,
            }
        }
        b"DELETE" => B::Delete {
            mailbox: sp_mailbox(c)?,
        },
        b"RENAME" => {
            let from = sp_mailbox(c)?;
            B::Rename {
                from,
                to: sp_mailbox(c)?,
            }
        }
        b"SUBSCRIBE" => B::Subscribe {
            mailbox: sp_mailbox(c)?,
        },
        b"UNSUBSCRIBE" => B::Unsubscribe {
            mailbox: sp_mailbox(c)?,
        },
        b"LIST" => list(c)?,
        b"LSUB" => {
            let reference = sp_mailbox(c)?;
            c.sp()?;
            B::Lsub {
                reference,
                pattern: c.list_mailbox()?,
            }
        }
        b"STATUS" => {
            let mailbox = sp_mailbox(c)?;
            c.sp()?;
            B::Status {
                mailbox,
                items: c.paren_list(status_item)?,
            }
        }
        b"APPEND" => append(c)?,
        b"UID" => {
            c.sp()?;
            uid_command(c)?
        }
        b"SEARCH" => search(c, false)?,
        b"FETCH" => fetch(c, false)?,
        b"STORE" => store(c, false)?,
        b"COPY" => copy_or_move(c, false, false)?,
        b"MOVE" => copy_or_move(c, false, true)?,
        b"SORT" => sort(c, false)?,
        b"THREAD" => thread(c, false)?,
        b"GENURLAUTH" => urlauth::genurlauth(c)?,
        b"RESETKEY" => urlauth::resetkey(c)?,
        b"URLFETCH" => urlauth::urlfetch(c)?,
        b"COMPRESS" => {
            c.sp()?;
            B::Compress {
                algorithm: c.atom()?,
            }
        }
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::UnknownCommand,
                pos: start,
            });
        }
    };
    Ok(body)
}

fn uid_command(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let start = c.pos();
    let name = c.token().to_ascii_uppercase();
    match name.as_slice() {
        b"SEARCH" => search(c, true),
        b"FETCH" => fetch(c, true),
        b"STORE" => store(c, true),
        b"COPY" => copy_or_move(c, true, false),
        b"MOVE" => copy_or_move(c, true, true),
        b"SORT" => sort(c, true),
        b"THREAD" => thread(c, true),
        b"EXPUNGE" => {
            c.sp()?;
            Ok(CommandBody::UidExpunge {
                uids: c.sequence_set()?,
            })
        }
        _ => Err(Fail {
            kind: ParseErrorKind::UnknownCommand,
            pos: start,
        }),
    }
}

fn sp_mailbox(c: &mut Cursor<'_>) -> PResult<super::types::Mailbox> {
    c.sp()?;
    c.mailbox()
}

fn authenticate(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mechanism = c.atom()?;
    let initial_response = if c.peek() == Some(b' ') {
        c.sp()?;
        let start = c.pos();
        let token = c.token();
        if token == b"=" {
            Some(InitialResponse(Secret::new(Vec::new())))
        } else {
            match base64::decode(token) {
                Some(data) if !token.is_empty() => Some(InitialResponse(Secret::new(data))),
                _ => {
                    return Err(Fail {
                        kind: ParseErrorKind::InvalidBase64,
                        pos: start,
                    });
                }
            }
        }
    } else {
        None
    };
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

fn id(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    if c.keyword("NIL") {
        return Ok(CommandBody::Id { parameters: None });
    }
    let mut pairs = Vec::new();
    c.expect(b'(', "( or NIL")?;
    // RFC 2971 allows `()` in practice (some clients send it).
    while !c.eat(b')') {
        if !pairs.is_empty() {
            c.sp()?;
        }
        let key = AString::new(c.string()?);
        c.sp()?;
        let value = c.nstring()?.map(AString::new);
        pairs.push((key, value));
    }
    Ok(CommandBody::Id {
        parameters: Some(pairs),
    })
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
