//! FETCH responses, written piece by piece so message bodies can be
//! streamed: `begin` → items / body headers (caller then sends the body
//! bytes itself) → `finish`.

use super::section::{write_part, write_section};
use super::strings::write_nstring;
use super::structure::{write_body_structure, write_envelope};
use super::{EncodeOptions, write_number};
use crate::imap::codec::types::{Atom, Flag, ImapDateTime, Section};
use crate::message::{BodyStructure, Envelope};

/// A FETCH data item whose value is small enough to build in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Flags(Vec<Flag>),
    Uid(u32),
    InternalDate(ImapDateTime),
    Rfc822Size(u64),
    ModSeq(u64),
    /// RFC 8514; `None` → `SAVEDATE NIL`.
    SaveDate(Option<ImapDateTime>),
    /// RFC 8474.
    EmailId(Atom),
    ThreadId(Option<Atom>),
    /// RFC 8970; `None` → `PREVIEW NIL`.
    Preview(Option<Vec<u8>>),
    /// Dovecot's fuzzy forms: `PREVIEW (FUZZY "…")`, or with `snippet`
    /// `SNIPPET (FUZZY "…")`.
    FuzzyPreview {
        snippet: bool,
        text: Option<Vec<u8>>,
    },
    /// RFC 3516 `BINARY.SIZE[part] n`.
    BinarySize {
        part: Vec<u32>,
        size: u64,
    },
}

/// The name of a body item whose value is a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyItemName<'a> {
    /// `BODY[section]<origin>` (the answer to BODY[...] and BODY.PEEK[...]).
    Body {
        section: &'a Section,
        origin: Option<u32>,
    },
    /// `BINARY[part]<origin>`, sent as literal8.
    Binary {
        part: &'a [u32],
        origin: Option<u32>,
    },
    Rfc822,
    Rfc822Header,
    Rfc822Text,
}

impl BodyItemName<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            BodyItemName::Body { section, origin } => {
                out.extend_from_slice(b"BODY[");
                write_section(out, section);
                out.push(b']');
                write_origin(out, *origin);
            }
            BodyItemName::Binary { part, origin } => {
                out.extend_from_slice(b"BINARY[");
                write_part(out, part);
                out.push(b']');
                write_origin(out, *origin);
            }
            BodyItemName::Rfc822 => out.extend_from_slice(b"RFC822"),
            BodyItemName::Rfc822Header => out.extend_from_slice(b"RFC822.HEADER"),
            BodyItemName::Rfc822Text => out.extend_from_slice(b"RFC822.TEXT"),
        }
    }
}

fn write_origin(out: &mut Vec<u8>, origin: Option<u32>) {
    if let Some(o) = origin {
        out.push(b'<');
        write_number(out, o);
        out.push(b'>');
    }
}

fn write_date_time(out: &mut Vec<u8>, dt: &ImapDateTime) {
    out.push(b'"');
    dt.write_unquoted(out);
    out.push(b'"');
}

/// Writes one `* n FETCH (...)` response in pieces.
#[derive(Debug)]
#[must_use = "a FETCH response must be finished"]
pub struct FetchEncoder {
    items: usize,
}

impl FetchEncoder {
    /// Writes `* seq FETCH (`.
    pub fn begin(out: &mut Vec<u8>, seq: u32) -> Self {
        out.extend_from_slice(b"* ");
        write_number(out, seq);
        out.extend_from_slice(b" FETCH (");
        FetchEncoder { items: 0 }
    }

    fn separator(&mut self, out: &mut Vec<u8>) {
        if self.items > 0 {
            out.push(b' ');
        }
        self.items += 1;
    }

