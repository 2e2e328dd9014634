//! MD5-crypt (`$1$salt$hash`), the FreeBSD/glibc algorithm Dovecot calls
//! MD5-CRYPT. Hand-written because the only crate offering it (pwhash) drags in
//! an older generation of the RustCrypto crates.

use md5::{Digest, Md5};

/// The crypt(3) base-64 alphabet (not RFC 4648 order).
pub(crate) const CRYPT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const MAGIC: &str = "$1$";
const MAX_SALT_LEN: usize = 8;
const ROUNDS: usize = 1000;

/// Returns the salt that MD5-crypt would use from a setting or a full hash:
/// everything after `$1$` up to the next `$`, at most 8 bytes. `None` if the
/// string does not start with `$1$`.
pub(crate) fn salt_of(setting: &str) -> Option<&str> {
    let rest = setting.strip_prefix(MAGIC)?;
    let end = rest.find('$').unwrap_or(rest.len());
    let mut salt = &rest[..end];
    if salt.len() > MAX_SALT_LEN {
        // Salt characters are ASCII in every real hash; cutting on a char
        // boundary keeps odd input from panicking.
        let mut cut = MAX_SALT_LEN;
        while !salt.is_char_boundary(cut) {
            cut -= 1;
        }
        salt = &salt[..cut];
    }
    Some(salt)
}

/// Computes the full `$1$salt$hash` string for `password` with `salt`
/// (already cut by [`salt_of`] or generated).
pub(crate) fn md5_crypt(password: &[u8], salt: &str) -> String {
    let salt = salt.as_bytes();
    let alternate = {
        let mut h = Md5::new();
        h.update(password);
        h.update(salt);
        h.update(password);
        h.finalize()
    };

    let mut h = Md5::new();
    h.update(password);
    h.update(MAGIC.as_bytes());
    h.update(salt);
    let mut remaining = password.len();
    while remaining > 0 {
        let take = remaining.min(16);
        h.update(&alternate[..take]);
        remaining -= take;
    }
    // The historical algorithm feeds a zero byte for each set bit of the
    // length and the password's first byte for each clear bit.
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            h.update([0u8]);
        } else {
            h.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut digest: [u8; 16] = h.finalize().into();

    for round in 0..ROUNDS {
        let mut h = Md5::new();
        if round & 1 == 1 {
            h.update(password);
        } else {
            h.update(digest);
        }
        if round % 3 != 0 {
            h.update(salt);
        }
        if round % 7 != 0 {
            h.update(password);
        }
        if round & 1 == 1 {
            h.update(digest);
        } else {
            h.update(password);
        }
        digest = h.finalize().into();
    }

    let mut out = String::with_capacity(MAGIC.len() + salt.len() + 1 + 22);
    out.push_str(MAGIC);
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    let d = |i: usize| u32::from(digest[i]);
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push_crypt64(&mut out, (d(a) << 16) | (d(b) << 8) | d(c), 4);
    }
    push_crypt64(&mut out, d(11), 2);
    out
}

fn push_crypt64(out: &mut String, mut value: u32, chars: usize) {
    for _ in 0..chars {
        out.push(char::from(CRYPT_ALPHABET[(value & 0x3f) as usize]));
        value >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_doveadm_outputs() {
        // `doveadm pw -s MD5-CRYPT` from Dovecot 2.3.19.
        let stored = "$1$oAzBePXG$zOFyLQt3k1Ix6/qRNWaxk.";
        assert_eq!(md5_crypt(b"secret", salt_of(stored).unwrap()), stored);
        let long = "$1$a8zz20F/$86KuwF/yeHLaEMG8AgZCf1";
        let pw = b"a much longer password with more than sixteen bytes";
        assert_eq!(md5_crypt(pw, salt_of(long).unwrap()), long);
    }

    #[test]
    fn matches_openssl_passwd_1() {
        // `openssl passwd -1 -salt saltsalt password`
        assert_eq!(
            md5_crypt(b"password", "saltsalt"),
            "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/"
        );
    }

    #[test]
    fn salt_is_cut_at_dollar_and_eight_bytes() {
        assert_eq!(salt_of("$1$abc$xyz"), Some("abc"));
        assert_eq!(salt_of("$1$0123456789$x"), Some("01234567"));
        assert_eq!(salt_of("$1$"), Some(""));
        assert_eq!(salt_of("$5$abc$"), None);
        // Multi-byte characters across the cut must not panic.
        assert!(salt_of("$1$aaaaaaaé$").is_some());
    }

    #[test]
    fn empty_password_and_salt_give_a_hash() {
        let h = md5_crypt(b"", "");
        assert!(h.starts_with("$1$$"));
        assert_eq!(h.len(), 4 + 22);
    }
}
