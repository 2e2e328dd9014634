//! The script format (see the top of `tests/differential.rs`): parsing of
//! script files into steps, and of literal markers inside command lines.

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone)]
pub enum Piece {
    Text(String),
    /// A literal's data; `sync` = wait for the server's `+` before sending it.
    Literal {
        data: Vec<u8>,
        sync: bool,
    },
}

#[derive(Debug, Clone)]
pub enum Step {
    /// A tagged command; `wait` = wait for its tagged completion (and for
    /// every earlier command of the session) before the next step.
    Command {
        session: String,
        tag: String,
        pieces: Vec<Piece>,
        wait: bool,
    },
    /// A line sent as it is (`DONE`, a continuation answer).
    Raw { session: String, pieces: Vec<Piece> },
    /// Wait for a `+` continuation on the session.
    ExpectContinuation { session: String },
    /// Wait for one tag, or for every outstanding command of the session.
    Wait {
        session: String,
        tag: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Script {
    pub name: String,
    /// `file:line` of the `===` header.
    pub origin: String,
    /// Append the seed corpus to INBOX first (`@corpus none` turns it off).
    pub corpus: bool,
    /// (source line as written, step)
    pub steps: Vec<(String, Step)>,
}

/// The session a tag belongs to: its leading lowercase letters (`b12` → `b`).
pub fn session_of(tag: &str) -> Option<String> {
    let s: String = tag.chars().take_while(|c| c.is_ascii_lowercase()).collect();
    (!s.is_empty() && s.len() < tag.len()).then_some(s)
}

/// Parses every `*.imap` file under `dir`; `blobs` are the corpus messages
/// (`corpus01`…), usable as literals in any file.
pub fn load_dir(
    dir: &Path,
    corpus_blobs: &HashMap<String, Vec<u8>>,
) -> Result<Vec<Script>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "imap"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        all.extend(parse_file(&name, &text, corpus_blobs)?);
    }
    Ok(all)
}

pub fn parse_file(
    file: &str,
    text: &str,
    corpus_blobs: &HashMap<String, Vec<u8>>,
) -> Result<Vec<Script>, String> {
    // First pass: blobs.
    let mut blobs = corpus_blobs.clone();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    let mut body_lines = Vec::new();
    while i < lines.len() {
        let l = lines[i];
        if let Some(name) = l.strip_prefix("@blob ") {
            let mut data = Vec::new();
            i += 1;
            while i < lines.len() && lines[i] != "@end" {
                data.extend_from_slice(lines[i].as_bytes());
                data.extend_from_slice(b"\r\n");
                i += 1;
            }
            if i == lines.len() {
                return Err(format!("{file}: @blob {name} has no @end"));
            }
            blobs.insert(name.trim().to_string(), data);
        } else {
            body_lines.push((i + 1, l));
        }
        i += 1;
    }
    let mut scripts: Vec<Script> = Vec::new();
    for (no, raw) in body_lines {
        let l = raw.trim_end();
        let at = || format!("{file}:{no}");
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if let Some(name) = l.strip_prefix("=== ") {
            let name = name.trim().to_string();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("{}: bad script name", at()));
            }
            scripts.push(Script {
                name,
                origin: at(),
                corpus: true,
                steps: Vec::new(),
            });
            continue;
        }
        let Some(script) = scripts.last_mut() else {
            return Err(format!("{}: text before the first === header", at()));
        };
        if let Some(v) = l.strip_prefix("@corpus ") {
            script.corpus = match v.trim() {
                "none" => false,
                "inbox" => true,
                other => return Err(format!("{}: unknown @corpus {other}", at())),
            };
            continue;
        }
        let step = parse_step(l, &blobs).map_err(|e| format!("{}: {e}", at()))?;
        script.steps.push((l.to_string(), step));
    }
    Ok(scripts)
}

