//! Dovecot password schemes: parse `{SCHEME[.ENC]}data`, verify a password
//! against it and generate new hashes the way `doveadm pw -s` does.
//!
//! All comparisons of secret-derived bytes are constant time (`subtle`).
//! Hashing work can take up to a second (Argon2 with 64 MiB), so callers run
//! this on the auth helper's threads, never on a shard.

use std::fmt;
use std::str::FromStr;

use argon2::PasswordVerifier as _;
use md5::Md5;
use sha_crypt::PasswordHasher as _;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::cost;
use super::encoding::{Encoding, base64_decode, base64_encode, hex_decode, hex_encode};
use super::md5_crypt::{CRYPT_ALPHABET, md5_crypt, salt_of};
use super::scram::{self, ScramCredentials, ScramHash};

/// Errors from parsing a stored password or generating a hash. A wrong
/// password is not an error: `verify` returns `Ok(false)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    #[error("unknown password scheme {0:?}")]
    UnknownScheme(String),
    #[error("{scheme}: malformed stored password: {reason}")]
    Malformed {
        scheme: &'static str,
        reason: &'static str,
    },
    #[error("crypt(3) family not supported: {0:?}")]
    UnsupportedCrypt(String),
    #[error("{0}: the password is not valid UTF-8 text, use a .HEX or .B64 encoding")]
    NotText(&'static str),
    #[error("random source failed")]
    Random,
    #[error("{0}: hashing failed")]
    Hashing(&'static str),
}

/// A password scheme, by its Dovecot name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Plain,
    Clear,
    Cleartext,
    Crypt,
    /// `MD5`: MD5-crypt if the data starts with `$1$`, else PLAIN-MD5.
    Md5,
    Md5Crypt,
    Sha256Crypt,
    Sha512Crypt,
    BlfCrypt,
    Sha,
    Sha1,
    Sha256,
    Sha512,
    Ssha,
    Ssha256,
    Ssha512,
    Smd5,
    PlainMd5,
    LdapMd5,
    Pbkdf2,
    Argon2i,
    Argon2id,
    /// Dovecot's SCRAM secrets; PLAIN/LOGIN can be checked against them.
    ScramSha1,
    ScramSha256,
}

/// Every scheme, in `doveadm pw -l`-like order. `name()` is an exhaustive
/// match, so a new variant must be named there; the test
/// `every_variant_is_listed` catches one missing from this list.
const ALL: &[Scheme] = &[
    Scheme::Plain,
    Scheme::Clear,
    Scheme::Cleartext,
    Scheme::Crypt,
    Scheme::Md5,
    Scheme::Md5Crypt,
    Scheme::Sha256Crypt,
    Scheme::Sha512Crypt,
    Scheme::BlfCrypt,
    Scheme::Sha,
    Scheme::Sha1,
    Scheme::Sha256,
    Scheme::Sha512,
    Scheme::Ssha,
    Scheme::Ssha256,
    Scheme::Ssha512,
    Scheme::Smd5,
    Scheme::PlainMd5,
    Scheme::LdapMd5,
    Scheme::Pbkdf2,
    Scheme::Argon2i,
    Scheme::Argon2id,
    Scheme::ScramSha1,
    Scheme::ScramSha256,
];

/// Salt lengths and costs chosen to match what `doveadm pw` 2.3 produces.
const SALTED_DIGEST_SALT_LEN: usize = 4;
const MD5_CRYPT_SALT_LEN: usize = 8;
const SHA_CRYPT_SALT_BYTES: usize = 12; // 16 crypt-base64 characters
const BCRYPT_COST: u32 = 5;
const PBKDF2_SALT_LEN: usize = 16;
const PBKDF2_ROUNDS: u32 = 5000;
const PBKDF2_KEY_LEN: usize = 20;
/// Refuse absurd PBKDF2 round counts from a damaged file instead of burning
/// a helper thread for minutes.
const PBKDF2_MAX_ROUNDS: u32 = 10_000_000;
const ARGON2_SALT_LEN: usize = 16;
const SCRAM_SALT_LEN: usize = 16;
const TOO_COSTLY: &str = "cost parameters above tern's safety limits";

