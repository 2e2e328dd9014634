//! `mail_location` parsing: `FORMAT:ROOT[:KEY=VALUE|:FLAG]…`.
//!
//! The config layer has already expanded `%` variables; here we handle the
//! format prefix, `~` (the user's home), the `::` escape for a literal colon,
//! and Dovecot's keys. Unknown keys are refused rather than ignored, so an
//! operator learns at login time that a setting does nothing.

use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocationError {
    #[error("mail_location is empty")]
    Empty,
    #[error("unknown mail storage format {0:?} (expected sdbox, maildir or mbox)")]
    UnknownFormat(String),
    #[error("mail_location has no root path")]
    NoRoot,
    #[error("path {0:?} uses ~ but the user has no home directory")]
    NoHome(String),
    #[error("path {0:?} is not absolute")]
    NotAbsolute(String),
    #[error("unknown mail_location key {0:?}")]
    UnknownKey(String),
    #[error("mail_location key {0} needs a value")]
    MissingValue(String),
    #[error("unknown LAYOUT {0:?}")]
    UnknownLayout(String),
    #[error("path {0:?} contains a NUL byte or a '..' component")]
    BadPath(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailFormat {
    Sdbox,
    Maildir,
    Mbox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The format's own default (sdbox: fs, maildir: Maildir++, mbox: fs).
    Default,
    Fs,
    MaildirPlusPlus,
    Index,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexLocation {
    /// Index files next to the mail (the default).
    Beside,
    /// `INDEX=MEMORY`: keep indexes in memory only.
    Memory,
    Path(PathBuf),
}

/// A parsed `mail_location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLocation {
    pub format: MailFormat,
    pub root: PathBuf,
    pub inbox: Option<PathBuf>,
    pub index: IndexLocation,
    pub index_private: Option<PathBuf>,
    pub index_cache: Option<PathBuf>,
    pub control: Option<PathBuf>,
    pub alt: Option<PathBuf>,
    pub alt_no_check: bool,
    pub layout: Layout,
    pub subscriptions_file: Option<String>,
    pub dirname: Option<String>,
    pub mailboxdir: Option<String>,
    pub volatile_dir: Option<PathBuf>,
    pub list_index: Option<String>,
    pub full_dirname: Option<String>,
    pub broken_char: Option<String>,
    pub iter_index: bool,
    pub no_noselect: bool,
    pub no_fs_validation: bool,
    /// `UTF-8`: mailbox names on disk are raw UTF-8, not modified UTF-7.
    pub utf8_names: bool,
}

impl MailLocation {
    /// Parse an already %-expanded location. `home` may be empty; it is only
    /// needed when a path starts with `~`.
    pub fn parse(spec: &str, home: &str) -> Result<Self, LocationError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(LocationError::Empty);
        }
        let (format_str, rest) = spec
            .split_once(':')
            .ok_or_else(|| LocationError::UnknownFormat(spec.to_string()))?;
        let format = match format_str.to_ascii_lowercase().as_str() {
            "sdbox" | "dbox" => MailFormat::Sdbox,
            "maildir" => MailFormat::Maildir,
            "mbox" => MailFormat::Mbox,
            other => return Err(LocationError::UnknownFormat(other.to_string())),
        };
        let parts = split_unescaped(rest);
        let mut iter = parts.into_iter();
        let root_raw = iter.next().unwrap_or_default();
        if root_raw.is_empty() {
            return Err(LocationError::NoRoot);
        }
        let mut loc = MailLocation {
            format,
            root: expand_path(&root_raw, home)?,
            inbox: None,
            index: IndexLocation::Beside,
            index_private: None,
            index_cache: None,
            control: None,
            alt: None,
            alt_no_check: false,
            layout: Layout::Default,
            subscriptions_file: None,
            dirname: None,
            mailboxdir: None,
            volatile_dir: None,
            list_index: None,
            full_dirname: None,
            broken_char: None,
            iter_index: false,
            no_noselect: false,
            no_fs_validation: false,
            utf8_names: false,
        };
        for part in iter {
            if part.is_empty() {
                continue;
            }
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.to_ascii_uppercase(), Some(v.to_string())),
                None => (part.to_ascii_uppercase(), None),
            };
            let need =
                |v: Option<String>| v.ok_or_else(|| LocationError::MissingValue(key.clone()));
            match key.as_str() {
                "UTF-8" | "UTF8" => loc.utf8_names = true,
                "ALTNOCHECK" => loc.alt_no_check = true,
                "ITERINDEX" => loc.iter_index = true,
                "NO-NOSELECT" => loc.no_noselect = true,
                "NO-FS-VALIDATION" => loc.no_fs_validation = true,
                "INBOX" => loc.inbox = Some(expand_path(&need(value)?, home)?),
                "INDEX" => {
                    let v = need(value)?;
                    loc.index = if v.eq_ignore_ascii_case("MEMORY") {
                        IndexLocation::Memory
                    } else {
                        IndexLocation::Path(expand_path(&v, home)?)
                    };
                }
                "INDEXPVT" => loc.index_private = Some(expand_path(&need(value)?, home)?),
                "INDEXCACHE" => loc.index_cache = Some(expand_path(&need(value)?, home)?),
                "CONTROL" => loc.control = Some(expand_path(&need(value)?, home)?),
                "ALT" => loc.alt = Some(expand_path(&need(value)?, home)?),
                "VOLATILEDIR" => loc.volatile_dir = Some(expand_path(&need(value)?, home)?),
                "LAYOUT" => {
                    let v = need(value)?;
                    loc.layout = match v.to_ascii_lowercase().as_str() {
                        "fs" => Layout::Fs,
                        "maildir++" => Layout::MaildirPlusPlus,
                        "index" => Layout::Index,
                        _ => return Err(LocationError::UnknownLayout(v)),
                    };
                }
                "SUBSCRIPTIONS" => loc.subscriptions_file = Some(need(value)?),
                "DIRNAME" => loc.dirname = Some(need(value)?),
                "MAILBOXDIR" => loc.mailboxdir = Some(need(value)?),
                "LISTINDEX" => loc.list_index = Some(need(value)?),
                "FULLDIRNAME" => loc.full_dirname = Some(need(value)?),
                "BROKENCHAR" => loc.broken_char = Some(need(value)?),
                _ => return Err(LocationError::UnknownKey(key)),
            }
        }
        Ok(loc)
    }

    /// The directory that holds control files (subscriptions, uidvalidity).
    pub fn control_dir(&self) -> &Path {
        self.control.as_deref().unwrap_or(&self.root)
    }

    /// The effective layout once the format default is applied.
    pub fn effective_layout(&self) -> Layout {
        match (self.layout, self.format) {
            (Layout::Default, MailFormat::Maildir) => Layout::MaildirPlusPlus,
            (Layout::Default, _) => Layout::Fs,
            (l, _) => l,
        }
    }
}

