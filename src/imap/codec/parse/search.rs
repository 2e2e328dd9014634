//! SEARCH key grammar with a nesting bound.

use super::cursor::{Cursor, PResult};
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{AString, Atom, EntryType, SearchKey};

/// Deepest nesting of `(...)`, NOT and OR accepted; deeper input is
/// refused rather than risking the stack.
pub(crate) const MAX_SEARCH_DEPTH: usize = 32;

/// `search-key *(SP search-key)` up to the end of the line. One key is
/// returned as is; several are wrapped in `And`.
pub(crate) fn search_keys(c: &mut Cursor<'_>) -> PResult<SearchKey> {
    let mut keys = vec![search_key(c, 0)?];
    while c.peek() == Some(b' ') {
        c.sp()?;
        keys.push(search_key(c, 0)?);
    }
    Ok(if keys.len() == 1 {
        keys.remove(0)
    } else {
        SearchKey::And(keys)
    })
}

fn astring(c: &mut Cursor<'_>) -> PResult<AString> {
    c.sp()?;
    Ok(AString::new(c.astring()?))
}

fn keyword_flag(c: &mut Cursor<'_>) -> PResult<crate::imap::codec::types::Flag> {
    c.sp()?;
    let start = c.pos();
    let atom = c.atom()?;
    crate::imap::codec::types::Flag::from_atom_bytes(atom.as_str().as_bytes()).map_or_else(
        || {
            Err(super::cursor::Fail {
                kind: ParseErrorKind::Expected("keyword"),
                pos: start,
            })
        },
        Ok,
    )
}

pub(crate) fn search_key(c: &mut Cursor<'_>, depth: usize) -> PResult<SearchKey> {
    if depth >= MAX_SEARCH_DEPTH {
        return c.fail(ParseErrorKind::TooDeep);
    }
    match c.peek() {
        Some(b'(') => {
            c.eat(b'(');
            let mut keys = vec![search_key(c, depth + 1)?];
            while !c.eat(b')') {
                c.sp()?;
                keys.push(search_key(c, depth + 1)?);
            }
            return Ok(SearchKey::And(keys));
        }
        Some(b'0'..=b'9' | b'*' | b'$') => return Ok(SearchKey::SequenceSet(c.sequence_set()?)),
        _ => {}
    }
    let start = c.pos();
    let name = c.token().to_ascii_uppercase();
    let key = match name.as_slice() {
        b"ALL" => SearchKey::All,
        b"ANSWERED" => SearchKey::Answered,
        b"BCC" => SearchKey::Bcc(astring(c)?),
        b"BEFORE" => SearchKey::Before(sp_date(c)?),
        b"BODY" => SearchKey::Body(astring(c)?),
        b"CC" => SearchKey::Cc(astring(c)?),
        b"DELETED" => SearchKey::Deleted,
        b"DRAFT" => SearchKey::Draft,
        b"FLAGGED" => SearchKey::Flagged,
        b"FROM" => SearchKey::From(astring(c)?),
        b"HEADER" => {
            let field = astring(c)?;
            SearchKey::Header(field, astring(c)?)
        }
        b"KEYWORD" => SearchKey::Keyword(keyword_flag(c)?),
        b"LARGER" => {
            c.sp()?;
            SearchKey::Larger(c.number64()?)
        }
        b"NEW" => SearchKey::New,
        b"NOT" => {
            c.sp()?;
            SearchKey::Not(Box::new(search_key(c, depth + 1)?))
        }
        b"OLD" => SearchKey::Old,
        b"ON" => SearchKey::On(sp_date(c)?),
        b"OR" => {
            c.sp()?;
            let a = search_key(c, depth + 1)?;
            c.sp()?;
            let b = search_key(c, depth + 1)?;
            SearchKey::Or(Box::new(a), Box::new(b))
        }
        b"RECENT" => SearchKey::Recent,
        b"SEEN" => SearchKey::Seen,
        b"SENTBEFORE" => SearchKey::SentBefore(sp_date(c)?),
        b"SENTON" => SearchKey::SentOn(sp_date(c)?),
        b"SENTSINCE" => SearchKey::SentSince(sp_date(c)?),
        b"SINCE" => SearchKey::Since(sp_date(c)?),
        b"SMALLER" => {
            c.sp()?;
            SearchKey::Smaller(c.number64()?)
        }
        b"SUBJECT" => SearchKey::Subject(astring(c)?),
        b"TEXT" => SearchKey::Text(astring(c)?),
        b"TO" => SearchKey::To(astring(c)?),
        b"UID" => {
            c.sp()?;
            SearchKey::Uid(c.sequence_set()?)
        }
        b"UNANSWERED" => SearchKey::Unanswered,
        b"UNDELETED" => SearchKey::Undeleted,
        b"UNDRAFT" => SearchKey::Undraft,
        b"UNFLAGGED" => SearchKey::Unflagged,
        b"UNKEYWORD" => SearchKey::Unkeyword(keyword_flag(c)?),
        b"UNSEEN" => SearchKey::Unseen,
        b"MODSEQ" => modseq(c)?,
        b"OLDER" => {
            c.sp()?;
            SearchKey::Older(c.nz_number()?.get())
        }
        b"YOUNGER" => {
            c.sp()?;
            SearchKey::Younger(c.nz_number()?.get())
        }
        // RFC 8514 §3 names them SAVEDBEFORE/SAVEDON/SAVEDSINCE (as Dovecot
        // does); the SAVEDATE… spellings stay accepted.
        b"SAVEDBEFORE" | b"SAVEDATEBEFORE" => SearchKey::SaveDateBefore(sp_date(c)?),
        b"SAVEDON" | b"SAVEDATEON" => SearchKey::SaveDateOn(sp_date(c)?),
        b"SAVEDSINCE" | b"SAVEDATESINCE" => SearchKey::SaveDateSince(sp_date(c)?),
        b"SAVEDATESUPPORTED" => SearchKey::SaveDateSupported,
        b"EMAILID" => SearchKey::EmailId(object_id(c)?),
        b"THREADID" => SearchKey::ThreadId(object_id(c)?),
        _ => {
            return Err(super::cursor::Fail {
                kind: ParseErrorKind::Expected("search key"),
                pos: start,
            });
        }
    };
    Ok(key)
}