impl Scheme {
    /// The canonical Dovecot name, as written between the braces.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Plain => "PLAIN",
            Scheme::Clear => "CLEAR",
            Scheme::Cleartext => "CLEARTEXT",
            Scheme::Crypt => "CRYPT",
            Scheme::Md5 => "MD5",
            Scheme::Md5Crypt => "MD5-CRYPT",
            Scheme::Sha256Crypt => "SHA256-CRYPT",
            Scheme::Sha512Crypt => "SHA512-CRYPT",
            Scheme::BlfCrypt => "BLF-CRYPT",
            Scheme::Sha => "SHA",
            Scheme::Sha1 => "SHA1",
            Scheme::Sha256 => "SHA256",
            Scheme::Sha512 => "SHA512",
            Scheme::Ssha => "SSHA",
            Scheme::Ssha256 => "SSHA256",
            Scheme::Ssha512 => "SSHA512",
            Scheme::Smd5 => "SMD5",
            Scheme::PlainMd5 => "PLAIN-MD5",
            Scheme::LdapMd5 => "LDAP-MD5",
            Scheme::Pbkdf2 => "PBKDF2",
            Scheme::Argon2i => "ARGON2I",
            Scheme::Argon2id => "ARGON2ID",
            Scheme::ScramSha1 => "SCRAM-SHA-1",
            Scheme::ScramSha256 => "SCRAM-SHA-256",
        }
    }

    /// Looks a scheme up by name, ignoring case (Dovecot does too).
    pub fn from_name(name: &str) -> Option<Scheme> {
        ALL.iter()
            .copied()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Every scheme this module knows, for `tern admin pw -l`.
    pub fn all() -> impl Iterator<Item = Scheme> {
        ALL.iter().copied()
    }

    /// How the data is written when no `.HEX`/`.B64` suffix is given.
    pub fn default_encoding(self) -> Encoding {
        match self {
            Scheme::Sha
            | Scheme::Sha1
            | Scheme::Sha256
            | Scheme::Sha512
            | Scheme::Ssha
            | Scheme::Ssha256
            | Scheme::Ssha512
            | Scheme::Smd5
            | Scheme::LdapMd5 => Encoding::Base64,
            Scheme::PlainMd5 => Encoding::Hex,
            _ => Encoding::Text,
        }
    }

    /// Length of the raw digest for unsalted digest schemes; used to detect
    /// hex data stored under a base64 scheme, as Dovecot does.
    fn fixed_raw_len(self) -> Option<usize> {
        match self {
            Scheme::Sha | Scheme::Sha1 => Some(20),
            Scheme::Sha256 => Some(32),
            Scheme::Sha512 => Some(64),
            Scheme::PlainMd5 | Scheme::LdapMd5 => Some(16),
            _ => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scheme plus an optional encoding override: `SHA256`, `SHA256.HEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemeSpec {
    pub scheme: Scheme,
    /// `None` means the scheme's default encoding.
    pub encoding: Option<Encoding>,
}

impl SchemeSpec {
    pub fn encoding(self) -> Encoding {
        self.encoding
            .unwrap_or_else(|| self.scheme.default_encoding())
    }
}

impl From<Scheme> for SchemeSpec {
    fn from(scheme: Scheme) -> Self {
        SchemeSpec {
            scheme,
            encoding: None,
        }
    }
}

impl FromStr for SchemeSpec {
    type Err = SchemeError;

    fn from_str(text: &str) -> Result<Self, SchemeError> {
        if let Some(scheme) = Scheme::from_name(text) {
            return Ok(scheme.into());
        }
        let unknown = || SchemeError::UnknownScheme(text.to_string());
        let (name, suffix) = text.rsplit_once('.').ok_or_else(unknown)?;
        let encoding = if suffix.eq_ignore_ascii_case("HEX") {
            Encoding::Hex
        } else if suffix.eq_ignore_ascii_case("B64") || suffix.eq_ignore_ascii_case("BASE64") {
            Encoding::Base64
        } else {
            return Err(unknown());
        };
        let scheme = Scheme::from_name(name).ok_or_else(unknown)?;
        Ok(SchemeSpec {
            scheme,
            encoding: Some(encoding),
        })
    }
}

impl fmt::Display for SchemeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme.name())?;
        match self.encoding {
            None => Ok(()),
            Some(Encoding::Hex) => f.write_str(".HEX"),
            Some(Encoding::Base64) => f.write_str(".B64"),
            Some(Encoding::Text) => Ok(()),
        }
    }
}

/// A stored password split into its scheme and its data (after the braces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredPassword<'a> {
    pub spec: SchemeSpec,
    pub data: &'a str,
}

/// Splits `{SCHEME}data`. Without braces the data is read with
/// `default_scheme`, except that a bare `$1$…` is always MD5-crypt
/// (Dovecot's rule). An unknown name in braces is an error, since guessing
/// would turn a typo into a plaintext comparison.
pub fn parse_stored(
    stored: &str,
    default_scheme: impl Into<SchemeSpec>,
) -> Result<StoredPassword<'_>, SchemeError> {
    if let Some(inner) = stored.strip_prefix('{')
        && let Some((name, data)) = inner.split_once('}')
    {
        return Ok(StoredPassword {
            spec: name.parse()?,
            data,
        });
    }
    if stored.starts_with("$1$") {
        return Ok(StoredPassword {
            spec: Scheme::Md5Crypt.into(),
            data: stored,
        });
    }
    Ok(StoredPassword {
        spec: default_scheme.into(),
        data: stored,
    })
}

/// Checks `password` against a stored `{SCHEME}data` value. `Ok(false)` is
/// a wrong password; `Err` means the stored value itself is unusable (the
/// caller logs it and fails the login as a temporary/internal error).
pub fn verify(
    stored: &str,
    default_scheme: impl Into<SchemeSpec>,
    password: &[u8],
) -> Result<bool, SchemeError> {
    let parsed = parse_stored(stored, default_scheme)?;
    let raw = decode_raw(parsed.spec, parsed.data)?;
    verify_raw(parsed.spec.scheme, &raw, password)
}

/// Generates `{SCHEME}data` for `password`, like `doveadm pw -s SCHEME`.
pub fn generate(scheme: impl Into<SchemeSpec>, password: &[u8]) -> Result<String, SchemeError> {
    let spec = scheme.into();
    let raw = generate_raw(spec.scheme, password)?;
    let data = match spec.encoding() {
        Encoding::Hex => hex_encode(&raw),
        Encoding::Base64 => base64_encode(&raw),
        Encoding::Text => {
            String::from_utf8(raw).map_err(|_| SchemeError::NotText(spec.scheme.name()))?
        }
    };
    Ok(format!("{{{spec}}}{data}"))
}

/// Entry point for `tern admin pw -s SCHEME`: takes the scheme as the user
/// typed it (`sha512-crypt`, `SHA256.HEX`).
pub fn admin_pw(scheme: &str, password: &[u8]) -> Result<String, SchemeError> {
    let spec: SchemeSpec = scheme.parse()?;
    generate(spec, password)
}

fn decode_raw(spec: SchemeSpec, data: &str) -> Result<Vec<u8>, SchemeError> {
    let name = spec.scheme.name();
    let bad_encoding = |reason| SchemeError::Malformed {
        scheme: name,
        reason,
    };
    match spec.encoding() {
        Encoding::Text => Ok(data.as_bytes().to_vec()),
        // Dovecot falls back to base64 when hex does not decode.
        Encoding::Hex => hex_decode(data)
            .or_else(|| base64_decode(data))
            .ok_or(bad_encoding("neither hex nor base64")),
        Encoding::Base64 => {
            let looks_hex = spec
                .scheme
                .fixed_raw_len()
                .is_some_and(|n| data.len() == n * 2);
            looks_hex
                .then(|| hex_decode(data))
                .flatten()
                .or_else(|| base64_decode(data))
                .ok_or(bad_encoding("not base64"))
        }
    }
}

fn ct_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn digest_of<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = D::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn verify_digest<D: Digest>(
    scheme: Scheme,
    raw: &[u8],
    password: &[u8],
) -> Result<bool, SchemeError> {
    if raw.len() != <D as Digest>::output_size() {
        return Err(SchemeError::Malformed {
            scheme: scheme.name(),
            reason: "wrong digest length",
        });
    }
    Ok(ct_equal(&digest_of::<D>(&[password]), raw))
}

/// `digest(password ‖ salt) ‖ salt`, salt being whatever follows the digest.
fn verify_salted<D: Digest>(
    scheme: Scheme,
    raw: &[u8],
    password: &[u8],
) -> Result<bool, SchemeError> {
    let len = <D as Digest>::output_size();
    if raw.len() <= len {
        return Err(SchemeError::Malformed {
            scheme: scheme.name(),
            reason: "too short to hold a salt",
        });
    }
    let (expected, salt) = raw.split_at(len);
    Ok(ct_equal(&digest_of::<D>(&[password, salt]), expected))
}

fn text_of(scheme: Scheme, raw: &[u8]) -> Result<&str, SchemeError> {
    std::str::from_utf8(raw).map_err(|_| SchemeError::Malformed {
        scheme: scheme.name(),
        reason: "not text",
    })
}

fn verify_raw(scheme: Scheme, raw: &[u8], password: &[u8]) -> Result<bool, SchemeError> {
    match scheme {
        Scheme::Plain | Scheme::Clear | Scheme::Cleartext => Ok(ct_equal(raw, password)),
        Scheme::Crypt
        | Scheme::Md5Crypt
        | Scheme::Sha256Crypt
        | Scheme::Sha512Crypt
        | Scheme::BlfCrypt => crypt_verify(text_of(scheme, raw)?, password),
        Scheme::Md5 => {
            let text = text_of(scheme, raw)?;
            if text.starts_with("$1$") {
                crypt_verify(text, password)
            } else {
                let md5 = decode_raw(Scheme::PlainMd5.into(), text)?;
                verify_digest::<Md5>(scheme, &md5, password)
            }
        }
        Scheme::Sha | Scheme::Sha1 => verify_digest::<Sha1>(scheme, raw, password),
        Scheme::Sha256 => verify_digest::<Sha256>(scheme, raw, password),
        Scheme::Sha512 => verify_digest::<Sha512>(scheme, raw, password),
        Scheme::PlainMd5 | Scheme::LdapMd5 => verify_digest::<Md5>(scheme, raw, password),
        Scheme::Ssha => verify_salted::<Sha1>(scheme, raw, password),
        Scheme::Ssha256 => verify_salted::<Sha256>(scheme, raw, password),
        Scheme::Ssha512 => verify_salted::<Sha512>(scheme, raw, password),
        Scheme::Smd5 => verify_salted::<Md5>(scheme, raw, password),
        Scheme::Pbkdf2 => pbkdf2_verify(text_of(scheme, raw)?, password),
        Scheme::Argon2i | Scheme::Argon2id => {
            argon2_verify(scheme, text_of(scheme, raw)?, password)
        }
        Scheme::ScramSha1 | Scheme::ScramSha256 => {
            let credentials = ScramCredentials::parse(scram_hash(scheme), text_of(scheme, raw)?)
                .ok_or(SchemeError::Malformed {
                    scheme: scheme.name(),
                    reason: "expected iterations,salt,StoredKey,ServerKey",
                })?;
            Ok(credentials.verify_password(password))
        }
    }
}

/// crypt(3) strings of the families a pure-Rust crate covers: `$1$`,
/// `$5$`, `$6$`, `$2?$` and yescrypt `$y$` (Debian's /etc/shadow default,
/// so hashes copied from shadow work). DES and others are refused with a
/// clear error rather than a false "no".
fn crypt_verify(hash: &str, password: &[u8]) -> Result<bool, SchemeError> {
    let malformed = |reason| SchemeError::Malformed {
        scheme: "CRYPT",
        reason,
    };
    if let Some(salt) = salt_of(hash) {
        return Ok(ct_equal(
            md5_crypt(password, salt).as_bytes(),
            hash.as_bytes(),
        ));
    }
    if hash.starts_with("$5$") || hash.starts_with("$6$") {
        use sha_crypt::PasswordVerifier as _;
        if !cost::sha_crypt_ok(hash) {
            return Err(malformed(TOO_COSTLY));
        }
        return match sha_crypt::ShaCrypt::default().verify_password(password, hash) {
            Ok(()) => Ok(true),
            Err(sha_crypt::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(_) => Err(malformed("invalid SHA-crypt string")),
        };
    }
    if ["$2a$", "$2b$", "$2x$", "$2y$"]
        .iter()
        .any(|p| hash.starts_with(p))
    {
        if !cost::bcrypt_ok(hash) {
            return Err(malformed(TOO_COSTLY));
        }
        return bcrypt::verify(password, hash).map_err(|_| malformed("invalid bcrypt string"));
    }
    if hash.starts_with("$y$") {
        use yescrypt::PasswordVerifier as _;
        if !cost::yescrypt_ok(hash) {
            return Err(malformed(TOO_COSTLY));
        }
        return match yescrypt::Yescrypt::default().verify_password(password, hash) {
            Ok(()) => Ok(true),
            Err(yescrypt::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(_) => Err(malformed("invalid yescrypt string")),
        };
    }
    let family = hash
        .strip_prefix('$')
        .and_then(|rest| rest.split('$').next())
        .map_or_else(|| "DES".to_string(), |id| format!("${id}$"));
    Err(SchemeError::UnsupportedCrypt(family))
}

/// Dovecot's PBKDF2: `$1$<salt>$<rounds>$<hex PBKDF2-HMAC-SHA1, 20 bytes>`,
/// with the salt text used as-is (not decoded).
fn pbkdf2_verify(text: &str, password: &[u8]) -> Result<bool, SchemeError> {
    let malformed = |reason| SchemeError::Malformed {
        scheme: "PBKDF2",
        reason,
    };
    let mut fields = text.split('$');
    if fields.next() != Some("") || fields.next() != Some("1") {
        return Err(malformed("expected $1$salt$rounds$key"));
    }
    let (Some(salt), Some(rounds), Some(key_hex)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed("expected $1$salt$rounds$key"));
    };
    let rounds: u32 = rounds.parse().map_err(|_| malformed("bad rounds"))?;
    if rounds == 0 || rounds > PBKDF2_MAX_ROUNDS {
        return Err(malformed("rounds out of range"));
    }
    let expected = hex_decode(key_hex).ok_or(malformed("key is not hex"))?;
    if expected.is_empty() || expected.len() > 64 {
        return Err(malformed("bad key length"));
    }
    let mut key = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt.as_bytes(), rounds, &mut key);
    Ok(ct_equal(&key, &expected))
}

fn argon2_verify(scheme: Scheme, text: &str, password: &[u8]) -> Result<bool, SchemeError> {
    let wanted = if scheme == Scheme::Argon2i {
        "$argon2i$"
    } else {
        "$argon2id$"
    };
    let malformed = |reason| SchemeError::Malformed {
        scheme: scheme.name(),
        reason,
    };
    if !text.starts_with(wanted) {
        return Err(malformed("wrong Argon2 variant"));
    }
    if !cost::argon2_ok(text) {
        return Err(malformed(TOO_COSTLY));
    }
    match argon2::Argon2::default().verify_password(password, text) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(_) => Err(malformed("invalid PHC string")),
    }
}

fn scram_hash(scheme: Scheme) -> ScramHash {
    if scheme == Scheme::ScramSha1 {
        ScramHash::Sha1
    } else {
        ScramHash::Sha256
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SchemeError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| SchemeError::Random)?;
    Ok(buf)
}

/// Random salt from the crypt alphabet; 64 symbols, so masking is unbiased.
fn random_salt_text(len: usize) -> Result<String, SchemeError> {
    let mut buf = vec![0u8; len];
    getrandom::fill(&mut buf).map_err(|_| SchemeError::Random)?;
    Ok(buf
        .iter()
        .map(|b| char::from(CRYPT_ALPHABET[usize::from(b & 0x3f)]))
        .collect())
}

fn generate_salted<D: Digest>(password: &[u8]) -> Result<Vec<u8>, SchemeError> {
    let salt = random_bytes::<SALTED_DIGEST_SALT_LEN>()?;
    let mut raw = digest_of::<D>(&[password, &salt]);
    raw.extend_from_slice(&salt);
    Ok(raw)
}

fn generate_bcrypt(password: &[u8]) -> Result<Vec<u8>, SchemeError> {
    let parts = bcrypt::hash_with_salt(password, BCRYPT_COST, random_bytes::<16>()?)
        .map_err(|_| SchemeError::Hashing("BLF-CRYPT"))?;
    Ok(parts.format_for_version(bcrypt::Version::TwoY).into_bytes())
}

fn generate_sha_crypt(scheme: Scheme, password: &[u8]) -> Result<Vec<u8>, SchemeError> {
    let (hasher, id) = if scheme == Scheme::Sha256Crypt {
        (sha_crypt::ShaCrypt::SHA256, "$5$")
    } else {
        (sha_crypt::ShaCrypt::SHA512, "$6$")
    };
    let hash = hasher
        .hash_password_with_salt(password, &random_bytes::<SHA_CRYPT_SALT_BYTES>()?)
        .map_err(|_| SchemeError::Hashing(scheme.name()))?
        .to_string();
    // glibc and Dovecot leave the default round count out of the string; the
    // digest is the same either way.
    let default_rounds = format!("{id}rounds=5000$");
    Ok(match hash.strip_prefix(&default_rounds) {
        Some(rest) => format!("{id}{rest}"),
        None => hash,
    }
    .into_bytes())
}

fn generate_argon2(scheme: Scheme, password: &[u8]) -> Result<Vec<u8>, SchemeError> {
    use argon2::PasswordHasher as _;
    // libsodium's "interactive" limits, which is what doveadm 2.3 writes.
    let (algorithm, m_cost, t_cost) = if scheme == Scheme::Argon2i {
        (argon2::Algorithm::Argon2i, 32768, 4)
    } else {
        (argon2::Algorithm::Argon2id, 65536, 3)
    };
    let failed = |_| SchemeError::Hashing(scheme.name());
    let params = argon2::Params::new(m_cost, t_cost, 1, None).map_err(failed)?;
    let hasher = argon2::Argon2::new(algorithm, argon2::Version::V0x13, params);
    let hash = hasher
        .hash_password_with_salt(password, &random_bytes::<ARGON2_SALT_LEN>()?)
        .map_err(|_| SchemeError::Hashing(scheme.name()))?;
    Ok(hash.to_string().into_bytes())
}

fn generate_raw(scheme: Scheme, password: &[u8]) -> Result<Vec<u8>, SchemeError> {
    Ok(match scheme {
        Scheme::Plain | Scheme::Clear | Scheme::Cleartext => password.to_vec(),
        // doveadm's CRYPT writes bcrypt too: the strongest family crypt(3)
        // reliably has.
        Scheme::Crypt | Scheme::BlfCrypt => generate_bcrypt(password)?,
        Scheme::Md5 | Scheme::Md5Crypt => {
            md5_crypt(password, &random_salt_text(MD5_CRYPT_SALT_LEN)?).into_bytes()
        }
        Scheme::Sha256Crypt | Scheme::Sha512Crypt => generate_sha_crypt(scheme, password)?,
        Scheme::Sha | Scheme::Sha1 => digest_of::<Sha1>(&[password]),
        Scheme::Sha256 => digest_of::<Sha256>(&[password]),
        Scheme::Sha512 => digest_of::<Sha512>(&[password]),
        Scheme::PlainMd5 | Scheme::LdapMd5 => digest_of::<Md5>(&[password]),
        Scheme::Ssha => generate_salted::<Sha1>(password)?,
        Scheme::Ssha256 => generate_salted::<Sha256>(password)?,
        Scheme::Ssha512 => generate_salted::<Sha512>(password)?,
        Scheme::Smd5 => generate_salted::<Md5>(password)?,
        Scheme::Pbkdf2 => {
            let salt = random_salt_text(PBKDF2_SALT_LEN)?;
            let mut key = [0u8; PBKDF2_KEY_LEN];
            pbkdf2::pbkdf2_hmac::<Sha1>(password, salt.as_bytes(), PBKDF2_ROUNDS, &mut key);
            format!("$1${salt}${PBKDF2_ROUNDS}${}", hex_encode(&key)).into_bytes()
        }
        Scheme::Argon2i | Scheme::Argon2id => generate_argon2(scheme, password)?,
        Scheme::ScramSha1 | Scheme::ScramSha256 => ScramCredentials::derive(
            scram_hash(scheme),
            password,
            &random_bytes::<SCRAM_SALT_LEN>()?,
            scram::DEFAULT_ITERATIONS,
        )
        .to_text()
        .into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

    /// `doveadm pw -s X -p secret`, Dovecot 2.3.19.1 (Debian 12 dovecot-core).
    const DOVEADM_SECRET: &[&str] = &[
        "{PLAIN}secret",
        "{CLEAR}secret",
        "{CLEARTEXT}secret",
        "{CRYPT}$2y$05$97fbRo62JJZAkXr/Pw6ElO3BdjYD.vawgEeDZcpaHbmiUq.v/3Q36",
        "{MD5}$1$UBOFtb3E$kFxU.WpRIuor3aXFxVhFp1",
        "{MD5-CRYPT}$1$oAzBePXG$zOFyLQt3k1Ix6/qRNWaxk.",
        "{SHA256-CRYPT}$5$Hhq4QIiD3NVpLGNX$7rpGD1fjOJrsaBBLXvwO4KjeDn6OszUlBbpvPi8lvJ5",
        "{SHA512-CRYPT}$6$6bx6.c7NQ5W91TDu$24IWJ9Wmfvx2OgpdVqNBbKNKAiNHfeqZO.AMBsdXxhTBQZmmT9oHBZAWS8khR0LkqkGkr49ZBLfwA4SlI4qbc/",
        "{SHA512-CRYPT}$6$rounds=10000$p.2P3GkLAqC/4H.O$A30VSNPWwrnyf5M/0SQ8SG7WkWrIibMGGShr2G6mD.GzIbyFZCfDbc10U0buzAvlWlLh14xHYO5mDKvTwJjv81",
        "{BLF-CRYPT}$2y$05$x6pBEqqZpq7DgwjNCNpieeKkDOezM0NyuGJeUZGgBUHxa1sTlgF6y",
        "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",
        "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=",
        "{SHA256}K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=",
        "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg==",
        "{SSHA}MpIFn/k4Ri7SzrvT8wbWaaKBZj70ERBP",
        "{SSHA256}fl+6E8KTI777Wrn7I9Ae5zR8aNiSo5caWPKUHC52Y5daxt5d",
        "{SSHA512}YnJyk8G5K7zP6XEPaX0PzclZPFdHSJBVff44x+eZhjrs9BdbwvfIZqMGXgDY5wXmU5Cwon1qDKg0NdXGYHFt3WaYOE0=",
        "{SMD5}hmre9MmezbtCxlWdCQFQX2abEzk=",
        "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69",
        "{LDAP-MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==",
        "{PBKDF2}$1$D79HEzZfeEjQ0X/N$5000$d9c1a6046d33825f582b045d59f5ff38cba4563e",
        "{ARGON2I}$argon2i$v=19$m=32768,t=4,p=1$lxvV2dRWiB+OgFBaG67LWg$ekQNAmRfTTNOy/gQ+KKYMCE786viX3e2Y4mh71N0X04",
        "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$tysJGajT/uTa2pOQyDkHLg$ETkditweWW9Xo756BqlTSr+yTqwuvmXFQQ8syw1Ymng",
        "{SHA256.HEX}2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
        "{SSHA.HEX}7e12e7ce6bfa165f7ef1387456777d6545b6d383a27c0a32",
        "{PLAIN.B64}c2VjcmV0",
        "{PLAIN-MD5.B64}Xr4ilOzQ4PCOq3aQ0qbuaQ==",
        "{LDAP-MD5.HEX}5ebe2294ecd0e0f08eab7690d2a6ee69",
        "{SCRAM-SHA-256}4096,hiXKJZUK/ps+I+WYi7fcdg==,XKKMAfQdsNjTuaf2fmdbjXu6RFyx4WVsPNFdnGtxNkU=,oVEjqI0RrnTgMiPOBOuseCKvNHL4hkho+gXlgfzrIOE=",
        "{SCRAM-SHA-1}4096,2uwdQKxYsneZRV9kkatIVg==,3NLEfw/BMn4R0iiBoy1CofnzDiI=,hTes4VdQDGbCfrziCkuqvAxdJJs=",
    ];

    #[test]
    fn every_doveadm_sample_verifies_and_rejects_a_wrong_password() {
        for stored in DOVEADM_SECRET {
            assert_eq!(
                verify(stored, Scheme::Crypt, b"secret"),
                Ok(true),
                "{stored}"
            );
            assert_eq!(
                verify(stored, Scheme::Crypt, b"Secret"),
                Ok(false),
                "{stored}"
            );
        }
    }

    #[test]
    fn doveadm_samples_with_other_passwords() {
        let pbkdf2 = "{PBKDF2}$1$O4NXx58Fp6/MNHij$5000$cbc3fb2b1651cf997abdadf9ab37eab1e6d5142f";
        assert_eq!(
            verify(pbkdf2, Scheme::Plain, "p@ss wörd".as_bytes()),
            Ok(true)
        );
        let empty = "{SSHA512}dvplKSboI6J/LjKhXP0pwMmJcyJhl2QzPpY9hHF0DMnYklqxyHYpEj6RwfFeOFgMyIMQdGYVTDMyvDTJu7/H2ueff+4=";
        assert_eq!(verify(empty, Scheme::Plain, b""), Ok(true));
        assert_eq!(verify(empty, Scheme::Plain, b" "), Ok(false));
    }

    #[test]
    fn glibc_sha_crypt_reference_vectors() {
        // SHA-crypt specification vectors (also `openssl passwd -5/-6`).
        let sha512 = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        assert_eq!(verify(sha512, Scheme::Crypt, b"Hello world!"), Ok(true));
        let sha256 = "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5";
        assert_eq!(verify(sha256, Scheme::Crypt, b"Hello world!"), Ok(true));
        assert_eq!(verify(sha256, Scheme::Crypt, b"Hello world"), Ok(false));
    }

    #[test]
    fn yescrypt_from_debian_shadow() {
        // /etc/shadow after `chpasswd` on Debian 12 (libxcrypt), password "secret".
        let shadow = "$y$j9T$rYDGaY8aCRRZ8tu/.FUF5/$vcDBhkY/3o8t5iDcj66QkQS3KZOpzy6Ag8iBxEgXzD2";
        assert_eq!(verify(shadow, Scheme::Crypt, b"secret"), Ok(true));
        assert_eq!(verify(shadow, Scheme::Crypt, b"secrets"), Ok(false));
    }

    #[test]
    fn default_scheme_applies_without_braces() {
        assert_eq!(verify("secret", Scheme::Plain, b"secret"), Ok(true));
        assert_eq!(
            verify(
                "5ebe2294ecd0e0f08eab7690d2a6ee69",
                Scheme::PlainMd5,
                b"secret"
            ),
            Ok(true)
        );
        // A bare $1$ is MD5-crypt whatever the default.
        assert_eq!(
            verify(
                "$1$oAzBePXG$zOFyLQt3k1Ix6/qRNWaxk.",
                Scheme::Plain,
                b"secret"
            ),
            Ok(true)
        );
        let spec: SchemeSpec = "SHA256.HEX".parse().unwrap();
        assert_eq!(
            verify(
                "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
                spec,
                b"secret"
            ),
            Ok(true)
        );
    }

    #[test]
    fn hex_data_under_a_base64_scheme_is_detected() {
        let sha1_hex = "{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4";
        assert_eq!(verify(sha1_hex, Scheme::Plain, b"secret"), Ok(true));
    }

    #[test]
    fn scheme_names_parse_case_insensitively_with_suffixes() {
        assert_eq!(
            "sha512-crypt".parse(),
            Ok(SchemeSpec::from(Scheme::Sha512Crypt))
        );
        let spec: SchemeSpec = "ssha256.b64".parse().unwrap();
        assert_eq!(spec.scheme, Scheme::Ssha256);
        assert_eq!(spec.encoding(), Encoding::Base64);
        assert_eq!(spec.to_string(), "SSHA256.B64");
        assert!(matches!(
            "SHA3".parse::<SchemeSpec>(),
            Err(SchemeError::UnknownScheme(_))
        ));
        assert!(matches!(
            "SHA.ROT13".parse::<SchemeSpec>(),
            Err(SchemeError::UnknownScheme(_))
        ));
        for s in Scheme::all() {
            assert_eq!(Scheme::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn every_variant_is_listed() {
        // Adding a variant breaks this match until it is handled here, which
        // is the reminder to add it to ALL as well.
        let listed = |s: Scheme| match s {
            Scheme::Plain
            | Scheme::Clear
            | Scheme::Cleartext
            | Scheme::Crypt
            | Scheme::Md5
            | Scheme::Md5Crypt
            | Scheme::Sha256Crypt
            | Scheme::Sha512Crypt
            | Scheme::BlfCrypt
            | Scheme::Sha
            | Scheme::Sha1
            | Scheme::Sha256
            | Scheme::Sha512
            | Scheme::Ssha
            | Scheme::Ssha256
            | Scheme::Ssha512
            | Scheme::Smd5
            | Scheme::PlainMd5
            | Scheme::LdapMd5
            | Scheme::Pbkdf2
            | Scheme::Argon2i
            | Scheme::Argon2id
            | Scheme::ScramSha1
            | Scheme::ScramSha256 => ALL.contains(&s),
        };
        assert!(ALL.iter().all(|&s| listed(s)));
        assert_eq!(ALL.len(), 24);
    }

    #[test]
    fn unknown_scheme_in_braces_is_an_error_not_plaintext() {
        assert!(matches!(
            verify("{NOPE}secret", Scheme::Plain, b"secret"),
            Err(SchemeError::UnknownScheme(_))
        ));
        // A brace without its closing partner is plain data.
        assert_eq!(verify("{secret", Scheme::Plain, b"{secret"), Ok(true));
    }

    #[test]
    fn malformed_and_unsupported_data_are_errors() {
        assert!(matches!(
            verify("{SHA}AAAA", Scheme::Plain, b"x"),
            Err(SchemeError::Malformed { .. })
        ));
        assert!(matches!(
            verify("{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", Scheme::Plain, b"x"),
            Err(SchemeError::Malformed { .. })
        ));
        assert!(matches!(
            verify("{CRYPT}nT6uJzatS4wNc", Scheme::Plain, b"secret"),
            Err(SchemeError::UnsupportedCrypt(_))
        ));
        assert!(matches!(
            verify("{CRYPT}$7$abc$def", Scheme::Plain, b"secret"),
            Err(SchemeError::UnsupportedCrypt(_))
        ));
        assert!(matches!(
            verify("{CRYPT}$y$j9T$abc", Scheme::Plain, b"secret"),
            Err(SchemeError::Malformed { .. })
        ));
        for bad in [
            "{PBKDF2}$1$salt$0$00",
            "{PBKDF2}$1$salt$99999999999$00",
            "{PBKDF2}$2$salt$5000$00",
            "{PBKDF2}$1$salt",
            "{PBKDF2}$1$salt$5000$zz",
            "{ARGON2ID}$argon2i$v=19$m=32768,t=4,p=1$lxvV2dRWiB+OgFBaG67LWg$ekQN",
            "{ARGON2I}garbage",
            "{BLF-CRYPT}$2y$05$short",
            "{SHA512-CRYPT}$6$",
            "{SHA512-CRYPT}$6$rounds=999999999$salt$x",
            "{BLF-CRYPT}$2y$31$x6pBEqqZpq7DgwjNCNpieeKkDOezM0NyuGJeUZGgBUHxa1sTlgF6y",
            "{ARGON2ID}$argon2id$v=19$m=4294967295,t=3,p=1$tysJGajT/uTa2pOQyDkHLg$ETkditweWW9Xo756BqlTSr+yTqwuvmXFQQ8syw1Ymng",
            "{CRYPT}$y$jHT$rYDGaY8aCRRZ8tu/.FUF5/$vcDBhkY/3o8t5iDcj66QkQS3KZOpzy6Ag8iBxEgXzD2",
        ] {
            assert!(verify(bad, Scheme::Plain, b"secret").is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_hashes_verify_for_every_scheme() {
        for scheme in Scheme::all() {
            let stored = generate(scheme, b"pa55 w0rd").unwrap();
            assert!(
                stored.starts_with(&format!("{{{}}}", scheme.name())),
                "{stored}"
            );
            assert_eq!(
                verify(&stored, Scheme::Plain, b"pa55 w0rd"),
                Ok(true),
                "{stored}"
            );
            assert_eq!(
                verify(&stored, Scheme::Plain, b"pa55 w0rD"),
                Ok(false),
                "{stored}"
            );
        }
    }

    #[test]
    fn generated_shapes_match_doveadm() {
        let sha512 = generate(Scheme::Sha512Crypt, b"x").unwrap();
        assert!(sha512.starts_with("{SHA512-CRYPT}$6$") && !sha512.contains("rounds="));
        assert_eq!(sha512.split('$').nth(2).map(str::len), Some(16));
        assert!(
            generate(Scheme::BlfCrypt, b"x")
                .unwrap()
                .starts_with("{BLF-CRYPT}$2y$05$")
        );
        let pbkdf2 = generate(Scheme::Pbkdf2, b"x").unwrap();
        let fields: Vec<&str> = pbkdf2.split('$').collect();
        assert_eq!(
            (fields[1], fields[2].len(), fields[3], fields[4].len()),
            ("1", 16, "5000", 40)
        );
        assert!(
            generate(Scheme::Argon2id, b"x")
                .unwrap()
                .starts_with("{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$")
        );
        assert_eq!(
            generate(Scheme::Sha1, b"secret").unwrap(),
            "{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ="
        );
        assert_eq!(
            admin_pw("plain-md5", b"secret").unwrap(),
            "{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69"
        );
        assert_eq!(
            admin_pw("PLAIN.B64", b"secret").unwrap(),
            "{PLAIN.B64}c2VjcmV0"
        );
        assert_eq!(
            generate(Scheme::Ssha, b"x").unwrap().len(),
            "{SSHA}".len() + 32
        );
    }

    /// Random data under every scheme name: a value or an error, no panic,
    /// and never `Ok(true)` for a password the data was not made from.
    #[test]
    fn random_stored_values_never_panic() {
        let mut rng = XorShift64::new(0x1234_5678_9abc_def1);
        const CHARS: &[u8] = b"$./=,{}0123456789abcdefABCDEF+rounds=xyz";
        let names: Vec<&str> = Scheme::all().map(Scheme::name).collect();
        for _ in 0..3000 {
            let name = rng.pick(&names);
            let data: String = rng
                .sequence(48, CHARS)
                .into_iter()
                .map(char::from)
                .collect();
            let stored = format!("{{{name}}}{data}");
            let result = verify(&stored, Scheme::Crypt, b"\x01not-in-the-data");
            assert_ne!(result, Ok(true), "{stored}");
        }
    }

    #[test]
    fn non_utf8_plaintext_needs_an_encoding() {
        assert_eq!(
            generate(Scheme::Plain, &[0xff]),
            Err(SchemeError::NotText("PLAIN"))
        );
        let stored = admin_pw("PLAIN.HEX", &[0xff]).unwrap();
        assert_eq!(stored, "{PLAIN.HEX}ff");
        assert_eq!(verify(&stored, Scheme::Plain, &[0xff]), Ok(true));
    }
}
