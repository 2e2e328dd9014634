//! IMAP command names as metric labels: a fixed list, so a client cannot
//! make up label values; anything else counts as `OTHER`.

/// Every command tern parses, `UID` forms included; `OTHER` is last.
pub const IMAP_COMMANDS: &[&str] = &[
    "APPEND",
    "AUTHENTICATE",
    "CAPABILITY",
    "CHECK",
    "CLOSE",
    "COMPRESS",
    "COPY",
    "CREATE",
    "DELETE",
    "ENABLE",
    "EXAMINE",
    "EXPUNGE",
    "FETCH",
    "GETMETADATA",
    "GETQUOTA",
    "GETQUOTAROOT",
    "ID",
    "IDLE",
    "LIST",
    "LOGIN",
    "LOGOUT",
    "LSUB",
    "MOVE",
    "NAMESPACE",
    "NOOP",
    "RENAME",
    "SEARCH",
    "SELECT",
    "SETMETADATA",
    "SETQUOTA",
    "SORT",
    "STARTTLS",
    "STATUS",
    "STORE",
    "SUBSCRIBE",
    "THREAD",
    "UID COPY",
    "UID EXPUNGE",
    "UID FETCH",
    "UID MOVE",
    "UID SEARCH",
    "UID SORT",
    "UID STORE",
    "UID THREAD",
    "UNSELECT",
    "UNSUBSCRIBE",
    "OTHER",
];

/// The label index of the command in `frame` (`tag SP name [SP …]`).
pub fn imap_command_index(frame: &[u8]) -> usize {
    let mut words = frame
        .split(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .filter(|w| !w.is_empty())
        .skip(1);
    let first = words.next().unwrap_or_default();
    let uid = first.eq_ignore_ascii_case(b"UID");
    let second = if uid { words.next() } else { None };
    IMAP_COMMANDS
        .iter()
        .position(|name| match (uid, name.strip_prefix("UID ")) {
            (true, Some(rest)) => second.is_some_and(|w| w.eq_ignore_ascii_case(rest.as_bytes())),
            (false, None) => first.eq_ignore_ascii_case(name.as_bytes()),
            _ => false,
        })
        .unwrap_or(IMAP_COMMANDS.len() - 1)
}
