//! Dovecot passwd-file: `user:password:uid:gid:gecos:home:shell:extra_fields`.
//!
//! `parse` is pure. `PasswdFileDb` reads the file and re-reads it when its
//! mtime or size changes; it blocks, so only the auth helper uses it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::fields::{FieldsError, IdKind, UserRecord, set_field};
use super::protocol::FailReason;
use super::scheme::{self, Scheme, SchemeError, SchemeSpec};
use super::username::{UsernameError, format_username};

/// Largest passwd-file read; a bigger one is almost surely a mistake and
/// would be held in memory whole.
pub const MAX_FILE_SIZE: u64 = 256 << 20;

/// One line of a passwd-file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub user: String,
    /// `None` when the field is empty or missing.
    pub password: Option<String>,
    /// Raw uid/gid text: a number or a name the userdb resolves.
    pub uid: Option<String>,
    pub gid: Option<String>,
    pub gecos: Option<String>,
    pub home: Option<String>,
    pub shell: Option<String>,
    /// `key=value` extra fields in file order (`nopassword` has value "").
    pub extra: Vec<(String, String)>,
}

impl PasswdEntry {
    /// `nopassword` in the extra fields: any password is accepted.
    pub fn nopassword(&self) -> bool {
        self.passdb_fields().any(|(k, _)| k == "nopassword")
    }

    /// Extra fields meant for the passdb (`allow_nets`, `nopassword`, …).
    pub fn passdb_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.extra
            .iter()
            .filter(|(k, _)| !k.starts_with("userdb_"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Extra fields meant for the userdb, with the `userdb_` prefix removed.
    pub fn userdb_fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.extra.iter().filter_map(|(k, v)| {
            k.strip_prefix("userdb_")
                .filter(|k| !k.is_empty())
                .map(|k| (k, v.as_str()))
        })
    }

    /// Builds the userdb record: uid/gid/home from their columns, then the
    /// `userdb_*` extra fields (which win, as in Dovecot).
    pub fn to_user_record<R>(&self, resolve: &R) -> Result<UserRecord, FieldsError>
    where
        R: Fn(IdKind, &str) -> Option<u32>,
    {
        let mut record = UserRecord::new(self.user.clone());
        let columns = [("uid", &self.uid), ("gid", &self.gid), ("home", &self.home)];
        for (key, value) in columns {
            if let Some(value) = value {
                set_field(&mut record, key, value.clone(), resolve)?;
            }
        }
        for (key, value) in self.userdb_fields() {
            set_field(&mut record, key, value.to_string(), resolve)?;
        }
        Ok(record)
    }
}

/// Something wrong with one line; the line is skipped (or, for a
/// duplicate, the later line is) and the rest of the file is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWarning {
    pub line: usize,
    pub message: String,
}

/// A parsed passwd-file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswdFile {
    entries: Vec<PasswdEntry>,
    by_user: HashMap<String, usize>,
    pub warnings: Vec<ParseWarning>,
}

/// Parses passwd-file text. Never fails: bad lines become warnings.
pub fn parse(text: &str) -> PasswdFile {
    let mut file = PasswdFile::default();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || line.starts_with('#') || line.starts_with(':') {
            continue;
        }
        let entry = parse_line(line);
        if file.by_user.contains_key(&entry.user) {
            file.warnings.push(ParseWarning {
                line: line_no,
                message: format!("User {} exists more than once", entry.user),
            });
            continue;
        }
        file.by_user.insert(entry.user.clone(), file.entries.len());
        file.entries.push(entry);
    }
    file
}

