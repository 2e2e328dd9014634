//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2) as typed
//! data; the IMAP codec writes the wire form.
//!
//! Values follow Dovecot 2.3 where we know it:
//! - type, subtype, parameter names and values keep the case they were
//!   sent in; absent Content-Type means `"text" "plain" ("charset"
//!   "us-ascii")`, and a text part without a charset gets
//!   `"charset" "us-ascii"` appended to its parameters;
//! - Content-Transfer-Encoding is sent as written (`"base64"`,
//!   `"QUOTED-PRINTABLE"`); absent or not a token, it is `"7bit"`.
//!   (Dovecot does not upper-case it; clients compare it case-insensitively.)
//! - sizes are octets of the CRLF-canonical body (see `transfer`), lines are
//!   LF counts;
//! - extension data is always collected in full (MD5, disposition,
//!   language, location for single parts; disposition, language, location
//!   for multiparts);
//! - RFC 2231 parameters: see `mime`.

use super::envelope::Envelope;
use super::header::{HeaderBlock, unfold_trim};
use super::mime::{Disposition, find_param, parse_disposition, parse_language};
use super::transfer::canonical_size;
use super::tree::{MimePart, PartKind};

/// Fields every non-multipart body has.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyFields {
    pub media_type: Vec<u8>,
    pub subtype: Vec<u8>,
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    pub encoding: Vec<u8>,
    /// Body size in octets, CRLF-canonical.
    pub octets: u64,
}

/// Extension data (BODYSTRUCTURE only). `md5` is always `None` on multiparts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extension {
    pub md5: Option<Vec<u8>>,
    pub disposition: Option<Disposition>,
    pub language: Vec<Vec<u8>>,
    pub location: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStructure {
    Basic {
        fields: BodyFields,
        ext: Extension,
    },
    Text {
        fields: BodyFields,
        lines: u64,
        ext: Extension,
    },
    Message {
        fields: BodyFields,
        envelope: Box<Envelope>,
        body: Box<BodyStructure>,
        lines: u64,
        ext: Extension,
    },
    Multipart {
        parts: Vec<BodyStructure>,
        subtype: Vec<u8>,
        params: Vec<(Vec<u8>, Vec<u8>)>,
        ext: Extension,
    },
}

/// Iterative drop: a structure nested thousands of levels deep (built by
/// hand, or by a future decoder with a looser limit) must not overflow the
/// stack when it is freed.
impl Drop for BodyStructure {
    fn drop(&mut self) {
        let mut pending: Vec<BodyStructure> = Vec::new();
        self.take_children(&mut pending);
        while let Some(mut node) = pending.pop() {
            node.take_children(&mut pending);
        }
    }
}

impl BodyStructure {
    /// Moves the nested structures out, leaving an empty leaf in place of an
    /// encapsulated message's body.
    fn take_children(&mut self, into: &mut Vec<BodyStructure>) {
        match self {
            BodyStructure::Multipart { parts, .. } => into.append(parts),
            BodyStructure::Message { body, .. } => {
                let leaf = BodyStructure::Basic {
                    fields: BodyFields::default(),
                    ext: Extension::default(),
                };
                into.push(std::mem::replace(body.as_mut(), leaf));
            }
            BodyStructure::Basic { .. } | BodyStructure::Text { .. } => {}
        }
    }
}

fn optional(raw: &[u8], header: &HeaderBlock, name: &str) -> Option<Vec<u8>> {
    let v = unfold_trim(header.get(raw, name)?);
    if v.is_empty() {
        None
    } else {
        Some(v.into_owned())
    }
}

fn extension(raw: &[u8], header: &HeaderBlock, with_md5: bool) -> Extension {
    Extension {
        md5: if with_md5 {
            optional(raw, header, "content-md5")
        } else {
            None
        },
        disposition: header
            .get(raw, "content-disposition")
            .and_then(parse_disposition),
        language: header
            .get(raw, "content-language")
            .map(parse_language)
            .unwrap_or_default(),
        location: optional(raw, header, "content-location"),
    }
}

