//! Splitting an mbox file into messages and writing messages back, with
//! Dovecot's status headers (`X-IMAPbase`, `X-UID`, `Status`, `X-Status`,
//! `X-Keywords`, `Content-Length`). Pure code; total over any input.
//!
//! No `>From` quoting in either direction (Dovecot's behaviour): a line is
//! a message boundary only if it follows an LF and parses as a From_ line,
//! and `Content-Length` is trusted when it lands on such a boundary.

use super::from_line;
use crate::storage::index::flag;
use std::ops::Range;
use thiserror::Error;

/// Headers Dovecot maintains and hides from clients (and strips on save).
pub const HIDDEN_HEADERS: [&str; 7] = [
    "x-imapbase",
    "x-imap",
    "x-uid",
    "status",
    "x-status",
    "x-keywords",
    "content-length",
];
/// Spaces after `X-Keywords:` names, so later changes fit in place.
pub const KEYWORD_PADDING: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MboxError {
    #[error("mbox file does not begin with a From_ line")]
    NoFromLine,
}

/// `X-IMAPbase: <uidvalidity> <last-uid> [keyword …]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapBase {
    pub uidvalidity: u32,
    pub last_uid: u32,
    pub keywords: Vec<String>,
}

/// One message found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The whole message in the file: From_ line through the separator.
    pub span: Range<usize>,
    pub from: from_line::FromLine,
    /// The header block (without the From_ line and the empty line).
    pub header: Range<usize>,
    /// The body, without the separating empty line before the next From_.
    pub body: Range<usize>,
    pub imapbase: Option<ImapBase>,
    /// A c-client `X-IMAP` pseudo message: not shown to clients.
    pub pseudo: bool,
    pub uid: Option<u32>,
    pub flags: u8,
    /// `Status: O` seen (not `\Recent`).
    pub old: bool,
    pub keywords: Vec<String>,
    /// `Content-Length`, when present and numeric.
    pub content_length: Option<usize>,
}

/// Header lines (with continuations) as byte ranges relative to `hdr`.
fn header_fields(hdr: &[u8]) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    let mut pos = 0;
    while pos < hdr.len() {
        let end = memchr::memchr(b'\n', &hdr[pos..]).map_or(hdr.len(), |i| pos + i + 1);
        let cont = matches!(hdr[pos], b' ' | b'\t');
        match out.last_mut() {
            Some(last) if cont => last.end = end,
            _ => out.push(pos..end),
        }
        pos = end;
    }
    out
}

fn field_name(field: &[u8]) -> Option<String> {
    let colon = memchr::memchr(b':', field)?;
    let name = std::str::from_utf8(&field[..colon]).ok()?.trim();
    (!name.is_empty() && !name.contains(' ')).then(|| name.to_ascii_lowercase())
}

fn field_value(field: &[u8]) -> String {
    let colon = memchr::memchr(b':', field).map_or(field.len(), |i| i + 1);
    String::from_utf8_lossy(&field[colon..]).trim().to_string()
}

fn is_hidden(field: &[u8]) -> bool {
    if field.starts_with(b"From ") {
        return true;
    }
    field_name(field).is_some_and(|n| HIDDEN_HEADERS.contains(&n.as_str()))
}

/// The header without Dovecot's status headers and stray From_ lines.
pub fn visible_header(hdr: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hdr.len());
    for f in header_fields(hdr) {
        if !is_hidden(&hdr[f.clone()]) {
            out.extend_from_slice(&hdr[f]);
        }
    }
    out
}

/// Is there a From_ line starting at `pos`?
fn from_at(data: &[u8], pos: usize) -> Option<from_line::FromLine> {
    let rest = data.get(pos..)?;
    if !rest.starts_with(b"From ") {
        return None;
    }
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    from_line::parse(&rest[..end])
}

