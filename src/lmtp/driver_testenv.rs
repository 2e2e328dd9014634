//! Test support for the POP3 and LMTP drivers: a one-shard `Env` over real
//! sdbox storage in a temp directory, with a fixed userdb (`alice`, `bob`;
//! `flaky` fails temporarily).

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::shard::env::{
    AuthOutcome, AuthRequest, Authenticator, Env, LocalFuture, ProtocolSettings,
    ProtocolSettingsSet, UserInfo, UserLookup,
};

struct FixedUsers {
    root: PathBuf,
}

impl Authenticator for FixedUsers {
    fn authenticate<'a>(&'a self, req: AuthRequest) -> LocalFuture<'a, AuthOutcome> {
        Box::pin(async move {
            if req.password.expose() == b"pw" {
                AuthOutcome::Ok { user: req.user }
            } else {
                AuthOutcome::Failed {
                    reason: "mismatch".into(),
                }
            }
        })
    }

    fn lookup_user<'a>(&'a self, user: &'a str) -> LocalFuture<'a, UserLookup> {
        Box::pin(async move {
            match user {
                "alice" | "bob" => UserLookup::Found(UserInfo {
                    user: user.into(),
                    home: self.root.join(user).display().to_string(),
                    ..UserInfo::default()
                }),
                "flaky" => UserLookup::TempFail("backend down".into()),
                _ => UserLookup::NotFound,
            }
        })
    }
}

/// Settings as the config layer builds them (so new fields need no edit
/// here), with what these tests rely on set explicitly.
pub fn settings() -> ProtocolSettings {
    let text = "ssl = no\nmail_location = sdbox:~/mail\nhostname = store.example\n";
    let cfg = crate::config::parse_str(text, Path::new("/etc/tern/tern.conf")).expect("config");
    let plan =
        crate::server::from_config::plan(&cfg, Path::new("/etc/tern/tern.conf")).expect("plan");
    let mut s = plan.protocols.pop3.clone();
    s.auth_failure_delay = Duration::ZERO;
    s.username_format = "%Ln".into();
    s.pop3_uidl_format = "%08Xu%08Xv".into();
    s.pop3_lock_session = true;
    s.pop3_no_flag_updates = false;
    s.lmtp_save_to_detail_mailbox = false;
    s.lda_mailbox_autocreate = false;
    s.lmtp_max_size = 0;
    s
}

/// A single-shard `Env` whose users live under `root`.
pub fn env(root: &Path) -> Rc<Env> {
    let s = settings();
    let set = ProtocolSettingsSet {
        imap: s.clone(),
        pop3: s.clone(),
        lmtp: s,
    };
    Env::new(
        0,
        1,
        Arc::new(set),
        None,
        Rc::new(FixedUsers {
            root: root.to_path_buf(),
        }),
        Rc::new(crate::storage::ShardStorage::new(1 << 20)),
        Box::new(|_, _| Box::pin(async { false })),
    )
}

/// Runs `f` on a fresh glommio executor.
pub fn run<F: std::future::Future<Output = ()>>(f: impl FnOnce() -> F) {
    glommio::LocalExecutorBuilder::default()
        .make()
        .expect("executor")
        .run(f());
}
