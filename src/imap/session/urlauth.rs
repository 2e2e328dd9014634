//! URLAUTH's INTERNAL mechanism (RFC 4467 §7): one random 128-bit key per
//! mailbox, kept as a private mailbox attribute (durable, follows RENAME,
//! removed by RESETKEY), and tokens that are an HMAC-SHA1 of the rump URL
//! under that key. Also the checks every URLAUTH URL goes through.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use crate::imap::url::{Access, ImapUrl, Server};
use crate::shard::env::ImapOptions;
use crate::storage::guid::Guid;
use crate::storage::{AnyStore, MailStore, StorageError};

/// The attribute holding a mailbox's key (the name Dovecot uses).
pub const KEY_ATTRIBUTE: &str = "vendor/vendor.dovecot/pvt/imap-urlauth";
/// The only mechanism: tokens made and checked by this server alone.
pub const MECHANISM: &str = "INTERNAL";
const KEY_LEN: usize = 16;
/// First byte of a token, so the format can change without accepting old
/// tokens under new rules.
const TOKEN_VERSION: u8 = 1;

pub type Key = [u8; KEY_LEN];

/// URLAUTH is on when `imap_urlauth_host` is set.
pub fn enabled(opts: &ImapOptions) -> bool {
    !opts.urlauth_host.is_empty()
}

/// The mailbox's key; with `create`, one is made (and stored) when it has
/// none yet.
pub async fn mailbox_key(
    store: &AnyStore,
    mailbox: &Guid,
    create: bool,
) -> Result<Option<Key>, StorageError> {
    // A damaged key only invalidates the URLs made with it.
    if let Some(stored) = store.private_attribute(mailbox, KEY_ATTRIBUTE).await?
        && let Ok(key) = Key::try_from(stored.as_slice())
    {
        return Ok(Some(key));
    }
    if !create {
        return Ok(None);
    }
    let key = random_key()?;
    store
        .set_private_attribute(Some(mailbox), KEY_ATTRIBUTE, Some(key.to_vec()))
        .await?;
    Ok(Some(key))
}

pub fn random_key() -> Result<Key, StorageError> {
    let mut key = [0u8; KEY_LEN];
    getrandom::fill(&mut key)
        .map_err(|e| StorageError::Internal(format!("no random bytes for a URLAUTH key: {e}")))?;
    Ok(key)
}

/// The INTERNAL token authorizing `rump`.
pub fn token(key: &Key, rump: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha1> as KeyInit>::new(&Default::default()));
    mac.update(rump.as_bytes());
    let mut out = vec![TOKEN_VERSION];
    out.extend_from_slice(&mac.finalize().into_bytes());
    out
}

/// Whether `given` is the token of `rump` under `key` (in constant time).
pub fn verify(key: &Key, rump: &str, given: &[u8]) -> bool {
    let want = token(key, rump);
    want.len() == given.len() && bool::from(want.ct_eq(given))
}

/// The URL names this server: `imap_urlauth_host` (or any with `*`) and
/// `imap_urlauth_port` (143 when it names none).
pub fn check_server(opts: &ImapOptions, server: &Server) -> Result<(), String> {
    if opts.urlauth_host != "*" && !server.host.eq_ignore_ascii_case(&opts.urlauth_host) {
        return Err("Invalid URL: Inappropriate host name".into());
    }
    if server.port.unwrap_or(143) != opts.urlauth_port {
        return Err("Invalid URL: Inappropriate server port".into());
    }
    Ok(())
}

/// Whether `user` (logged in to this server) may use a URL with `access`.
/// `submit+` is for a submission server's own login, which tern does not
/// configure: refused, as Dovecot does without `imap_urlauth_submit_user`.
pub fn check_access(access: &Access, user: &str) -> Result<(), String> {
    match access {
        Access::Anonymous | Access::AuthUser => Ok(()),
        Access::User(name) if name == user => Ok(()),
        Access::User(name) => Err(format!("No 'user+{name}' access allowed for user {user}")),
        Access::Submit(name) => Err(format!("No 'submit+{name}' access allowed for user {user}")),
    }
}

