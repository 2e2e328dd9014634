//! Frame → typed [`Command`]. Total: any bytes give a command or a
//! [`ParseError`] that carries the tag when one could be read, so the
//! session can answer `tag BAD ...` (or `* BAD ...`).

use super::base64;
use super::commands_table::CommandSpec;
use super::parse::cursor::{Cursor, Fail, PResult};
use super::types::{AuthenticateData, Command, CommandBody, Secret, Tag, is_astring_char};

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
    let (spec, uid, body) = body_to_eol(&mut c).map_err(|f| ParseError {
        tag: Some(tag.clone()),
        kind: f.kind,
        position: f.pos,
    })?;
    Ok(Command {
        tag,
        spec,
        uid,
        body,
    })
}

fn body_to_eol(c: &mut Cursor<'_>) -> PResult<(&'static CommandSpec, bool, CommandBody)> {
    c.sp()?;
    let command = command_body(c)?;
    c.eol()?;
    Ok(command)
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

/// The keyword (`UID` and the keyword for a UID form), looked up in the
/// [command table](super::commands_table), then its arguments.
fn command_body(c: &mut Cursor<'_>) -> PResult<(&'static CommandSpec, bool, CommandBody)> {
    let mut start = c.pos();
    let mut keyword = c.token();
    let uid = keyword.eq_ignore_ascii_case(b"UID");
    if uid {
        c.sp()?;
        start = c.pos();
        keyword = c.token();
    }
    let spec = if uid {
        CommandSpec::find_uid(keyword)
    } else {
        CommandSpec::find(keyword)
    };
    let Some(spec) = spec else {
        return Err(Fail {
            kind: ParseErrorKind::UnknownCommand,
            pos: start,
        });
    };
    Ok((spec, uid, spec.parse_arguments(c, uid)?))
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
