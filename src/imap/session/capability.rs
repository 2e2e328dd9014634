//! CAPABILITY lists before and after login.

use crate::imap::codec::types::Atom;
use crate::shard::env::{ImapOptions, ProtocolSettings};

/// APPEND size cap when `quota_max_mail_size` is not set.
pub const DEFAULT_APPEND_LIMIT: u64 = 64 * 1024 * 1024;

/// Extensions served once logged in (at least what Dovecot 2.3 lists for
/// the extensions tern implements).
pub const AUTHED_CAPABILITIES: &str = "IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE \
UNSELECT CHILDREN NAMESPACE \
UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH \
CONTEXT=SORT PARTIAL LIST-STATUS BINARY MOVE SPECIAL-USE CREATE-SPECIAL-USE STATUS=SIZE SAVEDATE \
NOTIFY LITERAL+ UTF8=ACCEPT APPENDLIMIT PREVIEW PREVIEW=FUZZY SNIPPET=FUZZY COMPRESS=DEFLATE";

/// The largest message APPEND takes (literal cap, STATUS APPENDLIMIT).
pub fn append_limit(opts: &ImapOptions) -> u64 {
    opts.append_limit.unwrap_or(DEFAULT_APPEND_LIMIT)
}

/// Added when `imap_urlauth_host` is set (Dovecot's rule).
pub const URLAUTH_CAPABILITIES: &str = "URLAUTH URLAUTH=BINARY";

/// The post-login list with `imap_capability` applied: empty keeps the
/// built-in list, `+A B` appends, anything else replaces it. A configured
/// limit is advertised as `APPENDLIMIT=<n>` (RFC 7889: the same for every
/// mailbox); without one the bare `APPENDLIMIT` points to STATUS.
pub fn authed(opts: &ImapOptions) -> String {
    let mut builtin = match opts.append_limit {
        Some(n) => AUTHED_CAPABILITIES.replace(" APPENDLIMIT ", &format!(" APPENDLIMIT={n} ")),
        None => AUTHED_CAPABILITIES.to_string(),
    };
    if !opts.urlauth_host.is_empty() {
        builtin.push(' ');
        builtin.push_str(URLAUTH_CAPABILITIES);
    }
    let configured = opts.capability.trim();
    if configured.is_empty() {
        return builtin;
    }
    match configured.strip_prefix('+') {
        Some(extra) => format!("{builtin} {}", extra.trim()),
        None => configured.to_string(),
    }
}

/// Whether a connection may log in now: `tls` is whether it is encrypted,
/// `secured` whether it counts as secure (TLS, or a trusted network).
pub fn login_allowed(s: &ProtocolSettings, tls: bool, secured: bool) -> bool {
    let refused_plaintext = s.disable_plaintext_auth && !secured;
    let refused_no_tls = s.tls_required && !tls;
    !refused_plaintext && !refused_no_tls
}

/// The pre-login list. `offer_starttls` when the connection is plaintext
/// and a certificate is configured.
pub fn prelogin(s: &ProtocolSettings, offer_starttls: bool, login_allowed: bool) -> String {
    let mut caps =
        String::from("IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+");
    if s.tls_available && offer_starttls {
        caps.push_str(" STARTTLS");
    }
    if !login_allowed {
        caps.push_str(" LOGINDISABLED");
    } else {
        for m in &s.auth_mechanisms {
            caps.push_str(" AUTH=");
            caps.push_str(&m.to_ascii_uppercase());
        }
    }
    caps
}

/// A capability list as atoms (CAPABILITY data, `[CAPABILITY ...]`).
pub fn atoms(list: &str) -> Vec<Atom> {
    list.split(' ')
        .filter_map(|a| Atom::try_from(a).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authed_list_is_rich() {
        let opts = |capability: &str, append_limit| ImapOptions {
            capability: capability.to_string(),
            append_limit,
            ..ImapOptions::default()
        };
        let caps = authed(&opts("", None));
        for want in [
            "IMAP4rev2",
            "CONDSTORE",
            "QRESYNC",
            "MOVE",
            "UIDPLUS",
            "SPECIAL-USE",
            "LIST-STATUS",
            "ESEARCH",
            "IDLE",
            "ESORT",
            "CONTEXT=SEARCH",
            "CONTEXT=SORT",
            "PARTIAL",
            "NOTIFY",
        ] {
            assert!(caps.split(' ').any(|c| c == want), "{want} missing");
        }
        assert!(caps.split(' ').any(|c| c == "APPENDLIMIT"));
        assert!(authed(&opts("+XFOO", None)).ends_with(" XFOO"));
        assert_eq!(authed(&opts("IMAP4rev1 IDLE", None)), "IMAP4rev1 IDLE");
        let limited = authed(&opts("", Some(10 << 20)));
        assert!(
            limited.split(' ').any(|c| c == "APPENDLIMIT=10485760"),
            "{limited}"
        );
        assert!(!limited.split(' ').any(|c| c == "APPENDLIMIT"), "{limited}");
        assert_eq!(append_limit(&opts("", None)), DEFAULT_APPEND_LIMIT);
        for always in ["CATENATE", "URL-PARTIAL"] {
            assert!(caps.split(' ').any(|c| c == always), "{always} missing");
        }
        assert!(!caps.split(' ').any(|c| c.starts_with("URLAUTH")), "{caps}");
        let urlauth = authed(&ImapOptions {
            urlauth_host: "localhost".into(),
            ..ImapOptions::default()
        });
        assert!(urlauth.ends_with(" URLAUTH URLAUTH=BINARY"), "{urlauth}");
        assert_eq!(append_limit(&opts("", Some(5))), 5);
    }
}
