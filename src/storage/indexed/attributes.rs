//! Private mailbox attributes (RFC 5464 `/private/...`; Dovecot keeps them
//! in its attribute dict), kept by every on-disk store in one control file.
//! Entries are keyed by the mailbox GUID, so an attribute follows a
//! RENAME and is not inherited by a later mailbox of the same name.
//! Blocking functions: run them inside `blocking::run` under the store's
//! control-file gate.

use crate::storage::error::Result;
use crate::storage::guid::{self, Guid};
use crate::storage::index::disk;
use std::path::Path;

/// `<mailbox guid>\t<key>\t<value as hex>` lines.
pub const ATTRIBUTES_FILE: &str = "tern.attributes";

/// One stored attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    mailbox: Guid,
    key: String,
    value: Vec<u8>,
}

fn read_all(control: &Path) -> Result<Vec<Entry>> {
    let Some(bytes) = disk::read_optional(&control.join(ATTRIBUTES_FILE))? else {
        return Ok(Vec::new());
    };
    // A line that does not parse (a torn edit by hand) is skipped: the
    // attribute is then unset, which for URLAUTH keys only invalidates
    // URLs, never grants access.
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let mailbox = guid::from_hex(fields.next()?)?;
            let key = fields.next()?.to_string();
            let value = from_hex(fields.next()?)?;
            Some(Entry {
                mailbox,
                key,
                value,
            })
        })
        .collect())
}

fn write_all(control: &Path, entries: &[Entry]) -> Result<()> {
    let mut text = String::new();
    for e in entries {
        text.push_str(&guid::to_hex(&e.mailbox));
        text.push('\t');
        text.push_str(&e.key);
        text.push('\t');
        text.push_str(&to_hex(&e.value));
        text.push('\n');
    }
    disk::replace_file(control, ATTRIBUTES_FILE, text.as_bytes())?;
    disk::sync_dir(control)
}

/// The value of `key` on `mailbox`, if set.
pub fn get(control: &Path, mailbox: &Guid, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(read_all(control)?
        .into_iter()
        .find(|e| e.mailbox == *mailbox && e.key == key)
        .map(|e| e.value))
}

/// Sets (`Some`) or removes (`None`) `key` on `mailbox`; `mailbox` `None`
/// removes `key` from every mailbox. The file is rewritten only on a change.
pub fn set(
    control: &Path,
    mailbox: Option<&Guid>,
    key: &str,
    value: Option<Vec<u8>>,
) -> Result<()> {
    debug_assert!(!key.contains(['\t', '\n']));
    let mut entries = read_all(control)?;
    let before = entries.clone();
    entries.retain(|e| e.key != key || mailbox.is_some_and(|m| e.mailbox != *m));
    if let (Some(mailbox), Some(value)) = (mailbox, value) {
        entries.push(Entry {
            mailbox: *mailbox,
            key: key.to_string(),
            value,
        });
    }
    if entries == before {
        return Ok(());
    }
    write_all(control, &entries)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_remove_and_clear_everywhere() {
        let dir = crate::storage::sdbox::test_dir("attributes");
        let (a, b) = ([1u8; 16], [2u8; 16]);
        assert_eq!(get(&dir, &a, "k").unwrap(), None);
        set(&dir, Some(&a), "k", Some(vec![0, 0xff])).unwrap();
        set(&dir, Some(&b), "k", Some(vec![7])).unwrap();
        set(&dir, Some(&b), "other", Some(vec![8])).unwrap();
        let a_value = get(&dir, &a, "k").unwrap();
        set(&dir, Some(&a), "k", Some(vec![9])).unwrap();
        let replaced = get(&dir, &a, "k").unwrap();
        set(&dir, Some(&a), "k", None).unwrap();
        let removed = get(&dir, &a, "k").unwrap();
        let b_kept = get(&dir, &b, "k").unwrap();
        set(&dir, None, "k", None).unwrap();
        let b_cleared = get(&dir, &b, "k").unwrap();
        let other_kept = get(&dir, &b, "other").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(a_value, Some(vec![0, 0xff]));
        assert_eq!(replaced, Some(vec![9]));
        assert_eq!(removed, None);
        assert_eq!(b_kept, Some(vec![7]));
        assert_eq!(b_cleared, None);
        assert_eq!(other_kept, Some(vec![8]));
    }
}