/// The checks of a URL to fetch, before its mailbox is looked at: a full
/// URLAUTH URL for a message, not expired, for this server, usable by
/// `user`. Returns the URL's owner.
pub fn check_fetch_url<'u>(
    opts: &ImapOptions,
    url: &'u ImapUrl,
    user: &str,
    now: i64,
) -> Result<&'u str, String> {
    let (Some(server), Some(auth)) = (&url.server, &url.urlauth) else {
        return Err("Invalid URL: Must be a full URLAUTH URL".into());
    };
    if url.mailbox.is_none() || url.uid.is_none() || auth.token.is_none() {
        return Err("Invalid URL: Must be a full URLAUTH URL".into());
    }
    let owner = server
        .user
        .as_deref()
        .ok_or("Invalid URLAUTH: Missing user name")?;
    let mechanism = auth.mechanism.as_deref().unwrap_or_default();
    if !mechanism.eq_ignore_ascii_case(MECHANISM) {
        return Err(format!("Unsupported URLAUTH mechanism: {mechanism}"));
    }
    if auth.expire.is_some_and(|t| now > t) {
        return Err("URLAUTH has expired".into());
    }
    check_access(&auth.access, user)?;
    check_server(opts, server)?;
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::url::parse;

    fn opts(host: &str, port: u16) -> ImapOptions {
        ImapOptions {
            urlauth_host: host.into(),
            urlauth_port: port,
            ..ImapOptions::default()
        }
    }

    #[test]
    fn tokens_depend_on_key_and_rump() {
        let (k1, k2) = ([1u8; 16], [2u8; 16]);
        let t = token(&k1, "imap://a@h/INBOX/;UID=1;URLAUTH=anonymous");
        assert_eq!(t.len(), 21);
        assert_eq!(t[0], TOKEN_VERSION);
        assert!(verify(&k1, "imap://a@h/INBOX/;UID=1;URLAUTH=anonymous", &t));
        assert!(!verify(
            &k2,
            "imap://a@h/INBOX/;UID=1;URLAUTH=anonymous",
            &t
        ));
        assert!(!verify(
            &k1,
            "imap://a@h/INBOX/;UID=2;URLAUTH=anonymous",
            &t
        ));
        assert!(!verify(
            &k1,
            "imap://a@h/INBOX/;UID=1;URLAUTH=anonymous",
            &t[..20]
        ));
    }

    #[test]
    fn server_and_access_checks() {
        let server = |host: &str, port| Server {
            user: None,
            auth: None,
            host: host.into(),
            port,
        };
        assert!(check_server(&opts("mail.example", 143), &server("MAIL.example", None)).is_ok());
        assert!(check_server(&opts("mail.example", 143), &server("other", None)).is_err());
        assert!(check_server(&opts("*", 143), &server("other", Some(143))).is_ok());
        assert!(check_server(&opts("*", 993), &server("other", None)).is_err());
        assert!(check_access(&Access::User("ann".into()), "ann").is_ok());
        assert!(check_access(&Access::User("ann".into()), "bob").is_err());
        assert!(check_access(&Access::Submit("ann".into()), "ann").is_err());
        assert!(check_access(&Access::AuthUser, "bob").is_ok());
    }

    #[test]
    fn fetch_url_checks() {
        let o = opts("h", 143);
        let token = "01".repeat(21);
        let good = parse(&format!(
            "imap://ann@h/INBOX/;UID=1;EXPIRE=2023-11-14T22:13:20Z;URLAUTH=authuser:INTERNAL:{token}"
        ))
        .unwrap();
        assert_eq!(check_fetch_url(&o, &good, "bob", 1_700_000_000), Ok("ann"));
        assert_eq!(
            check_fetch_url(&o, &good, "bob", 1_700_000_001),
            Err("URLAUTH has expired".into())
        );
        let rump = parse("imap://ann@h/INBOX/;UID=1;URLAUTH=authuser").unwrap();
        assert!(check_fetch_url(&o, &rump, "ann", 0).is_err());
        let other_mech = parse(&format!(
            "imap://ann@h/INBOX/;UID=1;URLAUTH=authuser:X:{token}"
        ))
        .unwrap();
        assert_eq!(
            check_fetch_url(&o, &other_mech, "ann", 0),
            Err("Unsupported URLAUTH mechanism: X".into())
        );
        let no_user = parse(&format!(
            "imap://h/INBOX/;UID=1;URLAUTH=authuser:INTERNAL:{token}"
        ))
        .unwrap();
        assert!(check_fetch_url(&o, &no_user, "ann", 0).is_err());
    }
}