fn transfer_encoding_field(raw: &[u8], header: &HeaderBlock) -> Vec<u8> {
    match header
        .get(raw, "content-transfer-encoding")
        .map(unfold_trim)
    {
        Some(v)
            if !v.is_empty()
                && v.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.') =>
        {
            v.into_owned()
        }
        _ => b"7bit".to_vec(),
    }
}

impl BodyStructure {
    /// Builds the structure of a parsed MIME tree over `raw`.
    pub fn from_part(raw: &[u8], part: &MimePart) -> BodyStructure {
        let header = &part.header;
        let ct = &part.content_type;
        if let PartKind::Multipart(children) = &part.kind {
            return BodyStructure::Multipart {
                parts: children
                    .iter()
                    .map(|c| BodyStructure::from_part(raw, c))
                    .collect(),
                subtype: ct.subtype.clone(),
                params: ct.params.clone(),
                ext: extension(raw, header, false),
            };
        }
        let body = &raw[part.body.clone()];
        let (octets, lines) = canonical_size(body);
        let mut params = ct.params.clone();
        let is_text = ct.is_type("text");
        if is_text && find_param(&params, "charset").is_none() {
            params.push((b"charset".to_vec(), b"us-ascii".to_vec()));
        }
        let fields = BodyFields {
            media_type: ct.media_type.clone(),
            subtype: ct.subtype.clone(),
            params,
            id: optional(raw, header, "content-id"),
            description: optional(raw, header, "content-description"),
            encoding: transfer_encoding_field(raw, header),
            octets,
        };
        let ext = extension(raw, header, true);
        match &part.kind {
            PartKind::Message(inner) => BodyStructure::Message {
                fields,
                envelope: Box::new(Envelope::from_header(raw, &inner.header)),
                body: Box::new(BodyStructure::from_part(raw, inner)),
                lines,
                ext,
            },
            _ if is_text => BodyStructure::Text { fields, lines, ext },
            _ => BodyStructure::Basic { fields, ext },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure(raw: &[u8]) -> BodyStructure {
        BodyStructure::from_part(raw, &MimePart::parse_message(raw))
    }

    #[test]
    fn text_without_charset_gets_one_appended() {
        let bs = structure(
            b"Content-Type: text/plain; format=flowed\r\nContent-Transfer-Encoding: ?bad\r\n\r\nx",
        );
        let BodyStructure::Text { fields, lines, ext } = &bs else {
            panic!("not text: {bs:?}");
        };
        assert_eq!(
            fields.params,
            vec![
                (b"format".to_vec(), b"flowed".to_vec()),
                (b"charset".to_vec(), b"us-ascii".to_vec())
            ]
        );
        assert_eq!(fields.encoding, b"7bit");
        assert_eq!((fields.octets, *lines), (1, 0));
        assert_eq!(ext, &Extension::default());
    }

    #[test]
    fn multipart_and_message_children() {
        let raw = b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\none\r\n\
--q\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--q--\r\n";
        let bs = structure(raw);
        let BodyStructure::Multipart { parts, subtype, .. } = &bs else {
            panic!("not multipart: {bs:?}");
        };
        assert_eq!(subtype, b"mixed");
        assert_eq!(parts.len(), 2);
        let BodyStructure::Message { envelope, body, .. } = &parts[1] else {
            panic!("not a message: {:?}", parts[1]);
        };
        assert_eq!(envelope.subject.as_deref(), Some(&b"inner"[..]));
        assert!(matches!(**body, BodyStructure::Text { .. }));
    }

    #[test]
    fn dropping_deep_nesting_does_not_overflow() {
        let mut body = structure(b"");
        for i in 0..100_000 {
            body = if i % 2 == 0 {
                BodyStructure::Multipart {
                    parts: vec![body],
                    subtype: b"mixed".to_vec(),
                    params: Vec::new(),
                    ext: Extension::default(),
                }
            } else {
                BodyStructure::Message {
                    fields: BodyFields::default(),
                    envelope: Box::default(),
                    body: Box::new(body),
                    lines: 0,
                    ext: Extension::default(),
                }
            };
        }
        drop(body);
    }
}