/// Split a whole mbox file. An empty file (or only blank lines) has no
/// messages.
pub fn parse(data: &[u8]) -> Result<Vec<RawMessage>, MboxError> {
    let mut pos = data.iter().position(|&b| b != b'\n').unwrap_or(data.len());
    if pos == data.len() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let Some(mut from) = from_at(data, pos) else {
        return Err(MboxError::NoFromLine);
    };
    loop {
        let start = pos;
        let header_start = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1);
        // The header ends at the first empty line (or an immediate one).
        let (header_end, body_start) = if data.get(header_start) == Some(&b'\n') {
            (header_start, header_start + 1)
        } else {
            match memchr::memmem::find(&data[header_start..], b"\n\n") {
                Some(i) => (header_start + i + 1, header_start + i + 2),
                None => (data.len(), data.len()),
            }
        };
        let fields = header_fields(&data[header_start..header_end]);
        let mut msg = RawMessage {
            span: start..data.len(),
            from: from.clone(),
            header: header_start..header_end,
            body: body_start..data.len(),
            imapbase: None,
            pseudo: false,
            uid: None,
            flags: 0,
            old: false,
            keywords: Vec::new(),
            content_length: None,
        };
        let mut content_length: Option<usize> = None;
        for f in &fields {
            let field = &data[header_start + f.start..header_start + f.end];
            let Some(name) = field_name(field) else {
                continue;
            };
            let value = field_value(field);
            match name.as_str() {
                "x-imapbase" | "x-imap" => {
                    let mut it = value.split_ascii_whitespace();
                    let uidv = it.next().and_then(|v| v.parse().ok());
                    let last = it.next().and_then(|v| v.parse().ok());
                    if let (Some(uidvalidity), Some(last_uid)) = (uidv, last)
                        && uidvalidity != 0
                    {
                        msg.imapbase = Some(ImapBase {
                            uidvalidity,
                            last_uid,
                            keywords: it
                                .filter(|k| crate::storage::types::valid_keyword(k))
                                .map(str::to_string)
                                .collect(),
                        });
                    }
                    msg.pseudo |= name == "x-imap";
                }
                "x-uid" => msg.uid = value.parse().ok().filter(|&u| u > 0),
                "status" => {
                    msg.flags |= if value.contains('R') { flag::SEEN } else { 0 };
                    msg.old = value.contains('O');
                }
                "x-status" => {
                    for (c, f) in [
                        ('A', flag::ANSWERED),
                        ('F', flag::FLAGGED),
                        ('T', flag::DRAFT),
                        ('D', flag::DELETED),
                    ] {
                        if value.contains(c) {
                            msg.flags |= f;
                        }
                    }
                }
                "x-keywords" => {
                    msg.keywords = value
                        .split_ascii_whitespace()
                        .filter(|k| crate::storage::types::valid_keyword(k))
                        .map(str::to_string)
                        .collect();
                }
                "content-length" => content_length = value.parse().ok(),
                _ => {}
            }
        }
        // Where does this message end?
        let mut next: Option<(usize, usize)> = None; // (body end, next From_ start)
        if let Some(cl) = content_length {
            let cand = body_start.saturating_add(cl);
            if cand == data.len() {
                next = Some((cand, cand));
            } else if data.get(cand) == Some(&b'\n')
                && (cand + 1 == data.len() || from_at(data, cand + 1).is_some())
            {
                next = Some((cand, cand + 1));
            }
        }
        if next.is_none() {
            let mut search = header_start.min(data.len());
            while let Some(i) = memchr::memmem::find(&data[search..], b"\nFrom ") {
                let at = search + i;
                if from_at(data, at + 1).is_some() {
                    next = Some((at.max(body_start), at + 1));
                    break;
                }
                search = at + 1;
            }
        }
        let (body_end, next_start) = next.unwrap_or_else(|| {
            // Last message: the final LF of a blank line is the separator.
            let end = if data.ends_with(b"\n\n") && data.len() > body_start {
                data.len() - 1
            } else {
                data.len()
            };
            (end, data.len())
        });
        msg.content_length = content_length;
        msg.body = body_start.min(body_end)..body_end;
        if header_end > body_end {
            msg.header = header_start..body_end.max(header_start);
        }
        msg.span = start..next_start;
        out.push(msg);
        if next_start >= data.len() {
            break;
        }
        pos = next_start;
        match from_at(data, pos) {
            Some(f) => from = f,
            None => break,
        }
    }
    Ok(out)
}

/// The message as clients see it: visible header, empty line, body.
pub fn client_view(data: &[u8], m: &RawMessage) -> Vec<u8> {
    let mut out = visible_header(&data[m.header.clone()]);
    out.push(b'\n');
    out.extend_from_slice(&data[m.body.clone()]);
    out
}

/// Status headers Dovecot writes for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatus {
    pub uid: u32,
    pub flags: u8,
    pub old: bool,
    pub keywords: Vec<String>,
}

