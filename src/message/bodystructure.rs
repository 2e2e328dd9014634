//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2).
//!
//! Output follows Dovecot 2.3 byte for byte where we know it:
//! - type, subtype, parameter names and values keep the case they were
//!   sent in; absent Content-Type means `"text" "plain" ("charset"
//!   "us-ascii")`, and a text part without a charset gets
//!   `"charset" "us-ascii"` appended to its parameters;
//! - Content-Transfer-Encoding is sent as written (`"base64"`,
//!   `"QUOTED-PRINTABLE"`); absent or not a token, it is `"7bit"`.
//!   (Dovecot does not upper-case it; clients compare it case-insensitively.)
//! - sizes are octets of the CRLF-canonical body (see `transfer`), lines are
//!   LF counts;
//! - extension data is always sent in full (MD5, disposition, language,
//!   location for single parts; parameters, disposition, language, location
//!   for multiparts);
//! - RFC 2231 parameters: see `mime`.

use super::envelope::Envelope;
use super::header::{HeaderBlock, unfold_trim};
use super::mime::{Disposition, find_param, parse_disposition, parse_language};
use super::transfer::canonical_size;
use super::tree::{MimePart, PartKind};
use super::wire::{write_nil, write_nstring, write_number, write_params, write_string};

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

    /// Appends the parenthesised structure: BODYSTRUCTURE when `extended`,
    /// BODY otherwise.
    pub fn write_imap(&self, out: &mut Vec<u8>, extended: bool) {
        out.push(b'(');
        self.write_inner(out, extended);
        out.push(b')');
    }

    fn write_inner(&self, out: &mut Vec<u8>, extended: bool) {
        match self {
            BodyStructure::Basic { fields, ext } => {
                write_fields(out, fields);
                if extended {
                    write_single_ext(out, ext);
                }
            }
            BodyStructure::Text { fields, lines, ext } => {
                write_fields(out, fields);
                out.push(b' ');
                write_number(out, *lines);
                if extended {
                    write_single_ext(out, ext);
                }
            }
            BodyStructure::Message {
                fields,
                envelope,
                body,
                lines,
                ext,
            } => {
                write_fields(out, fields);
                out.push(b' ');
                envelope.write_imap(out);
                out.push(b' ');
                body.write_imap(out, extended);
                out.push(b' ');
                write_number(out, *lines);
                if extended {
                    write_single_ext(out, ext);
                }
            }
            BodyStructure::Multipart {
                parts,
                subtype,
                params,
                ext,
            } => {
                for p in parts {
                    p.write_imap(out, extended);
                }
                out.push(b' ');
                write_string(out, subtype);
                if extended {
                    out.push(b' ');
                    write_params(out, params);
                    write_common_ext(out, ext);
                }
            }
        }
    }
}

fn write_fields(out: &mut Vec<u8>, f: &BodyFields) {
    write_string(out, &f.media_type);
    out.push(b' ');
    write_string(out, &f.subtype);
    out.push(b' ');
    write_params(out, &f.params);
    out.push(b' ');
    write_nstring(out, f.id.as_deref());
    out.push(b' ');
    write_nstring(out, f.description.as_deref());
    out.push(b' ');
    write_string(out, &f.encoding);
    out.push(b' ');
    write_number(out, f.octets);
}

fn write_single_ext(out: &mut Vec<u8>, ext: &Extension) {
    out.push(b' ');
    write_nstring(out, ext.md5.as_deref());
    write_common_ext(out, ext);
}

