//! `tern admin force-resync -u USER [MAILBOX]` and
//! `tern admin mailbox status -u USER MAILBOX`: one-off storage work on a
//! private glommio executor, for any mail format.
//!
//! The user's home and `mail_location` are resolved the way the server
//! resolves them (the userdb chain, then `mail_home` and `mail_location`),
//! unless `--home` / `--location` override them.

use crate::auth::helper::HelperConfig;
use crate::auth::helper::engine::{Engine, RealSystem};
use crate::auth::protocol::FailReason;
use crate::config::vars::VarTable;
use crate::config::{Config, Settings};
use crate::server::local_auth::username_allowed;
use crate::shard::env::{Protocol, UserInfo, user_context};
use crate::storage::{
    AnyMailbox, MailStore, Mailbox, MailboxName, ShardStorage, StorageError, UserContext,
};
use std::path::{Path, PathBuf};

/// Cache budget of the one-off executor.
const ADMIN_CACHE_BYTES: usize = 64 << 20;

/// `--home` / `--location` given on the command line.
#[derive(Debug, Clone, Default)]
pub struct StorageOverrides {
    pub home: Option<String>,
    /// A `mail_location` (with `%` variables), e.g. `maildir:~/Maildir`.
    pub location: Option<String>,
}

/// Re-read the mail files of one mailbox (or every mailbox) of `user` and
/// rewrite tern's index. Returns a report, one line per mailbox.
pub fn force_resync(cfg: &Config, user: &str, mailbox: Option<&str>) -> Result<String, String> {
    force_resync_with(cfg, user, mailbox, &StorageOverrides::default())
}

/// STATUS-like summary of one mailbox.
pub fn mailbox_status(cfg: &Config, user: &str, mailbox: &str) -> Result<String, String> {
    mailbox_status_with(cfg, user, mailbox, &StorageOverrides::default())
}

pub fn force_resync_with(
    cfg: &Config,
    user: &str,
    mailbox: Option<&str>,
    overrides: &StorageOverrides,
) -> Result<String, String> {
    let ctx = resolve_user(cfg, user, overrides)?;
    let only = mailbox.map(parse_name).transpose()?;
    run_on_executor(async move {
        let shard = ShardStorage::new(ADMIN_CACHE_BYTES);
        let store = shard.open_user(&ctx).await.map_err(show)?;
        let names = match only {
            Some(n) => vec![n],
            None => store
                .list()
                .await
                .map_err(show)?
                .into_iter()
                .filter(|i| i.selectable)
                .map(|i| i.name)
                .collect(),
        };
        let mut report = String::new();
        for name in names {
            let mb: AnyMailbox = store.open(&name).await.map_err(show)?;
            let problems = mb.force_resync().await.map_err(show)?;
            let st = mb.status();
            report.push_str(&format!(
                "{name}: resynced, {} messages, uidvalidity {}, uidnext {}",
                st.messages, st.uidvalidity, st.uidnext
            ));
            if !problems.is_empty() {
                report.push_str(&format!(" (repaired: {})", problems.join("; ")));
            }
            report.push('\n');
        }
        Ok(report)
    })
}

pub fn mailbox_status_with(
    cfg: &Config,
    user: &str,
    mailbox: &str,
    overrides: &StorageOverrides,
) -> Result<String, String> {
    let ctx = resolve_user(cfg, user, overrides)?;
    let name = parse_name(mailbox)?;
    run_on_executor(async move {
        let shard = ShardStorage::new(ADMIN_CACHE_BYTES);
        let store = shard.open_user(&ctx).await.map_err(show)?;
        let mb = store.open(&name).await.map_err(show)?;
        let st = mb.status();
        Ok(format!(
            "mailbox={name} messages={} recent={} unseen={} deleted={} uidnext={} uidvalidity={} highestmodseq={} vsize={} guid={}\n",
            st.messages,
            st.recent,
            st.unseen,
            st.deleted,
            st.uidnext,
            st.uidvalidity,
            st.highest_modseq,
            st.size,
            crate::storage::guid::to_hex(&mb.guid())
        ))
    })
}

