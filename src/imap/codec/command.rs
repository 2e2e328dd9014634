//! Frame → typed [`Command`]. Total: any bytes give a command or a
//! [`ParseError`] that carries the tag when one could be read, so the
//! session can answer `tag BAD ...` (or `* BAD ...`).

use super::base64;
use super::parse::cursor::{Cursor, Fail, PResult};
use super::parse::fetch::{fetch_attributes, fetch_modifiers};
use super::parse::search::search_keys;
use super::types::{
    AString, AuthenticateData, Command, CommandBody, Flag, InitialResponse, ListReturnOption,
    ListSelectOption, QResync, SearchCommand, SearchReturnOption, Secret, SelectParams,
    SortCriterion, SortKey, StatusItem, StoreAction, Tag, ThreadAlgorithm,
};
use super::types::{AppendMessage, is_astring_char};

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
            let password = Secret::new(AString::new(c.astring()?));
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

fn select_params(c: &mut Cursor<'_>) -> PResult<SelectParams> {
    let mut params = SelectParams::default();
    c.paren_list(|c| {
        if c.keyword("CONDSTORE") {
            params.condstore = true;
            Ok(())
        } else if c.keyword("QRESYNC") {
            c.sp()?;
            params.qresync = Some(qresync(c)?);
            Ok(())
        } else {
            c.fail(ParseErrorKind::Expected("CONDSTORE or QRESYNC"))
        }
    })?;
    Ok(params)
}

fn qresync(c: &mut Cursor<'_>) -> PResult<QResync> {
    c.expect(b'(', "(")?;
    let uid_validity = c.nz_number()?.get();
    c.sp()?;
    let modseq = c.mod_sequence(false)?;
    let mut known_uids = None;
    let mut seq_match = None;
    if c.peek() == Some(b' ') {
        c.sp()?;
        if c.peek() != Some(b'(') {
            known_uids = Some(c.sequence_set()?);
            if c.peek() == Some(b' ') {
                c.sp()?;
            }
        }
        if c.eat(b'(') {
            let seqs = c.sequence_set()?;
            c.sp()?;
            let uids = c.sequence_set()?;
            c.expect(b')', ")")?;
            seq_match = Some((seqs, uids));
        }
    }
    c.expect(b')', ")")?;
    Ok(QResync {
        uid_validity,
        modseq,
        known_uids,
        seq_match,
    })
}

fn list(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mut selection = Vec::new();
    if c.eat(b'(') {
        while !c.eat(b')') {
            if !selection.is_empty() {
                c.sp()?;
            }
            let atom = c.atom()?;
            selection.push(match atom.as_str().to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => ListSelectOption::Subscribed,
                "REMOTE" => ListSelectOption::Remote,
                "RECURSIVEMATCH" => ListSelectOption::RecursiveMatch,
                "SPECIAL-USE" => ListSelectOption::SpecialUse,
                _ => ListSelectOption::Other(atom),
            });
        }
        c.sp()?;
    }
    let reference = c.mailbox()?;
    c.sp()?;
    let patterns = if c.peek() == Some(b'(') {
        c.paren_list(|c| c.list_mailbox())?
    } else {
        vec![c.list_mailbox()?]
    };
    let mut return_options = Vec::new();
    if c.peek() == Some(b' ') {
        c.sp()?;
        if !c.keyword("RETURN") {
            return c.fail(ParseErrorKind::Expected("RETURN"));
        }
        c.sp()?;
        c.expect(b'(', "(")?;
        while !c.eat(b')') {
            if !return_options.is_empty() {
                c.sp()?;
            }
            let atom = c.atom()?;
            return_options.push(match atom.as_str().to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => ListReturnOption::Subscribed,
                "CHILDREN" => ListReturnOption::Children,
                "SPECIAL-USE" => ListReturnOption::SpecialUse,
                "STATUS" => {
                    c.sp()?;
                    ListReturnOption::Status(c.paren_list(status_item)?)
                }
                _ => ListReturnOption::Other(atom),
            });
        }
    }
    Ok(CommandBody::List {
        selection,
        reference,
        patterns,
        return_options,
    })
}

fn status_item(c: &mut Cursor<'_>) -> PResult<StatusItem> {
    let start = c.pos();
    let item = match c.token().to_ascii_uppercase().as_slice() {
        b"MESSAGES" => StatusItem::Messages,
        b"UIDNEXT" => StatusItem::UidNext,
        b"UIDVALIDITY" => StatusItem::UidValidity,
        b"UNSEEN" => StatusItem::Unseen,
        b"DELETED" => StatusItem::Deleted,
        b"SIZE" => StatusItem::Size,
        b"RECENT" => StatusItem::Recent,
        b"HIGHESTMODSEQ" => StatusItem::HighestModSeq,
        b"APPENDLIMIT" => StatusItem::AppendLimit,
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::Expected("status item"),
                pos: start,
            });
        }
    };
    Ok(item)
}

fn append(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(c)?;
    let mut messages = Vec::new();
    while c.peek() == Some(b' ') || messages.is_empty() {
        c.sp()?;
        let flags = if c.peek() == Some(b'(') {
            let flags = c.flag_list()?;
            c.sp()?;
            flags
        } else {
            Vec::new()
        };
        let date = if c.peek() == Some(b'"') {
            let date = c.date_time()?;
            c.sp()?;
            Some(date)
        } else {
            None
        };
        let (data, binary) = c.literal(true)?;
        messages.push(AppendMessage {
            flags,
            date,
            data,
            binary,
        });
    }
    Ok(CommandBody::Append { mailbox, messages })
}

