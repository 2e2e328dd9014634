//! FETCH attributes and modifiers.

// A section spec is the message layer's section selection: the parser
// builds it and FETCH hands it to the message layer unchanged.
pub use crate::message::{Section, SectionText};

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
    /// RFC 8970 `PREVIEW` / `PREVIEW (LAZY)`; with `fuzzy`, the older
    /// draft's `PREVIEW (FUZZY)` / `PREVIEW (LAZY=FUZZY)` (Dovecot's
    /// PREVIEW=FUZZY), answered `PREVIEW (FUZZY "…")`.
    Preview {
        lazy: bool,
        fuzzy: bool,
    },
    /// The draft's first form, `SNIPPET (FUZZY)` / `SNIPPET (LAZY=FUZZY)`
    /// (Dovecot's SNIPPET=FUZZY), answered `SNIPPET (FUZZY "…")`.
    Snippet {
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

/// `(CHANGEDSINCE n [VANISHED] [PARTIAL range])` (RFC 7162, RFC 9394).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchModifiers {
    pub changed_since: Option<u64>,
    pub vanished: bool,
    /// UID FETCH only: the window of the matching messages to answer for.
    pub partial: Option<super::partial::PartialRange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_expand() {
        assert_eq!(FetchMacro::Fast.expand().len(), 3);
        assert!(FetchMacro::Full.expand().contains(&FetchAttribute::Body));
    }
}
