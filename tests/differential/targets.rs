//! The two servers a script runs against: one tern process for the whole run
//! (a user per script), and one Dovecot `imap` process per session in PREAUTH
//! mode on a mail directory per script.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::wire::{Outcome, Wire};

pub const DOVECOT_IMAP: &str = "/usr/lib/dovecot/imap";

/// Mailbox settings both servers get, so LIST/NAMESPACE/SPECIAL-USE answers
/// are comparable.
pub const NAMESPACE: &str = r#"namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Junk {
    special_use = \Junk
  }
  mailbox Archive {
    special_use = \Archive
  }
}
mail_fsync = never
"#;

pub const PASSWORD: &str = "pw";

pub enum Target {
    Tern {
        port: u16,
    },
    Dovecot {
        root: PathBuf,
        /// A mail directory holding the corpus, appended once through
        /// Dovecot and copied for each script (a third of the run time).
        template: Mutex<Option<PathBuf>>,
    },
}

/// Where one script runs on one target.
pub struct Place {
    pub user: String,
    /// Dovecot: the script's directory (HOME, config, mail).
    pub dir: Option<PathBuf>,
    /// Dovecot's stderr, shown when a script differs.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Target {
    pub fn name(&self) -> &'static str {
        match self {
            Target::Tern { .. } => "tern",
            Target::Dovecot { .. } => "dovecot",
        }
    }

    pub fn place(&self, index: usize) -> Place {
        let user = if index == usize::MAX {
            "template".to_string()
        } else {
            format!("u{index:04}")
        };
        let log = Arc::new(Mutex::new(Vec::new()));
        match self {
            Target::Tern { .. } => Place {
                user,
                dir: None,
                log,
            },
            Target::Dovecot { root, .. } => {
                let dir = root.join(&user);
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).expect("script dir");
                std::fs::write(
                    dir.join("dovecot.conf"),
                    format!(
                        "mail_location = sdbox:{}/mail\nprotocols = imap\nssl = no\n\
                         log_path = /dev/stderr\nmail_uid = nobody\nmail_gid = nogroup\n\
                         first_valid_uid = 1\n{NAMESPACE}",
                        dir.display()
                    ),
                )
                .expect("dovecot.conf");
                if crate::common::is_root() {
                    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown");
                }
                Place {
                    user,
                    dir: Some(dir),
                    log,
                }
            }
        }
    }

    /// Dovecot: gives the script's place the corpus by copying the template
    /// mail directory (made on first use by `append`). `Ok(false)` = not
    /// Dovecot, append as usual.
    pub fn copy_corpus(
        &self,
        place: &Place,
        append: impl FnOnce(&Place) -> Result<(), String>,
    ) -> Result<bool, String> {
        let Target::Dovecot { template, .. } = self else {
            return Ok(false);
        };
        let mut guard = template.lock().map_err(|e| e.to_string())?;
        if guard.is_none() {
            let tpl = self.place(usize::MAX);
            append(&tpl)?;
            *guard = tpl.dir.map(|d| d.join("mail"));
        }
        let from = guard.clone().ok_or("no template")?;
        drop(guard);
        let dir = place.dir.as_deref().ok_or("no dir")?;
        let st = Command::new("cp")
            .arg("-a")
            .arg(&from)
            .arg(dir.join("mail"))
            .status()
            .map_err(|e| e.to_string())?;
        if !st.success() {
            return Err(format!("cp -a {} failed", from.display()));
        }
        Ok(true)
    }

    /// A logged-in session (greeting and login already read).
    pub fn open(&self, place: &Place) -> Result<Wire, String> {
        match self {
            Target::Tern { port } => {
                let s = TcpStream::connect(("127.0.0.1", *port)).map_err(|e| e.to_string())?;
                let mut w = Wire::tcp(s).map_err(|e| e.to_string())?;
                let (_, o) = w.until(|_| Some(Outcome::Tagged));
                if o != Outcome::Tagged {
                    return Err(format!("no greeting: {o:?}"));
                }
                w.send(format!("L LOGIN {} {PASSWORD}\r\n", place.user).as_bytes());
                let (got, o) = w.until(|r| r.starts_with(b"L ").then_some(Outcome::Tagged));
                match got.last() {
                    Some(l) if o == Outcome::Tagged && l.starts_with(b"L OK") => Ok(w),
                    _ => Err(format!("login failed: {o:?} {got:?}")),
                }
            }
            Target::Dovecot { .. } => {
                let dir = place.dir.as_deref().expect("dovecot place");
                let mut cmd = if crate::common::is_root() {
                    let mut c = Command::new("setpriv");
                    c.args([
                        "--reuid=65534",
                        "--regid=65534",
                        "--clear-groups",
                        DOVECOT_IMAP,
                    ]);
                    c
                } else {
                    Command::new(DOVECOT_IMAP)
                };
                let child = cmd
                    .arg("-c")
                    .arg(dir.join("dovecot.conf"))
                    .env_clear()
                    .env("USER", "nobody")
                    .env("HOME", dir)
                    .env("PATH", "/usr/bin:/bin")
                    .current_dir(dir)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("start {DOVECOT_IMAP}: {e}"))?;
                let mut child = child;
                if let Some(err) = child.stderr.take() {
                    let log = place.log.clone();
                    std::thread::spawn(move || {
                        use std::io::BufRead;
                        for l in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                            if let Ok(mut v) = log.lock() {
                                v.push(l);
                            }
                        }
                    });
                }
                let mut w = Wire::child(child);
                let (got, o) = w.until(|_| Some(Outcome::Tagged));
                match got.first() {
                    Some(g) if g.starts_with(b"* PREAUTH") => Ok(w),
                    _ => Err(format!("no PREAUTH greeting: {o:?} {got:?}")),
                }
            }
        }
    }
}

/// The tern server settings the harness adds (static passdb: any user name
/// logs in with `PASSWORD`).
pub fn tern_auth_blocks(homes: &Path) -> String {
    format!(
        "passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
         userdb {{\n  driver = static\n  args = home={}/%n\n}}\n",
        homes.display()
    )
}
