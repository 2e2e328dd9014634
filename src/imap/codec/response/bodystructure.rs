//! BODY / BODYSTRUCTURE (RFC 9051 7.5.2) encoding. The message layer
//! builds the tree from the MIME structure; this writes the syntax,
//! without recursion, so a deeply nested message cannot exhaust the stack.

use super::envelope::Envelope;
use super::strings::{write_nstring, write_string};
use super::write_number;

/// `body-fields`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyFields {
    /// Content-Type parameters (`charset`, `name`, ...); empty → NIL.
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
    pub id: Option<Vec<u8>>,
    pub description: Option<Vec<u8>>,
    /// Content-Transfer-Encoding, e.g. `7BIT`, `BASE64`.
    pub encoding: Vec<u8>,
    pub octets: u32,
}

/// `body-fld-dsp`: `("attachment" ("filename" "a.pdf"))`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    pub kind: Vec<u8>,
    pub params: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Extension data shared by single parts and multiparts (written only for
/// BODYSTRUCTURE, not for BODY).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BodyExtension {
    pub disposition: Option<Disposition>,
    /// Content-Language; empty → NIL.
    pub language: Vec<Vec<u8>>,
    pub location: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinglePartKind {
    Basic,
    /// `text/*`: line count.
    Text {
        lines: u32,
    },
    /// `message/rfc822` (and global): the embedded message.
    Message {
        envelope: Box<Envelope>,
        body: Box<BodyStructure>,
        lines: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyStructure {
    Single {
        media_type: Vec<u8>,
        subtype: Vec<u8>,
        fields: BodyFields,
        kind: SinglePartKind,
        md5: Option<Vec<u8>>,
        extension: BodyExtension,
    },
    Multipart {
        parts: Vec<BodyStructure>,
        subtype: Vec<u8>,
        /// Content-Type parameters (`boundary`, ...).
        params: Vec<(Vec<u8>, Vec<u8>)>,
        extension: BodyExtension,
    },
}

/// Iterative drop: a message nested thousands of levels deep must not
/// overflow the stack when its structure is freed.
impl Drop for BodyStructure {
    fn drop(&mut self) {
        let mut pending: Vec<BodyStructure> = Vec::new();
        take_children(self, &mut pending);
        while let Some(mut node) = pending.pop() {
            take_children(&mut node, &mut pending);
        }
    }
}

fn take_children(node: &mut BodyStructure, into: &mut Vec<BodyStructure>) {
    match node {
        BodyStructure::Multipart { parts, .. } => into.append(parts),
        BodyStructure::Single {
            kind: SinglePartKind::Message { body, .. },
            ..
        } => {
            let empty = BodyStructure::Multipart {
                parts: Vec::new(),
                subtype: Vec::new(),
                params: Vec::new(),
                extension: BodyExtension::default(),
            };
            into.push(std::mem::replace(body.as_mut(), empty));
        }
        BodyStructure::Single { .. } => {}
    }
}

fn write_params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)], utf8: bool) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_string(out, k, utf8);
        out.push(b' ');
        write_string(out, v, utf8);
    }
    out.push(b')');
}

