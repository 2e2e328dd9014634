//! RFC 5321 paths for `MAIL FROM:` and `RCPT TO:`, and the
//! `recipient_delimiter` split of `user+detail@domain`.
//!
//! Leniency, on purpose: LMTP sits behind an MTA that has already accepted
//! the mail, so refusing an address here bounces mail that exists. We
//! therefore accept dot-strings with empty atoms (`john..doe`, `foo.`; real
//! mobile-carrier addresses), UTF-8 in local parts and domains (RFC 6531),
//! and a local part without a domain (`<postmaster>`, as Dovecot does).
//! Source routes (`<@a,@b:user@c>`) are parsed and dropped (RFC 5321 §4.1.2
//! says they must be accepted and may be ignored).

use std::fmt;

use thiserror::Error;

/// An address as given in a path, with the local part unquoted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmtpAddress {
    local_part: String,
    domain: Option<String>,
}

/// `MAIL FROM:` argument: `<>` or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversePath {
    /// `<>`: bounces and other mail that must not be answered.
    Null,
    Address(SmtpAddress),
}

/// Why a path was refused.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    #[error("path must be enclosed in <>")]
    MissingBrackets,
    #[error("invalid source route")]
    InvalidSourceRoute,
    #[error("invalid local part")]
    InvalidLocalPart,
    #[error("invalid domain")]
    InvalidDomain,
    #[error("null path not allowed here")]
    NullPathNotAllowed,
    #[error("path is not valid UTF-8")]
    NotUtf8,
}

/// Workarounds from `lmtp_client_workarounds`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathOptions {
    /// `mailbox-for-path`: accept `user@domain` without `<>`.
    pub mailbox_without_brackets: bool,
}

impl SmtpAddress {
    /// Builds an address from an unquoted local part and optional domain.
    pub fn new(local_part: &str, domain: Option<&str>) -> Result<Self, PathError> {
        if local_part.is_empty() || local_part.chars().any(char::is_control) {
            return Err(PathError::InvalidLocalPart);
        }
        if let Some(domain) = domain
            && !is_domain(domain.as_bytes())
            && !is_address_literal(domain.as_bytes())
        {
            return Err(PathError::InvalidDomain);
        }
        Ok(Self {
            local_part: local_part.to_owned(),
            domain: domain.map(str::to_owned),
        })
    }

    pub fn local_part(&self) -> &str {
        &self.local_part
    }

    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The wire form without brackets: the local part as a dot-string when
    /// it is one, otherwise quoted (what Dovecot's `smtp_address_encode`
    /// produces).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.local_part.len() + 32);
        if is_strict_dot_string(&self.local_part) {
            out.push_str(&self.local_part);
        } else {
            out.push('"');
            for c in self.local_part.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        if let Some(domain) = &self.domain {
            out.push('@');
            out.push_str(domain);
        }
        out
    }
}

impl fmt::Display for SmtpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl ReversePath {
    /// The text between the brackets: empty for `<>`.
    pub fn encode(&self) -> String {
        match self {
            Self::Null => String::new(),
            Self::Address(address) => address.encode(),
        }
    }
}

/// Parses the path at the start of `input` (right after `FROM:`/`TO:`).
/// Returns `None` for `<>`, plus the bytes after the path (the parameters).
pub fn parse_path(
    input: &[u8],
    options: PathOptions,
) -> Result<(Option<SmtpAddress>, &[u8]), PathError> {
    let Some(inner) = input.strip_prefix(b"<") else {
        if !options.mailbox_without_brackets {
            return Err(PathError::MissingBrackets);
        }
        let end = memchr::memchr(b' ', input).unwrap_or(input.len());
        let (address, rest) = parse_mailbox(&input[..end])?;
        return if rest.is_empty() {
            Ok((Some(address), &input[end..]))
        } else {
            Err(PathError::InvalidDomain)
        };
    };
    let inner = skip_source_route(inner)?;
    if let Some(rest) = inner.strip_prefix(b">") {
        return Ok((None, rest));
    }
    let (address, rest) = parse_mailbox(inner)?;
    let rest = rest.strip_prefix(b">").ok_or(PathError::MissingBrackets)?;
    Ok((Some(address), rest))
}

