//! Header blocks: splitting fields, lookup by name, unfolding, RFC 2047
//! decoding and Date parsing.
//!
//! Everything here works on offsets into the raw message so that a parsed
//! tree holds no copies; accessors take the raw bytes back.

use std::borrow::Cow;
use std::ops::Range;

use mail_parser::HeaderValue;
use mail_parser::parsers::MessageStream;

/// One header field, as offsets into the raw message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderField {
    /// The field name, without the colon or trailing blanks.
    pub name: Range<usize>,
    /// The value after the colon, up to (not including) the line end of the
    /// last continuation line; folding line breaks inside are kept.
    pub value: Range<usize>,
    /// The whole field including its final line end (for HEADER.FIELDS).
    pub line: Range<usize>,
}

/// A parsed header block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderBlock {
    /// Fields in message order. Lines that are not fields (no colon) are
    /// skipped here but still part of `range`.
    pub fields: Vec<HeaderField>,
    /// The header including the blank separator line, if there is one.
    pub range: Range<usize>,
}

impl HeaderBlock {
    /// Splits the header that starts at `start` (and may not go past `end`).
    /// The header ends after the first empty line; with none, it runs to `end`.
    pub fn parse(raw: &[u8], start: usize, end: usize) -> HeaderBlock {
        let end = end.min(raw.len());
        let start = start.min(end);
        let mut fields: Vec<HeaderField> = Vec::new();
        let mut pos = start;
        // Whether the last line was a field that a continuation may extend.
        let mut open_field = false;
        while pos < end {
            let (content_end, next) = line_bounds(raw, pos, end);
            let line = &raw[pos..content_end];
            if line.is_empty() {
                return HeaderBlock {
                    fields,
                    range: start..next,
                };
            }
            if line[0] == b' ' || line[0] == b'\t' {
                if open_field && let Some(field) = fields.last_mut() {
                    field.value.end = content_end;
                    field.line.end = next;
                }
            } else if let Some(colon) = memchr::memchr(b':', line) {
                let mut name_end = pos + colon;
                while name_end > pos && matches!(raw[name_end - 1], b' ' | b'\t') {
                    name_end -= 1;
                }
                fields.push(HeaderField {
                    name: pos..name_end,
                    value: pos + colon + 1..content_end,
                    line: pos..next,
                });
                open_field = true;
            } else {
                open_field = false;
            }
            pos = next;
        }
        HeaderBlock {
            fields,
            range: start..end,
        }
    }

    /// Offset where the body following this header starts.
    pub fn body_start(&self) -> usize {
        self.range.end
    }

    /// The raw value of the first field called `name` (ASCII case-insensitive).
    pub fn get<'a>(&self, raw: &'a [u8], name: &str) -> Option<&'a [u8]> {
        self.fields
            .iter()
            .find(|f| raw[f.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| &raw[f.value.clone()])
    }

    /// Raw values of all fields called `name`, in message order.
    pub fn get_all<'a>(
        &'a self,
        raw: &'a [u8],
        name: &'a str,
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |f| raw[f.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(move |f| &raw[f.value.clone()])
    }
}

/// Content end (before CR LF / LF) and the start of the next line.
fn line_bounds(raw: &[u8], pos: usize, end: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &raw[pos..end]) {
        Some(i) => {
            let lf = pos + i;
            let content_end = if lf > pos && raw[lf - 1] == b'\r' {
                lf - 1
            } else {
                lf
            };
            (content_end, lf + 1)
        }
        None => {
            let content_end = if end > pos && raw[end - 1] == b'\r' {
                end - 1
            } else {
                end
            };
            (content_end, end)
        }
    }
}

/// Unfolds a raw value the way IMAP clients expect it in ENVELOPE and
/// BODYSTRUCTURE: line breaks are dropped (the blank that starts the
/// continuation stays), leading blanks are trimmed.
pub fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    let start = value
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(value.len());
    let value = &value[start..];
    if memchr::memchr2(b'\r', b'\n', value).is_none() {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .iter()
            .copied()
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect(),
    )
}

/// Unfolds and trims blanks at both ends (for structured values).
pub fn unfold_trim(value: &[u8]) -> Cow<'_, [u8]> {
    match unfold(value) {
        Cow::Borrowed(v) => Cow::Borrowed(v.trim_ascii_end()),
        Cow::Owned(v) => Cow::Owned(v.trim_ascii_end().to_vec()),
    }
}

/// Decodes a raw unstructured value to text: unfolds, decodes RFC 2047
/// encoded-words in any charset mail-parser knows, and turns invalid UTF-8
/// into U+FFFD. Used for SEARCH and SORT, never for what IMAP sends.
pub fn decode_value(value: &[u8]) -> String {
    // mail-parser reads a value up to the line end that is not followed by a
    // blank, so it needs that final line end to be present.
    let mut line = Vec::with_capacity(value.len() + 1);
    line.extend_from_slice(value);
    line.push(b'\n');
    match MessageStream::new(&line).parse_unstructured() {
        HeaderValue::Text(text) => text.into_owned(),
        _ => String::new(),
    }
}

/// Parses a Date header value (RFC 5322, obsolete forms included) into a
/// unix timestamp in UTC. `None` when it is not a valid date.
pub fn parse_date(value: &[u8]) -> Option<i64> {
    let mut line = Vec::with_capacity(value.len() + 1);
    line.extend_from_slice(value);
    line.push(b'\n');
    match MessageStream::new(&line).parse_date() {
        HeaderValue::DateTime(dt) if dt.is_valid() => Some(dt.to_timestamp()),
        _ => None,
    }
}