fn show(e: StorageError) -> String {
    e.to_string()
}

fn parse_name(s: &str) -> Result<MailboxName, String> {
    MailboxName::new(s).map_err(|e| format!("mailbox {s:?}: {e}"))
}

fn run_on_executor<T: Send + 'static>(
    job: impl std::future::Future<Output = Result<T, String>> + 'static,
) -> Result<T, String> {
    let ex = glommio::LocalExecutorBuilder::default()
        .name("tern-admin")
        .make()
        .map_err(|e| format!("cannot start an executor: {e}"))?;
    ex.run(job)
}

/// Home and mail location of `user`, as the server resolves them: the
/// configured userdbs through the auth helper's own engine (the same
/// login canonicalisation, `default_fields`/`override_fields`), then the
/// same `%` expansion the shards use. Without a userdb, the passwd-file
/// passdb's home column, as the built-in authenticator does.
pub fn resolve_user(
    cfg: &Config,
    user: &str,
    overrides: &StorageOverrides,
) -> Result<UserContext, String> {
    if !username_allowed(user) {
        return Err(format!("invalid user name {user:?}"));
    }
    let s = cfg.settings();
    let config_dir = cfg
        .source()
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mut info = if s.userdbs.is_empty() {
        passdb_home(s, &config_dir, user)
    } else {
        userdb_lookup(s, &config_dir, user)?
    };
    if info.home.is_empty() && !s.mail_home.is_empty() {
        info.home = VarTable::for_user(&info.user)
            .expand(&s.mail_home)
            .map_err(|e| format!("mail_home: {e}"))?;
    }
    if let Some(h) = &overrides.home {
        info.home = h.clone();
    }
    if let Some(location) = &overrides.location {
        info.mail = Some(location.clone());
    }
    if info.mail.is_none() && s.mail_location.trim().is_empty() {
        return Err("mail_location is not set (use --location)".into());
    }
    let attachments = cfg.value_of("mail_attachment_dir").unwrap_or_default();
    user_context(&s.mail_location, &attachments, Protocol::Imap.name(), &info)
}

/// The userdb chain, run in this process by the auth helper's engine.
fn userdb_lookup(s: &Settings, config_dir: &Path, login: &str) -> Result<UserInfo, String> {
    let helper = HelperConfig::from_settings(s, config_dir).map_err(|e| e.to_string())?;
    // The key only salts the engine's in-memory caches of this process.
    let engine = Engine::new(helper, RealSystem, [0; 32]);
    match engine.userdb_request(Protocol::Imap.name(), login) {
        Ok(record) => Ok(UserInfo {
            user: record.user,
            home: record.home.unwrap_or_default(),
            mail: record.mail,
            uid: record.uid,
            gid: record.gid,
        }),
        Err(FailReason::UnknownUser) => Err(format!("unknown user {login:?}")),
        Err(e) => Err(format!("userdb lookup of {login:?} failed: {e:?}")),
    }
}

/// No userdb: the home column of the first passwd-file passdb that has
/// the user.
fn passdb_home(s: &Settings, config_dir: &Path, user: &str) -> UserInfo {
    let home = s
        .passdbs
        .iter()
        .filter(|db| db.driver == "passwd-file")
        .filter_map(|db| passwd_file_path(db.args.expose(), config_dir))
        .find_map(|path| passwd_file_home(&path, user))
        .unwrap_or_default();
    UserInfo {
        user: user.to_string(),
        home,
        ..UserInfo::default()
    }
}

fn passwd_file_path(args: &str, config_dir: &Path) -> Option<PathBuf> {
    let path = PathBuf::from(args.split_whitespace().find(|t| !t.contains('='))?);
    Some(if path.is_absolute() {
        path
    } else {
        config_dir.join(path)
    })
}

