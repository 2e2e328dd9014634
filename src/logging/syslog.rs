//! `log_path = syslog`: one datagram per line to the local syslog socket
//! (RFC 3164 framing, as glibc's `syslog(3)` sends it), with the level
//! taken from the formatted line and the facility from `syslog_facility`.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::Path;

use super::LogError;

/// The local syslog daemon's socket.
pub const DEV_LOG: &str = "/dev/log";

/// `syslog_facility` names and their codes (RFC 5424 §6.2.1).
pub fn facility_code(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        other => {
            let n: u8 = other.strip_prefix("local")?.parse().ok()?;
            if n > 7 {
                return None;
            }
            16 + n
        }
    })
}

pub struct SyslogOut {
    socket: UnixDatagram,
    facility: u8,
    ident: String,
}

impl SyslogOut {
    pub fn connect(path: &Path, facility: u8) -> Result<SyslogOut, LogError> {
        let socket = UnixDatagram::unbound().map_err(LogError::Syslog)?;
        socket.connect(path).map_err(LogError::Syslog)?;
        Ok(SyslogOut {
            socket,
            facility,
            ident: format!("tern[{}]", std::process::id()),
        })
    }

    /// Sends each line of `buf` (the fmt layer's format) as one message.
    pub fn send_lines(&self, buf: &[u8]) -> io::Result<()> {
        for line in buf.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let line = String::from_utf8_lossy(line);
            let (severity, text) = severity_and_text(&line);
            let pri = u16::from(self.facility) * 8 + u16::from(severity);
            let msg = format!("<{pri}>{}: {text}", self.ident);
            // A full or restarting syslog daemon must not stop the server:
            // the line is lost, as glibc's syslog(3) loses it.
            let _ = self.socket.send(msg.as_bytes());
        }
        Ok(())
    }
}

/// The fmt layer writes `TIMESTAMP  LEVEL fields: message`; syslog has its
/// own time stamp and the level becomes the severity.
pub fn severity_and_text(line: &str) -> (u8, &str) {
    let rest = line.trim_start();
    let after_time = rest.split_once(' ').map_or("", |(_, r)| r).trim_start();
    let (level, text) = after_time.split_once(' ').unwrap_or((after_time, ""));
    let severity = match level {
        "ERROR" => 3,
        "WARN" => 4,
        "INFO" => 6,
        "DEBUG" | "TRACE" => 7,
        // Not the fmt layer's shape: keep the whole line, as a notice.
        _ => return (5, line.trim()),
    };
    (severity, text.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities_and_severities() {
        assert_eq!(facility_code("mail"), Some(2));
        assert_eq!(facility_code("LOCAL7"), Some(23));
        assert_eq!(facility_code("local8"), None);
        assert_eq!(facility_code("nonsense"), None);
        assert_eq!(
            severity_and_text("2026-12-08T01:02:03.123456Z  WARN session=a1 imap: x"),
            (4, "session=a1 imap: x")
        );
        assert_eq!(
            severity_and_text("2026-12-08T01:02:03.123456Z ERROR boom"),
            (3, "boom")
        );
        assert_eq!(severity_and_text("just text"), (5, "just text"));
    }

    #[test]
    fn each_line_is_one_datagram_with_facility_and_severity() {
        let path = std::env::temp_dir().join(format!("tern-syslog-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let daemon = UnixDatagram::bind(&path).unwrap();
        daemon
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let out = SyslogOut::connect(&path, facility_code("mail").unwrap()).unwrap();
        out.send_lines(b"2026-12-08T01:02:03Z  INFO first\n2026-12-08T01:02:03Z ERROR second\n")
            .unwrap();
        let mut buf = [0u8; 256];
        let mut next = || {
            let n = daemon.recv(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        let pid = std::process::id();
        assert_eq!(next(), format!("<22>tern[{pid}]: first"));
        assert_eq!(next(), format!("<19>tern[{pid}]: second"));
        let _ = std::fs::remove_file(&path);
    }
}