fn sp_date(c: &mut Cursor<'_>) -> PResult<crate::imap::codec::types::ImapDate> {
    c.sp()?;
    c.date()
}

/// RFC 8474 objectid: 1*255 of ALPHA / DIGIT / "_" / "-".
fn object_id(c: &mut Cursor<'_>) -> PResult<Atom> {
    c.sp()?;
    let start = c.pos();
    let atom = c.atom()?;
    let s = atom.as_str();
    if s.len() > 255
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(super::cursor::Fail {
            kind: ParseErrorKind::Expected("object id"),
            pos: start,
        });
    }
    Ok(atom)
}

/// `MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer`.
fn modseq(c: &mut Cursor<'_>) -> PResult<SearchKey> {
    c.sp()?;
    let entry = if c.peek() == Some(b'"') {
        let start = c.pos();
        let raw = c.quoted()?;
        // entry-flag-name: "/flags/" attr-flag (RFC 7162 section 7).
        let is_flag_entry = raw.len() > 7
            && raw[..7].eq_ignore_ascii_case(b"/flags/")
            && crate::imap::codec::types::Flag::from_atom_bytes(&raw[7..]).is_some();
        if !is_flag_entry {
            return Err(super::cursor::Fail {
                kind: ParseErrorKind::Expected("/flags/ entry name"),
                pos: start,
            });
        }
        let name = AString::new(raw);
        c.sp()?;
        let start = c.pos();
        let kind = match c.token().to_ascii_uppercase().as_slice() {
            b"PRIV" => EntryType::Private,
            b"SHARED" => EntryType::Shared,
            b"ALL" => EntryType::All,
            _ => {
                return Err(super::cursor::Fail {
                    kind: ParseErrorKind::Expected("priv, shared or all"),
                    pos: start,
                });
            }
        };
        c.sp()?;
        Some((name, kind))
    } else {
        None
    };
    Ok(SearchKey::ModSeq {
        entry,
        modseq: c.mod_sequence(true)?,
    })
}