/// `user:password:uid:gid:gecos:home:…` → home.
fn passwd_file_home(path: &Path, user: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == user).then(|| f.nth(4).unwrap_or("").to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::AppendRequest;

    fn config(text: &str, dir: &Path) -> Config {
        crate::config::parse_str(text, &dir.join("tern.conf")).unwrap()
    }

    #[test]
    fn resolves_home_and_location_like_the_authenticator() {
        let dir = crate::storage::sdbox::test_dir("admin-resolve");
        std::fs::write(dir.join("users"), "jane:{PLAIN}x:1000:1000::/home/jane::\n").unwrap();
        let cfg = config(
            "mail_location = maildir:~/Maildir\npassdb {\n driver = passwd-file\n args = users\n}\n",
            &dir,
        );
        let ctx = resolve_user(&cfg, "jane", &StorageOverrides::default()).unwrap();
        assert_eq!(ctx.home, "/home/jane");
        assert_eq!(ctx.mail_location, "maildir:~/Maildir");
        let cfg2 = config(
            "mail_location = sdbox:~/mail\nuserdb {\n driver = static\n args = allow_all_users=yes home=/srv/%n mail=mbox:~/mail:INBOX=/var/mail/%u\n}\n",
            &dir,
        );
        let ctx2 = resolve_user(&cfg2, "bob", &StorageOverrides::default()).unwrap();
        assert_eq!(ctx2.home, "/srv/bob");
        assert_eq!(ctx2.mail_location, "mbox:~/mail:INBOX=/var/mail/bob");
        let over = StorageOverrides {
            home: Some("/x".into()),
            location: Some("maildir:%h/M".into()),
        };
        assert_eq!(
            resolve_user(&cfg2, "bob", &over).unwrap().mail_location,
            "maildir:/x/M"
        );
        assert!(resolve_user(&cfg2, "../etc", &over).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_spelling_the_server_accepts_resolves_to_one_store() {
        let dir = crate::storage::sdbox::test_dir("admin-spellings");
        std::fs::write(dir.join("users"), "jane:{PLAIN}x::::/home/jane::\n").unwrap();
        let cfg = config(
            "auth_username_format = %Lu\nmail_location = sdbox:~/mail\n\
             passdb {\n driver = passwd-file\n args = username_format=%n users\n}\n\
             userdb {\n driver = passwd-file\n args = username_format=%n users\n}\n",
            &dir,
        );
        let none = StorageOverrides::default();
        for login in ["jane", "jane@example.org", "JANE", "Jane@Example.org"] {
            let ctx = resolve_user(&cfg, login, &none).unwrap();
            assert_eq!(ctx.home, "/home/jane", "{login}");
            assert_eq!(ctx.mail_location, "sdbox:~/mail", "{login}");
        }
        let err = resolve_user(&cfg, "nobody-here", &none).unwrap_err();
        assert!(err.contains("unknown user"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn status_and_resync_on_a_maildir() {
        let dir = crate::storage::sdbox::test_dir("admin-run");
        let over = StorageOverrides {
            home: Some(dir.display().to_string()),
            location: Some("maildir:~/Maildir".into()),
        };
        let cfg = config("", &dir);
        let ctx = resolve_user(&cfg, "jane", &over).unwrap();
        run_on_executor(async move {
            let store = ShardStorage::new(1 << 20)
                .open_user(&ctx)
                .await
                .map_err(show)?;
            let mb = store.open(&MailboxName::inbox()).await.map_err(show)?;
            let req = AppendRequest {
                message: b"Subject: x\r\n\r\nhi\r\n".to_vec(),
                ..Default::default()
            };
            mb.append(vec![req]).await.map_err(show)?;
            Ok(())
        })
        .unwrap();
        let st = mailbox_status_with(&cfg, "jane", "INBOX", &over).unwrap();
        assert!(
            st.contains("messages=1 ") && st.contains("uidnext=2 "),
            "{st}"
        );
        // Lose tern's index: force-resync rebuilds it from the mail files.
        std::fs::remove_file(dir.join("Maildir/tern.index")).unwrap();
        let report = force_resync_with(&cfg, "jane", None, &over).unwrap();
        assert!(
            report.starts_with("INBOX: resynced, 1 messages"),
            "{report}"
        );
        assert!(dir.join("Maildir/tern.index").exists());
        assert!(mailbox_status_with(&cfg, "jane", "Nope", &over).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
