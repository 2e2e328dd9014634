//! What the auth helper needs from the configuration, parsed once at
//! start-up in the main process (so a bad `args` line stops the server
//! before it forks) and copied into the helper by the fork.

use std::path::Path;
use std::time::Duration;

use crate::auth::cache::CacheSettings;
use crate::auth::fields::{FieldTemplate, FieldsError, IdLimits};
use crate::auth::pam_args::{PamArgs, PamArgsError};
use crate::auth::passwd_file::{PasswdFileArgs, PasswdFileError};
use crate::auth::username::{DEFAULT_USERNAME_FORMAT, format_username};
use crate::config::{AuthDbSettings, Settings};

/// How many requests the helper works on at once (PAM conversations and
/// password hashing run on this many threads).
pub const DEFAULT_WORKER_THREADS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum HelperConfigError {
    #[error("passdb {driver}: {message}")]
    Passdb { driver: String, message: String },
    #[error("userdb {driver}: {message}")]
    Userdb { driver: String, message: String },
    #[error("auth_username_format {0:?} is not supported")]
    UsernameFormat(String),
}

#[derive(Debug, Clone)]
pub enum PassdbDriver {
    Pam(PamArgs),
    PasswdFile(PasswdFileArgs),
    /// `args = password=…`; every user name is accepted with it.
    Static {
        password: String,
    },
}

#[derive(Debug, Clone)]
pub enum UserdbDriver {
    /// NSS `getpwnam_r`.
    Passwd,
    PasswdFile(PasswdFileArgs),
    /// `args = uid=… gid=… home=…`: the fields of every user. Without
    /// `allow_all_users=yes`, a user-only lookup (LMTP) asks the passdbs
    /// whether the user exists, as Dovecot does.
    Static {
        fields: FieldTemplate,
        allow_all_users: bool,
    },
    /// Fields came with the passdb: nothing to look up.
    Prefetch,
}

#[derive(Debug, Clone)]
pub struct UserdbConfig {
    pub driver: UserdbDriver,
    pub default_fields: FieldTemplate,
    pub override_fields: FieldTemplate,
}

#[derive(Debug, Clone)]
pub struct HelperConfig {
    pub passdbs: Vec<PassdbDriver>,
    /// `master = yes` passdbs: consulted only for `user*master` logins,
    /// with the master's name and password.
    pub master_passdbs: Vec<PassdbDriver>,
    /// `auth_master_user_separator`; empty = no master-user logins.
    pub master_user_separator: String,
    pub userdbs: Vec<UserdbConfig>,
    pub username_chars: String,
    pub username_format: String,
    /// Sent back with every failure: the shard answers NO after this long.
    pub failure_delay: Duration,
    pub cache: CacheSettings,
    pub limits: IdLimits,
    /// `mail_uid` / `mail_gid` as written (names or numbers; empty = unset).
    pub mail_uid: String,
    pub mail_gid: String,
    pub worker_threads: usize,
}

impl Default for HelperConfig {
    fn default() -> Self {
        HelperConfig {
            passdbs: Vec::new(),
            master_passdbs: Vec::new(),
            master_user_separator: String::new(),
            userdbs: Vec::new(),
            username_chars: crate::auth::username::DEFAULT_USERNAME_CHARS.to_string(),
            username_format: DEFAULT_USERNAME_FORMAT.to_string(),
            failure_delay: Duration::from_secs(2),
            cache: CacheSettings::default(),
            limits: IdLimits::default(),
            mail_uid: String::new(),
            mail_gid: String::new(),
            worker_threads: DEFAULT_WORKER_THREADS,
        }
    }
}

fn absolute(path: String, config_dir: &Path) -> String {
    if path.starts_with('/') || path.contains('%') {
        path
    } else {
        config_dir.join(path).display().to_string()
    }
}

fn passwd_file_args(args: &str, config_dir: &Path) -> Result<PasswdFileArgs, PasswdFileError> {
    let mut parsed = PasswdFileArgs::parse(args)?;
    parsed.path = absolute(std::mem::take(&mut parsed.path), config_dir);
    Ok(parsed)
}

