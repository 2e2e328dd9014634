//! PREVIEW (RFC 8970) and Dovecot's `PREVIEW=FUZZY` / `SNIPPET=FUZZY`: a
//! short plain-text taste of the message, made the way Dovecot 2.3 makes
//! its snippets so both servers show clients the same text.

use crate::message::transfer::{decode_charset, decode_transfer};
use crate::message::tree::{MimePart, PartKind};

/// Characters of preview text at most (Dovecot's snippet length; RFC 8970
/// caps it at 256).
pub const PREVIEW_CHARS: usize = 200;

/// Most parts looked at while searching for the text part.
const MAX_PARTS_VISITED: usize = 1000;

/// The preview of a message: its text part (see [`text_part`]) transfer-
/// and charset-decoded, HTML turned into text, quoted lines (`>` first on
/// the line) left out, whitespace runs made one space, cut to
/// [`PREVIEW_CHARS`] characters. Empty when the message has no text.
pub fn preview(raw: &[u8], root: &MimePart) -> String {
    let Some(part) = text_part(root) else {
        return String::new();
    };
    let Some(bytes) = decode_transfer(&raw[part.body.clone()], part.transfer_encoding(raw)) else {
        return String::new();
    };
    let text = decode_charset(&bytes, part.content_type.param("charset"));
    let text = if part.content_type.is("text", "html") {
        html_to_text(&text)
    } else {
        text
    };
    snippet(&text, PREVIEW_CHARS)
}

/// The part Dovecot takes its snippet from: the first `text/*` leaf in
/// order (attachments included, attached messages skipped), except that
/// in a `multipart/alternative` the `text/plain` alternative wins.
fn text_part(root: &MimePart) -> Option<&MimePart> {
    let mut stack = vec![root];
    let mut visited = 0;
    while let Some(part) = stack.pop() {
        visited += 1;
        if visited > MAX_PARTS_VISITED {
            break;
        }
        match &part.kind {
            PartKind::Multipart(children) => {
                if part.content_type.is("multipart", "alternative")
                    && let Some(plain) = children.iter().find(|c| {
                        matches!(c.kind, PartKind::Single) && c.content_type.is("text", "plain")
                    })
                {
                    return Some(plain);
                }
                stack.extend(children.iter().rev());
            }
            // Attached messages are not this message's text.
            PartKind::Message(_) => {}
            PartKind::Single if part.content_type.is_type("text") => return Some(part),
            PartKind::Single => {}
        }
    }
    None
}

/// Where [`snippet`] is in a line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    /// At the start of a line: a `>` here makes it a quoted line.
    Start,
    Text,
    Quoted,
}

/// Dovecot's snippet of plain text: lines starting with `>` dropped,
/// leading whitespace dropped, each whitespace run one space, byte-order
/// marks and NULs dropped, at most `max` characters.
pub fn snippet(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut left = max;
    let mut line = Line::Start;
    let mut pending_space = false;
    for c in text.chars() {
        match line {
            Line::Quoted => {
                if c == '\n' {
                    line = Line::Start;
                }
                continue;
            }
            Line::Start if c == '>' => {
                line = Line::Quoted;
                continue;
            }
            Line::Start | Line::Text => line = Line::Text,
        }
        match c {
            '\r' | '\n' | '\t' | ' ' => {
                pending_space |= !out.is_empty();
                if c == '\n' {
                    line = Line::Start;
                }
            }
            // Other control characters stay, as in Dovecot (a quoted
            // string may hold them); NUL cannot be sent at all.
            '\u{feff}' | '\0' => {}
            c => {
                if pending_space {
                    if left == 0 {
                        break;
                    }
                    out.push(' ');
                    left -= 1;
                    pending_space = false;
                }
                if left == 0 {
                    break;
                }
                out.push(c);
                left -= 1;
            }
        }
    }
    out
}

/// HTML as the text a snippet is made of, as Dovecot converts it: every
/// tag becomes a space, comments vanish, CDATA is text, `<style>`,
/// `<script>` and `<blockquote>` contents are left out, entities are
/// decoded (unknown ones dropped). Line breaks of the source stay.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut quote_depth = 0usize;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                if let Some(after) = rest.strip_prefix("<!--") {
                    rest = after.find("-->").map_or("", |i| &after[i + 3..]);
                    continue;
                }
                if let Some(after) = rest.strip_prefix("<![CDATA[") {
                    let end = after.find("]]>").unwrap_or(after.len());
                    if quote_depth == 0 {
                        out.push_str(&after[..end]);
                    }
                    rest = after.get(end + 3..).unwrap_or("");
                    continue;
                }
                let (name, closing, after) = tag(&rest[1..]);
                rest = after;
                match name.as_str() {
                    "style" | "script" if !closing => rest = skip_element(rest, &name),
                    "blockquote" if closing => quote_depth = quote_depth.saturating_sub(1),
                    "blockquote" => quote_depth += 1,
                    _ => {}
                }
                if quote_depth == 0 {
                    out.push(' ');
                }
            }
            '&' => {
                let (decoded, after) = entity(rest);
                if quote_depth == 0 {
                    out.push_str(&decoded);
                }
                rest = after;
            }
            c => {
                if quote_depth == 0 {
                    out.push(c);
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Reads a tag after its `<`: (lower-case name, closing, text after `>`).
/// Quoted attribute values may hold `>`.
fn tag(s: &str) -> (String, bool, &str) {
    let (closing, body) = match s.strip_prefix('/') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let name: String = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut quote: Option<char> = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return (name, closing, &body[i + 1..]),
            (None, _) => {}
        }
    }
    (name, closing, "")
}

/// Skips a `<style>` / `<script>` body: the text after its end tag.
fn skip_element<'a>(s: &'a str, name: &str) -> &'a str {
    let end_tag = format!("</{name}");
    let lower = s.to_ascii_lowercase();
    match lower.find(&end_tag) {
        Some(i) => tag(&s[i + 1..]).2,
        None => "",
    }
}

/// Longest entity name looked for before the `;`.
const MAX_ENTITY: usize = 32;

/// Decodes the entity at the start of `s` (which starts with `&`): its
/// text and what follows. Unknown entities give nothing; an `&` that
/// starts no entity stays itself.
fn entity(s: &str) -> (String, &str) {
    let body = &s[1..];
    let end = body
        .char_indices()
        .take(MAX_ENTITY)
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '#'))
        .filter(|&(_, c)| c == ';')
        .map(|(i, _)| i);
    let Some(end) = end else {
        return ("&".to_string(), body);
    };
    let token = &s[..end + 2];
    let mut decoded = String::new();
    mail_parser::decoders::html::add_html_token(&mut decoded, token.as_bytes(), false);
    if decoded == token {
        // mail-parser keeps an entity it does not know; Dovecot drops it.
        decoded.clear();
    }
    (decoded, &body[end + 1..])
}

#[cfg(test)]
#[path = "preview_tests.rs"]
mod tests;
