//! Master-user logins (`user*master` with `auth_master_user_separator`):
//! the master's password is checked against the `master = yes` passdbs,
//! then the session belongs to `user`, who must exist in the userdb.
//! Rare and privileged, so neither cached nor coalesced.

use std::net::IpAddr;

use super::{Engine, FailReason, System, Verdict, describe, severity, who};

impl<S: System> Engine<S> {
    pub(super) fn master_login(
        &self,
        service: &str,
        login: &str,
        master: &str,
        password: &[u8],
        rip: Option<IpAddr>,
    ) -> Verdict {
        let user = self.canonical(login, rip)?;
        let master = self.canonical(master, rip)?;
        let mut worst: Option<FailReason> = None;
        for db in &self.cfg.master_passdbs {
            let (name, result) = self.one_passdb(db, service, &master, password, rip);
            match result {
                Ok(()) => {
                    // Not `verified`: the password was the master's, so the
                    // userdb must know `user` on its own.
                    let record = self.userdb(service, &user, rip, false)?;
                    tracing::info!(
                        "auth: master login: {} as {} ok",
                        who(&master, rip),
                        record.user
                    );
                    return Ok(record);
                }
                Err(reason) => {
                    tracing::info!(
                        "auth: master {name}({}): {}",
                        who(&master, rip),
                        describe(&reason)
                    );
                    if worst
                        .as_ref()
                        .is_none_or(|w| severity(&reason) > severity(w))
                    {
                        worst = Some(reason);
                    }
                }
            }
        }
        Err(worst.unwrap_or(FailReason::UnknownUser))
    }
}

#[cfg(test)]
mod tests {

    use super::super::tests::passdb;
    use super::super::{Engine, System};
    use super::*;
    use crate::auth::fields::FieldTemplate;
    use crate::auth::helper::config::{HelperConfig, PassdbDriver, UserdbConfig, UserdbDriver};
    use crate::auth::helper::sys::SystemUser;
    use crate::auth::pam::PamOutcome;
    use crate::auth::passwd_file::PasswdFileArgs;

    struct NoSystem;

    impl System for NoSystem {
        fn pam(&self, _: &str, _: &str, _: &[u8], _: Option<&str>) -> PamOutcome {
            unreachable!("no PAM in these configurations")
        }
        fn user(&self, _: &str) -> std::io::Result<Option<SystemUser>> {
            Ok(None)
        }
        fn group_id(&self, _: &str) -> std::io::Result<Option<u32>> {
            Ok(None)
        }
    }

    fn passwd_file(dir: &std::path::Path, name: &str, text: &str) -> PassdbDriver {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write passwd-file");
        let args = PasswdFileArgs::parse(&format!("scheme=PLAIN {}", path.display()))
            .expect("passwd-file args");
        PassdbDriver::PasswdFile(args)
    }

    #[test]
    fn master_logs_in_as_an_existing_user_only() {
        let dir = crate::storage::sdbox::test_dir("auth-master");
        let users = passwd_file(&dir, "users", "jane:{PLAIN}janepw::::::\n");
        let masters = passwd_file(&dir, "masters", "admin:{PLAIN}adminpw::::::\n");
        let cfg = HelperConfig {
            passdbs: vec![users],
            master_passdbs: vec![masters],
            master_user_separator: "*".into(),
            userdbs: vec![UserdbConfig {
                driver: UserdbDriver::Static {
                    fields: FieldTemplate::parse("home=/srv/%n").expect("template"),
                    allow_all_users: false,
                },
                default_fields: FieldTemplate::default(),
                override_fields: FieldTemplate::default(),
            }],
            ..HelperConfig::default()
        };
        let e = Engine::new(cfg, NoSystem, [3; 32]);
        let record = passdb(&e, "jane*admin", "adminpw").expect("master login");
        assert_eq!(record.user, "jane");
        assert_eq!(record.home.as_deref(), Some("/srv/jane"));
        assert_eq!(
            passdb(&e, "jane*admin", "janepw"),
            Err(FailReason::BadCredentials)
        );
        assert_eq!(
            passdb(&e, "nobody*admin", "adminpw"),
            Err(FailReason::UnknownUser),
            "the target must exist"
        );
        // A master passdb is not an ordinary one: no direct login as admin.
        assert_eq!(passdb(&e, "admin", "adminpw"), Err(FailReason::UnknownUser));
        assert!(passdb(&e, "jane", "janepw").is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
