//! SCRAM secrets (RFC 5802 / RFC 7677) as Dovecot stores them:
//! `{SCRAM-SHA-256}iterations,salt_b64,StoredKey_b64,ServerKey_b64`.
//! A passdb holding these can check a plaintext password (PLAIN/LOGIN)
//! and, later, serve the SCRAM mechanisms without knowing the password.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::encoding::{base64_decode, base64_encode};

/// Iterations doveadm 2.3 uses for new SCRAM secrets.
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// Refuse absurd counts from a damaged passdb rather than hang a thread.
pub const MAX_ITERATIONS: u32 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    Sha1,
    Sha256,
}

impl ScramHash {
    pub fn output_len(self) -> usize {
        match self {
            ScramHash::Sha1 => 20,
            ScramHash::Sha256 => 32,
        }
    }

    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so the Err arm is unreachable; an
        // empty output would simply never match.
        match self {
            ScramHash::Sha1 => Hmac::<Sha1>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
            ScramHash::Sha256 => Hmac::<Sha256>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
        }
    }

    /// `Hi(password, salt, i)`: PBKDF2 with HMAC of this hash.
    pub fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut out = vec![0u8; self.output_len()];
        match self {
            ScramHash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
            ScramHash::Sha256 => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out)
            }
        }
        out
    }
}

/// The stored SCRAM secret of one user.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    pub hash: ScramHash,
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredentials")
            .field("hash", &self.hash)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramCredentials {
    /// Derives the secret from a password (RFC 5802 §3).
    pub fn derive(hash: ScramHash, password: &[u8], salt: &[u8], iterations: u32) -> Self {
        let salted = hash.salted_password(password, salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        ScramCredentials {
            hash,
            iterations,
            salt: salt.to_vec(),
            stored_key: hash.hash(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
        }
    }

    /// Parses Dovecot's `iterations,salt,StoredKey,ServerKey` text.
    pub fn parse(hash: ScramHash, text: &str) -> Option<Self> {
        let mut fields = text.split(',');
        let iterations: u32 = fields.next()?.parse().ok()?;
        let salt = base64_decode(fields.next()?)?;
        let stored_key = base64_decode(fields.next()?)?;
        let server_key = base64_decode(fields.next()?)?;
        let sane = fields.next().is_none()
            && (1..=MAX_ITERATIONS).contains(&iterations)
            && stored_key.len() == hash.output_len()
            && server_key.len() == hash.output_len();
        sane.then_some(ScramCredentials {
            hash,
            iterations,
            salt,
            stored_key,
            server_key,
        })
    }

    pub fn to_text(&self) -> String {
        format!(
            "{},{},{},{}",
            self.iterations,
            base64_encode(&self.salt),
            base64_encode(&self.stored_key),
            base64_encode(&self.server_key)
        )
    }

    /// Checks a plaintext password against the stored key.
    pub fn verify_password(&self, password: &[u8]) -> bool {
        let derived = Self::derive(self.hash, password, &self.salt, self.iterations);
        derived.stored_key.ct_eq(&self.stored_key).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doveadm_scram_secrets_verify() {
        // `doveadm pw -s SCRAM-SHA-256 -p secret` / `-s SCRAM-SHA-1`, 2.3.19.
        let sha256 = ScramCredentials::parse(
            ScramHash::Sha256,
            "4096,hiXKJZUK/ps+I+WYi7fcdg==,XKKMAfQdsNjTuaf2fmdbjXu6RFyx4WVsPNFdnGtxNkU=,oVEjqI0RrnTgMiPOBOuseCKvNHL4hkho+gXlgfzrIOE=",
        )
        .unwrap();
        assert!(sha256.verify_password(b"secret"));
        assert!(!sha256.verify_password(b"secreT"));
        let sha1 = ScramCredentials::parse(
            ScramHash::Sha1,
            "4096,2uwdQKxYsneZRV9kkatIVg==,3NLEfw/BMn4R0iiBoy1CofnzDiI=,hTes4VdQDGbCfrziCkuqvAxdJJs=",
        )
        .unwrap();
        assert!(sha1.verify_password(b"secret"));
    }

    #[test]
    fn rfc7677_example_keys() {
        // RFC 7677 §3: user "user", password "pencil".
        let salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let creds = ScramCredentials::derive(ScramHash::Sha256, b"pencil", &salt, 4096);
        let salted = ScramHash::Sha256.salted_password(b"pencil", &salt, 4096);
        let client_key = ScramHash::Sha256.hmac(&salted, b"Client Key");
        assert_eq!(creds.stored_key, ScramHash::Sha256.hash(&client_key));
        // The server signature from the RFC's exchange proves ServerKey.
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let signature = ScramHash::Sha256.hmac(&creds.server_key, auth_message.as_bytes());
        assert_eq!(
            base64_encode(&signature),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn text_round_trip_and_rejects_garbage() {
        let c = ScramCredentials::derive(ScramHash::Sha1, b"pw", b"saltsalt", 10);
        assert_eq!(
            ScramCredentials::parse(ScramHash::Sha1, &c.to_text()),
            Some(c.clone())
        );
        assert_eq!(
            ScramCredentials::parse(ScramHash::Sha256, &c.to_text()),
            None
        );
        for bad in [
            "",
            "x,a,b,c",
            "0,AA==,AA==,AA==",
            "4096,!!,AA==,AA==",
            "1,AA==,AA==,AA==,AA==",
        ] {
            assert_eq!(ScramCredentials::parse(ScramHash::Sha1, bad), None, "{bad}");
        }
        assert!(!format!("{c:?}").contains("stored_key"));
    }
}