fn parse_line(line: &str) -> PasswdEntry {
    // The extra fields are everything after the 7th colon: their values
    // may contain colons themselves.
    let mut columns = line.splitn(8, ':');
    let mut next = || columns.next().filter(|s| !s.is_empty()).map(str::to_string);
    let user = next().unwrap_or_default();
    let password = next().map(pwdfile_compat);
    let uid = next();
    let gid = next();
    let gecos = next();
    let home = next();
    let shell = next();
    let extra = next()
        .map(|rest| {
            rest.split_ascii_whitespace()
                .map(|item| {
                    let (k, v) = item.split_once('=').unwrap_or((item, ""));
                    (k.to_string(), v.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    PasswdEntry {
        user,
        password,
        uid,
        gid,
        gecos,
        home,
        shell,
        extra,
    }
}

/// libpam-pwdfile wrote `hash[NN]` with NN the hash length: `[34]` is read
/// as `{PLAIN-MD5}` and `[13]` as `{CRYPT}`, as Dovecot does.
fn pwdfile_compat(password: String) -> String {
    for (suffix, scheme) in [("[34]", "{PLAIN-MD5}"), ("[13]", "{CRYPT}")] {
        if let Some(hash) = password.strip_suffix(suffix)
            && !hash.is_empty()
        {
            return format!("{scheme}{hash}");
        }
    }
    password
}

impl PasswdFile {
    pub fn lookup(&self, user: &str) -> Option<&PasswdEntry> {
        self.by_user.get(user).map(|&i| &self.entries[i])
    }

    pub fn entries(&self) -> &[PasswdEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The passdb check for one (already formatted) user name.
    pub fn verify(
        &self,
        user: &str,
        default_scheme: impl Into<SchemeSpec>,
        password: &[u8],
    ) -> PasswordVerdict {
        let Some(entry) = self.lookup(user) else {
            return PasswordVerdict::UnknownUser;
        };
        if entry.nopassword() {
            return PasswordVerdict::Ok;
        }
        let Some(stored) = &entry.password else {
            return PasswordVerdict::NoPassword;
        };
        match scheme::verify(stored, default_scheme, password) {
            Ok(true) => PasswordVerdict::Ok,
            Ok(false) => PasswordVerdict::Mismatch,
            Err(e) => PasswordVerdict::Broken(e),
        }
    }
}

/// Outcome of a passdb password check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordVerdict {
    Ok,
    Mismatch,
    UnknownUser,
    /// The entry has an empty password and no `nopassword`: Dovecot refuses.
    NoPassword,
    /// The stored value is unusable; log it, fail the login.
    Broken(SchemeError),
}

impl PasswordVerdict {
    /// The helper's answer to the shard; `None` for success.
    pub fn fail_reason(&self) -> Option<FailReason> {
        Some(match self {
            PasswordVerdict::Ok => return None,
            PasswordVerdict::Mismatch | PasswordVerdict::NoPassword => FailReason::BadCredentials,
            PasswordVerdict::UnknownUser => FailReason::UnknownUser,
            PasswordVerdict::Broken(e) => FailReason::TempFail(e.to_string()),
        })
    }
}

/// `args` of a passwd-file passdb/userdb:
/// `[scheme=X] [username_format=FMT] PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdFileArgs {
    pub scheme: SchemeSpec,
    pub username_format: String,
    /// May contain `%` variables (`/etc/dovecot/%d/passwd`); the caller
    /// expands it per request and keeps one `PasswdFileDb` per result.
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswdFileError {
    #[error("passwd-file args: {0}")]
    Args(String),
    #[error(transparent)]
    Scheme(#[from] SchemeError),
    #[error(transparent)]
    Username(#[from] UsernameError),
    #[error("passwd-file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("passwd-file {path}: larger than {MAX_FILE_SIZE} bytes")]
    TooLarge { path: PathBuf },
    #[error("passwd-file {path}: not UTF-8")]
    NotUtf8 { path: PathBuf },
}

impl PasswdFileArgs {
    pub fn parse(args: &str) -> Result<Self, PasswdFileError> {
        let mut scheme: SchemeSpec = Scheme::Crypt.into();
        let mut username_format = "%u".to_string();
        let mut path = None;
        for word in args.split_ascii_whitespace() {
            if let Some(name) = word.strip_prefix("scheme=") {
                scheme = name.parse()?;
            } else if let Some(fmt) = word.strip_prefix("username_format=") {
                username_format = fmt.to_string();
            } else if path.is_none() {
                path = Some(word.to_string());
            } else {
                return Err(PasswdFileError::Args(format!("unexpected {word:?}")));
            }
        }
        let path = path.ok_or_else(|| PasswdFileError::Args("no path".to_string()))?;
        Ok(PasswdFileArgs {
            scheme,
            username_format,
            path,
        })
    }

    /// The name to look up in the file for a canonical user name.
    pub fn lookup_name(&self, user: &str) -> Result<String, UsernameError> {
        format_username(&self.username_format, user)
    }
}

/// What identifies one version of the file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub mtime: Option<SystemTime>,
    pub size: u64,
}

/// A passwd-file kept in memory and re-read when it changes.
#[derive(Debug)]
pub struct PasswdFileDb {
    path: PathBuf,
    file: PasswdFile,
    stamp: FileStamp,
}

impl PasswdFileDb {
    /// Reads and parses the file (blocking).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, PasswdFileError> {
        let path = path.into();
        let stamp = stamp_of(&path)?;
        let file = read_and_parse(&path, stamp)?;
        Ok(PasswdFileDb { path, file, stamp })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self) -> &PasswdFile {
        &self.file
    }

    /// Re-reads the file if its mtime or size changed. `Ok(true)` when it
    /// was reloaded. On error the previous contents stay in use.
    pub fn refresh_if_changed(&mut self) -> Result<bool, PasswdFileError> {
        let stamp = stamp_of(&self.path)?;
        if stamp == self.stamp {
            return Ok(false);
        }
        self.file = read_and_parse(&self.path, stamp)?;
        self.stamp = stamp;
        Ok(true)
    }
}

fn stamp_of(path: &Path) -> Result<FileStamp, PasswdFileError> {
    // Passwd-files are read by the auth helper process's threads, never a shard.
    let meta = std::fs::metadata(path); // blocking-ok: auth helper process
    let meta = meta.map_err(|source| PasswdFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(FileStamp {
        mtime: meta.modified().ok(),
        size: meta.len(),
    })
}

fn read_and_parse(path: &Path, stamp: FileStamp) -> Result<PasswdFile, PasswdFileError> {
    if stamp.size > MAX_FILE_SIZE {
        return Err(PasswdFileError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(path); // blocking-ok: auth helper process
    let bytes = bytes.map_err(|source| PasswdFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| PasswdFileError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let file = parse(&text);
    for w in &file.warnings {
        tracing::error!("passwd-file {}:{}: {}", path.display(), w.line, w.message);
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::XorShift64;

    const SAMPLE: &str = "\
# comment line
jane:{PLAIN}secret:1001:1001:Jane Doe:/home/jane:/bin/sh:userdb_mail=sdbox:/var/mail/jane allow_nets=10.0.0.0/8
bob:{SHA1}5en6G6MezRroT3XKqkdPOmY/BfQ=::::::

carol:5ebe2294ecd0e0f08eab7690d2a6ee69[34]:1003:1003::/home/carol
dave:::::::nopassword userdb_uid=vmail
jane:{PLAIN}second:2000:2000
eve:$1$oAzBePXG$zOFyLQt3k1Ix6/qRNWaxk.
onlyname
windows:{PLAIN}crlf:1:1\r
";

    #[test]
    fn parses_columns_and_extra_fields() {
        let f = parse(SAMPLE);
        let jane = f.lookup("jane").unwrap();
        assert_eq!(jane.password.as_deref(), Some("{PLAIN}secret"));
        assert_eq!(
            (jane.uid.as_deref(), jane.gid.as_deref()),
            (Some("1001"), Some("1001"))
        );
        assert_eq!(jane.gecos.as_deref(), Some("Jane Doe"));
        assert_eq!(jane.home.as_deref(), Some("/home/jane"));
        assert_eq!(jane.shell.as_deref(), Some("/bin/sh"));
        let userdb: Vec<_> = jane.userdb_fields().collect();
        assert_eq!(userdb, vec![("mail", "sdbox:/var/mail/jane")]);
        let passdb: Vec<_> = jane.passdb_fields().collect();
        assert_eq!(passdb, vec![("allow_nets", "10.0.0.0/8")]);
        let bob = f.lookup("bob").unwrap();
        assert_eq!((bob.uid.as_deref(), bob.home.as_deref()), (None, None));
        assert!(f.lookup("onlyname").unwrap().password.is_none());
        assert_eq!(
            f.lookup("windows").unwrap().gid.as_deref(),
            Some("1"),
            "CR of CRLF line ends is dropped"
        );
    }

    #[test]
    fn duplicate_user_keeps_first_and_warns() {
        let f = parse(SAMPLE);
        assert_eq!(f.lookup("jane").unwrap().uid.as_deref(), Some("1001"));
        assert_eq!(f.warnings.len(), 1);
        assert_eq!(f.warnings[0].line, 7);
        assert!(f.warnings[0].message.contains("jane"));
        assert_eq!(f.len(), 7);
    }

    #[test]
    fn verifies_passwords_with_pwdfile_forms_and_nopassword() {
        let f = parse(SAMPLE);
        assert_eq!(
            f.verify("jane", Scheme::Crypt, b"secret"),
            PasswordVerdict::Ok
        );
        assert_eq!(
            f.verify("jane", Scheme::Crypt, b"second"),
            PasswordVerdict::Mismatch
        );
        assert_eq!(
            f.verify("bob", Scheme::Crypt, b"secret"),
            PasswordVerdict::Ok
        );
        assert_eq!(
            f.lookup("carol").unwrap().password.as_deref(),
            Some("{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69")
        );
        assert_eq!(
            f.verify("carol", Scheme::Crypt, b"secret"),
            PasswordVerdict::Ok
        );
        assert_eq!(
            f.verify("dave", Scheme::Crypt, b"anything"),
            PasswordVerdict::Ok
        );
        assert_eq!(
            f.verify("eve", Scheme::Plain, b"secret"),
            PasswordVerdict::Ok
        );
        assert_eq!(
            f.verify("onlyname", Scheme::Plain, b""),
            PasswordVerdict::NoPassword
        );
        assert_eq!(
            f.verify("nobody", Scheme::Plain, b"x"),
            PasswordVerdict::UnknownUser
        );
        let broken = parse("x:{NOPE}y");
        let verdict = broken.verify("x", Scheme::Plain, b"y");
        assert!(matches!(
            verdict,
            PasswordVerdict::Broken(SchemeError::UnknownScheme(_))
        ));
        assert!(matches!(
            verdict.fail_reason(),
            Some(FailReason::TempFail(_))
        ));
        assert_eq!(PasswordVerdict::Ok.fail_reason(), None);
        assert_eq!(
            PasswordVerdict::NoPassword.fail_reason(),
            Some(FailReason::BadCredentials)
        );
    }

    #[test]
    fn crypt13_form() {
        assert_eq!(
            pwdfile_compat("abcdefghijklm[13]".into()),
            "{CRYPT}abcdefghijklm"
        );
        assert_eq!(pwdfile_compat("[13]".into()), "[13]");
        assert_eq!(pwdfile_compat("plain".into()), "plain");
    }

    #[test]
    fn user_record_from_columns_and_userdb_fields() {
        let f = parse(SAMPLE);
        let resolve = |kind: IdKind, name: &str| match (kind, name) {
            (IdKind::User, "vmail") => Some(5000),
            _ => None,
        };
        let jane = f.lookup("jane").unwrap().to_user_record(&resolve).unwrap();
        assert_eq!((jane.uid, jane.gid), (Some(1001), Some(1001)));
        assert_eq!(jane.mail.as_deref(), Some("sdbox:/var/mail/jane"));
        let dave = f.lookup("dave").unwrap().to_user_record(&resolve).unwrap();
        assert_eq!(dave.uid, Some(5000));
        let bad = parse("x:y:notauser:1");
        assert!(bad.lookup("x").unwrap().to_user_record(&resolve).is_err());
    }

    #[test]
    fn args_parse_like_dovecot() {
        let a =
            PasswdFileArgs::parse("scheme=PLAIN username_format=%n /etc/dovecot/%d/users").unwrap();
        assert_eq!(a.scheme, SchemeSpec::from(Scheme::Plain));
        assert_eq!(a.path, "/etc/dovecot/%d/users");
        assert_eq!(a.lookup_name("jane@example.org").unwrap(), "jane");
        let d = PasswdFileArgs::parse("/etc/passwd.tern").unwrap();
        assert_eq!(
            (d.scheme.scheme, d.username_format.as_str()),
            (Scheme::Crypt, "%u")
        );
        assert!(PasswdFileArgs::parse("scheme=PLAIN").is_err());
        assert!(PasswdFileArgs::parse("a b").is_err());
        assert!(PasswdFileArgs::parse("scheme=NOPE /x").is_err());
    }

    #[test]
    fn parse_is_total_on_odd_input() {
        for text in [
            "",
            ":",
            "::::::::::",
            "\n\n#\n",
            "a:b:c:d:e:f:g:h:i:j",
            "é:ü",
            "\u{0}:\u{0}",
        ] {
            let f = parse(text);
            assert!(f.len() <= 1);
        }
        let mut rng = XorShift64::new(0xfeed_f00d_1234_5678);
        const CHARS: &[char] = &[
            ':', '\n', '#', '=', ' ', 'a', 'b', '[', ']', '3', '4', '{', '}', 'é',
        ];
        for _ in 0..2000 {
            let text: String = rng.sequence(80, CHARS).into_iter().collect();
            let f = parse(&text);
            // Every kept entry is findable and no user is kept twice.
            for e in f.entries() {
                assert_eq!(f.lookup(&e.user), Some(e));
            }
            assert!(f.len() + f.warnings.len() <= text.lines().count());
        }
    }

    #[test]
    fn db_reloads_when_the_file_changes() {
        let dir = std::env::temp_dir().join(format!("tern-passwd-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("users");
        std::fs::write(&path, "a:{PLAIN}1\n").unwrap();
        let mut db = PasswdFileDb::open(&path).unwrap();
        assert_eq!(db.file().len(), 1);
        assert!(!db.refresh_if_changed().unwrap());
        // Size changes even if mtime granularity hides the rewrite.
        std::fs::write(&path, "a:{PLAIN}1\nb:{PLAIN}2\n").unwrap();
        assert!(db.refresh_if_changed().unwrap());
        assert_eq!(
            db.file().verify("b", Scheme::Plain, b"2"),
            PasswordVerdict::Ok
        );
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            db.refresh_if_changed(),
            Err(PasswdFileError::Io { .. })
        ));
        assert_eq!(
            db.file().len(),
            2,
            "old contents stay after a failed reload"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(PasswdFileDb::open(dir.join("missing")).is_err());
    }
}
