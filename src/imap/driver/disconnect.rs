//! The reason logged when a logged-in connection ends, in Dovecot's words
//! (`Disconnected: Connection closed (NOOP finished 1.172 secs ago)`,
//! `Disconnected: Logged out`, `(While APPENDing: …)`, `(No commands
//! sent)`), so an operator's log tools read tern's lines as Dovecot's.
//! Pure: the driver passes what it measured.

use std::time::Duration;

/// Why the connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The client closed or reset the connection, or a write to it failed.
    Closed,
    LoggedOut,
    /// No input for the idle timeout (seconds).
    Inactivity(u64),
    Shutdown,
    /// Input the framer cannot go on from.
    ProtocolError,
}

/// The last command that completed and how long ago.
#[derive(Debug, Clone)]
pub struct LastCommand {
    pub name: String,
    pub ago: Duration,
}

/// `Disconnected: <why>[ (<what was going on>)]`. `unfinished` is the input
/// of a command not complete yet (an APPEND's line and literal so far).
pub fn reason(why: Why, last: Option<&LastCommand>, unfinished: &[u8]) -> String {
    let what = match why {
        Why::LoggedOut => return "Disconnected: Logged out".to_string(),
        Why::Closed => "Connection closed".to_string(),
        Why::Inactivity(secs) => format!("Inactivity - no input for {secs} secs"),
        Why::Shutdown => "Server shutting down.".to_string(),
        Why::ProtocolError => "Too many invalid IMAP commands.".to_string(),
    };
    format!("Disconnected: {what} ({})", status(last, unfinished))
}

fn status(last: Option<&LastCommand>, unfinished: &[u8]) -> String {
    if let Some(append) = appending(unfinished) {
        return append;
    }
    match last {
        Some(c) => format!(
            "{} finished {}.{:03} secs ago",
            c.name,
            c.ago.as_secs(),
            c.ago.subsec_millis()
        ),
        None => "No commands sent".to_string(),
    }
}

/// `While APPENDing: r/n bytes` when the unfinished command is an APPEND
/// whose literal was arriving.
fn appending(unfinished: &[u8]) -> Option<String> {
    let line_end = memchr::memchr(b'\n', unfinished)?;
    let line = &unfinished[..line_end];
    if command_name(line) != "APPEND" {
        return None;
    }
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let size = line.strip_suffix(b"}")?;
    let open = memchr::memrchr(b'{', size)?;
    let digits = &size[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    let total: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let received = (unfinished.len() - line_end - 1) as u64;
    Some(format!(
        "While APPENDing: {}/{total} bytes",
        received.min(total)
    ))
}

/// The command's name from its first line (`UID FETCH`, `NOOP`), upper
/// case; empty when there is none.
pub fn command_name(frame: &[u8]) -> String {
    let line = match memchr::memchr(b'\r', frame).or_else(|| memchr::memchr(b'\n', frame)) {
        Some(end) => &frame[..end],
        None => frame,
    };
    let mut words = line.split(|&b| b == b' ').skip(1);
    let word = |w: Option<&[u8]>| String::from_utf8_lossy(w.unwrap_or_default()).to_uppercase();
    let first = word(words.next());
    if first == "UID" {
        let second = word(words.next());
        return format!("UID {second}");
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last(name: &str, ms: u64) -> LastCommand {
        LastCommand {
            name: name.into(),
            ago: Duration::from_millis(ms),
        }
    }

    #[test]
    fn reasons_read_like_dovecots() {
        assert_eq!(
            reason(Why::Closed, Some(&last("NOOP", 1172)), b""),
            "Disconnected: Connection closed (NOOP finished 1.172 secs ago)"
        );
        assert_eq!(
            reason(Why::Closed, None, b""),
            "Disconnected: Connection closed (No commands sent)"
        );
        assert_eq!(
            reason(Why::LoggedOut, Some(&last("LOGOUT", 0)), b""),
            "Disconnected: Logged out"
        );
        assert_eq!(
            reason(Why::Inactivity(1800), Some(&last("IDLE", 1_800_004)), b""),
            "Disconnected: Inactivity - no input for 1800 secs (IDLE finished 1800.004 secs ago)"
        );
        assert_eq!(
            reason(Why::Shutdown, Some(&last("UID FETCH", 5)), b""),
            "Disconnected: Server shutting down. (UID FETCH finished 0.005 secs ago)"
        );
    }

    #[test]
    fn an_append_cut_short_says_how_far_it_got() {
        assert_eq!(
            reason(
                Why::Closed,
                Some(&last("SELECT", 10)),
                b"a7 APPEND INBOX (\\Seen) {100}\r\nabc"
            ),
            "Disconnected: Connection closed (While APPENDing: 3/100 bytes)"
        );
        assert_eq!(
            reason(Why::Closed, None, b"a7 append INBOX {5+}\r\n"),
            "Disconnected: Connection closed (While APPENDing: 0/5 bytes)"
        );
        // Any other unfinished input is not an APPEND.
        assert_eq!(
            reason(Why::Closed, None, b"a8 LOGIN {5}\r\nab"),
            "Disconnected: Connection closed (No commands sent)"
        );
    }

    #[test]
    fn command_names() {
        assert_eq!(command_name(b"a1 uid fetch 1:* FLAGS\r\n"), "UID FETCH");
        assert_eq!(command_name(b"x NOOP"), "NOOP");
        assert_eq!(command_name(b"x"), "");
    }
}
