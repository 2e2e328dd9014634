//! External attachments (`mail_attachment_dir`): a message whose `X`
//! metadata says parts of its body live in separate files. tern does not
//! create them but must read them (format doc §2.4).
//!
//! `X<start> <count> <options> <path>` groups: at plaintext offset `start`
//! insert `count` bytes made from the attachment file, base64-encoded with
//! `B<n>` characters per line (lines joined by LF, or CRLF with `C`, no
//! trailing line end) [verified against Dovecot 2.3.19: byte-identical].
//! The file sits at `<mail_attachment_dir>/<path>`, or — as Dovecot's
//! single-instance storage names it — `<path>-<mailbox guid>-<uid>`.

use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtRef {
    pub start: u64,
    pub count: u64,
    /// `B<n>`: base64 with `n` characters per line.
    pub base64_line: Option<usize>,
    /// `C`: CRLF between encoded lines.
    pub crlf: bool,
    pub path: String,
}

/// Parse the `X` value. Total: any input gives refs or an error text.
pub fn parse_refs(x: &str) -> Result<Vec<ExtRef>, String> {
    let fields: Vec<&str> = x.split(' ').filter(|f| !f.is_empty()).collect();
    if fields.is_empty() || !fields.len().is_multiple_of(4) {
        return Err("X needs groups of 4 fields".into());
    }
    let mut refs = Vec::with_capacity(fields.len() / 4);
    let mut last_end = 0u64;
    for g in fields.chunks(4) {
        let start: u64 = g[0].parse().map_err(|_| "bad X offset")?;
        let count: u64 = g[1].parse().map_err(|_| "bad X size")?;
        if start < last_end {
            return Err("X refs overlap or are out of order".into());
        }
        last_end = start.checked_add(count).ok_or("X size overflows")?;
        let mut base64_line = None;
        let mut crlf = false;
        if g[2] != "-" {
            let mut rest = g[2];
            while let Some(c) = rest.chars().next() {
                rest = &rest[1..];
                match c {
                    'B' => {
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        rest = &rest[digits.len()..];
                        let n: usize = digits.parse().map_err(|_| "bad B option")?;
                        if n == 0 || !n.is_multiple_of(4) {
                            return Err("B line length must be a positive multiple of 4".into());
                        }
                        base64_line = Some(n);
                    }
                    'C' => crlf = true,
                    _ => return Err(format!("unknown X option {c:?}")),
                }
            }
        }
        refs.push(ExtRef {
            start,
            count,
            base64_line,
            crlf,
            path: g[3].to_string(),
        });
    }
    Ok(refs)
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (with padding), `line_len` characters per line.
pub fn base64_lines(data: &[u8], line_len: usize, crlf: bool) -> Vec<u8> {
    let mut flat = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                flat.push(B64[((n >> (18 - 6 * i)) & 0x3f) as usize]);
            } else {
                flat.push(b'=');
            }
        }
    }
    let sep: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::with_capacity(flat.len() + flat.len() / line_len.max(1) * 2);
    for (i, line) in flat.chunks(line_len.max(1)).enumerate() {
        if i > 0 {
            out.extend_from_slice(sep);
        }
        out.extend_from_slice(line);
    }
    out
}

/// Resolve `rel` under `dir` without escaping it.
fn safe_join(dir: &Path, rel: &str) -> Option<PathBuf> {
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(dir.join(p))
}

/// Read the attachment file for `rel` (exact name, else the one SIS name
/// that extends it with `-<mailbox guid>-<uid>`).
pub fn load(dir: &Path, rel: &str, max: u64) -> Result<Vec<u8>, String> {
    let path = safe_join(dir, rel).ok_or("attachment path escapes mail_attachment_dir")?;
    let read = |p: &Path| -> Result<Vec<u8>, String> {
        let len = fs::metadata(p).map_err(|e| e.to_string())?.len();
        if len > max {
            return Err("attachment too large".into());
        }
        fs::read(p).map_err(|e| e.to_string())
    };
    match fs::metadata(&path) {
        Ok(_) => return read(&path),
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e.to_string()),
        Err(_) => {}
    }
    let parent = path.parent().ok_or("attachment path has no directory")?;
    let prefix = format!(
        "{}-",
        path.file_name()
            .and_then(|n| n.to_str())
            .ok_or("bad attachment name")?
    );
    let entries = fs::read_dir(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix))
        {
            return read(&entry.path());
        }
    }
    Err(format!("attachment {rel} not found"))
}

/// Put the externalised parts back into the stored body.
pub fn reassemble(
    stored: &[u8],
    refs: &[ExtRef],
    max: u64,
    mut load_file: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(stored.len());
    let mut pos = 0usize;
    for r in refs {
        let gap = usize::try_from(r.start)
            .ok()
            .and_then(|s| s.checked_sub(out.len()))
            .ok_or("X offset before current position")?;
        let chunk = stored
            .get(pos..pos + gap)
            .ok_or("X offset past the stored body")?;
        out.extend_from_slice(chunk);
        pos += gap;
        let data = load_file(&r.path)?;
        let encoded = match r.base64_line {
            Some(n) => base64_lines(&data, n, r.crlf),
            None => data,
        };
        if encoded.len() as u64 != r.count {
            return Err(format!(
                "attachment {} has {} bytes, X says {}",
                r.path,
                encoded.len(),
                r.count
            ));
        }
        out.extend_from_slice(&encoded);
        if out.len() as u64 > max {
            return Err("message too large".into());
        }
    }
    out.extend_from_slice(&stored[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dovecot_refs() {
        let r = parse_refs("211 6917 B76 d6/47/d647a4-46b8d2").unwrap();
        assert_eq!(
            r,
            vec![ExtRef {
                start: 211,
                count: 6917,
                base64_line: Some(76),
                crlf: false,
                path: "d6/47/d647a4-46b8d2".into()
            }]
        );
        let two = parse_refs("10 5 - a/b/c 30 8 B4C d/e/f").unwrap();
        assert_eq!((two[1].base64_line, two[1].crlf), (Some(4), true));
        for bad in [
            "",
            "1 2 3",
            "x 1 - p",
            "1 2 B7 p",
            "1 2 Q p",
            "9 5 - a 3 1 - b",
        ] {
            assert!(parse_refs(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn base64_matches_rfc4648_and_line_rules() {
        assert_eq!(base64_lines(b"foobar", 76, false), b"Zm9vYmFy");
        assert_eq!(base64_lines(b"fo", 76, false), b"Zm8=");
        assert_eq!(base64_lines(b"f", 76, false), b"Zg==");
        assert_eq!(base64_lines(b"foobar", 4, false), b"Zm9v\nYmFy");
        assert_eq!(base64_lines(b"foobar", 4, true), b"Zm9v\r\nYmFy");
        assert_eq!(base64_lines(b"", 4, true), b"");
    }

    #[test]
    fn reassembles_and_checks_sizes() {
        let refs = parse_refs("3 9 B4 x").unwrap();
        let out = reassemble(b"ab\nZ", &refs, 1 << 20, |_| Ok(b"foobar".to_vec())).unwrap();
        assert_eq!(out, b"ab\nZm9v\nYmFyZ");
        assert!(reassemble(b"ab", &refs, 1 << 20, |_| Ok(b"foobar".to_vec())).is_err());
        assert!(reassemble(b"ab\nZ", &refs, 1 << 20, |_| Ok(b"foo".to_vec())).is_err());
        assert!(safe_join(Path::new("/a"), "../etc/passwd").is_none());
        assert!(safe_join(Path::new("/a"), "/etc/passwd").is_none());
    }
}
