//! PREVIEW (RFC 8970): a short plain-text taste of the message.

use crate::message::search::attachment_name;
use crate::message::transfer::{decode_charset, decode_transfer};
use crate::message::tree::{MimePart, PartKind};

/// Characters of preview text at most (RFC 8970 caps it at 256).
pub const PREVIEW_CHARS: usize = 200;

/// Most parts looked at while searching for the first text part.
const MAX_PARTS_VISITED: usize = 1000;

/// The preview of a message: the first text/plain (else text/html, as
/// text) part that is not an attachment, transfer- and charset-decoded,
/// every whitespace run collapsed to one space, trimmed, cut to
/// [`PREVIEW_CHARS`] characters. Empty when the message has no text.
pub fn preview(raw: &[u8], root: &MimePart) -> String {
    let Some(part) = first_text_part(raw, root) else {
        return String::new();
    };
    let Some(bytes) = decode_transfer(&raw[part.body.clone()], part.transfer_encoding(raw)) else {
        return String::new();
    };
    let text = decode_charset(&bytes, part.content_type.param("charset"));
    let text = if part.content_type.is("text", "html") {
        mail_parser::decoders::html::html_to_text(&text)
    } else {
        text
    };
    collapse(&text, PREVIEW_CHARS)
}

/// Whitespace runs → one space, trimmed, at most `max` characters.
pub fn collapse(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            if count >= max {
                break;
            }
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= max {
                break;
            }
            // Control characters cannot go in a quoted string.
            out.push(if c.is_control() { ' ' } else { c });
            count += 1;
        }
    }
    out.trim_end().to_string()
}

fn first_text_part<'p>(raw: &[u8], root: &'p MimePart) -> Option<&'p MimePart> {
    let mut html: Option<&MimePart> = None;
    let mut stack = vec![root];
    let mut visited = 0;
    while let Some(part) = stack.pop() {
        visited += 1;
        if visited > MAX_PARTS_VISITED {
            break;
        }
        match &part.kind {
            PartKind::Multipart(children) => stack.extend(children.iter().rev()),
            // Attached messages are not this message's text.
            PartKind::Message(_) => {}
            PartKind::Single => {
                if is_attachment(raw, part) {
                    continue;
                }
                if part.content_type.is("text", "plain") {
                    return Some(part);
                }
                if part.content_type.is("text", "html") && html.is_none() {
                    html = Some(part);
                }
            }
        }
    }
    html
}

/// An attachment is a part marked `attachment`, or a named part not
/// explicitly marked `inline` (how most clients attach text files).
fn is_attachment(raw: &[u8], part: &MimePart) -> bool {
    let disposition = part
        .header
        .get(raw, "content-disposition")
        .map(|v| v.trim_ascii().to_ascii_lowercase());
    match disposition {
        Some(d) if d.starts_with(b"attachment") => true,
        Some(d) if d.starts_with(b"inline") => false,
        _ => attachment_name(raw, part).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &[u8]) -> String {
        preview(raw, &MimePart::parse_message(raw))
    }

    #[test]
    fn plain_text_collapsed() {
        assert_eq!(
            p(b"Subject: x\r\n\r\n  Hello\r\n\r\n\tworld  again\r\n"),
            "Hello world again"
        );
        assert_eq!(p(b"Subject: x\r\n\r\n"), "");
    }

    #[test]
    fn prefers_plain_over_html_and_skips_attachments() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nattached\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 time\r\n--b--\r\n";
        assert_eq!(p(raw), "café time");
        let html_only = b"Content-Type: text/html\r\n\r\n<p>Hi <b>there</b></p>\r\n";
        assert_eq!(p(html_only), "Hi there");
        let inline_named = b"Content-Type: text/plain; name=note.txt\r\n\
Content-Disposition: inline\r\n\r\nshown\r\n";
        assert_eq!(p(inline_named), "shown");
        let named = b"Content-Type: text/plain; name=note.txt\r\n\r\nhidden\r\n";
        assert_eq!(p(named), "");
    }

    #[test]
    fn cut_to_length() {
        let long = "word ".repeat(100);
        let cut = collapse(&long, PREVIEW_CHARS);
        assert!(cut.chars().count() <= PREVIEW_CHARS);
        assert!(cut.starts_with("word word"));
        assert_eq!(collapse("ééé", 2), "éé");
    }
}