/// Split on single ':'; '::' stands for a literal ':'.
fn split_unescaped(s: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' {
            if chars.peek() == Some(&':') {
                chars.next();
                if let Some(last) = parts.last_mut() {
                    last.push(':');
                }
            } else {
                parts.push(String::new());
            }
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

fn expand_path(raw: &str, home: &str) -> Result<PathBuf, LocationError> {
    let expanded = if raw == "~" || raw.starts_with("~/") {
        if home.is_empty() {
            return Err(LocationError::NoHome(raw.to_string()));
        }
        format!("{}{}", home.trim_end_matches('/'), &raw[1..])
    } else {
        raw.to_string()
    };
    if !expanded.starts_with('/') {
        return Err(LocationError::NotAbsolute(expanded));
    }
    if expanded.contains('\0') || expanded.split('/').any(|c| c == "..") {
        return Err(LocationError::BadPath(expanded));
    }
    Ok(PathBuf::from(expanded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdbox_plain() {
        let l = MailLocation::parse("sdbox:/var/mail/jane/", "").unwrap();
        assert_eq!(l.format, MailFormat::Sdbox);
        assert_eq!(l.root, PathBuf::from("/var/mail/jane/"));
        assert_eq!(l.effective_layout(), Layout::Fs);
        assert!(!l.utf8_names);
    }

    #[test]
    fn maildir_home_and_options() {
        let l = MailLocation::parse(
            "maildir:~/Maildir:LAYOUT=fs:INDEX=/var/idx/jane:UTF-8:CONTROL=~/ctl",
            "/home/jane",
        )
        .unwrap();
        assert_eq!(l.format, MailFormat::Maildir);
        assert_eq!(l.root, PathBuf::from("/home/jane/Maildir"));
        assert_eq!(l.layout, Layout::Fs);
        assert_eq!(l.index, IndexLocation::Path("/var/idx/jane".into()));
        assert!(l.utf8_names);
        assert_eq!(l.control_dir(), Path::new("/home/jane/ctl"));
        let d = MailLocation::parse("maildir:/m", "").unwrap();
        assert_eq!(d.effective_layout(), Layout::MaildirPlusPlus);
    }

    #[test]
    fn mbox_inbox_and_escaped_colon() {
        let l = MailLocation::parse(
            "mbox:~/mail:INBOX=/var/mail/jane::x:INDEX=MEMORY",
            "/home/jane/",
        )
        .unwrap();
        assert_eq!(l.format, MailFormat::Mbox);
        assert_eq!(l.root, PathBuf::from("/home/jane/mail"));
        assert_eq!(l.inbox, Some(PathBuf::from("/var/mail/jane:x")));
        assert_eq!(l.index, IndexLocation::Memory);
    }

    #[test]
    fn errors() {
        assert_eq!(MailLocation::parse("", ""), Err(LocationError::Empty));
        assert!(matches!(
            MailLocation::parse("mdbox:/x", ""),
            Err(LocationError::UnknownFormat(_))
        ));
        assert!(matches!(
            MailLocation::parse("/x", ""),
            Err(LocationError::UnknownFormat(_))
        ));
        assert_eq!(
            MailLocation::parse("sdbox:", ""),
            Err(LocationError::NoRoot)
        );
        assert!(matches!(
            MailLocation::parse("sdbox:~/m", ""),
            Err(LocationError::NoHome(_))
        ));
        assert!(matches!(
            MailLocation::parse("sdbox:rel/m", ""),
            Err(LocationError::NotAbsolute(_))
        ));
        assert!(matches!(
            MailLocation::parse("sdbox:/a/../b", ""),
            Err(LocationError::BadPath(_))
        ));
        assert!(matches!(
            MailLocation::parse("sdbox:/m:FOO=1", ""),
            Err(LocationError::UnknownKey(_))
        ));
        assert!(matches!(
            MailLocation::parse("sdbox:/m:INBOX", ""),
            Err(LocationError::MissingValue(_))
        ));
        assert!(matches!(
            MailLocation::parse("sdbox:/m:LAYOUT=x", ""),
            Err(LocationError::UnknownLayout(_))
        ));
    }
}