/// `<@a,@b:` … → the bytes after the colon; no route → unchanged.
fn skip_source_route(input: &[u8]) -> Result<&[u8], PathError> {
    if input.first() != Some(&b'@') {
        return Ok(input);
    }
    let colon = memchr::memchr(b':', input).ok_or(PathError::InvalidSourceRoute)?;
    for hop in input[..colon].split(|&b| b == b',') {
        let domain = hop
            .strip_prefix(b"@")
            .ok_or(PathError::InvalidSourceRoute)?;
        if !is_domain(domain) && !is_address_literal(domain) {
            return Err(PathError::InvalidSourceRoute);
        }
    }
    Ok(&input[colon + 1..])
}

/// Parses `local-part ["@" domain]`, stopping at `>` or the end.
fn parse_mailbox(input: &[u8]) -> Result<(SmtpAddress, &[u8]), PathError> {
    let (local_part, rest) = if input.first() == Some(&b'"') {
        parse_quoted_local_part(&input[1..])?
    } else {
        let end = input
            .iter()
            .position(|&b| !is_atext(b) && b != b'.')
            .unwrap_or(input.len());
        if end == 0 {
            return Err(PathError::InvalidLocalPart);
        }
        let local = std::str::from_utf8(&input[..end]).map_err(|_| PathError::NotUtf8)?;
        (local.to_owned(), &input[end..])
    };
    let (domain, rest) = match rest.strip_prefix(b"@") {
        None => (None, rest),
        Some(after_at) => {
            let end = if after_at.first() == Some(&b'[') {
                memchr::memchr(b']', after_at).map_or(after_at.len(), |i| i + 1)
            } else {
                memchr::memchr(b'>', after_at).unwrap_or(after_at.len())
            };
            let domain = &after_at[..end];
            if !is_domain(domain) && !is_address_literal(domain) {
                return Err(PathError::InvalidDomain);
            }
            let domain = std::str::from_utf8(domain).map_err(|_| PathError::NotUtf8)?;
            (Some(domain.to_owned()), &after_at[end..])
        }
    };
    Ok((SmtpAddress { local_part, domain }, rest))
}

/// After the opening quote: `qtext / \ char` up to the closing quote.
fn parse_quoted_local_part(input: &[u8]) -> Result<(String, &[u8]), PathError> {
    let mut local = Vec::new();
    let mut i = 0;
    loop {
        match input.get(i) {
            None => return Err(PathError::InvalidLocalPart),
            Some(b'"') => break,
            Some(b'\\') => {
                let escaped = *input.get(i + 1).ok_or(PathError::InvalidLocalPart)?;
                if !(32..=126).contains(&escaped) {
                    return Err(PathError::InvalidLocalPart);
                }
                local.push(escaped);
                i += 2;
            }
            Some(&b) if b >= 32 && b != 127 => {
                local.push(b);
                i += 1;
            }
            Some(_) => return Err(PathError::InvalidLocalPart),
        }
    }
    if local.is_empty() {
        return Err(PathError::InvalidLocalPart);
    }
    let local = String::from_utf8(local).map_err(|_| PathError::NotUtf8)?;
    Ok((local, &input[i + 1..]))
}

/// RFC 5322 atext, plus any non-ASCII byte (UTF-8, RFC 6531).
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b) || b >= 0x80
}

fn is_strict_dot_string(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.bytes().all(is_atext))
}

/// `sub-domain *("." sub-domain)`; labels of letters, digits, `-` and
/// UTF-8, not starting or ending with `-`. Underscore is allowed because
/// real internal host names have it.
fn is_domain(domain: &[u8]) -> bool {
    !domain.is_empty()
        && domain.len() <= 255
        && domain.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.first() != Some(&b'-')
                && label.last() != Some(&b'-')
                && label
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b >= 0x80)
        })
}

/// `[` dcontent `]` (RFC 5321 §4.1.3: printable ASCII except `[`, `\`, `]`).
fn is_address_literal(domain: &[u8]) -> bool {
    domain.len() > 2
        && domain.first() == Some(&b'[')
        && domain.last() == Some(&b']')
        && domain[1..domain.len() - 1]
            .iter()
            .all(|&b| (33..=90).contains(&b) || (94..=126).contains(&b))
}

/// The result of splitting `user+detail@domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailSplit {
    /// The address without the detail: `user@domain`.
    pub user: SmtpAddress,
    /// The delimiter character that was found.
    pub delimiter: Option<char>,
    /// The text after it (may be empty: `user+@domain`).
    pub detail: Option<String>,
}

