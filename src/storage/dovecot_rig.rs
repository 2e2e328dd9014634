//! A private Dovecot (installed binaries, never started as a daemon) for
//! the interop tests of every backend: `dovecot-lda` delivers, `imap` runs
//! with PREAUTH on stdin, both as `nobody` on a store in the user's home
//! under a test directory that is removed on drop.

use crate::storage::sdbox::test_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const DOVECOT_LDA: &str = "/usr/lib/dovecot/dovecot-lda";
pub const DOVECOT_IMAP: &str = "/usr/lib/dovecot/imap";

/// A fresh test directory when Dovecot's binaries and setpriv are
/// installed; `None` (with a printed note) when not.
pub fn dovecot_test_dir(tag: &str) -> PathBuf {
    let present = Path::new(DOVECOT_LDA).exists()
        && Path::new(DOVECOT_IMAP).exists()
        && Command::new("setpriv").arg("--help").output().is_ok();
    assert!(
        present,
        "the Dovecot interop test needs dovecot-core, dovecot-imapd and setpriv \
         (apt-get install dovecot-core dovecot-imapd util-linux)"
    );
    test_dir(tag)
}

pub struct DovecotRig {
    pub base: PathBuf,
    pub home: PathBuf,
    conf: PathBuf,
}

impl DovecotRig {
    /// Fails the test when Dovecot or setpriv is missing (a skipped interop
    /// test must not count as passed). `location` may use `{home}` for the
    /// user's home.
    pub fn new(tag: &str, location: &str) -> Self {
        Self::with_settings(tag, location, "")
    }

    /// [`Self::new`] with more Dovecot settings (plugins, attachment
    /// directory) appended to its configuration.
    pub fn with_settings(tag: &str, location: &str, extra_settings: &str) -> Self {
        let base = dovecot_test_dir(tag);
        let home = base.join("home");
        std::fs::create_dir_all(&home).expect("rig home");
        let conf = base.join("dovecot.conf");
        let location = location.replace("{home}", &home.display().to_string());
        std::fs::write(
            &conf,
            format!(
                "base_dir = {b}/run\nlog_path = /dev/null\nmail_location = {location}\nfirst_valid_uid = 1\nssl = no\n\
                 userdb {{\n driver = static\n args = uid=65534 gid=65534 home={h}\n}}\n\
                 passdb {{\n driver = static\n args = nopassword=y\n}}\n{extra_settings}",
                b = base.display(),
                h = home.display()
            ),
        )
        .expect("rig dovecot.conf");
        let rig = DovecotRig { base, home, conf };
        rig.give_to_dovecot();
        rig
    }

    /// Hand every file to the Dovecot user (tern's test runs as root);
    /// done before each run, so files tern wrote meanwhile are Dovecot's.
    pub fn give_to_dovecot(&self) {
        let _ = Command::new("chmod")
            .args(["755", &self.base.display().to_string()])
            .status();
        let _ = Command::new("chown")
            .args(["-R", "65534:65534", &self.home.display().to_string()])
            .status();
    }

    /// Run a Dovecot binary as the test user, feeding `input`; stdout.
    pub fn run(&self, bin: &str, extra: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        self.give_to_dovecot();
        let mut child = match Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                bin,
                "-c",
            ])
            .arg(&self.conf)
            .args(extra)
            .env("HOME", &self.home)
            .env("USER", "testuser")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return format!("spawn failed: {e}"),
        };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input);
        }
        match child.wait_with_output() {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("wait failed: {e}"),
        }
    }

    pub fn deliver(&self, message: &[u8]) -> String {
        self.run(DOVECOT_LDA, &["-e", "-f", "sender@example.org"], message)
    }

    pub fn imap(&self, script: &[u8]) -> String {
        self.run(DOVECOT_IMAP, &[], script)
    }
}

impl Drop for DovecotRig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}
