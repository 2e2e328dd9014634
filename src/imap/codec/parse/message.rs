//! Arguments of the message commands: EXPUNGE (UID EXPUNGE), SEARCH
//! (ESEARCH RETURN), FETCH, STORE, COPY/MOVE, SORT and THREAD.

use super::cursor::{Cursor, Fail, PResult};
use super::fetch::{fetch_attributes, fetch_modifiers};
use super::search::search_keys;
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    AString, CommandBody, Flag, Mailbox, SearchCommand, SequenceSet, SortCriterion, SortKey,
    StoreAction, ThreadAlgorithm,
};

use super::context::search_return;

pub(crate) fn search(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
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

pub(crate) fn fetch(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
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
        // RFC 9394 §3.3 extends UID FETCH only.
        if m.partial.is_some() && !uid {
            return Err(Fail {
                kind: ParseErrorKind::Expected("UID FETCH for PARTIAL"),
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

pub(crate) fn store(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
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

/// `EXPUNGE`, or `UID EXPUNGE set` (RFC 4315).
pub(crate) fn expunge(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    if !uid {
        return Ok(CommandBody::Expunge);
    }
    c.sp()?;
    Ok(CommandBody::UidExpunge {
        uids: c.sequence_set()?,
    })
}

pub(crate) fn copy(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    let (set, mailbox) = set_and_mailbox(c)?;
    Ok(CommandBody::Copy { uid, set, mailbox })
}

/// MOVE (RFC 6851); `move` is a keyword.
pub(crate) fn move_(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    let (set, mailbox) = set_and_mailbox(c)?;
    Ok(CommandBody::Move { uid, set, mailbox })
}

fn set_and_mailbox(c: &mut Cursor<'_>) -> PResult<(SequenceSet, Mailbox)> {
    c.sp()?;
    let set = c.sequence_set()?;
    c.sp()?;
    Ok((set, c.mailbox()?))
}

pub(crate) fn sort_criterion(c: &mut Cursor<'_>) -> PResult<SortCriterion> {
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

pub(crate) fn sort(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
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

pub(crate) fn thread(c: &mut Cursor<'_>, uid: bool) -> PResult<CommandBody> {
    c.sp()?;
    let atom = c.atom()?;
    let algorithm = match atom.as_str().to_ascii_uppercase().as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        "REFS" => ThreadAlgorithm::Refs,
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