/// `[RETURN (opts)] [CHARSET cs]` before search keys (SEARCH); returns the
/// options and leaves the cursor after the space that precedes the keys.
fn search_return(c: &mut Cursor<'_>) -> PResult<Option<Vec<SearchReturnOption>>> {
    if !c.keyword("RETURN") {
        return Ok(None);
    }
    c.sp()?;
    c.expect(b'(', "(")?;
    let mut opts = Vec::new();
    while !c.eat(b')') {
        if !opts.is_empty() {
            c.sp()?;
        }
        let start = c.pos();
        opts.push(match c.token().to_ascii_uppercase().as_slice() {
            b"MIN" => SearchReturnOption::Min,
            b"MAX" => SearchReturnOption::Max,
            b"ALL" => SearchReturnOption::All,
            b"COUNT" => SearchReturnOption::Count,
            b"SAVE" => SearchReturnOption::Save,
            _ => {
                return Err(Fail {
                    kind: ParseErrorKind::Expected("search return option"),
                    pos: start,
                });
            }
        });
    }
    c.sp()?;
    Ok(Some(opts))
}

fn search(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let return_options = search_return(c)?;
    let charset = if c.keyword("CHARSET") {
        c.sp()?;
        let cs = AString::new(c.astring()?);
        c.sp()?;
        Some(cs)
    } else {
        None
    };
    Ok(CommandBody::Search {
        uid,
        search: SearchCommand {
            return_options,
            charset,
            criteria: search_keys(c)?,
        },
    })
}

fn fetch(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let set = c.sequence_set()?;
    c.sp()?;
    let attributes = fetch_attributes(c)?;
    let modifiers = if c.peek() == Some(b' ') {
        c.sp()?;
        let pos = c.pos();
        let m = fetch_modifiers(c)?;
        if m.vanished && (m.changed_since.is_none() || !uid) {
            return Err(Fail {
                kind: ParseErrorKind::VanishedWithoutChangedSince,
                pos,
            });
        }
        m
    } else {
        Default::default()
    };
    Ok(CommandBody::Fetch {
        uid,
        set,
        attributes,
        modifiers,
    })
}

fn store(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let set = c.sequence_set()?;
    c.sp()?;
    let mut unchanged_since = None;
    if c.eat(b'(') {
        if !c.keyword("UNCHANGEDSINCE") {
            return c.fail(ParseErrorKind::Expected("UNCHANGEDSINCE"));
        }
        c.sp()?;
        unchanged_since = Some(c.mod_sequence(true)?);
        c.expect(b')', ")")?;
        c.sp()?;
    }
    let action = if c.eat(b'+') {
        StoreAction::Add
    } else if c.eat(b'-') {
        StoreAction::Remove
    } else {
        StoreAction::Replace
    };
    let silent = if c.keyword("FLAGS") {
        false
    } else if c.keyword("FLAGS.SILENT") {
        true
    } else {
        return c.fail(ParseErrorKind::Expected("FLAGS or FLAGS.SILENT"));
    };
    c.sp()?;
    let flags: Vec<Flag> = if c.peek() == Some(b'(') {
        c.flag_list()?
    } else {
        let mut flags = vec![c.flag()?];
        while c.peek() == Some(b' ') {
            c.sp()?;
            flags.push(c.flag()?);
        }
        flags
    };
    Ok(CommandBody::Store {
        uid,
        set,
        unchanged_since,
        action,
        silent,
        flags,
    })
}

fn copy_or_move(c: &mut Cursor<'_>, uid: bool, is_move: bool) -> PResult<CommandBody> {
    c.sp()?;
    let set = c.sequence_set()?;
    let mailbox = sp_mailbox(c)?;
    Ok(if is_move {
        CommandBody::Move { uid, set, mailbox }
    } else {
        CommandBody::Copy { uid, set, mailbox }
    })
}

fn sort_criterion(c: &mut Cursor<'_>) -> PResult<SortCriterion> {
    let reverse = if c.keyword("REVERSE") {
        c.sp()?;
        true
    } else {
        false
    };
    let start = c.pos();
    let key = match c.token().to_ascii_uppercase().as_slice() {
        b"ARRIVAL" => SortKey::Arrival,
        b"CC" => SortKey::Cc,
        b"DATE" => SortKey::Date,
        b"FROM" => SortKey::From,
        b"SIZE" => SortKey::Size,
        b"SUBJECT" => SortKey::Subject,
        b"TO" => SortKey::To,
        b"DISPLAYFROM" => SortKey::DisplayFrom,
        b"DISPLAYTO" => SortKey::DisplayTo,
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::Expected("sort key"),
                pos: start,
            });
        }
    };
    Ok(SortCriterion { reverse, key })
}

fn sort(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let return_options = search_return(c)?;
    let criteria = c.paren_list(sort_criterion)?;
    c.sp()?;
    let charset = AString::new(c.astring()?);
    c.sp()?;
    Ok(CommandBody::Sort {
        uid,
        criteria,
        search: SearchCommand {
            return_options,
            charset: Some(charset),
            criteria: search_keys(c)?,
        },
    })
}

fn thread(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let atom = c.atom()?;
    let algorithm = match atom.as_str().to_ascii_uppercase().as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        _ => ThreadAlgorithm::Other(atom),
    };
    c.sp()?;
    let charset = AString::new(c.astring()?);
    c.sp()?;
    Ok(CommandBody::Thread {
        uid,
        algorithm,
        charset,
        criteria: search_keys(c)?,
    })
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
