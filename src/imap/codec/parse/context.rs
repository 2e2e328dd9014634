//! RFC 5267 / RFC 9394 grammar: SEARCH and SORT return options (ESEARCH's
//! MIN MAX ALL COUNT SAVE plus UPDATE, CONTEXT, PARTIAL), `partial-range`
//! and CANCELUPDATE.

use super::cursor::{Cursor, Fail, PResult};
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{CommandBody, PartialRange, SearchReturnOption};

/// `RETURN (opts) SP`, or nothing when the next word is not RETURN.
pub(crate) fn search_return(c: &mut Cursor<'_>) -> PResult<Option<Vec<SearchReturnOption>>> {
    if !c.keyword("RETURN") {
        return Ok(None);
    }
    c.sp()?;
    c.expect(b'(', "(")?;
    let mut opts: Vec<SearchReturnOption> = Vec::new();
    while !c.eat(b')') {
        if !opts.is_empty() {
            c.sp()?;
        }
        let start = c.pos();
        let opt = return_option(c)?;
        // RFC 9394 §3.1: one PARTIAL or one ALL, never both or two.
        let windowed = |o: &SearchReturnOption| {
            matches!(o, SearchReturnOption::All | SearchReturnOption::Partial(_))
        };
        if windowed(&opt) && opts.iter().any(windowed) {
            return Err(Fail {
                kind: ParseErrorKind::Expected("one PARTIAL or ALL"),
                pos: start,
            });
        }
        opts.push(opt);
    }
    c.sp()?;
    Ok(Some(opts))
}

fn return_option(c: &mut Cursor<'_>) -> PResult<SearchReturnOption> {
    let start = c.pos();
    Ok(match c.token().to_ascii_uppercase().as_slice() {
        b"MIN" => SearchReturnOption::Min,
        b"MAX" => SearchReturnOption::Max,
        b"ALL" => SearchReturnOption::All,
        b"COUNT" => SearchReturnOption::Count,
        b"SAVE" => SearchReturnOption::Save,
        b"UPDATE" => SearchReturnOption::Update,
        b"CONTEXT" => SearchReturnOption::Context,
        b"PARTIAL" => {
            c.sp()?;
            SearchReturnOption::Partial(partial_range(c)?)
        }
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::Expected("search return option"),
                pos: start,
            });
        }
    })
}

/// `nz-number ":" nz-number` or `"-" nz-number ":" "-" nz-number`.
pub(crate) fn partial_range(c: &mut Cursor<'_>) -> PResult<PartialRange> {
    let start = c.pos();
    let from_end = c.eat(b'-');
    let a = c.nz_number()?;
    c.expect(b':', ":")?;
    if c.eat(b'-') != from_end {
        return Err(Fail {
            kind: ParseErrorKind::Expected("partial range"),
            pos: start,
        });
    }
    let b = c.nz_number()?;
    Ok(PartialRange::new(from_end, a, b))
}

/// `CANCELUPDATE 1*(SP quoted)` after the command name.
pub(crate) fn cancel_update(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut tags = Vec::new();
    while tags.is_empty() || c.peek() == Some(b' ') {
        c.sp()?;
        tags.push(c.quoted()?);
    }
    Ok(CommandBody::CancelUpdate { tags })
}