fn parse_step(l: &str, blobs: &HashMap<String, Vec<u8>>) -> Result<Step, String> {
    let (word, rest) = l.split_once(' ').unwrap_or((l, ""));
    match word {
        "raw" => {
            let (session, text) = rest.split_once(' ').unwrap_or((rest, ""));
            Ok(Step::Raw {
                session: session.to_string(),
                pieces: parse_pieces(text, blobs)?,
            })
        }
        "expect" => {
            let (session, what) = rest.split_once(' ').ok_or("expect SESSION +")?;
            if what.trim() != "+" {
                return Err("only `expect SESSION +` is known".into());
            }
            Ok(Step::ExpectContinuation {
                session: session.to_string(),
            })
        }
        "wait" => {
            let target = rest.trim();
            match session_of(target) {
                Some(session) => Ok(Step::Wait {
                    session,
                    tag: Some(target.to_string()),
                }),
                None if !target.is_empty() && target.chars().all(|c| c.is_ascii_lowercase()) => {
                    Ok(Step::Wait {
                        session: target.to_string(),
                        tag: None,
                    })
                }
                None => Err(format!("wait: bad target {target:?}")),
            }
        }
        "&" => {
            let (tag, _) = rest.split_once(' ').unwrap_or((rest, ""));
            let session = session_of(tag).ok_or_else(|| format!("bad tag {tag:?}"))?;
            Ok(Step::Command {
                session,
                tag: tag.to_string(),
                pieces: parse_pieces(rest, blobs)?,
                wait: false,
            })
        }
        tag => {
            let session = session_of(tag).ok_or_else(|| format!("bad tag {tag:?}"))?;
            Ok(Step::Command {
                session,
                tag: tag.to_string(),
                pieces: parse_pieces(l, blobs)?,
                wait: true,
            })
        }
    }
}

/// Splits a command line at its literal markers: `{:blob}` / `{+:blob}` (a
/// named blob as a synchronising / LITERAL+ literal) and `{"text"}` /
/// `{+"text"}` (inline text; `\r`, `\n`, `\"`, `\\`, `\xHH` escapes).
pub fn parse_pieces(line: &str, blobs: &HashMap<String, Vec<u8>>) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = line;
    while let Some(pos) = rest.find('{') {
        let after = &rest[pos + 1..];
        let (sync, after) = match after.strip_prefix('+') {
            Some(a) => (false, a),
            None => (true, after),
        };
        if let Some(name_and_more) = after.strip_prefix(':') {
            let end = name_and_more.find('}').ok_or("unterminated {:blob}")?;
            let name = &name_and_more[..end];
            let data = blobs
                .get(name)
                .ok_or_else(|| format!("unknown blob {name:?}"))?;
            text.push_str(&rest[..pos]);
            pieces.push(Piece::Text(std::mem::take(&mut text)));
            pieces.push(Piece::Literal {
                data: data.clone(),
                sync,
            });
            rest = &name_and_more[end + 1..];
        } else if let Some(s) = after.strip_prefix('"') {
            let (data, consumed) = unescape(s)?;
            text.push_str(&rest[..pos]);
            pieces.push(Piece::Text(std::mem::take(&mut text)));
            pieces.push(Piece::Literal { data, sync });
            rest = &s[consumed..];
        } else {
            text.push_str(&rest[..=pos]);
            rest = &rest[pos + 1..];
        }
    }
    text.push_str(rest);
    pieces.push(Piece::Text(text));
    Ok(pieces)
}

/// Reads an escaped string up to its closing `"}`; returns the bytes and how
/// much of `s` was used.
fn unescape(s: &str) -> Result<(Vec<u8>, usize), String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' if b.get(i + 1) == Some(&b'}') => return Ok((out, i + 2)),
            b'\\' => {
                let c = *b.get(i + 1).ok_or("dangling \\")?;
                i += 2;
                match c {
                    b'r' => out.push(b'\r'),
                    b'n' => out.push(b'\n'),
                    b'x' => {
                        let hex = s.get(i..i + 2).ok_or("short \\x")?;
                        out.push(u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?);
                        i += 2;
                    }
                    other => out.push(other),
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    Err("unterminated {\"…\"} literal".into())
}