/// Disposition, language and location, each preceded by a space.
fn write_common_ext(out: &mut Vec<u8>, ext: &Extension) {
    out.push(b' ');
    match &ext.disposition {
        Some(d) => {
            out.push(b'(');
            write_string(out, &d.kind);
            out.push(b' ');
            write_params(out, &d.params);
            out.push(b')');
        }
        None => write_nil(out),
    }
    out.push(b' ');
    if ext.language.is_empty() {
        write_nil(out);
    } else {
        out.push(b'(');
        for (i, l) in ext.language.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            write_string(out, l);
        }
        out.push(b')');
    }
    out.push(b' ');
    write_nstring(out, ext.location.as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (BODYSTRUCTURE, BODY) strings without the outer parentheses.
    fn structures(raw: &[u8]) -> (String, String) {
        let tree = MimePart::parse_message(raw);
        let bs = BodyStructure::from_part(raw, &tree);
        let (mut ext, mut basic) = (Vec::new(), Vec::new());
        bs.write_imap(&mut ext, true);
        bs.write_imap(&mut basic, false);
        let strip = |v: Vec<u8>| {
            let s = String::from_utf8_lossy(&v).into_owned();
            s[1..s.len() - 1].to_string()
        };
        (strip(ext), strip(basic))
    }

    #[test]
    fn plain_text_bare_lf() {
        let raw = b"From: a@b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nline one\nline two\n";
        let (bs, body) = structures(raw);
        assert_eq!(
            bs,
            "\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 20 2 NIL NIL NIL NIL"
        );
        assert_eq!(
            body,
            "\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 20 2"
        );
    }

    #[test]
    fn no_content_type_and_empty_body() {
        let (bs, _) = structures(b"Subject: nothing\r\n\r\n");
        assert_eq!(
            bs,
            "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL"
        );
        let (bs, _) = structures(b"");
        assert_eq!(
            bs,
            "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL"
        );
    }

    #[test]
    fn text_without_charset_gets_one_appended() {
        let (bs, _) = structures(
            b"Content-Type: text/plain; format=flowed\r\nContent-Transfer-Encoding: ?bad\r\n\r\nx",
        );
        assert_eq!(
            bs,
            "\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL"
        );
    }

    /// multipart/mixed containing multipart/alternative, an attachment with a
    /// filename, and a message/rfc822 that itself holds a multipart.
    const NESTED: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: bob@example.net\r\n\
Subject: nested\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
This is a MIME message.\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=alt\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Hi Bob =E2=82=AC\r\n\
\r\n\
--alt\r\n\
Content-Type: text/html; charset=UTF-8\r\n\
\r\n\
<p>Hi Bob</p>\r\n\
--alt--\r\n\
\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\n\
Content-Transfer-Encoding: BASE64\r\n\
Content-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-ID: <part3@example.org>\r\n\
Content-Language: en\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
Content-Description: forwarded\r\n\
\r\n\
From: carol@example.com\r\n\
Subject: inner\r\n\
Content-Type: multipart/mixed; boundary=in\r\n\
\r\n\
--in\r\n\
\r\n\
inner text\r\n\
--in\r\n\
Content-Type: image/png\r\n\
\r\n\
PNG\r\n\
--in--\r\n\
--outer--\r\n";

    #[test]
    fn nested_multipart_hand_checked() {
        let (bs, body) = structures(NESTED);
        // Sizes: "Hi Bob =E2=82=AC\r\n" = 18; "<p>Hi Bob</p>" = 13;
        // "JVBERi0xLjQK" = 12; inner message = 151 octets, 11 lines
        // (25+16+44+2+6+2+12+6+25+2+5+6, up to "--in--");
        // "inner text" = 10; "PNG" = 3.
        let alt = "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 18 1 NIL NIL NIL NIL)\
(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL) \
\"alternative\" (\"boundary\" \"alt\") NIL NIL NIL)";
        let pdf = "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<part3@example.org>\" NIL \"BASE64\" 12 \
NIL (\"attachment\" (\"filename\" \"report.pdf\")) (\"en\") NIL)";
        let msg = "(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 151 \
(NIL \"inner\" ((NIL NIL \"carol\" \"example.com\")) ((NIL NIL \"carol\" \"example.com\")) \
((NIL NIL \"carol\" \"example.com\")) NIL NIL NIL NIL NIL) \
((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)\
(\"image\" \"png\" NIL NIL NIL \"7bit\" 3 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"in\") NIL NIL NIL) \
11 NIL NIL NIL NIL)";
        assert_eq!(
            bs,
            format!("{alt}{pdf}{msg} \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL")
        );
        assert!(body.starts_with(
            "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 18 1)"
        ));
        assert!(
            body.ends_with("(\"image\" \"png\" NIL NIL NIL \"7bit\" 3) \"mixed\") 11) \"mixed\"")
        );
        assert!(!body.contains("boundary"));
    }

    #[test]
    fn bare_lf_gives_the_same_structure() {
        let bare: Vec<u8> = NESTED.iter().copied().filter(|&b| b != b'\r').collect();
        assert_eq!(structures(&bare), structures(NESTED));
    }

    #[test]
    fn unknown_types_and_message_global() {
        let raw = b"Content-Type: message/global\r\nContent-Transfer-Encoding: Base64\r\n\r\nU3ViamVjdDogeA==";
        let (bs, body) = structures(raw);
        assert_eq!(
            bs,
            "\"message\" \"global\" NIL NIL NIL \"Base64\" 16 NIL NIL NIL NIL"
        );
        assert_eq!(body, "\"message\" \"global\" NIL NIL NIL \"Base64\" 16");
    }

    #[test]
    fn malformed_inputs_do_not_panic() {
        let inputs: [&[u8]; 6] = [
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x",
            b"Content-Type: message/rfc822\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
            b"Content-Type: text/plain; charset\r\nContent-Disposition: ;;;\r\n\r\n",
            b"\r\n\r\n\r\n",
            b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogYQ==",
        ];
        for raw in inputs {
            let (bs, body) = structures(raw);
            for s in [bs, body] {
                let opens = s.matches('(').count();
                assert_eq!(opens, s.matches(')').count(), "unbalanced: {s}");
            }
        }
    }
}
