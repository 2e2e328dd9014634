//! Arguments of the mailbox commands: SELECT/EXAMINE (with their
//! parameters), CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, LIST
//! (LIST-EXTENDED), LSUB, STATUS and APPEND (MULTIAPPEND).

use super::cursor::{Cursor, Fail, PResult};
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    AppendData, AppendMessage, CommandBody, ListReturnOption, ListSelectOption, Mailbox, QResync,
    SelectParams, StatusItem,
};

pub(crate) fn select(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let (mailbox, params) = mailbox_and_select_params(c)?;
    Ok(CommandBody::Select { mailbox, params })
}

pub(crate) fn examine(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let (mailbox, params) = mailbox_and_select_params(c)?;
    Ok(CommandBody::Examine { mailbox, params })
}

fn mailbox_and_select_params(c: &mut Cursor<'_>) -> PResult<(Mailbox, SelectParams)> {
    let mailbox = sp_mailbox(c)?;
    let params = if c.peek() == Some(b' ') {
        c.sp()?;
        select_params(c)?
    } else {
        SelectParams::default()
    };
    Ok((mailbox, params))
}

pub(crate) fn select_params(c: &mut Cursor<'_>) -> PResult<SelectParams> {
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

pub(crate) fn qresync(c: &mut Cursor<'_>) -> PResult<QResync> {
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

pub(crate) fn list(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mut selection = Vec::new();
    let mut extended = false;
    if c.eat(b'(') {
        extended = true;
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
        extended = true;
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
        extended,
        selection,
        reference,
        patterns,
        return_options,
    })
}

pub(crate) fn status_item(c: &mut Cursor<'_>) -> PResult<StatusItem> {
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

pub(crate) fn append(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let mailbox = c.mailbox()?;
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
        let data = if c.keyword("CATENATE") {
            super::urlauth::catenate(c)?
        } else {
            let (bytes, binary) = c.literal(true)?;
            AppendData::Literal { bytes, binary }
        };
        messages.push(AppendMessage { flags, date, data });
    }
    Ok(CommandBody::Append { mailbox, messages })
}

pub(crate) fn create(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(c)?;
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
    Ok(CommandBody::Create {
        mailbox,
        special_use,
    })
}

pub(crate) fn delete(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    Ok(CommandBody::Delete {
        mailbox: sp_mailbox(c)?,
    })
}

pub(crate) fn rename(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let from = sp_mailbox(c)?;
    Ok(CommandBody::Rename {
        from,
        to: sp_mailbox(c)?,
    })
}

pub(crate) fn subscribe(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    Ok(CommandBody::Subscribe {
        mailbox: sp_mailbox(c)?,
    })
}

pub(crate) fn unsubscribe(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    Ok(CommandBody::Unsubscribe {
        mailbox: sp_mailbox(c)?,
    })
}

pub(crate) fn lsub(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let reference = sp_mailbox(c)?;
    c.sp()?;
    Ok(CommandBody::Lsub {
        reference,
        pattern: c.list_mailbox()?,
    })
}

pub(crate) fn status(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(c)?;
    c.sp()?;
    Ok(CommandBody::Status {
        mailbox,
        items: c.paren_list(status_item)?,
    })
}

fn sp_mailbox(c: &mut Cursor<'_>) -> PResult<Mailbox> {
    c.sp()?;
    c.mailbox()
}