fn passdb(
    db: &AuthDbSettings,
    config_dir: &Path,
) -> Result<Option<PassdbDriver>, HelperConfigError> {
    let err = |message: String| HelperConfigError::Passdb {
        driver: db.driver.clone(),
        message,
    };
    let args = db.args.expose();
    Ok(Some(match db.driver.as_str() {
        "pam" => {
            PassdbDriver::Pam(PamArgs::parse(args).map_err(|e: PamArgsError| err(e.to_string()))?)
        }
        "passwd-file" => PassdbDriver::PasswdFile(
            passwd_file_args(args, config_dir).map_err(|e| err(e.to_string()))?,
        ),
        "static" => PassdbDriver::Static {
            password: args
                .split_whitespace()
                .find_map(|t| t.strip_prefix("password="))
                .unwrap_or("")
                .to_string(),
        },
        other => {
            tracing::warn!("passdb driver {other:?} is not supported by this build; skipped");
            return Ok(None);
        }
    }))
}

fn template(
    text: &str,
    err: impl Fn(String) -> HelperConfigError,
) -> Result<FieldTemplate, HelperConfigError> {
    FieldTemplate::parse(text).map_err(|e: FieldsError| err(e.to_string()))
}

fn userdb(
    db: &AuthDbSettings,
    config_dir: &Path,
) -> Result<Option<UserdbConfig>, HelperConfigError> {
    let err = |message: String| HelperConfigError::Userdb {
        driver: db.driver.clone(),
        message,
    };
    let args = db.args.expose();
    let driver = match db.driver.as_str() {
        "passwd" => UserdbDriver::Passwd,
        "passwd-file" => UserdbDriver::PasswdFile(
            passwd_file_args(args, config_dir).map_err(|e| err(e.to_string()))?,
        ),
        "static" => {
            let mut allow_all_users = false;
            let fields: Vec<&str> = args
                .split_ascii_whitespace()
                .filter(|w| match w.strip_prefix("allow_all_users=") {
                    Some(v) => {
                        allow_all_users = v == "yes";
                        false
                    }
                    None => true,
                })
                .collect();
            UserdbDriver::Static {
                fields: template(&fields.join(" "), err)?,
                allow_all_users,
            }
        }
        "prefetch" => UserdbDriver::Prefetch,
        other => {
            tracing::warn!("userdb driver {other:?} is not supported by this build; skipped");
            return Ok(None);
        }
    };
    Ok(Some(UserdbConfig {
        driver,
        default_fields: template(&db.default_fields, err)?,
        override_fields: template(&db.override_fields, err)?,
    }))
}

impl HelperConfig {
    pub fn from_settings(s: &Settings, config_dir: &Path) -> Result<Self, HelperConfigError> {
        let mut passdbs = Vec::new();
        let mut master_passdbs = Vec::new();
        for db in &s.passdbs {
            if let Some(d) = passdb(db, config_dir)? {
                if db.master {
                    master_passdbs.push(d);
                } else {
                    passdbs.push(d);
                }
            }
        }
        let mut userdbs = Vec::new();
        for db in &s.userdbs {
            if let Some(d) = userdb(db, config_dir)? {
                userdbs.push(d);
            }
        }
        // Refuse a format we cannot apply now, not on every login.
        if format_username(&s.auth_username_format, "probe@example.org").is_err() {
            return Err(HelperConfigError::UsernameFormat(
                s.auth_username_format.clone(),
            ));
        }
        Ok(HelperConfig {
            passdbs,
            master_passdbs,
            master_user_separator: s.auth_master_user_separator.clone(),
            userdbs,
            username_chars: s.auth_username_chars.clone(),
            username_format: s.auth_username_format.clone(),
            failure_delay: s.auth_failure_delay,
            // auth_cache_size is memory in Dovecot; an entry (user, HMAC key,
            // userdb record) takes about 256 bytes.
            cache: CacheSettings {
                max_entries: usize::try_from(s.auth_cache_size / 256).unwrap_or(usize::MAX),
                ttl: s.auth_cache_ttl,
                negative_ttl: s.auth_cache_negative_ttl,
            },
            limits: IdLimits {
                first_valid_uid: s.first_valid_uid,
                last_valid_uid: s.last_valid_uid,
                first_valid_gid: s.first_valid_gid,
                last_valid_gid: s.last_valid_gid,
            },
            mail_uid: s.mail_uid.clone(),
            mail_gid: s.mail_gid.clone(),
            worker_threads: DEFAULT_WORKER_THREADS,
        })
    }