fn write_extension(out: &mut Vec<u8>, ext: &BodyExtension, utf8: bool) {
    out.push(b' ');
    match &ext.disposition {
        Some(d) => {
            out.push(b'(');
            write_string(out, &d.kind, utf8);
            out.push(b' ');
            write_params(out, &d.params, utf8);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match ext.language.as_slice() {
        [] => out.extend_from_slice(b"NIL"),
        [one] => write_string(out, one, utf8),
        many => {
            out.push(b'(');
            for (i, l) in many.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_string(out, l, utf8);
            }
            out.push(b')');
        }
    }
    out.push(b' ');
    write_nstring(out, ext.location.as_deref(), utf8);
}

impl BodyStructure {
    /// Writes the parenthesised structure. `extensible` selects
    /// BODYSTRUCTURE (with extension data) over BODY.
    pub fn write(&self, out: &mut Vec<u8>, extensible: bool, utf8: bool) {
        enum Op<'a> {
            Open(&'a BodyStructure),
            /// What follows the nested parts / embedded body.
            Close(&'a BodyStructure),
        }
        let mut ops = vec![Op::Open(self)];
        while let Some(op) = ops.pop() {
            match op {
                Op::Open(node) => {
                    out.push(b'(');
                    match node {
                        BodyStructure::Multipart { parts, .. } => {
                            ops.push(Op::Close(node));
                            ops.extend(parts.iter().rev().map(Op::Open));
                        }
                        BodyStructure::Single {
                            media_type,
                            subtype,
                            fields,
                            kind,
                            ..
                        } => {
                            write_string(out, media_type, utf8);
                            out.push(b' ');
                            write_string(out, subtype, utf8);
                            out.push(b' ');
                            write_params(out, &fields.params, utf8);
                            out.push(b' ');
                            write_nstring(out, fields.id.as_deref(), utf8);
                            out.push(b' ');
                            write_nstring(out, fields.description.as_deref(), utf8);
                            out.push(b' ');
                            write_string(out, &fields.encoding, utf8);
                            out.push(b' ');
                            write_number(out, fields.octets);
                            ops.push(Op::Close(node));
                            if let SinglePartKind::Message { envelope, body, .. } = kind {
                                out.push(b' ');
                                envelope.write(out, utf8);
                                out.push(b' ');
                                ops.push(Op::Open(body));
                            }
                        }
                    }
                }
                Op::Close(node) => {
                    match node {
                        BodyStructure::Multipart {
                            subtype,
                            params,
                            extension,
                            parts,
                        } => {
                            // A multipart with no parts is not valid IMAP;
                            // send an empty text part so clients can parse it.
                            if parts.is_empty() {
                                out.extend_from_slice(
                                    b"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)",
                                );
                            }
                            out.push(b' ');
                            write_string(out, subtype, utf8);
                            if extensible {
                                out.push(b' ');
                                write_params(out, params, utf8);
                                write_extension(out, extension, utf8);
                            }
                        }
                        BodyStructure::Single {
                            kind,
                            md5,
                            extension,
                            ..
                        } => {
                            match kind {
                                SinglePartKind::Basic => {}
                                SinglePartKind::Text { lines }
                                | SinglePartKind::Message { lines, .. } => {
                                    out.push(b' ');
                                    write_number(out, *lines);
                                }
                            }
                            if extensible {
                                out.push(b' ');
                                write_nstring(out, md5.as_deref(), utf8);
                                write_extension(out, extension, utf8);
                            }
                        }
                    }
                    out.push(b')');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn text_plain(octets: u32, lines: u32) -> BodyStructure {
        BodyStructure::Single {
            media_type: b("TEXT"),
            subtype: b("PLAIN"),
            fields: BodyFields {
                params: vec![(b("CHARSET"), b("US-ASCII"))],
                encoding: b("7BIT"),
                octets,
                ..Default::default()
            },
            kind: SinglePartKind::Text { lines },
            md5: None,
            extension: BodyExtension::default(),
        }
    }

    #[test]
    fn rfc_single_part_example() {
        let mut out = Vec::new();
        text_plain(3028, 92).write(&mut out, false, false);
        assert_eq!(
            out,
            b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)"
        );
        let mut out = Vec::new();
        text_plain(3028, 92).write(&mut out, true, false);
        assert_eq!(
            out,
            b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn nested_multipart_with_attachment_and_message() {
        let attachment = BodyStructure::Single {
            media_type: b("application"),
            subtype: b("pdf"),
            fields: BodyFields {
                params: vec![(b("name"), b("a.pdf"))],
                encoding: b("base64"),
                octets: 100,
                ..Default::default()
            },
            kind: SinglePartKind::Basic,
            md5: None,
            extension: BodyExtension {
                disposition: Some(Disposition {
                    kind: b("attachment"),
                    params: vec![(b("filename"), b("a.pdf"))],
                }),
                language: vec![b("en"), b("de")],
                location: None,
            },
        };
        let forwarded = BodyStructure::Single {
            media_type: b("message"),
            subtype: b("rfc822"),
            fields: BodyFields {
                encoding: b("7bit"),
                octets: 50,
                ..Default::default()
            },
            kind: SinglePartKind::Message {
                envelope: Box::default(),
                body: Box::new(text_plain(10, 1)),
                lines: 4,
            },
            md5: None,
            extension: BodyExtension::default(),
        };
        let inner = BodyStructure::Multipart {
            parts: vec![text_plain(1, 1), text_plain(2, 1)],
            subtype: b("alternative"),
            params: vec![(b("boundary"), b("in"))],
            extension: BodyExtension::default(),
        };
        let outer = BodyStructure::Multipart {
            parts: vec![inner, attachment, forwarded],
            subtype: b("mixed"),
            params: vec![(b("boundary"), b("out"))],
            extension: BodyExtension::default(),
        };
        let mut out = Vec::new();
        outer.write(&mut out, false, false);
        let tp = |o: u32| {
            format!("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" {o} 1)")
        };
        let want = format!(
            "(({}{} \"alternative\")(\"application\" \"pdf\" (\"name\" \"a.pdf\") NIL NIL \"base64\" 100)\
(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 50 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) {} 4) \"mixed\")",
            tp(1),
            tp(2),
            tp(10)
        );
        assert_eq!(String::from_utf8_lossy(&out), want);

        let mut out = Vec::new();
        outer.write(&mut out, true, false);
        let s = String::from_utf8_lossy(&out).into_owned();
        assert!(
            s.contains(
                "\"base64\" 100 NIL (\"attachment\" (\"filename\" \"a.pdf\")) (\"en\" \"de\") NIL)"
            ),
            "{s}"
        );
        assert!(
            s.ends_with(" \"mixed\" (\"boundary\" \"out\") NIL NIL NIL)"),
            "{s}"
        );
        assert!(
            s.contains(" \"alternative\" (\"boundary\" \"in\") NIL NIL NIL)"),
            "{s}"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let mut body = text_plain(1, 1);
        for _ in 0..100_000 {
            body = BodyStructure::Multipart {
                parts: vec![body],
                subtype: b("mixed"),
                params: vec![],
                extension: BodyExtension::default(),
            };
        }
        let mut out = Vec::new();
        body.write(&mut out, true, false);
        assert!(out.starts_with(b"(((("));
        assert!(out.ends_with(b" \"mixed\" NIL NIL NIL NIL)"));
    }
}
