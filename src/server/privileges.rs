//! Dropping root: the main process (shards) runs as `mail_uid`/`mail_gid`
//! once the auth helper is forked and the listeners are bound. Only the
//! helper stays root.
//!
//! Which user: `mail_uid`/`mail_gid` if set; otherwise the uid/gid of the
//! first userdb's `override_fields` (the seed configuration's
//! `uid=vmail gid=vmail`: all mail belongs to that user). With neither,
//! a server started as root keeps running as root, with a warning: there
//! is no user to become, and guessing one would leave mail unreadable.
//! A server started as an ordinary user runs as that user.

use crate::auth::helper::sys;

#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("{what} {name:?}: no such {what}")]
    Unknown { what: &'static str, name: String },
    #[error("looking up {name:?}: {source}")]
    Lookup {
        name: String,
        source: std::io::Error,
    },
    #[error("refusing to run mail as root ({what} {name:?} is 0)")]
    Root { what: &'static str, name: String },
    #[error("switching to uid {uid} gid {gid}: {source}")]
    Switch {
        uid: u32,
        gid: u32,
        source: std::io::Error,
    },
    #[error("privilege drop did not take: {0}")]
    Verify(String),
}

/// The identity the server switches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

pub fn is_root() -> bool {
    sys::effective_uid() == 0
}

fn user_id(name: &str) -> Result<(u32, Option<u32>), PrivilegeError> {
    if let Ok(uid) = name.parse::<u32>() {
        return Ok((uid, None));
    }
    match sys::getpwnam(name) {
        Ok(Some(u)) => Ok((u.uid, Some(u.gid))),
        Ok(None) => Err(PrivilegeError::Unknown {
            what: "user",
            name: name.to_string(),
        }),
        Err(source) => Err(PrivilegeError::Lookup {
            name: name.to_string(),
            source,
        }),
    }
}

fn group_id(name: &str) -> Result<u32, PrivilegeError> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(gid);
    }
    match sys::getgrnam(name) {
        Ok(Some(g)) => Ok(g),
        Ok(None) => Err(PrivilegeError::Unknown {
            what: "group",
            name: name.to_string(),
        }),
        Err(source) => Err(PrivilegeError::Lookup {
            name: name.to_string(),
            source,
        }),
    }
}

/// Resolves whom to run as. `None`: no user configured (stay as is).
/// A missing group defaults to the user's primary group.
pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Option<RunAs>, PrivilegeError> {
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let (uid, primary_gid) = user_id(user)?;
    let gid = match group.filter(|g| !g.is_empty()) {
        Some(g) => group_id(g)?,
        None => primary_gid.ok_or_else(|| PrivilegeError::Unknown {
            what: "group",
            name: format!("(primary group of uid {uid})"),
        })?,
    };
    if uid == 0 {
        return Err(PrivilegeError::Root {
            what: "user",
            name: user.to_string(),
        });
    }
    Ok(Some(RunAs { uid, gid }))
}

/// Switches the whole process (every thread) to `to` and checks that
/// real, effective and saved ids all changed, that no supplementary group
/// is left but `to.gid`, and that root cannot be regained.
pub fn drop_to(to: RunAs) -> Result<(), PrivilegeError> {
    sys::switch_ids(to.uid, to.gid).map_err(|source| PrivilegeError::Switch {
        uid: to.uid,
        gid: to.gid,
        source,
    })?;
    verify(to)
}

fn verify(to: RunAs) -> Result<(), PrivilegeError> {
    let uids = sys::res_uid().map_err(|e| PrivilegeError::Verify(e.to_string()))?;
    let gids = sys::res_gid().map_err(|e| PrivilegeError::Verify(e.to_string()))?;
    if uids != (to.uid, to.uid, to.uid) || gids != (to.gid, to.gid, to.gid) {
        return Err(PrivilegeError::Verify(format!(
            "uids {uids:?}, gids {gids:?}"
        )));
    }
    let groups =
        sys::supplementary_group_count().map_err(|e| PrivilegeError::Verify(e.to_string()))?;
    if groups > 1 {
        return Err(PrivilegeError::Verify(format!(
            "{groups} supplementary groups left"
        )));
    }
    if sys::can_regain_root() {
        return Err(PrivilegeError::Verify("setuid(0) succeeded".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names_resolve() {
        assert_eq!(resolve(None, None).unwrap(), None);
        assert_eq!(resolve(Some(""), Some("x")).unwrap(), None);
        assert_eq!(
            resolve(Some("1234"), Some("2345")).unwrap(),
            Some(RunAs {
                uid: 1234,
                gid: 2345
            })
        );
        // `nobody` exists on every Linux system we run on.
        let nobody = resolve(Some("nobody"), None).unwrap().unwrap();
        assert!(nobody.uid > 0 && nobody.gid > 0);
        assert!(matches!(
            resolve(Some("no-such-user-tern"), None),
            Err(PrivilegeError::Unknown { .. })
        ));
        assert!(matches!(
            resolve(Some("1234"), None),
            Err(PrivilegeError::Unknown { .. })
        ));
        assert!(matches!(
            resolve(Some("root"), None),
            Err(PrivilegeError::Root { .. })
        ));
    }

    #[test]
    fn dropping_in_a_child_process_takes_and_sticks() {
        assert!(
            is_root(),
            "this test must run as root (it drops privileges); CI runs as root"
        );
        // Forking a multi-threaded test binary is fine for a child that only
        // makes raw syscalls and exits.
        use std::process::Command;
        // Run the check in a fresh process so the test runner keeps root.
        let exe = std::env::current_exe().unwrap();
        let out = Command::new(exe)
            .args([
                "--exact",
                "server::privileges::tests::child_drop",
                "--nocapture",
                "--include-ignored",
            ])
            .env("TERN_PRIV_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("dropped ok"), "{text}");
    }

    #[test]
    #[ignore = "run by dropping_in_a_child_process_takes_and_sticks"]
    fn child_drop() {
        assert!(
            std::env::var_os("TERN_PRIV_CHILD").is_some(),
            "child half of dropping_in_a_child_process_takes_and_sticks: it drops \
             this process's privileges, so it runs only in the child that test starts"
        );
        let to = RunAs {
            uid: 65534,
            gid: 65534,
        };
        drop_to(to).unwrap();
        assert!(!is_root());
        // Another thread of the process has lost root too (glibc applies
        // set*id to every thread).
        let uid_there = std::thread::spawn(sys::res_uid).join().unwrap().unwrap();
        assert_eq!(uid_there, (65534, 65534, 65534));
        println!("dropped ok");
    }
}
