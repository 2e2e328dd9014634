//! The MIME tree of a message, as offsets into the raw bytes.
//!
//! Parsing is total: any input gives a tree. Rules (matching Dovecot):
//! - a header ends at the first empty line; without one the whole entity is
//!   header and the body is empty;
//! - a multipart body is split at lines starting with `--boundary` followed
//!   by nothing but blanks (or `--` for the close delimiter); the line end
//!   before a delimiter belongs to the delimiter, not to the part;
//! - a missing close delimiter ends the last part at the end of its parent;
//! - a multipart with no parts at all gets one empty text/plain part, so
//!   that BODYSTRUCTURE stays valid and part 1 exists;
//! - message/rfc822 bodies in an identity transfer encoding are parsed as
//!   nested messages. message/global is not: IMAP4rev1 clients only accept
//!   the envelope form of BODYSTRUCTURE for "message" "rfc822", and part
//!   numbering must agree with what BODYSTRUCTURE shows.
//!
//! Nesting deeper than [`MAX_DEPTH`] or more than [`MAX_PARTS`] parts stop
//! the splitting (the rest stays one opaque part), so hostile input can
//! neither overflow the stack nor make the tree huge.

use std::ops::Range;

use super::header::HeaderBlock;
use super::mime::{ContentType, parse_content_type};
use super::transfer::TransferEncoding;

/// Deepest multipart / message nesting that is parsed.
pub const MAX_DEPTH: usize = 50;
/// Most parts parsed in one message.
pub const MAX_PARTS: usize = 10_000;

/// One MIME entity: a header plus a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimePart {
    pub header: HeaderBlock,
    pub body: Range<usize>,
    /// Effective content type (defaults applied when absent or invalid).
    pub content_type: ContentType,
    pub kind: PartKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartKind {
    /// Any non-container part (also containers we refused to split).
    Single,
    /// Children of a multipart, in order (never empty).
    Multipart(Vec<MimePart>),
    /// The message inside a message/rfc822 part.
    Message(Box<MimePart>),
}

impl MimePart {
    /// Parses a whole message.
    pub fn parse_message(raw: &[u8]) -> MimePart {
        let mut budget = MAX_PARTS;
        parse_entity(
            raw,
            0..raw.len(),
            ContentType::default_text(),
            0,
            &mut budget,
        )
    }

    /// The Content-Transfer-Encoding of this part.
    pub fn transfer_encoding(&self, raw: &[u8]) -> TransferEncoding {
        TransferEncoding::from_header(self.header.get(raw, "content-transfer-encoding"))
    }

    /// Children for part-number navigation (empty for a single part).
    pub fn children(&self) -> &[MimePart] {
        match &self.kind {
            PartKind::Multipart(children) => children,
            _ => &[],
        }
    }
}

fn parse_entity(
    raw: &[u8],
    range: Range<usize>,
    default_type: ContentType,
    depth: usize,
    budget: &mut usize,
) -> MimePart {
    let header = HeaderBlock::parse(raw, range.start, range.end);
    let body = header.body_start()..range.end;
    let content_type = header
        .get(raw, "content-type")
        .and_then(parse_content_type)
        .unwrap_or(default_type);
    let mut part = MimePart {
        header,
        body,
        content_type,
        kind: PartKind::Single,
    };
    if depth >= MAX_DEPTH || *budget == 0 {
        return part;
    }
    if part.content_type.is_type("multipart") {
        let boundary = part
            .content_type
            .param("boundary")
            .filter(|b| !b.is_empty())
            .map(<[u8]>::to_vec);
        if let Some(boundary) = boundary {
            let child_default = if part.content_type.is("multipart", "digest") {
                ContentType::default_message()
            } else {
                ContentType::default_text()
            };
            let children = split_multipart(
                raw,
                part.body.clone(),
                &boundary,
                &child_default,
                depth,
                budget,
            );
            part.kind = PartKind::Multipart(children);
        }
    } else if part.content_type.is("message", "rfc822")
        && part.transfer_encoding(raw) == TransferEncoding::Identity
    {
        *budget -= 1;
        let inner = parse_entity(
            raw,
            part.body.clone(),
            ContentType::default_text(),
            depth + 1,
            budget,
        );
        part.kind = PartKind::Message(Box::new(inner));
    }
    part
}

