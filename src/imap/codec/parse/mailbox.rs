//! Arguments of the mailbox commands: SELECT/EXAMINE parameters, LIST
//! (LIST-EXTENDED), STATUS items and APPEND (MULTIAPPEND).

use super::cursor::{Cursor, Fail, PResult};
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    AppendData, AppendMessage, CommandBody, ListReturnOption, ListSelectOption, QResync,
    SelectParams, StatusItem,
};

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
