//! FETCH attributes, section specs and modifiers.

/// `section-text` after the part numbers of a BODY[...] section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    Header,
    /// Header field names, as sent (compare case-insensitively).
    HeaderFields(Vec<Vec<u8>>),
    HeaderFieldsNot(Vec<Vec<u8>>),
    Text,
    /// Only after part numbers.
    Mime,
}

/// `BODY[1.2.HEADER]` → `Section { part: vec![1, 2], text: Some(Header) }`;
/// `BODY[]` is the default (whole message).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Section {
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

impl Section {
    /// Wire form without brackets: `1.2.HEADER.FIELDS (From To)`.
    pub fn write(&self, out: &mut Vec<u8>) {
        for (i, p) in self.part.iter().enumerate() {
            if i > 0 {
                out.push(b'.');
            }
            out.extend_from_slice(p.to_string().as_bytes());
        }
        let Some(text) = &self.text else { return };
        if !self.part.is_empty() {
            out.push(b'.');
        }
        let (name, fields): (&[u8], _) = match text {
            SectionText::Header => (b"HEADER", None),
            SectionText::HeaderFields(f) => (b"HEADER.FIELDS", Some(f)),
            SectionText::HeaderFieldsNot(f) => (b"HEADER.FIELDS.NOT", Some(f)),
            SectionText::Text => (b"TEXT", None),
            SectionText::Mime => (b"MIME", None),
        };
        out.extend_from_slice(name);
        if let Some(fields) = fields {
            out.extend_from_slice(b" (");
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                crate::imap::codec::response::write_astring(out, f, false);
            }
            out.push(b')');
        }
    }
}

/// `<origin.length>` of a partial fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    pub origin: u32,
    pub length: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchAttribute {
    Envelope,
    Flags,
    InternalDate,
    Rfc822,
    Rfc822Header,
    Rfc822Size,
    Rfc822Text,
    /// `BODY` without a section: the non-extensible BODYSTRUCTURE.
    Body,
    BodyStructure,
    Uid,
    /// `BODY[section]<p.l>` / `BODY.PEEK[...]`.
    BodySection {
        peek: bool,
        section: Section,
        partial: Option<Partial>,
    },
    /// RFC 3516 `BINARY[part]<p.l>` / `BINARY.PEEK[...]`.
    Binary {
        peek: bool,
        part: Vec<u32>,
        partial: Option<Partial>,
    },
    BinarySize {
        part: Vec<u32>,
    },
    /// RFC 7162.
    ModSeq,
    /// RFC 8514.
    SaveDate,
    /// RFC 8970 `PREVIEW` / `PREVIEW (LAZY)`.
    Preview {
        lazy: bool,
    },
    /// RFC 8474.
    EmailId,
    ThreadId,
}

/// ALL / FAST / FULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchMacro {
    All,
    Fast,
    Full,
}

impl FetchMacro {
    pub fn expand(self) -> Vec<FetchAttribute> {
        use FetchAttribute as A;
        match self {
            FetchMacro::Fast => vec![A::Flags, A::InternalDate, A::Rfc822Size],
            FetchMacro::All => vec![A::Flags, A::InternalDate, A::Rfc822Size, A::Envelope],
            FetchMacro::Full => vec![
                A::Flags,
                A::InternalDate,
                A::Rfc822Size,
                A::Envelope,
                A::Body,
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttributes {
    Macro(FetchMacro),
    List(Vec<FetchAttribute>),
}

impl FetchAttributes {
    pub fn to_vec(&self) -> Vec<FetchAttribute> {
        match self {
            FetchAttributes::Macro(m) => m.expand(),
            FetchAttributes::List(l) => l.clone(),
        }
    }
}

/// `(CHANGEDSINCE n [VANISHED])` (RFC 7162).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchModifiers {
    pub changed_since: Option<u64>,
    pub vanished: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_wire_form() {
        let s = Section {
            part: vec![1, 2],
            text: Some(SectionText::HeaderFields(vec![
                b"From".to_vec(),
                b"X y".to_vec(),
            ])),
        };
        let mut out = Vec::new();
        s.write(&mut out);
        assert_eq!(out, b"1.2.HEADER.FIELDS (From \"X y\")");
        let mut out = Vec::new();
        Section::default().write(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn macros_expand() {
        assert_eq!(FetchMacro::Fast.expand().len(), 3);
        assert!(FetchMacro::Full.expand().contains(&FetchAttribute::Body));
    }
}
