//! Arguments of CATENATE (RFC 4469, inside APPEND) and of the URLAUTH
//! commands (RFC 4467: GENURLAUTH, RESETKEY, URLFETCH; RFC 5524's
//! URLFETCH parameters).

use super::cursor::{Cursor, PResult};
use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    AppendData, CatenatePart, CommandBody, UrlFetchParams, UrlFetchRequest,
};
use crate::message::{Section, SectionText};

/// `CATENATE (TEXT literal / URL astring ...)`, cursor after `CATENATE`.
pub(crate) fn catenate(c: &mut Cursor<'_>) -> PResult<AppendData> {
    c.sp()?;
    let parts = c.paren_list(|c| {
        if c.keyword("TEXT") {
            c.sp()?;
            // RFC 4469 with RFC 3516: literal8 is allowed too.
            Ok(CatenatePart::Text(c.literal(true)?.0))
        } else if c.keyword("URL") {
            c.sp()?;
            Ok(CatenatePart::Url(c.astring()?))
        } else {
            c.fail(ParseErrorKind::Expected("TEXT or URL"))
        }
    })?;
    if parts.is_empty() {
        return c.fail(ParseErrorKind::Expected("TEXT or URL"));
    }
    Ok(AppendData::Catenate(parts))
}

/// `GENURLAUTH 1*(SP url-rump SP mechanism)`.
pub(crate) fn genurlauth(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut requests = Vec::new();
    while requests.is_empty() || c.peek() == Some(b' ') {
        c.sp()?;
        let url = c.astring()?;
        c.sp()?;
        requests.push((url, c.atom()?));
    }
    Ok(CommandBody::GenUrlAuth { requests })
}

/// `RESETKEY [SP mailbox *(SP mechanism)]`.
pub(crate) fn resetkey(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut mailbox = None;
    let mut mechanisms = Vec::new();
    if c.peek() == Some(b' ') {
        c.sp()?;
        mailbox = Some(c.mailbox()?);
        while c.peek() == Some(b' ') {
            c.sp()?;
            mechanisms.push(c.atom()?);
        }
    }
    Ok(CommandBody::ResetKey {
        mailbox,
        mechanisms,
    })
}

/// `URLFETCH 1*(SP (url / "(" url *(SP param) ")"))`.
pub(crate) fn urlfetch(c: &mut Cursor<'_>) -> PResult<CommandBody> {
    let mut urls = Vec::new();
    while urls.is_empty() || c.peek() == Some(b' ') {
        c.sp()?;
        if !c.eat(b'(') {
            urls.push(UrlFetchRequest {
                url: c.astring()?,
                params: None,
            });
            continue;
        }
        let url = c.astring()?;
        let mut params = UrlFetchParams::default();
        while !c.eat(b')') {
            c.sp()?;
            if c.keyword("BODYPARTSTRUCTURE") {
                params.body_part_structure = true;
            } else if c.keyword("BINARY") {
                params.binary = true;
            } else if c.keyword("BODY") {
                params.body = true;
            } else {
                return c.fail(ParseErrorKind::Expected(
                    "BODY, BINARY or BODYPARTSTRUCTURE",
                ));
            }
        }
        if params.body && params.binary {
            return c.fail(ParseErrorKind::Expected("BODY or BINARY, not both"));
        }
        urls.push(UrlFetchRequest {
            url,
            params: Some(params),
        });
    }
    Ok(CommandBody::UrlFetch { urls })
}

/// A URL's `;SECTION=` value (percent-decoded) as a section spec, with
/// the grammar of `BODY[...]`; `None` when it is not one.
pub fn url_section(text: &str) -> Option<Section> {
    let wrapped = format!("[{text}]");
    let mut c = Cursor::new(wrapped.as_bytes());
    let section = super::fetch::section(&mut c).ok()?;
    c.rest().is_empty().then_some(())?;
    // HEADER.FIELDS lists are the only place a space may appear.
    match &section.text {
        Some(SectionText::HeaderFields(_) | SectionText::HeaderFieldsNot(_)) | None => {}
        Some(_) if text.contains(' ') => return None,
        Some(_) => {}
    }
    Some(section)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::codec::parse_command;

    fn body(line: &str) -> CommandBody {
        parse_command(format!("t {line}\r\n").as_bytes())
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .body
    }

    #[test]
    fn catenate_parts_in_order() {
        let CommandBody::Append { messages, .. } =
            body("APPEND Drafts (\\Seen) CATENATE (URL \"/INBOX/;UID=1\" TEXT {3+}\r\nabc URL x)")
        else {
            panic!("not an APPEND")
        };
        assert_eq!(
            messages[0].data,
            AppendData::Catenate(vec![
                CatenatePart::Url(b"/INBOX/;UID=1".to_vec()),
                CatenatePart::Text(b"abc".to_vec()),
                CatenatePart::Url(b"x".to_vec()),
            ])
        );
        assert!(parse_command(b"t APPEND INBOX CATENATE ()\r\n").is_err());
        assert!(parse_command(b"t APPEND INBOX CATENATE (FOO x)\r\n").is_err());
    }

    #[test]
    fn urlauth_commands() {
        assert_eq!(
            body("GENURLAUTH \"imap://a@h/INBOX/;UID=1;URLAUTH=anonymous\" INTERNAL x INTERNAL"),
            CommandBody::GenUrlAuth {
                requests: vec![
                    (
                        b"imap://a@h/INBOX/;UID=1;URLAUTH=anonymous".to_vec(),
                        "INTERNAL".try_into().unwrap()
                    ),
                    (b"x".to_vec(), "INTERNAL".try_into().unwrap()),
                ]
            }
        );
        assert!(parse_command(b"t GENURLAUTH x\r\n").is_err());
        assert_eq!(
            body("RESETKEY"),
            CommandBody::ResetKey {
                mailbox: None,
                mechanisms: vec![]
            }
        );
        let CommandBody::ResetKey { mechanisms, .. } = body("RESETKEY INBOX INTERNAL") else {
            panic!()
        };
        assert_eq!(mechanisms.len(), 1);
        let CommandBody::UrlFetch { urls } = body("URLFETCH a (b BINARY BODYPARTSTRUCTURE) (c)")
        else {
            panic!()
        };
        assert_eq!(urls[0].params, None);
        assert_eq!(
            urls[1].params,
            Some(UrlFetchParams {
                body: false,
                binary: true,
                body_part_structure: true
            })
        );
        assert_eq!(urls[2].params, Some(UrlFetchParams::default()));
        assert!(parse_command(b"t URLFETCH\r\n").is_err());
        assert!(parse_command(b"t URLFETCH (a BODY BINARY)\r\n").is_err());
        assert!(parse_command(b"t URLFETCH (a FOO)\r\n").is_err());
    }

    #[test]
    fn url_sections() {
        assert_eq!(
            url_section("1.2.MIME"),
            Some(Section {
                part: vec![1, 2],
                text: Some(SectionText::Mime)
            })
        );
        assert_eq!(
            url_section("HEADER.FIELDS (Subject)").map(|s| s.text),
            Some(Some(SectionText::HeaderFields(vec![b"Subject".to_vec()])))
        );
        assert_eq!(
            url_section("3"),
            Some(Section {
                part: vec![3],
                text: None
            })
        );
        assert_eq!(url_section("FOO"), None);
        assert_eq!(url_section("1]x"), None);
    }
}
