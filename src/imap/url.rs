//! IMAP URLs (RFC 5092) naming a message or a part of one, with the
//! URLAUTH parameters of RFC 4467: the pure syntax, no mailbox access.
//!
//! `imap://user;AUTH=*@host:port/MAILBOX;UIDVALIDITY=n/;UID=n/;SECTION=x/;PARTIAL=o.l;EXPIRE=t;URLAUTH=access:mech:token`
//!
//! [`parse`] reads an absolute URL, [`parse_reference`] a relative one
//! (`/MAILBOX…` or `;UID=…`, as CATENATE takes them). Values come back
//! percent-decoded; [`ImapUrl`]'s `Display` writes the canonical form.
//! Search URLs (`?…`) are not message URLs and are refused.

use std::fmt;

/// Why a URL was refused; the text is fit for a BADURL/NO answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    #[error("not an imap:// URL")]
    NotImap,
    #[error("Relative URL required")]
    NotRelative,
    #[error("invalid server part")]
    BadServer,
    #[error("invalid %-encoding")]
    BadEncoding,
    #[error("invalid mailbox name")]
    BadMailbox,
    #[error("unknown or misplaced parameter ;{0}")]
    BadParameter(String),
    #[error("invalid number in ;{0}")]
    BadNumber(&'static str),
    #[error("invalid ;EXPIRE date-time")]
    BadExpire,
    #[error("invalid URLAUTH access identifier")]
    BadAccess,
    #[error("invalid URLAUTH mechanism or token")]
    BadToken,
    #[error("search URLs are not supported")]
    Search,
}

/// Who may use a URLAUTH URL (RFC 4467 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `submit+user`: a submission server acting for `user`.
    Submit(String),
    /// `user+user`: only `user`.
    User(String),
    /// `authuser`: any user logged in to this server.
    AuthUser,
    /// `anonymous`: anyone.
    Anonymous,
}

/// The URLAUTH parameters of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlAuth {
    /// `;EXPIRE=`, as UNIX seconds.
    pub expire: Option<i64>,
    pub access: Access,
    /// `INTERNAL`, … (`None` in a rump URL).
    pub mechanism: Option<String>,
    /// The decoded token (`None` in a rump URL).
    pub token: Option<Vec<u8>>,
    /// The URL text up to and including the access identifier, exactly as
    /// given: what the token authorizes (RFC 4467 §6).
    pub rump: String,
}

/// `imap://[user[;AUTH=mech]@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub user: Option<String>,
    pub auth: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// `;PARTIAL=offset[.length]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    pub offset: u32,
    pub length: Option<u32>,
}

/// A parsed IMAP URL. A relative one has no `server`; one of the form
/// `;UID=…` has no mailbox either (it names the base mailbox).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImapUrl {
    pub server: Option<Server>,
    pub mailbox: Option<String>,
    pub uid_validity: Option<u32>,
    pub uid: Option<u32>,
    /// The section spec as in `BODY[…]`, e.g. `1.2.MIME`.
    pub section: Option<String>,
    pub partial: Option<Partial>,
    pub urlauth: Option<UrlAuth>,
}

/// Parses an absolute `imap://` URL.
pub fn parse(text: &str) -> Result<ImapUrl, UrlError> {
    check_chars(text)?;
    let rest = strip_prefix_ci(text, "imap://").ok_or(UrlError::NotImap)?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let server = parse_server(&rest[..authority_end])?;
    let path_start = text.len() - rest.len() + authority_end;
    let mut url = ImapUrl {
        server: Some(server),
        ..ImapUrl::default()
    };
    match text.as_bytes()[path_start..].first() {
        None => {}
        Some(b'/') => parse_path(text, path_start + 1, &mut url)?,
        Some(_) => return Err(UrlError::Search),
    }
    Ok(url)
}

/// Parses a relative URL: an absolute path (`/INBOX;UIDVALIDITY=…/;UID=…`)
/// or a reference to the base mailbox (`;UID=…`). Absolute and
/// network-path URLs are refused, as Dovecot does in CATENATE.
pub fn parse_reference(text: &str) -> Result<ImapUrl, UrlError> {
    check_chars(text)?;
    let mut url = ImapUrl::default();
    match text.as_bytes() {
        [b'/', b'/', ..] => return Err(UrlError::NotRelative),
        [b'/', ..] => parse_path(text, 1, &mut url)?,
        [b';', ..] => parse_params(text, 0, true, &mut url)?,
        _ => return Err(UrlError::NotRelative),
    }
    Ok(url)
}

/// URLs are ASCII without spaces or controls (RFC 3986).
fn check_chars(text: &str) -> Result<(), UrlError> {
    if text.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(UrlError::BadEncoding)
    }
}

fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn parse_server(authority: &str) -> Result<Server, UrlError> {
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let (user, auth) = match userinfo {
        None => (None, None),
        Some(info) => {
            let (user, auth) = match find_ci(info, ";AUTH=") {
                Some(i) => (&info[..i], Some(&info[i + 6..])),
                None => (info, None),
            };
            let user = (!user.is_empty()).then(|| decode(user)).transpose()?;
            let auth = auth.map(decode).transpose()?;
            if auth.as_deref() == Some("") || (user.is_none() && auth.is_none()) {
                return Err(UrlError::BadServer);
            }
            (user, auth)
        }
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let close = v6.find(']').ok_or(UrlError::BadServer)?;
        let after = &v6[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(UrlError::BadServer),
        };
        (&hostport[..close + 2], port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~')));
    if !host_ok {
        return Err(UrlError::BadServer);
    }
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse().map_err(|_| UrlError::BadServer)?)
        }
        Some(_) => return Err(UrlError::BadServer),
    };
    Ok(Server {
        user,
        auth,
        host: host.to_string(),
        port,
    })
}

/// The path after its leading `/`, which is at `start - 1` in `text`.
fn parse_path(text: &str, start: usize, url: &mut ImapUrl) -> Result<(), UrlError> {
    let path = &text[start..];
    if path.is_empty() {
        return Ok(());
    }
    let end = path.find([';', '?']).unwrap_or(path.len());
    if path[end..].starts_with('?') {
        return Err(UrlError::Search);
    }
    // `INBOX/;UID=1`: the slash separates the mailbox from `;UID`.
    let (raw, slash) = match path[..end].strip_suffix('/') {
        Some(m) if end < path.len() => (m, true),
        _ => (&path[..end], false),
    };
    let mailbox = decode(raw)?;
    if mailbox.is_empty() {
        return Err(UrlError::BadMailbox);
    }
    url.mailbox = Some(mailbox);
    if end < path.len() {
        parse_params(text, start + end, slash, url)?;
    }
    Ok(())
}

/// Where a parameter may appear: each stage only after the ones before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Mailbox,
    UidValidity,
    Uid,
    Section,
    Partial,
    Expire,
}

/// `;KEY=value` parameters from `start` (a `;`) to the end of `text`.
/// `slash` tells whether the first one follows a `/`.
fn parse_params(text: &str, start: usize, slash: bool, url: &mut ImapUrl) -> Result<(), UrlError> {
    let mut stage = if url.mailbox.is_some() {
        Stage::Mailbox
    } else {
        // A reference (`;UID=…`) starts where the base mailbox ends.
        Stage::UidValidity
    };
    let mut pos = start;
    let mut slash = slash;
    while pos < text.len() {
        let seg_start = pos + 1;
        let seg_end = text[seg_start..]
            .find(';')
            .map_or(text.len(), |i| seg_start + i);
        let segment = &text[seg_start..seg_end];
        let (key, value) = segment
            .split_once('=')
            .ok_or_else(|| UrlError::BadParameter(segment.to_string()))?;
        let key_upper = key.to_ascii_uppercase();
        if key_upper == "URLAUTH" {
            if stage < Stage::Uid || slash {
                return Err(UrlError::BadParameter(key.to_string()));
            }
            url.urlauth = Some(parse_urlauth(text, seg_start + key.len() + 1, url)?);
            return Ok(());
        }
        // The slash before the next parameter ends this value.
        let (value, next_slash) = match value.strip_suffix('/') {
            Some(v) if seg_end < text.len() => (v, true),
            _ => (value, false),
        };
        let misplaced = || UrlError::BadParameter(key.to_string());
        match key_upper.as_str() {
            "UIDVALIDITY" if stage == Stage::Mailbox && !slash => {
                url.uid_validity = Some(nz_number(value, "UIDVALIDITY")?);
                stage = Stage::UidValidity;
            }
            "UID" if stage <= Stage::UidValidity && (slash || url.mailbox.is_none()) => {
                url.uid = Some(nz_number(value, "UID")?);
                stage = Stage::Uid;
            }
            "SECTION" if stage == Stage::Uid && slash => {
                let section = decode(value)?;
                if section.is_empty() {
                    return Err(misplaced());
                }
                url.section = Some(section);
                stage = Stage::Section;
            }
            "PARTIAL" if matches!(stage, Stage::Uid | Stage::Section) && slash => {
                url.partial = Some(partial(value)?);
                stage = Stage::Partial;
            }
            "EXPIRE" if stage >= Stage::Uid && stage < Stage::Expire && !slash => {
                // Kept in the UrlAuth that must follow.
                let expire = expire_time(&decode(value)?).ok_or(UrlError::BadExpire)?;
                url.urlauth = Some(UrlAuth {
                    expire: Some(expire),
                    access: Access::Anonymous,
                    mechanism: None,
                    token: None,
                    rump: String::new(),
                });
                stage = Stage::Expire;
            }
            _ => return Err(misplaced()),
        }
        slash = next_slash;
        pos = seg_end;
    }
    if stage == Stage::Expire {
        // EXPIRE without URLAUTH means nothing.
        return Err(UrlError::BadParameter("EXPIRE".to_string()));
    }
    Ok(())
}

