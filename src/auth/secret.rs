//! A password, key or SASL response in memory: never printed, wiped when
//! dropped. The one wrapper for such values in the whole server: the protocol
//! codecs produce it, the shards pass it to the auth helper, and the config
//! holds its passwords (`ssl_key_password`, passdb `args`) in it.

use std::fmt;
use std::ops::Deref;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Secret data: bytes by default, `Secret<String>` for config values that
/// are text. `Debug` shows only whether it is empty, equality runs in
/// constant time, and the buffer is zeroed on drop so a core dump holds fewer
/// passwords.
#[derive(Clone, Default)]
pub struct Secret<T: Zeroize = Vec<u8>>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }
}

impl<T: Zeroize + Deref> Secret<T> {
    /// The value (`&[u8]`, or `&str` for text), for the one place that must
    /// see it (hashing, PAM, the auth request, `config -P`).
    pub fn expose(&self) -> &T::Target {
        &self.0
    }
}

impl<T: Zeroize + AsRef<[u8]>> Secret<T> {
    pub fn len(&self) -> usize {
        self.0.as_ref().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_empty()
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
}

impl From<&[u8]> for Secret {
    fn from(bytes: &[u8]) -> Self {
        Secret(bytes.to_vec())
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.as_bytes().to_vec())
    }
}

impl From<String> for Secret<String> {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl<T: Zeroize + AsRef<[u8]>> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whether a password is set at all is worth seeing in a config dump.
        if self.is_empty() {
            f.write_str("Secret(\"\")")
        } else {
            f.write_str("Secret(<hidden>)")
        }
    }
}

impl<T: Zeroize + AsRef<[u8]>> PartialEq for Secret<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_ref().ct_eq(other.0.as_ref()).into()
    }
}

impl<T: Zeroize + AsRef<[u8]>> Eq for Secret<T> {}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_leak() {
        let s = Secret::from("hunter2");
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("<hidden>"));
        assert_eq!(s.expose(), b"hunter2");
        assert_eq!(s, Secret::from("hunter2"));
        assert_ne!(s, Secret::from("hunter3"));
        assert_ne!(s, Secret::from("hunter22"));
    }

    #[test]
    fn text_secrets_hide_too_but_show_emptiness() {
        let key = Secret::new(String::from("replication_password"));
        assert_eq!(format!("{key:?}"), "Secret(<hidden>)");
        assert_eq!(key.expose(), "replication_password");
        assert_eq!(format!("{:?}", Secret::<String>::default()), "Secret(\"\")");
        assert!(Secret::<String>::default().is_empty());
        assert_eq!(key.len(), 20);
    }
}
