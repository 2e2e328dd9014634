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
            if req.password.0 == b"pw" {
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

pub fn settings() -> ProtocolSettings {
    ProtocolSettings {
        hostname: "store.example".into(),
        greeting: "ready".into(),
        tls_available: false,
        tls_required: false,
        disable_plaintext_auth: false,
        auth_mechanisms: vec!["plain".into()],
        login_trusted_networks: Vec::new(),
        idle_timeout_preauth: Duration::from_secs(60),
        idle_timeout_authed: Duration::from_secs(60),
        max_line_length: 2048,
        auth_failure_delay: Duration::ZERO,
        mail_location: "sdbox:~/mail".into(),
        username_format: "%Ln".into(),
        pop3_uidl_format: "%08Xu%08Xv".into(),
        pop3_outlook_no_nuls: false,
        pop3_oe_ns_eoh: false,
        pop3_lock_session: true,
        pop3_no_flag_updates: false,
        pop3_enable_last: false,
        recipient_delimiter: "+".into(),
        lmtp_save_to_detail_mailbox: false,
        lda_mailbox_autocreate: false,
        lmtp_add_received_header: true,
        lmtp_max_size: 0,
    }
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
