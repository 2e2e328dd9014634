//! Mailbox names: validation and the mapping to on-disk directory names.
//!
//! A name is UTF-8 with `/` as hierarchy separator (the sdbox default). A name
//! that passes here can be joined under the mail root without escaping it.

use super::mutf7;
use thiserror::Error;

/// Hierarchy separator used by tern's namespaces.
pub const SEPARATOR: char = '/';
/// Longest accepted name in bytes (Dovecot's limit is similar).
pub const MAX_NAME_BYTES: usize = 1024;
/// sdbox keeps messages in this subdirectory, so no mailbox may be named so.
pub const RESERVED_DIR: &str = "dbox-Mails";
/// Longest on-disk component (NAME_MAX on Linux filesystems).
const MAX_COMPONENT_BYTES: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("mailbox name is empty")]
    Empty,
    #[error("mailbox name is too long")]
    TooLong,
    #[error("mailbox name contains a control character")]
    ControlChar,
    #[error("mailbox name has an empty hierarchy level")]
    EmptyComponent,
    #[error("mailbox name component {0:?} is reserved")]
    Reserved(String),
    #[error("mailbox name must not start with '~'")]
    HomeRelative,
    #[error("on-disk name {0:?} is not valid modified UTF-7")]
    BadDiskName(String),
}

/// A validated mailbox name. `INBOX` is always spelled in upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxName(String);

impl MailboxName {
    pub fn new(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        if raw.len() > MAX_NAME_BYTES {
            return Err(NameError::TooLong);
        }
        if raw.chars().any(|c| c.is_control()) {
            return Err(NameError::ControlChar);
        }
        if raw.starts_with('~') {
            return Err(NameError::HomeRelative);
        }
        let mut normalized = String::with_capacity(raw.len());
        for (i, comp) in raw.split(SEPARATOR).enumerate() {
            if comp.is_empty() {
                return Err(NameError::EmptyComponent);
            }
            if comp == "." || comp == ".." || comp == RESERVED_DIR {
                return Err(NameError::Reserved(comp.to_string()));
            }
            if mutf7::encode(comp).len() > MAX_COMPONENT_BYTES {
                return Err(NameError::TooLong);
            }
            if i > 0 {
                normalized.push(SEPARATOR);
            }
            // INBOX is case-insensitive (RFC 9051 §5.1), also as a parent.
            if i == 0 && comp.eq_ignore_ascii_case("INBOX") {
                normalized.push_str("INBOX");
            } else {
                normalized.push_str(comp);
            }
        }
        Ok(MailboxName(normalized))
    }

    pub fn inbox() -> Self {
        MailboxName("INBOX".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split(SEPARATOR)
    }

    /// The parent's name, if this is not a top-level mailbox.
    pub fn parent(&self) -> Option<MailboxName> {
        self.0
            .rsplit_once(SEPARATOR)
            .map(|(p, _)| MailboxName(p.to_string()))
    }

    /// True when `self` is `other` or lies below it.
    pub fn is_within(&self, other: &MailboxName) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    /// On-disk directory components (modified UTF-7 unless `utf8_names`).
    pub fn disk_components(&self, utf8_names: bool) -> Vec<String> {
        self.components()
            .map(|c| {
                if utf8_names {
                    c.to_string()
                } else {
                    mutf7::encode(c)
                }
            })
            .collect()
    }

    /// Parse on-disk components back into a name.
    pub fn from_disk_components(parts: &[String], utf8_names: bool) -> Result<Self, NameError> {
        let mut decoded = Vec::with_capacity(parts.len());
        for p in parts {
            if utf8_names {
                decoded.push(p.clone());
            } else {
                decoded.push(mutf7::decode(p).map_err(|_| NameError::BadDiskName(p.clone()))?);
            }
        }
        MailboxName::new(&decoded.join("/"))
    }
}

impl std::fmt::Display for MailboxName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalizes() {
        assert_eq!(MailboxName::new("inbox").unwrap().as_str(), "INBOX");
        assert_eq!(MailboxName::new("Inbox/Sub").unwrap().as_str(), "INBOX/Sub");
        assert!(MailboxName::new("Café").unwrap().disk_components(false) == vec!["Caf&AOk-"]);
        assert_eq!(
            MailboxName::new("dotted.name").unwrap().as_str(),
            "dotted.name"
        );
        assert!(MailboxName::new(".hidden").is_ok());
        assert!(MailboxName::new("a b;%").is_ok());
        let n = MailboxName::new("Archive/2024").unwrap();
        assert_eq!(n.parent().unwrap().as_str(), "Archive");
        assert!(n.is_within(&MailboxName::new("Archive").unwrap()));
        assert!(
            !MailboxName::new("Archived")
                .unwrap()
                .is_within(&MailboxName::new("Archive").unwrap())
        );
    }

    #[test]
    fn rejects_dangerous() {
        assert_eq!(MailboxName::new(""), Err(NameError::Empty));
        assert_eq!(
            MailboxName::new("a/../b"),
            Err(NameError::Reserved("..".into()))
        );
        assert_eq!(
            MailboxName::new(".."),
            Err(NameError::Reserved("..".into()))
        );
        assert_eq!(MailboxName::new("/abs"), Err(NameError::EmptyComponent));
        assert_eq!(MailboxName::new("a//b"), Err(NameError::EmptyComponent));
        assert_eq!(MailboxName::new("a/"), Err(NameError::EmptyComponent));
        assert_eq!(MailboxName::new("a\0b"), Err(NameError::ControlChar));
        assert_eq!(MailboxName::new("a\nb"), Err(NameError::ControlChar));
        assert_eq!(
            MailboxName::new("x/dbox-Mails"),
            Err(NameError::Reserved("dbox-Mails".into()))
        );
        assert_eq!(MailboxName::new("~root"), Err(NameError::HomeRelative));
        assert_eq!(MailboxName::new(&"x".repeat(300)), Err(NameError::TooLong));
    }

    #[test]
    fn disk_round_trip() {
        let n = MailboxName::new("Café/日本語/a&b").unwrap();
        let disk = n.disk_components(false);
        assert_eq!(MailboxName::from_disk_components(&disk, false).unwrap(), n);
        assert!(MailboxName::from_disk_components(&["&bad".to_string()], false).is_err());
    }
}