/// `access[:mechanism:token]` from `start` to the end of `text`.
fn parse_urlauth(text: &str, start: usize, url: &ImapUrl) -> Result<UrlAuth, UrlError> {
    let value = &text[start..];
    let access_end = value.find(':').unwrap_or(value.len());
    let access = access(&value[..access_end])?;
    let (mechanism, token) = match value.get(access_end + 1..) {
        None => (None, None),
        Some(verifier) => {
            let (mech, token) = verifier.split_once(':').ok_or(UrlError::BadToken)?;
            let mech_ok = !mech.is_empty()
                && mech
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
            if !mech_ok || token.len() < 32 {
                return Err(UrlError::BadToken);
            }
            (
                Some(mech.to_string()),
                Some(from_hex(token).ok_or(UrlError::BadToken)?),
            )
        }
    };
    Ok(UrlAuth {
        expire: url.urlauth.as_ref().and_then(|u| u.expire),
        access,
        mechanism,
        token,
        rump: text[..start + access_end].to_string(),
    })
}

fn access(text: &str) -> Result<Access, UrlError> {
    if text.eq_ignore_ascii_case("authuser") {
        return Ok(Access::AuthUser);
    }
    if text.eq_ignore_ascii_case("anonymous") {
        return Ok(Access::Anonymous);
    }
    let (app, user) = text.split_once('+').ok_or(UrlError::BadAccess)?;
    let user = decode(user)?;
    if user.is_empty() {
        return Err(UrlError::BadAccess);
    }
    if app.eq_ignore_ascii_case("submit") {
        Ok(Access::Submit(user))
    } else if app.eq_ignore_ascii_case("user") {
        Ok(Access::User(user))
    } else {
        Err(UrlError::BadAccess)
    }
}

fn nz_number(text: &str, what: &'static str) -> Result<u32, UrlError> {
    number(text)
        .filter(|&n| n != 0)
        .ok_or(UrlError::BadNumber(what))
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn partial(text: &str) -> Result<Partial, UrlError> {
    let bad = UrlError::BadNumber("PARTIAL");
    let (offset, length) = match text.split_once('.') {
        Some((o, l)) => (o, Some(l)),
        None => (text, None),
    };
    Ok(Partial {
        offset: number(offset).ok_or(bad.clone())?,
        length: match length {
            Some(l) => Some(number(l).filter(|&n| n != 0).ok_or(bad)?),
            None => None,
        },
    })
}

/// RFC 3339 `date-time` → UNIX seconds.
fn expire_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = i64::from((*h1 as char).to_digit(10)? * 10 + (*h2 as char).to_digit(10)?);
            let mm = i64::from((*m1 as char).to_digit(10)? * 10 + (*m2 as char).to_digit(10)?);
            let secs = hh * 3600 + mm * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let days = crate::imap::session::dates::days_from_civil(year, month as u32, day as u32);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Percent-decoding to UTF-8.
fn decode(text: &str) -> Result<String, UrlError> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or(UrlError::BadEncoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::BadEncoding)?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::BadEncoding)
}

/// Percent-encoding of everything but RFC 5092's `achar`s (and the
/// delimiter `/` in mailbox names, `bchar`).
fn encode(out: &mut String, text: &str, keep_slash: bool) {
    for b in text.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'&'
                    | b'='
            )
            || (keep_slash && matches!(b, b'/' | b':' | b'@'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

impl fmt::Display for ImapUrl {
    /// The canonical text (an `;EXPIRE` is written back only as part of a
    /// verbatim rump, since its zone is not kept).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(auth) = &self.urlauth
            && !auth.rump.is_empty()
        {
            f.write_str(&auth.rump)?;
            if let (Some(m), Some(t)) = (&auth.mechanism, &auth.token) {
                write!(f, ":{m}:{}", to_hex(t))?;
            }
            return Ok(());
        }
        let mut s = String::new();
        if let Some(server) = &self.server {
            s.push_str("imap://");
            if let Some(user) = &server.user {
                encode(&mut s, user, false);
            }
            if let Some(auth) = &server.auth {
                s.push_str(";AUTH=");
                encode(&mut s, auth, false);
            }
            if server.user.is_some() || server.auth.is_some() {
                s.push('@');
            }
            s.push_str(&server.host);
            if let Some(port) = server.port {
                s.push_str(&format!(":{port}"));
            }
        }
        if let Some(mailbox) = &self.mailbox {
            s.push('/');
            encode(&mut s, mailbox, true);
        }
        if let Some(v) = self.uid_validity {
            s.push_str(&format!(";UIDVALIDITY={v}"));
        }
        if let Some(uid) = self.uid {
            s.push_str(&format!("/;UID={uid}"));
        }
        if let Some(section) = &self.section {
            s.push_str("/;SECTION=");
            encode(&mut s, section, false);
        }
        if let Some(p) = self.partial {
            s.push_str(&format!("/;PARTIAL={}", p.offset));
            if let Some(l) = p.length {
                s.push_str(&format!(".{l}"));
            }
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
