//! SEARCH text matching: case-insensitive substring search over decoded
//! header values and over the decoded text of the text parts.
//!
//! Case-insensitivity is Unicode simple case folding, approximated as
//! "lower-case when that maps one character to one character" plus the
//! folds that lower-casing misses (final sigma, long s, Greek symbol
//! variants, ...). Characters whose lower case is several characters (like
//! U+0130) are left alone, as simple folding does.
//! Pure ASCII takes a fast path with no per-character work beyond
//! `to_ascii_lowercase`.

use std::borrow::Cow;

use memchr::memmem::Finder;

use super::header::{HeaderBlock, decode_value};
use super::mime::decode_rfc2231;
use super::transfer::{decode_charset, decode_transfer};
use super::tree::{MimePart, PartKind};

fn fold_char(c: char) -> char {
    match c {
        // Characters whose simple case fold differs from their lower case
        // (CaseFolding.txt status C/S entries that lower-casing misses).
        'ς' => 'σ',
        'ſ' => 's',
        'ẞ' => 'ß',
        'ϐ' => 'β',
        'ϑ' => 'θ',
        'ϕ' => 'φ',
        'ϖ' => 'π',
        'ϰ' => 'κ',
        'ϱ' => 'ρ',
        'ϵ' => 'ε',
        'ẛ' => 'ṡ',
        '\u{345}' | '\u{1fbe}' => 'ι',
        _ => {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        }
    }
}

/// Case-folds text for matching (borrowed when nothing changes).
pub fn fold_case(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(s.to_ascii_lowercase());
        }
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(fold_char).collect())
}

/// A prepared search string: folded once, matched many times.
#[derive(Debug, Clone)]
pub struct SearchKey {
    finder: Finder<'static>,
}

impl SearchKey {
    pub fn new(needle: &str) -> SearchKey {
        let folded = fold_case(needle).into_owned();
        SearchKey {
            finder: Finder::new(folded.as_bytes()).into_owned(),
        }
    }

    /// True when the folded needle occurs in the folded haystack. An empty
    /// needle matches everything.
    pub fn matches(&self, haystack: &str) -> bool {
        self.finder.find(fold_case(haystack).as_bytes()).is_some()
    }
}

/// True when any field `name` of `header`, decoded, contains the key. With
/// an empty key this is "the field exists" (RFC 9051 SEARCH HEADER).
pub fn header_matches(raw: &[u8], header: &HeaderBlock, name: &str, key: &SearchKey) -> bool {
    header
        .get_all(raw, name)
        .any(|v| key.matches(&decode_value(v)))
}

/// Like [`header_matches`] for an address field (SEARCH FROM / TO / CC /
/// BCC): the key is looked for in the normalised address list, as Dovecot
/// does ([`super::address::search_text`]).
pub fn address_header_matches(
    raw: &[u8],
    header: &HeaderBlock,
    name: &str,
    key: &SearchKey,
) -> bool {
    header
        .get_all(raw, name)
        .any(|v| key.matches(&super::address::search_text(v)))
}

/// The decoded header as text, one "Name: value" per line.
pub fn header_text(raw: &[u8], header: &HeaderBlock) -> String {
    let mut out = String::new();
    for f in &header.fields {
        out.push_str(&String::from_utf8_lossy(&raw[f.name.clone()]));
        out.push_str(": ");
        out.push_str(&decode_value(&raw[f.value.clone()]));
        out.push('\n');
    }
    out
}

/// Calls `visit` with the decoded text of every text part under `part`,
/// including the headers and text of attached messages. Attachment file
/// names are visited too, so a search for a file name finds the message.
pub fn visit_body_text(raw: &[u8], part: &MimePart, visit: &mut dyn FnMut(&str) -> bool) -> bool {
    match &part.kind {
        PartKind::Multipart(children) => children.iter().any(|c| visit_body_text(raw, c, visit)),
        PartKind::Message(inner) => {
            visit(&header_text(raw, &inner.header)) || visit_body_text(raw, inner, visit)
        }
        PartKind::Single => {
            if let Some(name) = attachment_name(raw, part)
                && visit(&name)
            {
                return true;
            }
            if !part.content_type.is_type("text") {
                return false;
            }
            let Some(bytes) = decode_transfer(&raw[part.body.clone()], part.transfer_encoding(raw))
            else {
                return false;
            };
            let text = decode_charset(&bytes, part.content_type.param("charset"));
            if part.content_type.is("text", "html") {
                visit(&mail_parser::decoders::html::html_to_text(&text))
            } else {
                visit(&text)
            }
        }
    }
}