/// The calendar day a Date header value names, as written (time and zone
/// disregarded, as SENTBEFORE / SENTON / SENTSINCE require): days since
/// 1970-01-01. `None` when it is not a valid date.
pub fn parse_date_day(value: &[u8]) -> Option<i64> {
    let mut line = Vec::with_capacity(value.len() + 1);
    line.extend_from_slice(value);
    line.push(b'\n');
    match MessageStream::new(&line).parse_date() {
        HeaderValue::DateTime(dt) if dt.is_valid() => {
            Some(dt.to_timestamp_local().div_euclid(86_400))
        }
        _ => None,
    }
}

/// Most message ids taken from one References header; THREAD only needs
/// the last few, and this bounds work on hostile headers.
pub const MAX_MESSAGE_IDS: usize = 1000;

/// The `<id>` tokens of a Message-ID / In-Reply-To / References value, in
/// order, brackets stripped and blanks removed (for THREAD=REFERENCES).
/// Text outside angle brackets (comments, phrases) is ignored.
pub fn message_ids(value: &[u8]) -> Vec<Vec<u8>> {
    let mut ids = Vec::new();
    let mut rest = value;
    while ids.len() < MAX_MESSAGE_IDS {
        let Some(close) = memchr::memchr(b'>', rest) else {
            break;
        };
        // The nearest '<' before '>' opens the id, so a stray '<' in a
        // comment before it does not swallow the real id.
        if let Some(open) = memchr::memrchr(b'<', &rest[..close]) {
            let id: Vec<u8> = rest[open + 1..close]
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            if !id.is_empty() {
                ids.push(id);
            }
        }
        rest = &rest[close + 1..];
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] =
        b"Subject: hello\r\n  world\r\nX-Empty:\r\nnot a field\r\nsubject: second\r\n\r\nbody\r\n";

    #[test]
    fn splits_fields_and_finds_body() {
        let h = HeaderBlock::parse(MSG, 0, MSG.len());
        assert_eq!(h.fields.len(), 3);
        assert_eq!(&MSG[h.body_start()..], b"body\r\n");
        assert_eq!(h.get(MSG, "SUBJECT"), Some(&b" hello\r\n  world"[..]));
        assert_eq!(h.get(MSG, "x-empty"), Some(&b""[..]));
        assert_eq!(h.get(MSG, "missing"), None);
        let all: Vec<_> = h.get_all(MSG, "subject").collect();
        assert_eq!(all, vec![&b" hello\r\n  world"[..], &b" second"[..]]);
        assert_eq!(
            &MSG[h.fields[0].line.clone()],
            b"Subject: hello\r\n  world\r\n"
        );
    }

    #[test]
    fn bare_lf_and_no_blank_line() {
        let raw = b"A: 1\nB: 2\n";
        let h = HeaderBlock::parse(raw, 0, raw.len());
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.body_start(), raw.len());
        assert_eq!(h.get(raw, "b"), Some(&b" 2"[..]));
        let raw = b"A: 1\n\nbody";
        let h = HeaderBlock::parse(raw, 0, raw.len());
        assert_eq!(&raw[h.body_start()..], b"body");
    }

    #[test]
    fn empty_header() {
        let raw = b"\r\nbody";
        let h = HeaderBlock::parse(raw, 0, raw.len());
        assert!(h.fields.is_empty());
        assert_eq!(h.range, 0..2);
        let h = HeaderBlock::parse(b"", 0, 0);
        assert_eq!(h.range, 0..0);
    }

    #[test]
    fn unfolding() {
        assert_eq!(&*unfold(b" hello\r\n  world "), b"hello  world ");
        assert_eq!(&*unfold_trim(b" a\n b \t"), b"a b");
    }

    #[test]
    fn decodes_encoded_words() {
        assert_eq!(
            decode_value(b" =?UTF-8?B?SGVsbG8gV8O2cmxk?="),
            "Hello Wörld"
        );
        assert_eq!(
            decode_value(b" =?ISO-8859-1?Q?Caf=E9?= au\r\n lait"),
            "Café au lait"
        );
        assert_eq!(decode_value(b" plain"), "plain");
        assert_eq!(decode_value(b""), "");
    }

    #[test]
    fn message_id_lists() {
        assert_eq!(
            message_ids(b" <a@x> (comment <no)\r\n <b\r\n @y> junk <>"),
            vec![b"a@x".to_vec(), b"b@y".to_vec()]
        );
        assert!(message_ids(b" no ids <unclosed").is_empty());
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date(b" Sat, 24 Mar 2007 23:00:00 +0200"),
            Some(1174770000)
        );
        assert_eq!(parse_date(b" 1 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_date(b" garbage"), None);
        // 23:30 at -0500 is the next day in UTC, but SENTON uses the written day.
        assert_eq!(
            parse_date(b" Fri, 2 Jan 1970 23:30:00 -0500"),
            Some(86_400 + 84_600 + 18_000)
        );
        assert_eq!(parse_date_day(b" Fri, 2 Jan 1970 23:30:00 -0500"), Some(1));
        assert_eq!(
            parse_date_day(b" Wed, 31 Dec 1969 10:00:00 +0000"),
            Some(-1)
        );
        assert_eq!(parse_date_day(b"nope"), None);
        assert_eq!(parse_date(b""), None);
    }
}
