//! User name rules: `auth_username_chars`, the path-safety rules that hold
//! whatever the configuration says, `auth_username_format`, and the
//! user@domain split behind `%n` / `%d`.
//!
//! A login name reaches file paths (`/var/mail/%n/`), so it is checked here
//! before any lookup or path is built.

/// Dovecot's compiled-in `auth_username_chars`.
pub const DEFAULT_USERNAME_CHARS: &str =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@";

/// Dovecot's compiled-in `auth_username_format`.
pub const DEFAULT_USERNAME_FORMAT: &str = "%Lu";

/// Longest user name accepted; longer ones are never legitimate and would
/// only serve to blow up log lines and cache keys.
pub const MAX_USERNAME_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("empty user name")]
    Empty,
    #[error("user name longer than {MAX_USERNAME_LEN} bytes")]
    TooLong,
    #[error("user name contains a disallowed character {0:?}")]
    DisallowedChar(char),
    #[error("user name contains \"..\"")]
    DotDot,
    #[error("user name format {format:?}: {reason}")]
    BadFormat {
        format: String,
        reason: &'static str,
    },
}

/// The set of characters a login name may contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsernameRules {
    /// `None` when `auth_username_chars` is empty: Dovecot then allows any
    /// character (the path-safety rules still apply).
    allowed: Option<Vec<char>>,
}

impl Default for UsernameRules {
    fn default() -> Self {
        Self::new(DEFAULT_USERNAME_CHARS)
    }
}

impl UsernameRules {
    /// Builds the rules from an `auth_username_chars` value.
    pub fn new(auth_username_chars: &str) -> Self {
        let allowed = (!auth_username_chars.is_empty()).then(|| {
            let mut chars: Vec<char> = auth_username_chars.chars().collect();
            chars.sort_unstable();
            chars.dedup();
            chars
        });
        UsernameRules { allowed }
    }

    /// Checks a name. `/`, NUL, control characters and `..` are refused
    /// even when the configured set would allow them.
    pub fn check(&self, name: &str) -> Result<(), UsernameError> {
        check_path_safe(name)?;
        if let Some(allowed) = &self.allowed
            && let Some(bad) = name.chars().find(|c| allowed.binary_search(c).is_err())
        {
            return Err(UsernameError::DisallowedChar(bad));
        }
        Ok(())
    }
}

/// The rules that keep a user name from escaping a directory when it is
/// put into a path, whatever `auth_username_chars` says.
pub fn check_path_safe(name: &str) -> Result<(), UsernameError> {
    if name.is_empty() {
        return Err(UsernameError::Empty);
    }
    if name.len() > MAX_USERNAME_LEN {
        return Err(UsernameError::TooLong);
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(UsernameError::DisallowedChar(bad));
    }
    if name.contains("..") {
        return Err(UsernameError::DotDot);
    }
    Ok(())
}

/// Splits `user@domain` at the first `@`, as Dovecot's `%n` / `%d` do.
/// The domain is `None` when there is no `@`.
pub fn split_user(user: &str) -> (&str, Option<&str>) {
    match user.split_once('@') {
        Some((local, domain)) => (local, Some(domain)),
        None => (user, None),
    }
}

/// Splits a master-user login `user*master` when
/// `auth_master_user_separator` is set (Dovecot uses its first character
/// and the first occurrence in the name). Returns `(user, master)`; with an
/// empty separator or no separator in the name, `master` is `None`.
pub fn split_master_login<'a>(login: &'a str, separator: &str) -> (&'a str, Option<&'a str>) {
    let Some(sep) = separator.chars().next() else {
        return (login, None);
    };
    match login.split_once(sep) {
        Some((user, master)) if !user.is_empty() && !master.is_empty() => (user, Some(master)),
        _ => (login, None),
    }
}

/// Expands the common `auth_username_format` forms: `%u %n %d` (and the
/// long `%{user} %{username} %{domain}`), each with optional `L`/`U`
/// case modifiers, and `%%`. The config layer's full `%` expander replaces
/// this later; anything beyond these forms is refused rather than guessed.
pub fn format_username(format: &str, user: &str) -> Result<String, UsernameError> {
    let bad = |reason| UsernameError::BadFormat {
        format: format.to_string(),
        reason,
    };
    let (local, domain) = split_user(user);
    let mut out = String::with_capacity(user.len());
    let mut rest = format;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let mut spec = rest[pos + 1..].chars();
        let mut case: Option<char> = None;
        let mut next = spec.next();
        while let Some(m @ ('L' | 'U')) = next {
            case = Some(m);
            next = spec.next();
        }
        let value = match next {
            Some('%') if case.is_none() => "%",
            Some('u') => user,
            Some('n') => local,
            Some('d') => domain.unwrap_or(""),
            Some('{') => {
                let body = spec.as_str();
                let end = body.find('}').ok_or(bad("unterminated %{"))?;
                let value = match &body[..end] {
                    "user" => user,
                    "username" => local,
                    "domain" => domain.unwrap_or(""),
                    _ => return Err(bad("unsupported variable")),
                };
                spec = body[end + 1..].chars();
                value
            }
            Some(_) => return Err(bad("unsupported variable")),
            None => return Err(bad("trailing %")),
        };
        match case {
            Some('L') => out.push_str(&value.to_ascii_lowercase()),
            Some(_) => out.push_str(&value.to_ascii_uppercase()),
            None => out.push_str(value),
        }
        rest = spec.as_str();
    }
    out.push_str(rest);
    Ok(out)
}

