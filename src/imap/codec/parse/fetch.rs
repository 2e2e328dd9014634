//! FETCH attribute, section and modifier grammar.

use super::cursor::{Cursor, Fail, PResult};
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    FetchAttribute, FetchAttributes, FetchMacro, FetchModifiers, Partial, Section, SectionText,
};

/// A macro, one attribute, or a parenthesised list of attributes.
pub(crate) fn fetch_attributes(c: &mut Cursor<'_>) -> PResult<FetchAttributes> {
    if c.peek() == Some(b'(') {
        return Ok(FetchAttributes::List(c.paren_list(fetch_attribute)?));
    }
    if c.keyword("ALL") {
        return Ok(FetchAttributes::Macro(FetchMacro::All));
    }
    if c.keyword("FAST") {
        return Ok(FetchAttributes::Macro(FetchMacro::Fast));
    }
    if c.keyword("FULL") {
        return Ok(FetchAttributes::Macro(FetchMacro::Full));
    }
    Ok(FetchAttributes::List(vec![fetch_attribute(c)?]))
}

pub(crate) fn fetch_attribute(c: &mut Cursor<'_>) -> PResult<FetchAttribute> {
    use FetchAttribute as A;
    let start = c.pos();
    let name = c.token().to_ascii_uppercase();
    let bracket = c.peek() == Some(b'[');
    let att = match (name.as_slice(), bracket) {
        (b"ENVELOPE", false) => A::Envelope,
        (b"FLAGS", false) => A::Flags,
        (b"INTERNALDATE", false) => A::InternalDate,
        (b"RFC822", false) => A::Rfc822,
        (b"RFC822.HEADER", false) => A::Rfc822Header,
        (b"RFC822.SIZE", false) => A::Rfc822Size,
        (b"RFC822.TEXT", false) => A::Rfc822Text,
        (b"BODY", false) => A::Body,
        (b"BODYSTRUCTURE", false) => A::BodyStructure,
        (b"UID", false) => A::Uid,
        (b"MODSEQ", false) => A::ModSeq,
        (b"SAVEDATE", false) => A::SaveDate,
        (b"EMAILID", false) => A::EmailId,
        (b"THREADID", false) => A::ThreadId,
        (b"PREVIEW", false) => {
            let (lazy, fuzzy) = preview_modifiers(c)?;
            A::Preview { lazy, fuzzy }
        }
        (b"SNIPPET", false) => A::Snippet {
            lazy: preview_modifiers(c)?.0,
        },
        (b"BODY" | b"BODY.PEEK", true) => {
            let section = section(c)?;
            A::BodySection {
                peek: name.len() > 4,
                section,
                partial: partial(c)?,
            }
        }
        (b"BINARY" | b"BINARY.PEEK", true) => {
            let part = binary_section(c)?;
            A::Binary {
                peek: name.len() > 6,
                part,
                partial: partial(c)?,
            }
        }
        (b"BINARY.SIZE", true) => A::BinarySize {
            part: binary_section(c)?,
        },
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::Expected("fetch attribute"),
                pos: start,
            });
        }
    };
    Ok(att)
}

/// The optional `(LAZY)`, `(FUZZY)` or `(LAZY=FUZZY)` after PREVIEW or
/// SNIPPET: (lazy, fuzzy). An empty list is an error, as in Dovecot.
fn preview_modifiers(c: &mut Cursor<'_>) -> PResult<(bool, bool)> {
    if !c.rest().starts_with(b" (") {
        return Ok((false, false));
    }
    c.sp()?;
    let mods = c.paren_list(|c| {
        // Longest first: LAZY is a prefix of LAZY=FUZZY.
        if c.keyword("LAZY=FUZZY") {
            Ok((true, true))
        } else if c.keyword("LAZY") {
            Ok((true, false))
        } else if c.keyword("FUZZY") {
            Ok((false, true))
        } else {
            c.fail(ParseErrorKind::Expected("PREVIEW modifier"))
        }
    })?;
    if mods.is_empty() {
        return c.fail(ParseErrorKind::Expected("PREVIEW modifier"));
    }
    Ok(mods
        .iter()
        .fold((false, false), |(l, f), &(ml, mf)| (l || ml, f || mf)))
}

/// `1.2.3` (nz-numbers joined by dots). Stops before a `.` that is not
/// followed by a digit, leaving it for the section text.
fn section_part(c: &mut Cursor<'_>) -> PResult<Vec<u32>> {
    let mut part = vec![c.nz_number()?.get()];
    while c.rest().len() >= 2 && c.rest()[0] == b'.' && c.rest()[1].is_ascii_digit() {
        c.eat(b'.');
        part.push(c.nz_number()?.get());
    }
    Ok(part)
}

/// `[` section-spec `]`, cursor on `[`.
pub(crate) fn section(c: &mut Cursor<'_>) -> PResult<Section> {
    c.expect(b'[', "[")?;
    if c.eat(b']') {
        return Ok(Section::default());
    }
    let part = if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        let part = section_part(c)?;
        if c.eat(b']') {
            return Ok(Section { part, text: None });
        }
        c.expect(b'.', ".")?;
        part
    } else {
        Vec::new()
    };
    let start = c.pos();
    let text = match c.token().to_ascii_uppercase().as_slice() {
        b"HEADER" => SectionText::Header,
        b"TEXT" => SectionText::Text,
        b"MIME" if !part.is_empty() => SectionText::Mime,
        b"HEADER.FIELDS" => SectionText::HeaderFields(header_list(c)?),
        b"HEADER.FIELDS.NOT" => SectionText::HeaderFieldsNot(header_list(c)?),
        _ => {
            return Err(Fail {
                kind: ParseErrorKind::Expected("section text"),
                pos: start,
            });
        }
    };
    c.expect(b']', "]")?;
    Ok(Section {
        part,
        text: Some(text),
    })
}

fn header_list(c: &mut Cursor<'_>) -> PResult<Vec<Vec<u8>>> {
    c.sp()?;
    c.paren_list(|c| c.astring())
}

fn binary_section(c: &mut Cursor<'_>) -> PResult<Vec<u32>> {
    c.expect(b'[', "[")?;
    if c.eat(b']') {
        return Ok(Vec::new());
    }
    let part = section_part(c)?;
    c.expect(b']', "]")?;
    Ok(part)
}

/// Optional `<origin.length>`.
fn partial(c: &mut Cursor<'_>) -> PResult<Option<Partial>> {
    if !c.eat(b'<') {
        return Ok(None);
    }
    let origin = c.number()?;
    c.expect(b'.', ".")?;
    let length = c.nz_number()?.get();
    c.expect(b'>', ">")?;
    Ok(Some(Partial { origin, length }))
}

/// `(CHANGEDSINCE n [SP VANISHED] [SP PARTIAL range])` in any order
/// (RFC 7162, RFC 9394).
pub(crate) fn fetch_modifiers(c: &mut Cursor<'_>) -> PResult<FetchModifiers> {
    let mut mods = FetchModifiers::default();
    c.paren_list(|c| {
        if c.keyword("CHANGEDSINCE") {
            c.sp()?;
            mods.changed_since = Some(c.mod_sequence(false)?);
            Ok(())
        } else if c.keyword("VANISHED") {
            mods.vanished = true;
            Ok(())
        } else if c.keyword("PARTIAL") {
            c.sp()?;
            mods.partial = Some(super::context::partial_range(c)?);
            Ok(())
        } else {
            c.fail(ParseErrorKind::Expected("fetch modifier"))
        }
    })?;
    Ok(mods)
}