/// The file name of a part (Content-Disposition filename, else
/// Content-Type name), RFC 2231 / RFC 2047 decoded.
pub fn attachment_name(raw: &[u8], part: &MimePart) -> Option<String> {
    let disposition = part
        .header
        .get(raw, "content-disposition")
        .and_then(super::mime::parse_disposition);
    let params = [
        disposition
            .as_ref()
            .map(|d| d.params.as_slice())
            .unwrap_or_default(),
        part.content_type.params.as_slice(),
    ];
    for list in params {
        for key in ["filename*", "filename", "name*", "name"] {
            if let Some(v) = super::mime::find_param(list, key) {
                return Some(if key.ends_with('*') {
                    decode_rfc2231(v)
                } else {
                    decode_value(v)
                });
            }
        }
    }
    None
}

/// SEARCH BODY: the key occurs in the decoded body text.
pub fn body_matches(raw: &[u8], root: &MimePart, key: &SearchKey) -> bool {
    visit_body_text(raw, root, &mut |t| key.matches(t))
}

/// SEARCH TEXT: the key occurs in the decoded header or body text.
pub fn text_matches(raw: &[u8], root: &MimePart, key: &SearchKey) -> bool {
    key.matches(&header_text(raw, &root.header)) || body_matches(raw, root, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold_case("HeLLo"), "hello");
        assert!(matches!(fold_case("hello"), Cow::Borrowed(_)));
        assert_eq!(fold_case("ÄÖÜ ΣΑΣ ς"), "äöü σασ σ");
        let key = SearchKey::new("ÜBER");
        assert!(key.matches("darüber hinaus"));
        assert!(!key.matches("uber"));
        assert!(SearchKey::new("").matches("anything"));
        assert!(SearchKey::new("straße").matches("STRAẞE"));
        assert!(SearchKey::new("θ").matches("ϑ"));
        assert_eq!(fold_case("İ"), "İ");
    }

    const MSG: &[u8] = b"From: =?UTF-8?Q?J=C3=B6rg?= <j@x>\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nLe na=EFf gar=E7on\r\n\
--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+SGVsbG8gPGI+V29ybGQ8L2I+PC9wPg==\r\n\
--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.bin\r\n\r\nsecretbinary\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner topic\r\n\r\ninner words\r\n--b--\r\n";

    #[test]
    fn headers() {
        let root = MimePart::parse_message(MSG);
        assert!(header_matches(
            MSG,
            &root.header,
            "subject",
            &SearchKey::new("CAFÉ")
        ));
        assert!(header_matches(
            MSG,
            &root.header,
            "from",
            &SearchKey::new("jörg")
        ));
        assert!(!header_matches(
            MSG,
            &root.header,
            "to",
            &SearchKey::new("")
        ));
        assert!(header_matches(
            MSG,
            &root.header,
            "from",
            &SearchKey::new("")
        ));
    }

    #[test]
    fn bodies() {
        let root = MimePart::parse_message(MSG);
        let body = |s: &str| body_matches(MSG, &root, &SearchKey::new(s));
        assert!(body("NAÏF GARÇON"));
        assert!(body("hello world"));
        assert!(body("Résumé"));
        assert!(body("inner topic"));
        assert!(body("inner words"));
        assert!(!body("secretbinary"));
        assert!(!body("café"));
        assert!(text_matches(MSG, &root, &SearchKey::new("café")));
        assert!(!text_matches(MSG, &root, &SearchKey::new("absent")));
    }

    #[test]
    fn broken_encodings_do_not_panic() {
        let raw = b"Content-Type: text/plain; charset=x-bogus\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!***\r\n";
        let root = MimePart::parse_message(raw);
        assert!(!body_matches(raw, &root, &SearchKey::new("zzz")));
    }
}
