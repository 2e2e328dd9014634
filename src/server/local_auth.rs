//! The built-in authenticator: passwd-file and static passdbs read by the
//! server itself. Password hashing runs in the shard's blocking pool, never
//! on the shard thread. (The privileged helper process for PAM and shadow
//! comes with the authentication issue; it will sit behind the same
//! `Authenticator` trait.)

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::shard::env::{
    AuthOutcome, AuthRequest, Authenticator, LocalFuture, UserInfo, UserLookup,
};
use crate::shard::published::{Cached, Published};
use crate::shard::runtime::run_blocking;

use super::plan::{AuthSource, UserdbPlan};

/// The parsed user tables, replaced as a whole on SIGHUP.
#[derive(Debug, Default)]
pub struct UserTables {
    /// user → stored password (`{SCHEME}data` or bare with the default scheme)
    pub passwords: HashMap<String, (String, String)>,
    /// user → home directory column of the passwd-file (may be empty)
    pub homes: HashMap<String, String>,
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
                    let mut fields = line.split(':');
                    let (Some(user), Some(pw)) = (fields.next(), fields.next()) else {
                        continue;
                    };
                    // user:password:uid:gid:gecos:home:…
                    let home = fields.nth(3).unwrap_or("");
                    t.homes
                        .entry(user.to_string())
                        .or_insert_with(|| home.to_string());
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
    userdb: UserdbPlan,
    /// `auth_failure_delay`: every refusal is answered this long after the
    /// request started, whatever the reason, so timing tells nothing.
    failure_delay: std::time::Duration,
}

impl LocalAuth {
    pub fn new(
        tables: Arc<Published<UserTables>>,
        lowercase: bool,
        userdb: UserdbPlan,
        failure_delay: std::time::Duration,
    ) -> Rc<LocalAuth> {
        Rc::new(LocalAuth {
            tables: Cached::new(tables),
            lowercase,
            userdb,
            failure_delay,
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
    UsernameRules::new(DEFAULT_USERNAME_CHARS)
        .check(user)
        .is_ok()
        && check_path_safe(user).is_ok()
}

impl Authenticator for LocalAuth {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            let outcome = self.check(req).await;
            if matches!(outcome, AuthOutcome::Failed { .. }) {
                let left = self.failure_delay.saturating_sub(started.elapsed());
                glommio::timer::sleep(left).await;
            }
            outcome
        })
    }

    fn lookup_user<'a>(&'a self, user: &'a str) -> LocalFuture<'a, UserLookup> {
        Box::pin(self.lookup(user))
    }
}

impl LocalAuth {
    async fn check(&self, req: AuthRequest) -> AuthOutcome {
        {
            let user = self.canonical(&req.user);
            if !username_allowed(&user) {
                return AuthOutcome::Failed {
                    reason: "invalid user name".into(),
                };
            }
            let tables = self.tables.get();
            let entry = tables.passwords.get(&user).cloned();
            let static_pw = tables.static_password.clone();
            let password = req.password;
            let ok = run_blocking(move || match (entry, static_pw) {
                (Some((stored, scheme)), _) => verify(&stored, &scheme, password.expose()),
                (None, Some(pw)) => constant_time_eq(pw.as_bytes(), password.expose()),
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
        }
    }

    async fn lookup(&self, user: &str) -> UserLookup {
        {
            let user = self.canonical(user);
            if !username_allowed(&user) {
                return UserLookup::NotFound;
            }
            let t = self.tables.get();
            if !t.passwords.contains_key(&user) && t.static_password.is_none() {
                return UserLookup::NotFound;
            }
            let vars = crate::config::vars::VarTable::for_user(&user);
            let home = if self.userdb.home.is_empty() {
                t.homes.get(&user).cloned().unwrap_or_default()
            } else {
                match vars.expand(&self.userdb.home) {
                    Ok(h) => h,
                    Err(e) => return UserLookup::TempFail(format!("userdb home: {e}")),
                }
            };
            let vars = vars.with(Some('h'), "home", home.clone());
            let mail = match &self.userdb.mail {
                Some(m) => match vars.expand(m) {
                    Ok(m) => Some(m),
                    Err(e) => return UserLookup::TempFail(format!("userdb mail: {e}")),
                },
                None => None,
            };
            UserLookup::Found(UserInfo {
                user,
                home,
                mail,
                uid: None,
                gid: None,
            })
        }
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
        let hashed =
            crate::auth::scheme::generate(crate::auth::scheme::Scheme::Sha512Crypt, b"pw").unwrap();
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