/// Splits the local part at the first character that is in `delimiters`
/// (`recipient_delimiter`; every character of it is a delimiter, as in
/// Dovecot 2.3). An empty `delimiters` never splits.
pub fn split_detail(address: &SmtpAddress, delimiters: &str) -> DetailSplit {
    let found = address
        .local_part
        .char_indices()
        .find(|(_, c)| delimiters.contains(*c));
    match found {
        Some((at, delimiter)) if at > 0 => DetailSplit {
            user: SmtpAddress {
                local_part: address.local_part[..at].to_owned(),
                domain: address.domain.clone(),
            },
            delimiter: Some(delimiter),
            detail: Some(address.local_part[at + delimiter.len_utf8()..].to_owned()),
        },
        // No delimiter, or one at the very start (`+foo@x`): splitting would
        // leave an empty user, so the whole local part is the user.
        _ => DetailSplit {
            user: address.clone(),
            delimiter: None,
            detail: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(input: &str) -> Result<(Option<SmtpAddress>, String), PathError> {
        parse_path(input.as_bytes(), PathOptions::default())
            .map(|(a, rest)| (a, String::from_utf8(rest.to_vec()).unwrap()))
    }

    fn addr(local: &str, domain: &str) -> SmtpAddress {
        SmtpAddress::new(local, Some(domain)).unwrap()
    }

    #[test]
    fn plain_and_null_paths() {
        assert_eq!(
            path("<a@b.example>"),
            Ok((Some(addr("a", "b.example")), String::new()))
        );
        assert_eq!(path("<>"), Ok((None, String::new())));
        assert_eq!(
            path("<a@b> SIZE=10"),
            Ok((Some(addr("a", "b")), " SIZE=10".into()))
        );
        assert_eq!(
            path("<> BODY=8BITMIME"),
            Ok((None, " BODY=8BITMIME".into()))
        );
    }

    #[test]
    fn local_part_only_is_accepted() {
        let (address, _) = path("<postmaster>").unwrap();
        let address = address.unwrap();
        assert_eq!(address.local_part(), "postmaster");
        assert_eq!(address.domain(), None);
        assert_eq!(address.encode(), "postmaster");
    }

    #[test]
    fn quoted_local_parts() {
        let (address, _) = path(r#"<"john doe"@example.com>"#).unwrap();
        let address = address.unwrap();
        assert_eq!(address.local_part(), "john doe");
        assert_eq!(address.encode(), r#""john doe"@example.com"#);
        let (address, _) = path(r#"<"a\"b\\c"@x>"#).unwrap();
        let address = address.unwrap();
        assert_eq!(address.local_part(), r#"a"b\c"#);
        assert_eq!(address.encode(), r#""a\"b\\c"@x"#);
        // Needless quoting is dropped on output.
        assert_eq!(
            path(r#"<"plain"@x>"#).unwrap().0.unwrap().encode(),
            "plain@x"
        );
        assert_eq!(
            path(r#"<"unterminated@x>"#),
            Err(PathError::InvalidLocalPart)
        );
        assert_eq!(path(r#"<""@x>"#), Err(PathError::InvalidLocalPart));
        assert_eq!(path("<\"a\x01\"@x>"), Err(PathError::InvalidLocalPart));
    }

    #[test]
    fn lenient_dot_strings_are_kept_and_quoted_on_output() {
        let address = path("<foo.@docomo.ne.jp>").unwrap().0.unwrap();
        assert_eq!(address.local_part(), "foo.");
        assert_eq!(address.encode(), "\"foo.\"@docomo.ne.jp");
        assert_eq!(
            path("<john..doe@x>").unwrap().0.unwrap().local_part(),
            "john..doe"
        );
    }

    #[test]
    fn source_routes_are_ignored() {
        assert_eq!(
            path("<@relay.example,@b.example:user@c.example>")
                .unwrap()
                .0,
            Some(addr("user", "c.example"))
        );
        assert_eq!(
            path("<@relay.example:user@c.example>").unwrap().0,
            Some(addr("user", "c.example"))
        );
        assert_eq!(path("<@:user@c>"), Err(PathError::InvalidSourceRoute));
        assert_eq!(path("<@relay user@c>"), Err(PathError::InvalidSourceRoute));
    }

    #[test]
    fn domains_and_literals() {
        assert_eq!(
            path("<u@[192.0.2.1]>").unwrap().0,
            Some(addr("u", "[192.0.2.1]"))
        );
        assert_eq!(
            path("<u@[IPv6:2001:db8::1]>").unwrap().0,
            Some(addr("u", "[IPv6:2001:db8::1]"))
        );
        assert_eq!(
            path("<u@bücher.example>").unwrap().0,
            Some(addr("u", "bücher.example"))
        );
        assert_eq!(path("<u@>"), Err(PathError::InvalidDomain));
        assert_eq!(path("<u@a..b>"), Err(PathError::InvalidDomain));
        assert_eq!(path("<u@-a.b>"), Err(PathError::InvalidDomain));
        assert_eq!(path("<u@a b>"), Err(PathError::InvalidDomain));
        assert_eq!(path("<u@[1.2.3.4>"), Err(PathError::InvalidDomain));
        assert_eq!(
            SmtpAddress::new("u", Some("bad domain")),
            Err(PathError::InvalidDomain)
        );
    }

    #[test]
    fn bracket_errors() {
        assert_eq!(path("a@b"), Err(PathError::MissingBrackets));
        assert_eq!(path("<a@b"), Err(PathError::MissingBrackets));
        assert_eq!(path("<a@b x>"), Err(PathError::InvalidDomain));
        assert_eq!(path("<>x"), Ok((None, "x".into())));
        assert_eq!(path(""), Err(PathError::MissingBrackets));
        assert_eq!(path("<"), Err(PathError::InvalidLocalPart));
        assert_eq!(path("<a b@c>"), Err(PathError::MissingBrackets));
    }

    #[test]
    fn mailbox_for_path_workaround() {
        let options = PathOptions {
            mailbox_without_brackets: true,
        };
        let (address, rest) = parse_path(b"a@b SIZE=1", options).unwrap();
        assert_eq!(address, Some(addr("a", "b")));
        assert_eq!(rest, b" SIZE=1");
        assert_eq!(
            parse_path(b"<a@b>", options).unwrap().0,
            Some(addr("a", "b"))
        );
        assert_eq!(parse_path(b"a@b>", options), Err(PathError::InvalidDomain));
    }

    #[test]
    fn non_utf8_is_refused() {
        assert_eq!(
            parse_path(b"<\xff@b>", PathOptions::default()),
            Err(PathError::NotUtf8)
        );
        assert_eq!(
            parse_path(b"<a@\xff>", PathOptions::default()),
            Err(PathError::NotUtf8)
        );
    }

    #[test]
    fn detail_split() {
        let split = split_detail(&addr("user+box", "example.com"), "+");
        assert_eq!(split.user, addr("user", "example.com"));
        assert_eq!(split.delimiter, Some('+'));
        assert_eq!(split.detail.as_deref(), Some("box"));

        // Every character is a delimiter; the first one found wins.
        let split = split_detail(&addr("user-a+b", "x"), "+-");
        assert_eq!(split.user.local_part(), "user");
        assert_eq!(split.delimiter, Some('-'));
        assert_eq!(split.detail.as_deref(), Some("a+b"));

        let split = split_detail(&addr("user+", "x"), "+");
        assert_eq!(split.detail.as_deref(), Some(""));

        let none = split_detail(&addr("user", "x"), "+");
        assert_eq!(
            (none.user, none.delimiter, none.detail),
            (addr("user", "x"), None, None)
        );
        assert_eq!(split_detail(&addr("a+b", "x"), "").detail, None);
        assert_eq!(split_detail(&addr("+b", "x"), "+").user.local_part(), "+b");

        let local_only = SmtpAddress::new("u+d", None).unwrap();
        assert_eq!(split_detail(&local_only, "+").user.encode(), "u");
        let unicode = split_detail(&addr("jörg§tag", "x"), "§");
        assert_eq!(unicode.user.local_part(), "jörg");
        assert_eq!(unicode.detail.as_deref(), Some("tag"));
    }

    #[test]
    fn reverse_path_encoding() {
        assert_eq!(ReversePath::Null.encode(), "");
        assert_eq!(ReversePath::Address(addr("a", "b")).encode(), "a@b");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let alphabet = b"<>@\".:,[]\\ a\xc3\xff-";
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        let input = [b'<', *a, *b, *c, *d];
                        let _ = parse_path(&input, PathOptions::default());
                        let _ = parse_path(
                            &input[1..],
                            PathOptions {
                                mailbox_without_brackets: true,
                            },
                        );
                    }
                }
            }
        }
        assert!(path("<a@b>").is_ok());
    }
}