    pub fn item(&mut self, out: &mut Vec<u8>, item: &FetchItem, opts: EncodeOptions) {
        self.separator(out);
        match item {
            FetchItem::Flags(flags) => {
                out.extend_from_slice(b"FLAGS (");
                for (i, f) in flags.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    f.write(out);
                }
                out.push(b')');
            }
            FetchItem::Uid(uid) => {
                out.extend_from_slice(b"UID ");
                write_number(out, *uid);
            }
            FetchItem::InternalDate(dt) => {
                out.extend_from_slice(b"INTERNALDATE ");
                write_date_time(out, dt);
            }
            FetchItem::Rfc822Size(n) => {
                out.extend_from_slice(b"RFC822.SIZE ");
                write_number(out, *n);
            }
            FetchItem::ModSeq(n) => {
                out.extend_from_slice(b"MODSEQ (");
                write_number(out, *n);
                out.push(b')');
            }
            FetchItem::SaveDate(dt) => {
                out.extend_from_slice(b"SAVEDATE ");
                match dt {
                    Some(dt) => write_date_time(out, dt),
                    None => out.extend_from_slice(b"NIL"),
                }
            }
            FetchItem::EmailId(id) => {
                out.extend_from_slice(b"EMAILID (");
                out.extend_from_slice(id.as_str().as_bytes());
                out.push(b')');
            }
            FetchItem::ThreadId(id) => {
                out.extend_from_slice(b"THREADID ");
                match id {
                    Some(id) => {
                        out.push(b'(');
                        out.extend_from_slice(id.as_str().as_bytes());
                        out.push(b')');
                    }
                    None => out.extend_from_slice(b"NIL"),
                }
            }
            FetchItem::Preview(text) => {
                out.extend_from_slice(b"PREVIEW ");
                write_nstring(out, text.as_deref(), opts.utf8);
            }
            FetchItem::FuzzyPreview { snippet, text } => {
                out.extend_from_slice(if *snippet {
                    b"SNIPPET (FUZZY "
                } else {
                    b"PREVIEW (FUZZY "
                });
                write_nstring(out, text.as_deref(), opts.utf8);
                out.push(b')');
            }
            FetchItem::BinarySize { part, size } => {
                out.extend_from_slice(b"BINARY.SIZE[");
                write_part(out, part);
                out.extend_from_slice(b"] ");
                write_number(out, *size);
            }
        }
    }

    /// `ENVELOPE (...)`. The message layer's values are written as they
    /// are, whatever was negotiated (see [`super::structure`]).
    pub fn envelope(&mut self, out: &mut Vec<u8>, envelope: &Envelope) {
        self.separator(out);
        out.extend_from_slice(b"ENVELOPE ");
        write_envelope(out, envelope);
    }

    /// `BODYSTRUCTURE (...)` when `extended`, else `BODY (...)`.
    pub fn body_structure(&mut self, out: &mut Vec<u8>, body: &BodyStructure, extended: bool) {
        self.separator(out);
        out.extend_from_slice(if extended {
            b"BODYSTRUCTURE "
        } else {
            b"BODY "
        });
        write_body_structure(out, body, extended);
    }

    /// Writes `NAME {len}CRLF` (`~{len}` for BINARY); the caller must then
    /// send exactly `len` bytes before the next item or `finish`.
    pub fn body_header(&mut self, out: &mut Vec<u8>, name: BodyItemName<'_>, len: u64) {
        let literal8 = matches!(name, BodyItemName::Binary { .. });
        self.literal_header(out, name, len, literal8);
    }

    /// Writes `NAME {len}CRLF`, or `NAME ~{len}CRLF` when `literal8`
    /// (RFC 3516 §4.2: only content that may hold NULs needs it).
    pub fn literal_header(
        &mut self,
        out: &mut Vec<u8>,
        name: BodyItemName<'_>,
        len: u64,
        literal8: bool,
    ) {
        self.separator(out);
        name.write(out);
        out.push(b' ');
        if literal8 {
            out.push(b'~');
        }
        out.push(b'{');
        write_number(out, len);
        out.extend_from_slice(b"}\r\n");
    }

    /// Header and body in one go, for small bodies.
    pub fn body(&mut self, out: &mut Vec<u8>, name: BodyItemName<'_>, data: &[u8]) {
        self.body_header(out, name, data.len() as u64);
        out.extend_from_slice(data);
    }

    /// `NAME NIL` (e.g. a section that does not exist).
    pub fn body_nil(&mut self, out: &mut Vec<u8>, name: BodyItemName<'_>) {
        self.separator(out);
        name.write(out);
        out.extend_from_slice(b" NIL");
    }

    /// Writes `)CRLF`.
    pub fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(b")\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::codec::types::{ImapDate, SectionText};

    #[test]
    fn full_fetch_response() {
        let mut out = Vec::new();
        let opts = EncodeOptions::default();
        let mut f = FetchEncoder::begin(&mut out, 12);
        f.item(&mut out, &FetchItem::Uid(4827313), opts);
        f.item(
            &mut out,
            &FetchItem::Flags(vec![Flag::Seen, Flag::Recent]),
            opts,
        );
        let dt = ImapDateTime::new(ImapDate::new(1996, 7, 17).unwrap(), 2, 44, 25, -420).unwrap();
        f.item(&mut out, &FetchItem::InternalDate(dt), opts);
        f.item(&mut out, &FetchItem::Rfc822Size(4286), opts);
        f.item(&mut out, &FetchItem::ModSeq(624140003), opts);
        let section = Section {
            part: vec![1, 2],
            text: None,
        };
        f.body_header(
            &mut out,
            BodyItemName::Body {
                section: &section,
                origin: Some(0),
            },
            5,
        );
        out.extend_from_slice(b"hello");
        f.finish(&mut out);
        assert_eq!(
            out,
            &b"* 12 FETCH (UID 4827313 FLAGS (\\Seen \\Recent) INTERNALDATE \
\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 MODSEQ (624140003) BODY[1.2]<0> {5}\r\nhello)\r\n"
                [..]
        );
    }

    #[test]
    fn other_items() {
        let mut out = Vec::new();
        let opts = EncodeOptions::default();
        let mut f = FetchEncoder::begin(&mut out, 1);
        let section = Section {
            part: vec![],
            text: Some(SectionText::HeaderFields(vec![b"Subject".to_vec()])),
        };
        f.body(
            &mut out,
            BodyItemName::Body {
                section: &section,
                origin: None,
            },
            b"S\r\n",
        );
        f.body(
            &mut out,
            BodyItemName::Binary {
                part: &[2],
                origin: None,
            },
            b"\0",
        );
        f.item(
            &mut out,
            &FetchItem::BinarySize {
                part: vec![2],
                size: 1,
            },
            opts,
        );
        f.item(&mut out, &FetchItem::Preview(None), opts);
        f.item(&mut out, &FetchItem::SaveDate(None), opts);
        f.body_nil(&mut out, BodyItemName::Rfc822Text);
        f.envelope(&mut out, &Envelope::default());
        f.finish(&mut out);
        assert_eq!(
            out,
            &b"* 1 FETCH (BODY[HEADER.FIELDS (Subject)] {3}\r\nS\r\n BINARY[2] ~{1}\r\n\0 \
BINARY.SIZE[2] 1 PREVIEW NIL SAVEDATE NIL RFC822.TEXT NIL ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"[..]
        );
    }
}