fn split_multipart(
    raw: &[u8],
    body: Range<usize>,
    boundary: &[u8],
    child_default: &ContentType,
    depth: usize,
    budget: &mut usize,
) -> Vec<MimePart> {
    let mut delimiter = Vec::with_capacity(boundary.len() + 2);
    delimiter.extend_from_slice(b"--");
    delimiter.extend_from_slice(boundary);
    let finder = memchr::memmem::Finder::new(&delimiter);
    let region = &raw[body.clone()];

    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut closed = false;
    for hit in finder.find_iter(region) {
        let line_start = body.start + hit;
        if line_start != body.start && raw[line_start - 1] != b'\n' {
            continue;
        }
        let after = line_start + delimiter.len();
        let line_end = memchr::memchr(b'\n', &raw[after..body.end]).map_or(body.end, |i| after + i);
        let rest = &raw[after..line_end];
        let is_close = rest.starts_with(b"--");
        if !is_close && !rest.trim_ascii().is_empty() {
            continue;
        }
        if let Some(start) = part_start.take() {
            let end = strip_preceding_eol(raw, start, line_start);
            push_part(raw, start..end, child_default, depth, budget, &mut parts);
        }
        if is_close {
            closed = true;
            break;
        }
        part_start = Some((line_end + 1).min(body.end));
    }
    if let (Some(start), false) = (part_start, closed) {
        push_part(
            raw,
            start..body.end,
            child_default,
            depth,
            budget,
            &mut parts,
        );
    }
    if parts.is_empty() {
        parts.push(MimePart {
            header: HeaderBlock {
                fields: Vec::new(),
                range: body.end..body.end,
            },
            body: body.end..body.end,
            content_type: ContentType::default_text(),
            kind: PartKind::Single,
        });
    }
    parts
}

fn push_part(
    raw: &[u8],
    range: Range<usize>,
    default_type: &ContentType,
    depth: usize,
    budget: &mut usize,
    parts: &mut Vec<MimePart>,
) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    parts.push(parse_entity(
        raw,
        range,
        default_type.clone(),
        depth + 1,
        budget,
    ));
}

/// End of a part that is followed by a delimiter line at `line_start`:
/// the CRLF (or LF) right before the delimiter is not part content.
fn strip_preceding_eol(raw: &[u8], start: usize, line_start: usize) -> usize {
    let mut end = line_start;
    if end > start && raw[end - 1] == b'\n' {
        end -= 1;
        if end > start && raw[end - 1] == b'\r' {
            end -= 1;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body<'a>(raw: &'a [u8], p: &MimePart) -> &'a [u8] {
        &raw[p.body.clone()]
    }

    #[test]
    fn single_part_defaults() {
        let raw = b"Subject: x\r\n\r\nhello\r\n";
        let m = MimePart::parse_message(raw);
        assert_eq!(m.kind, PartKind::Single);
        assert!(m.content_type.is("text", "plain"));
        assert_eq!(m.content_type.param("charset"), Some(&b"us-ascii"[..]));
        assert_eq!(body(raw, &m), b"hello\r\n");
    }

    #[test]
    fn multipart_split() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n\r\none\r\n--b \r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n\r\n--b--\r\nepilogue\r\n";
        let m = MimePart::parse_message(raw);
        let kids = m.children();
        assert_eq!(kids.len(), 2);
        assert_eq!(body(raw, &kids[0]), b"one");
        assert_eq!(body(raw, &kids[1]), b"<p>two</p>\r\n");
        assert!(kids[1].content_type.is("text", "html"));
    }

    #[test]
    fn boundary_prefix_lines_are_not_delimiters() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx --b\n--bc\n--b--\n";
        let m = MimePart::parse_message(raw);
        assert_eq!(m.children().len(), 1);
        assert_eq!(body(raw, &m.children()[0]), b"x --b\n--bc");
    }

    #[test]
    fn missing_close_and_no_parts() {
        let raw = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nunterminated\n";
        let m = MimePart::parse_message(raw);
        assert_eq!(body(raw, &m.children()[0]), b"unterminated\n");
        let raw = b"Content-Type: multipart/mixed; boundary=b\n\nno delimiters\n";
        let m = MimePart::parse_message(raw);
        assert_eq!(m.children().len(), 1);
        assert!(m.children()[0].body.is_empty());
        // Without a boundary parameter it stays a single part.
        let raw = b"Content-Type: multipart/mixed\n\n--b\n";
        assert_eq!(MimePart::parse_message(raw).kind, PartKind::Single);
    }

    #[test]
    fn nested_message_and_digest() {
        let raw = b"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: inner\n\ninner body\n--d--\n";
        let m = MimePart::parse_message(raw);
        let child = &m.children()[0];
        assert!(child.content_type.is("message", "rfc822"));
        let PartKind::Message(inner) = &child.kind else {
            panic!("expected nested message")
        };
        assert_eq!(inner.header.get(raw, "subject"), Some(&b" inner"[..]));
        assert_eq!(body(raw, inner), b"inner body");
    }

    #[test]
    fn depth_is_bounded() {
        let mut raw = Vec::new();
        for _ in 0..(MAX_DEPTH * 3) {
            raw.extend_from_slice(b"Content-Type: message/rfc822\n\n");
        }
        raw.extend_from_slice(b"end\n");
        let mut m = &MimePart::parse_message(&raw);
        let mut depth = 0;
        while let PartKind::Message(inner) = &m.kind {
            m = inner;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);
    }

    #[test]
    fn part_count_is_bounded() {
        let mut raw = b"Content-Type: multipart/mixed; boundary=b\n\n".to_vec();
        for _ in 0..(MAX_PARTS + 10) {
            raw.extend_from_slice(b"--b\n\nx\n");
        }
        let m = MimePart::parse_message(&raw);
        assert_eq!(m.children().len(), MAX_PARTS);
    }
}