/// Write one message: From_ line, visible header, status headers, empty
/// line, body, separator. `base` goes only into the file's first message.
pub fn write_message(
    out: &mut Vec<u8>,
    from_line: &str,
    visible_header: &[u8],
    body: &[u8],
    status: &MessageStatus,
    base: Option<&ImapBase>,
) {
    out.extend_from_slice(from_line.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(visible_header);
    if !visible_header.is_empty() && !visible_header.ends_with(b"\n") {
        out.push(b'\n');
    }
    if let Some(b) = base {
        out.extend_from_slice(
            format!("X-IMAPbase: {} {:010}", b.uidvalidity, b.last_uid).as_bytes(),
        );
        for k in &b.keywords {
            out.push(b' ');
            out.extend_from_slice(k.as_bytes());
        }
        out.push(b'\n');
    }
    out.extend_from_slice(format!("X-UID: {}\n", status.uid).as_bytes());
    let mut st = String::new();
    if status.flags & flag::SEEN != 0 {
        st.push('R');
    }
    if status.old {
        st.push('O');
    }
    out.extend_from_slice(format!("Status: {st}\n").as_bytes());
    out.extend_from_slice(b"X-Keywords:");
    for k in &status.keywords {
        out.push(b' ');
        out.extend_from_slice(k.as_bytes());
    }
    out.extend(std::iter::repeat_n(b' ', KEYWORD_PADDING));
    out.push(b'\n');
    out.extend_from_slice(format!("Content-Length: {}\n", body.len()).as_bytes());
    let mut xs = String::new();
    for (f, c) in [
        (flag::ANSWERED, 'A'),
        (flag::FLAGGED, 'F'),
        (flag::DRAFT, 'T'),
        (flag::DELETED, 'D'),
    ] {
        if status.flags & f != 0 {
            xs.push(c);
        }
    }
    if !xs.is_empty() {
        out.extend_from_slice(format!("X-Status: {xs}\n").as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out.push(b'\n');
}

/// Split an incoming message (LF line ends) into visible header and body,
/// dropping status headers a client might try to inject.
pub fn split_incoming(message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (hdr, body) = if message.starts_with(b"\n") {
        (&message[..0], &message[1..])
    } else {
        match memchr::memmem::find(message, b"\n\n") {
            Some(i) => (&message[..i + 1], &message[i + 2..]),
            None => (message, &message[message.len()..]),
        }
    };
    let mut body = body.to_vec();
    // Every body ends with LF in an mbox (Dovecot adds one too).
    if !body.is_empty() && !body.ends_with(b"\n") {
        body.push(b'\n');
    }
    (visible_header(hdr), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut f = Vec::new();
        let base = ImapBase {
            uidvalidity: 1795865173,
            last_uid: 2,
            keywords: vec!["Work".into()],
        };
        let st1 = MessageStatus {
            uid: 1,
            flags: flag::SEEN | flag::FLAGGED | flag::DRAFT | flag::DELETED,
            old: true,
            keywords: vec!["Work".into()],
        };
        write_message(
            &mut f,
            "From other@vm  Sat Nov 28 11:26:13 2026",
            b"Subject: one\n",
            b"From the start of a line\n>From already quoted\n",
            &st1,
            Some(&base),
        );
        let st2 = MessageStatus {
            uid: 2,
            flags: 0,
            old: false,
            keywords: vec![],
        };
        write_message(
            &mut f,
            "From MAILER-DAEMON  Sat Nov 28 11:27:00 2026",
            b"Subject: two\n",
            b"b\n",
            &st2,
            None,
        );
        f
    }

    #[test]
    fn writes_and_reads_dovecots_headers() {
        let f = sample();
        let text = String::from_utf8_lossy(&f);
        assert!(text.contains(
            "X-IMAPbase: 1795865173 0000000002 Work\nX-UID: 1\nStatus: RO\nX-Keywords: Work "
        ));
        assert!(text.contains("Content-Length: 46\nX-Status: FTD\n\nFrom the start"));
        let msgs = parse(&f).unwrap();
        assert_eq!(msgs.len(), 2);
        let m = &msgs[0];
        assert_eq!(m.imapbase.as_ref().unwrap().last_uid, 2);
        assert_eq!((m.uid, m.old), (Some(1), true));
        assert_eq!(
            m.flags,
            flag::SEEN | flag::FLAGGED | flag::DRAFT | flag::DELETED
        );
        assert_eq!(m.keywords, vec!["Work"]);
        assert_eq!(
            client_view(&f, m),
            b"Subject: one\n\nFrom the start of a line\n>From already quoted\n"
        );
        assert_eq!(client_view(&f, &msgs[1]), b"Subject: two\n\nb\n");
        assert_eq!(msgs[1].from.sender, "MAILER-DAEMON");
        assert_eq!(msgs[1].span.end, f.len());
    }

    #[test]
    fn finds_boundaries_without_content_length() {
        let f = b"From a@b  Sat Nov 28 11:26:13 2026\nSubject: x\n\nhello\nFrom the start\n\nFrom c@d  Sat Nov 28 11:27:13 2026\n\nsecond\n\n";
        let msgs = parse(f).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(&f[msgs[0].body.clone()], b"hello\nFrom the start\n");
        assert_eq!(&f[msgs[1].body.clone()], b"second\n");
        assert_eq!(client_view(f, &msgs[1]), b"\nsecond\n");
        // Content-Length pointing nowhere useful is ignored.
        let g = b"From a@b  Sat Nov 28 11:26:13 2026\nContent-Length: 3\n\nhello\n";
        assert_eq!(&g[parse(g).unwrap()[0].body.clone()], b"hello\n");
    }

    #[test]
    fn incoming_status_headers_are_dropped_and_junk_is_total() {
        let (h, b) = split_incoming(b"X-UID: 99\nFrom x\nSubject: s\nStatus: RO\n\nbody");
        assert_eq!(h, b"Subject: s\n");
        assert_eq!(b, b"body\n");
        assert_eq!(parse(b"not an mbox"), Err(MboxError::NoFromLine));
        assert!(parse(b"\n\n").unwrap().is_empty());
        for junk in [
            &b"From a@b  Sat Nov 28 11:26:13 2026"[..],
            b"From a@b  Sat Nov 28 11:26:13 2026\nX",
            b"From a@b  Sat Nov 28 11:26:13 2026\n\n",
        ] {
            let m = parse(junk).unwrap();
            assert_eq!(m.len(), 1);
            let _ = client_view(junk, &m[0]);
        }
    }
}