/// The full treatment of a login name: check it against the rules, apply
/// `auth_username_format`, and check the result again (a format can only
/// cut or re-case, but the result is what reaches the filesystem).
pub fn canonical_username(
    rules: &UsernameRules,
    format: &str,
    login: &str,
) -> Result<String, UsernameError> {
    rules.check(login)?;
    let formatted = format_username(format, login)?;
    check_path_safe(&formatted)?;
    Ok(formatted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

    #[test]
    fn default_rules_accept_ordinary_names() {
        let rules = UsernameRules::default();
        for ok in ["jane", "Jane.Doe@Example.org", "a-b_c", "u1234567890"] {
            assert_eq!(rules.check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn path_escapes_are_refused_before_any_lookup() {
        let rules = UsernameRules::default();
        assert_eq!(
            rules.check("../etc"),
            Err(UsernameError::DisallowedChar('/'))
        );
        assert_eq!(rules.check("a/b"), Err(UsernameError::DisallowedChar('/')));
        assert_eq!(
            rules.check("a\0b"),
            Err(UsernameError::DisallowedChar('\0'))
        );
        assert_eq!(
            rules.check("a%00b"),
            Err(UsernameError::DisallowedChar('%'))
        );
        assert_eq!(rules.check(".."), Err(UsernameError::DotDot));
        assert_eq!(rules.check(""), Err(UsernameError::Empty));
        assert_eq!(rules.check("a b"), Err(UsernameError::DisallowedChar(' ')));
        assert_eq!(rules.check(&"a".repeat(256)), Err(UsernameError::TooLong));
    }

    #[test]
    fn an_empty_char_set_allows_anything_but_path_escapes() {
        let rules = UsernameRules::new("");
        assert_eq!(rules.check("ünïcode user+tag"), Ok(()));
        assert_eq!(rules.check("a/b"), Err(UsernameError::DisallowedChar('/')));
        assert_eq!(rules.check("x..y"), Err(UsernameError::DotDot));
        assert_eq!(
            rules.check("tab\there"),
            Err(UsernameError::DisallowedChar('\t'))
        );
        let permissive = UsernameRules::new("abc/.");
        assert_eq!(
            permissive.check("a/b"),
            Err(UsernameError::DisallowedChar('/'))
        );
    }

    #[test]
    fn split_at_first_at_sign() {
        assert_eq!(
            split_user("jane@example.org"),
            ("jane", Some("example.org"))
        );
        assert_eq!(split_user("a@b@c"), ("a", Some("b@c")));
        assert_eq!(split_user("jane"), ("jane", None));
    }

    #[test]
    fn master_user_split() {
        assert_eq!(
            split_master_login("jane*admin", "*"),
            ("jane", Some("admin"))
        );
        assert_eq!(split_master_login("jane*admin", ""), ("jane*admin", None));
        assert_eq!(split_master_login("jane", "*"), ("jane", None));
        assert_eq!(split_master_login("*admin", "*"), ("*admin", None));
        assert_eq!(split_master_login("a*b*c", "*x"), ("a", Some("b*c")));
    }

    #[test]
    fn format_common_forms() {
        let u = "Jane.Doe@Example.ORG";
        assert_eq!(format_username("%Lu", u).unwrap(), "jane.doe@example.org");
        assert_eq!(format_username("%u", u).unwrap(), u);
        assert_eq!(format_username("%n", u).unwrap(), "Jane.Doe");
        assert_eq!(format_username("%Ln", u).unwrap(), "jane.doe");
        assert_eq!(format_username("%d", u).unwrap(), "Example.ORG");
        assert_eq!(format_username("%Ud", u).unwrap(), "EXAMPLE.ORG");
        assert_eq!(
            format_username("%n@%Ld", u).unwrap(),
            "Jane.Doe@example.org"
        );
        assert_eq!(format_username("%L{username}", u).unwrap(), "jane.doe");
        assert_eq!(format_username("x%%y", u).unwrap(), "x%y");
        assert_eq!(format_username("%d", "nodomain").unwrap(), "");
    }

    #[test]
    fn format_rejects_what_it_cannot_expand() {
        for f in ["%", "%x", "%{nope}", "%{user", "%L"] {
            assert!(
                matches!(
                    format_username(f, "u"),
                    Err(UsernameError::BadFormat { .. })
                ),
                "{f}"
            );
        }
    }

    #[test]
    fn random_formats_and_names_never_panic() {
        let mut rng = XorShift64::new(0x0bad_cafe_dead_beef);
        const CHARS: &[char] = &[
            '%', 'L', 'U', 'u', 'n', 'd', '{', '}', '@', '.', '/', 'é', '\0',
        ];
        let rules = UsernameRules::default();
        for _ in 0..5000 {
            let format: String = rng.sequence(12, CHARS).into_iter().collect();
            let login: String = rng.sequence(12, CHARS).into_iter().collect();
            if let Ok(name) = canonical_username(&rules, &format, &login) {
                assert!(!name.contains('/') && !name.contains('\0') && !name.contains(".."));
            }
        }
    }

    #[test]
    fn canonical_name_checks_then_formats() {
        let rules = UsernameRules::default();
        assert_eq!(
            canonical_username(&rules, DEFAULT_USERNAME_FORMAT, "JANE@Example.org").unwrap(),
            "jane@example.org"
        );
        assert!(canonical_username(&rules, "%n", "../x@y").is_err());
        // A name that formats to nothing is refused.
        assert_eq!(
            canonical_username(&rules, "%d", "jane"),
            Err(UsernameError::Empty)
        );
    }
}
