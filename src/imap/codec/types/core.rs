//! Tags, atoms, strings and mailbox names.

use std::fmt;

/// A value refused by a constructor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}")]
pub struct InvalidValue {
    pub what: &'static str,
}

/// ATOM-CHAR: any CHAR except atom-specials (RFC 9051 section 9).
pub(crate) fn is_atom_char(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
        && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// ASTRING-CHAR: ATOM-CHAR or `]`.
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

/// Command tag: 1*(ASTRING-CHAR except "+").
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&[u8]> for Tag {
    type Error = InvalidValue;
    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        if bytes.is_empty() || !bytes.iter().all(|&b| is_astring_char(b) && b != b'+') {
            return Err(InvalidValue { what: "tag" });
        }
        // All bytes are printable ASCII, so this is valid UTF-8.
        Ok(Tag(String::from_utf8_lossy(bytes).into_owned()))
    }
}

impl TryFrom<&str> for Tag {
    type Error = InvalidValue;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Tag::try_from(s.as_bytes())
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:?})", self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 1*ATOM-CHAR. Keeps the case it was received in; compare with
/// [`Atom::eq_ignore_case`] for keywords.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Atom(String);

impl Atom {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl TryFrom<&[u8]> for Atom {
    type Error = InvalidValue;
    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        if bytes.is_empty() || !bytes.iter().all(|&b| is_atom_char(b)) {
            return Err(InvalidValue { what: "atom" });
        }
        Ok(Atom(String::from_utf8_lossy(bytes).into_owned()))
    }
}

impl TryFrom<&str> for Atom {
    type Error = InvalidValue;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Atom::try_from(s.as_bytes())
    }
}

impl fmt::Debug for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Atom({:?})", self.0)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The value of an astring / string (atom, quoted or literal on the wire):
/// raw bytes, since IMAP4rev2 allows UTF-8 and rev1 clients send 8-bit.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct AString(Vec<u8>);

impl AString {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        AString(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The value as UTF-8 text, if it is.
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl From<&str> for AString {
    fn from(s: &str) -> Self {
        AString(s.as_bytes().to_vec())
    }
}

impl fmt::Debug for AString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AString({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// A mailbox name. `INBOX` in any case is the one inbox (RFC 9051 5.1);
/// other names keep their bytes (modified UTF-7 in rev1, UTF-8 in rev2:
/// converted elsewhere).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Mailbox {
    Inbox,
    Other(Vec<u8>),
}

impl Mailbox {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.eq_ignore_ascii_case(b"INBOX") {
            Mailbox::Inbox
        } else {
            Mailbox::Other(bytes.to_vec())
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Mailbox::Inbox => b"INBOX",
            Mailbox::Other(b) => b,
        }
    }
}

impl From<&str> for Mailbox {
    fn from(s: &str) -> Self {
        Mailbox::from_bytes(s.as_bytes())
    }
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mailbox::Inbox => f.write_str("Inbox"),
            Mailbox::Other(b) => write!(f, "Mailbox({:?})", String::from_utf8_lossy(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_rules() {
        assert!(Tag::try_from("a001").is_ok());
        assert!(Tag::try_from("a]1").is_ok());
        assert!(Tag::try_from("a+1").is_err());
        assert!(Tag::try_from("").is_err());
        assert!(Tag::try_from("a b").is_err());
        assert!(Tag::try_from("a*").is_err());
        assert!(Tag::try_from(&[0xc3u8, 0xa9][..]).is_err());
    }

    #[test]
    fn atom_rules() {
        assert!(Atom::try_from("IMAP4rev2").is_ok());
        assert!(Atom::try_from("a]").is_err());
        assert!(Atom::try_from("a(").is_err());
        assert!(Atom::try_from("CONDSTORE").is_ok_and(|a| a.eq_ignore_case("condstore")));
    }

    #[test]
    fn inbox_is_case_insensitive() {
        assert_eq!(Mailbox::from("iNbOx"), Mailbox::Inbox);
        assert_eq!(
            Mailbox::from("INBOX.x"),
            Mailbox::Other(b"INBOX.x".to_vec())
        );
        assert_eq!(Mailbox::Inbox.as_bytes(), b"INBOX");
    }
}
