//! Dovecot's three log destinations: errors and warnings to `log_path`,
//! info to `info_log_path`, debug to `debug_log_path`; a destination named
//! twice is one sink (one file handle, one queue).

use std::path::{Path, PathBuf};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

use super::sink::{LineWriter, LogSink};
use super::syslog::{DEV_LOG, facility_code};
use super::{LogError, stderr_file};

/// One destination as the settings name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stderr,
    Syslog,
    File(PathBuf),
}

impl Target {
    /// A `*_log_path` value; `None` for an empty one (use the previous).
    pub fn from_setting(value: &str) -> Option<Target> {
        match value.trim() {
            "" => None,
            "syslog" => Some(Target::Syslog),
            "/dev/stderr" => Some(Target::Stderr),
            p => Some(Target::File(PathBuf::from(p))),
        }
    }
}

/// The three destinations, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTargets {
    pub error: Target,
    pub info: Target,
    pub debug: Target,
    pub syslog_facility: String,
}

impl LogTargets {
    /// Dovecot's rules: `info_log_path` empty = `log_path`, `debug_log_path`
    /// empty = `info_log_path`. `log_path` empty = standard error.
    pub fn from_settings(log: &str, info: &str, debug: &str, facility: &str) -> LogTargets {
        let error = Target::from_setting(log).unwrap_or(Target::Stderr);
        let info = Target::from_setting(info).unwrap_or_else(|| error.clone());
        let debug = Target::from_setting(debug).unwrap_or_else(|| info.clone());
        LogTargets {
            error,
            info,
            debug,
            syslog_facility: facility.to_string(),
        }
    }
}

/// Picks the sink by the line's level.
#[derive(Clone)]
pub struct LogRouter {
    error: LogSink,
    info: LogSink,
    debug: LogSink,
}

impl LogRouter {
    /// Opens every destination. A file that cannot be opened is an error
    /// (the caller falls back to standard error and says why).
    pub fn open(t: &LogTargets) -> Result<LogRouter, LogError> {
        Self::open_with_syslog(t, Path::new(DEV_LOG))
    }

    pub fn open_with_syslog(t: &LogTargets, dev_log: &Path) -> Result<LogRouter, LogError> {
        let mut opened: Vec<(Target, LogSink)> = Vec::new();
        let mut sink_for = |target: &Target| -> Result<LogSink, LogError> {
            if let Some((_, s)) = opened.iter().find(|(t, _)| t == target) {
                return Ok(s.clone());
            }
            let sink = match target {
                Target::Stderr => LogSink::new(stderr_file()?),
                Target::File(p) => LogSink::to_path(p)?,
                Target::Syslog => {
                    let code = facility_code(&t.syslog_facility)
                        .ok_or_else(|| LogError::Facility(t.syslog_facility.clone()))?;
                    LogSink::to_syslog(dev_log, code)?
                }
            };
            opened.push((target.clone(), sink.clone()));
            Ok(sink)
        };
        Ok(LogRouter {
            error: sink_for(&t.error)?,
            info: sink_for(&t.info)?,
            debug: sink_for(&t.debug)?,
        })
    }

    /// Everything to one sink.
    pub fn single(sink: LogSink) -> LogRouter {
        LogRouter {
            error: sink.clone(),
            info: sink.clone(),
            debug: sink,
        }
    }

    /// The distinct sinks.
    fn sinks(&self) -> Vec<&LogSink> {
        let mut out: Vec<&LogSink> = Vec::new();
        for s in [&self.error, &self.info, &self.debug] {
            if !out.iter().any(|o| o.same_as(s)) {
                out.push(s);
            }
        }
        out
    }

    pub fn start_queue(&self) -> Result<(), LogError> {
        self.sinks().into_iter().try_for_each(LogSink::start_queue)
    }

    pub fn stop_queue(&self) {
        self.sinks().into_iter().for_each(LogSink::stop_queue);
    }

    /// SIGUSR1: open every log file again by name.
    pub fn reopen(&self) -> Result<(), LogError> {
        self.sinks().into_iter().try_for_each(LogSink::reopen)
    }
}

impl<'a> MakeWriter<'a> for LogRouter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        self.info.make_writer()
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter<'a> {
        let level = *meta.level();
        if level <= Level::WARN {
            // ERROR and WARN (tracing orders levels by verbosity).
            self.error.make_writer()
        } else if level == Level::INFO {
            self.info.make_writer()
        } else {
            self.debug.make_writer()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_paths_fall_back_like_dovecot() {
        let t = LogTargets::from_settings("/var/log/e.log", "", "", "mail");
        assert_eq!(t.info, Target::File("/var/log/e.log".into()));
        assert_eq!(t.debug, t.info);
        let t = LogTargets::from_settings("syslog", "/var/log/i.log", "", "mail");
        assert_eq!(t.error, Target::Syslog);
        assert_eq!(t.debug, Target::File("/var/log/i.log".into()));
        let t = LogTargets::from_settings("", "", "/dev/stderr", "mail");
        assert_eq!(t.error, Target::Stderr);
    }

    #[test]
    fn one_destination_named_twice_is_one_sink() {
        let dir = std::env::temp_dir().join(format!("tern-router-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.log"), dir.join("b.log"));
        let t = LogTargets::from_settings(
            &a.display().to_string(),
            &b.display().to_string(),
            &a.display().to_string(),
            "mail",
        );
        let r = LogRouter::open(&t).unwrap();
        assert!(r.error.same_as(&r.debug));
        assert!(!r.error.same_as(&r.info));
        assert_eq!(r.sinks().len(), 2);
        let bad = LogTargets::from_settings("syslog", "", "", "nonsense");
        assert!(matches!(
            LogRouter::open_with_syslog(&bad, &dir.join("no-such-socket")),
            Err(LogError::Facility(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
