//! Arguments of the connection-level commands: LOGIN, AUTHENTICATE (SASL-IR),
//! ENABLE, ID and COMPRESS.

use super::cursor::{Cursor, Fail, PResult};
use crate::imap::codec::base64;
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{AString, CommandBody, InitialResponse, Secret};

pub(crate) fn login(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    let username = AString::new(c.astring()?);
    c.sp()?;
    let password = Secret::from(c.astring()?);
    Ok(CommandBody::Login { username, password })
}

pub(crate) fn authenticate(c: &mut Cursor<'_>) -> PResult<CommandBody> {
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

pub(crate) fn enable(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut capabilities = Vec::new();
    while c.peek() == Some(b' ') || capabilities.is_empty() {
        c.sp()?;
        capabilities.push(c.atom()?);
    }
    Ok(CommandBody::Enable { capabilities })
}

pub(crate) fn id(c: &mut Cursor<'_>) -> PResult<CommandBody> {
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

pub(crate) fn compress(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    c.sp()?;
    Ok(CommandBody::Compress {
        algorithm: c.atom()?,
    })
}
