//! The built-in authenticator: passwd-file and static passdbs read by the
//! server itself. Password hashing runs in the shard's blocking pool, never
//! on the shard thread. (The privileged helper process for PAM and shadow
//! comes with the authentication issue; it will sit behind the same
//! `Authenticator` trait.)

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::shard::env::{AuthOutcome, AuthRequest, Authenticator, LocalFuture};
use crate::shard::published::{Cached, Published};
use crate::shard::runtime::run_blocking;

use super::plan::AuthSource;

/// The parsed user tables, replaced as a whole on SIGHUP.
#[derive(Debug, Default)]
pub struct UserTables {
    /// user → stored password (`{SCHEME}data` or bare with the default scheme)
    pub passwords: HashMap<String, (String, String)>,
    pub static_password: Option<String>,
}

/// Reads every source. Runs on the main thread (start-up, SIGHUP).
pub fn load_tables(sources: &[AuthSource]) -> Result<UserTables, String> {
    let mut t = UserTables::default();
    for s in sources {
        match s {
            AuthSource::PasswdFile {
                path,
                default_scheme,
            } => {
                // blocking-ok: main thread
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("passwd-file {}: {e}", path.display()))?;
                for line in text.lines() {
                    let line = line.trim_end_matches('\r');
                    if line.trim().is_empty() || line.starts_with('#') {
                        continue;
                    }
                    let mut fields = line.splitn(3, ':');
                    let (Some(user), Some(pw)) = (fields.next(), fields.next()) else {
                        continue;
                    };
                    // Dovecot: the first entry of a duplicated user counts.
                    t.passwords
                        .entry(user.to_string())
                        .or_insert_with(|| (pw.to_string(), default_scheme.clone()));
                }
            }
            AuthSource::Static { password } => t.static_password = Some(password.clone()),
        }
    }
    Ok(t)
}

/// Checks a password against a stored `{SCHEME}data` value (any scheme
/// Dovecot knows; expensive ones run here, in the blocking pool).
fn verify(stored: &str, default_scheme: &str, password: &[u8]) -> bool {
    let Ok(spec) = default_scheme.parse::<crate::auth::scheme::SchemeSpec>() else {
        return false;
    };
    crate::auth::scheme::verify(stored, spec, password).unwrap_or(false)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

pub struct LocalAuth {
    tables: Cached<UserTables>,
    lowercase: bool,
}

impl LocalAuth {
    pub fn new(tables: Arc<Published<UserTables>>, lowercase: bool) -> Rc<LocalAuth> {
        Rc::new(LocalAuth {
            tables: Cached::new(tables),
            lowercase,
        })
    }

    fn canonical(&self, user: &str) -> String {
        if self.lowercase {
            user.to_lowercase()
        } else {
            user.to_string()
        }
    }
}

/// Dovecot's default `auth_username_chars`, and no name that could become a
/// path escape (`..`, `/`, NUL), checked before anything touches the disk.
pub fn username_allowed(user: &str) -> bool {
    use crate::auth::username::{DEFAULT_USERNAME_CHARS, UsernameRules, check_path_safe};
    UsernameRules::new(DEFAULT_USERNAME_CHARS).check(user).is_ok() && check_path_safe(user).is_ok()
}

impl Authenticator for LocalAuth {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome> {
        Box::pin(async move {
            let user = self.canonical(&req.user);
            if !username_allowed(&user) {
                return AuthOutcome::Failed {
                    reason: "invalid user name".into(),
                };
            }
            let tables = self.tables.get();
            let entry = tables.passwords.get(&user).cloned();
            let static_pw = tables.static_password.clone();
            let password = req.password.0;
            let ok = run_blocking(move || match (entry, static_pw) {
                (Some((stored, scheme)), _) => verify(&stored, &scheme, &password),
                (None, Some(pw)) => constant_time_eq(pw.as_bytes(), &password),
                (None, None) => false,
            })
            .await;
            match ok {
                Ok(true) => AuthOutcome::Ok { user },
                Ok(false) => AuthOutcome::Failed {
                    reason: "unknown user or password mismatch".into(),
                },
                Err(e) => AuthOutcome::TempFail {
                    reason: e.to_string(),
                },
            }
        })
    }

    fn user_exists<'a>(&'a self, user: &'a str) -> LocalFuture<'a, Option<Option<String>>> {
        Box::pin(async move {
            let user = self.canonical(user);
            let t = self.tables.get();
            let known = t.passwords.contains_key(&user) || t.static_password.is_some();
            Some(known.then_some(user))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_verify() {
        assert!(verify("{PLAIN}secret", "CRYPT", b"secret"));
        assert!(verify("secret", "PLAIN", b"secret"));
        assert!(!verify("{PLAIN}secret", "CRYPT", b"Secret"));
        assert!(!verify("secret", "CRYPT", b"secret"));
        let hashed = crate::auth::scheme::generate(crate::auth::scheme::Scheme::Sha512Crypt, b"pw").unwrap();
        assert!(verify(&hashed, "PLAIN", b"pw"));
        assert!(!verify(&hashed, "PLAIN", b"pw2"));
    }

    #[test]
    fn user_names_that_could_escape_are_refused() {
        assert!(username_allowed("alice@example.org"));
        for bad in ["../etc", "a/b", "a\0b", "", "a b", "..", "x\ny"] {
            assert!(!username_allowed(bad), "{bad:?}");
        }
    }
}