    /// Does any driver need root or NSS (PAM, `passwd`)?
    pub fn needs_system_access(&self) -> bool {
        self.passdbs
            .iter()
            .chain(&self.master_passdbs)
            .any(|p| matches!(p, PassdbDriver::Pam(_)))
            || self
                .userdbs
                .iter()
                .any(|u| matches!(u.driver, UserdbDriver::Passwd))
    }

    /// The uid/gid names of the first userdb's `override_fields`, the
    /// seed configuration's way of saying "all mail belongs to vmail".
    pub fn override_owner(&self) -> (Option<&str>, Option<&str>) {
        let Some(first) = self.userdbs.first() else {
            return (None, None);
        };
        let find = |k: &str| {
            first
                .override_fields
                .fields()
                .iter()
                .find(|(key, v)| key == k && !v.contains('%'))
                .map(|(_, v)| v.as_str())
        };
        (find("uid"), find("gid"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        // Nothing here includes other files, so no file needs to exist.
        crate::config::parse_str(text, Path::new("/nonexistent/tern.conf"))
            .unwrap()
            .settings()
            .clone()
    }

    #[test]
    fn seed_configuration_is_understood() {
        let s = settings(
            "passdb {\n driver = pam\n}\nuserdb {\n driver = passwd\n override_fields = uid=vmail gid=vmail home=/var/mail/%n/\n}\nfirst_valid_uid = 1000\nauth_cache_size = 1M\n",
        );
        let c = HelperConfig::from_settings(&s, Path::new("/etc/tern")).unwrap();
        assert!(
            matches!(&c.passdbs[..], [PassdbDriver::Pam(a)] if a.service_for("imap") == "dovecot")
        );
        assert!(matches!(c.userdbs[0].driver, UserdbDriver::Passwd));
        assert_eq!(c.override_owner(), (Some("vmail"), Some("vmail")));
        assert_eq!(c.limits.first_valid_uid, 1000);
        assert!(c.cache.max_entries > 1000);
        assert!(c.needs_system_access());
    }

    #[test]
    fn passwd_file_paths_are_relative_to_the_config() {
        let s = settings("passdb {\n driver = passwd-file\n args = scheme=PLAIN users\n}\n");
        let c = HelperConfig::from_settings(&s, Path::new("/etc/tern")).unwrap();
        match &c.passdbs[0] {
            PassdbDriver::PasswdFile(a) => assert_eq!(a.path, "/etc/tern/users"),
            other => panic!("{other:?}"),
        }
        assert!(!c.needs_system_access());
    }

    #[test]
    fn static_userdb_takes_allow_all_users_out_of_the_fields() {
        let s = settings(
            "userdb {\n driver = static\n args = uid=5000 allow_all_users=yes home=/m/%n\n}\n",
        );
        let c = HelperConfig::from_settings(&s, Path::new("/")).unwrap();
        match &c.userdbs[0].driver {
            UserdbDriver::Static {
                fields,
                allow_all_users,
            } => {
                assert!(*allow_all_users);
                assert_eq!(fields.fields().len(), 2);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_pam_args_are_refused() {
        let s = settings("passdb {\n driver = pam\n args = session=maybe\n}\n");
        assert!(HelperConfig::from_settings(&s, Path::new("/")).is_err());
    }
}
