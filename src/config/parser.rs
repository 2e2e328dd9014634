//! Reader for the Dovecot 2.3 configuration language (§1 and §3 of
//! shared/docs/config-language.md): lines, comments, quoting, continuation,
//! sections and filters, `!include`, `<file` values and `$setting` references.
//!
//! It validates keys and values against `defs` as it goes, so every error carries the
//! file and line. It runs once at start-up on the main thread, so it reads files with
//! std::fs.

use std::collections::BTreeSet;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ConfigError;
use super::defs::{self, KeySet, SectionKind};
use super::lexer::{QuoteScan, is_quote, strip_comment, unquote};
use super::tree::{FileRef, Location, Network, Section, Value};

mod includes;
mod one_line;

/// Files larger than this are refused, so a wrong `<path` cannot exhaust memory.
const MAX_FILE_BYTES: u64 = 16 << 20;
/// Deeper nesting than this is almost certainly an include loop through symlinks.
const MAX_INCLUDE_DEPTH: usize = 32;
/// Real configs nest 3 deep (`service`/`inet_listener`, `local`/`protocol`); the cap
/// keeps the recursive printers' stack use bounded.
const MAX_SECTION_DEPTH: usize = 16;
/// Total bytes read (config files and `<file` values) for one load: repeated includes
/// of big files must not make a load take unbounded time and memory.
const MAX_TOTAL_BYTES: usize = 64 << 20;
/// `x = $x $x` doubles a value per line; refuse values past this size.
const MAX_VALUE_BYTES: usize = 1 << 20;

/// How to read a configuration tree.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Resolve absolute paths (`!include /…`, `key = </…`) under this directory, as if
    /// it were `/`. For checking a copy of another machine's /etc tree, and for tests.
    pub root: Option<PathBuf>,
}

/// The result of parsing: the root section and warnings in the order they arose.
#[derive(Debug)]
pub struct Parsed {
    pub root: Section,
    pub warnings: Vec<String>,
}

struct Frame {
    section: Section,
    /// Index in the parent's children to put a merged section back at.
    reinsert_at: Option<usize>,
}

struct Parser<'o> {
    options: &'o LoadOptions,
    stack: Vec<Frame>,
    include_stack: Vec<PathBuf>,
    warnings: Vec<String>,
    warned_ignored: BTreeSet<String>,
    bytes_read: std::cell::Cell<usize>,
}

/// Parses the file at `path` and everything it includes.
pub fn parse_file(path: &Path, options: &LoadOptions) -> Result<Parsed, ConfigError> {
    let actual = resolve_root(path, options);
    let text = read_limited(&actual).map_err(|reason| ConfigError::File {
        file: path.to_path_buf(),
        reason,
    })?;
    let base_dir = actual.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut parser = Parser::new(options, path);
    parser
        .include_stack
        .push(std::fs::canonicalize(&actual).unwrap_or(actual));
    parser.parse_source(&text, Arc::from(path), &base_dir)?;
    parser.finish()
}

/// Parses text; `origin` names it in messages and gives the directory for relative
/// paths (the origin itself if it is a directory, else its parent).
pub fn parse_text(text: &str, origin: &Path, options: &LoadOptions) -> Result<Parsed, ConfigError> {
    let base_dir = if origin.is_dir() {
        origin.to_path_buf()
    } else {
        origin.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut parser = Parser::new(options, origin);
    parser.parse_source(text, Arc::from(origin), &base_dir)?;
    parser.finish()
}

fn resolve_root(path: &Path, options: &LoadOptions) -> PathBuf {
    match (&options.root, path.strip_prefix("/")) {
        (Some(root), Ok(relative)) => root.join(relative),
        _ => path.to_path_buf(),
    }
}

fn read_limited(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if metadata.is_dir() {
        return Err("Is a directory".to_string());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(format!("File too large ({} bytes)", metadata.len()));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn err(at: &Location, reason: impl Into<String>) -> ConfigError {
    ConfigError::At {
        file: at.file.to_path_buf(),
        line: at.line,
        reason: reason.into(),
    }
}

/// Parses `IP[/bits]` or resolves a host name for a `local`/`remote` filter.
fn parse_networks(name: &str) -> Result<Vec<Network>, String> {
    let (host, bits) = match name.split_once('/') {
        Some((h, b)) => {
            let bits: u8 = b
                .parse()
                .map_err(|_| format!("Invalid network mask: {name}"))?;
            (h, Some(bits))
        }
        None => (name, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<IpAddr>().is_ok() {
        return Network::parse(name)
            .map(|n| vec![n])
            .ok_or_else(|| format!("Invalid network mask: {name}"));
    }
    if bits.is_some() {
        return Err(format!("Invalid network: {name}"));
    }
    let addrs = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("Couldn't resolve host {host}: {e}"))?;
    Ok(addrs
        .map(|sa| Network {
            addr: sa.ip(),
            bits: if sa.is_ipv4() { 32 } else { 128 },
        })
        .collect())
}

/// Whether `section` is a filter that (or a filter inside it that) sets `key`.
fn filter_sets(section: &Section, key: &str) -> bool {
    section.kind.is_filter()
        && (section.get(key).is_some() || section.children.iter().any(|c| filter_sets(c, key)))
}

impl<'o> Parser<'o> {
    fn new(options: &'o LoadOptions, origin: &Path) -> Parser<'o> {
        let at = Location {
            file: Arc::from(origin),
            line: 0,
        };
        Parser {
            options,
            stack: vec![Frame {
                section: Section::new(SectionKind::Root, None, at),
                reinsert_at: None,
            }],
            include_stack: Vec::new(),
            warnings: Vec::new(),
            warned_ignored: BTreeSet::new(),
            bytes_read: std::cell::Cell::new(0),
        }
    }

    fn finish(mut self) -> Result<Parsed, ConfigError> {
        if self.stack.len() > 1 {
            let open = &self.stack[self.stack.len() - 1].section;
            // The root section's location names the top-level file.
            let origin = self.stack[0].section.at.file.to_path_buf();
            return Err(ConfigError::File {
                file: origin,
                reason: format!(
                    "Missing '}}' (section started at {}:{})",
                    open.at.file.display(),
                    open.at.line
                ),
            });
        }
        let root = self.stack.pop().map(|f| f.section);
        match root {
            Some(root) => Ok(Parsed {
                root,
                warnings: self.warnings,
            }),
            None => Err(ConfigError::File {
                file: PathBuf::new(),
                reason: "internal: parser stack empty".into(),
            }),
        }
    }

    fn warn(&mut self, at: &Location, text: impl std::fmt::Display) {
        self.warnings
            .push(format!("Warning in configuration file {at}: {text}"));
    }

    fn account(&self, bytes: usize, at: &Location) -> Result<(), ConfigError> {
        let total = self.bytes_read.get().saturating_add(bytes);
        self.bytes_read.set(total);
        if total > MAX_TOTAL_BYTES {
            return Err(err(
                at,
                "Configuration too large (includes and files exceed 64 MiB)",
            ));
        }
        Ok(())
    }

    fn top(&self) -> &Section {
        // The root frame is never popped while parsing.
        &self.stack[self.stack.len() - 1].section
    }

    fn top_mut(&mut self) -> &mut Section {
        let last = self.stack.len() - 1;
        &mut self.stack[last].section
    }

    /// The path as the configuration names it: under `LoadOptions::root` messages
    /// show `/etc/…`, not the directory the tree was copied to.
    fn logical_path(&self, actual: &Path) -> PathBuf {
        match &self.options.root {
            Some(root) => match actual.strip_prefix(root) {
                Ok(rest) => Path::new("/").join(rest),
                Err(_) => actual.to_path_buf(),
            },
            None => actual.to_path_buf(),
        }
    }

    fn resolve(&self, written: &str, base_dir: &Path) -> PathBuf {
        let path = Path::new(written);
        if path.is_absolute() {
            resolve_root(path, self.options)
        } else {
            base_dir.join(path)
        }
    }

    fn parse_source(
        &mut self,
        text: &str,
        file: Arc<Path>,
        base_dir: &Path,
    ) -> Result<(), ConfigError> {
        // As doveconf does it: each physical line loses its comment first, then a
        // trailing `\` joins it to the next one with one space. A comment or empty
        // line therefore ends a continuation, and errors name the last line.
        // Editors on Windows may start the file with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut pending = String::new();
        for (index, raw) in text.split('\n').enumerate() {
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let line_number = index + 1;
            let at = Location {
                file: file.clone(),
                line: line_number,
            };
            let (line, ambiguous) = strip_comment(raw.trim_start());
            if ambiguous {
                self.warn(
                    &at,
                    "Ambiguous '#' character in line, treating it as comment. Add a space before it to remove this warning.",
                );
            }
            let line = line.trim_end();
            if let Some(head) = line.strip_suffix('\\') {
                pending.push_str(head.trim_end());
                pending.push(' ');
                continue;
            }
            pending.push_str(line);
            let logical = std::mem::take(&mut pending);
            self.parse_line(&logical, &at, base_dir)?;
        }
        if !pending.is_empty() {
            let at = Location {
                file: file.clone(),
                line: text.split('\n').count(),
            };
            self.parse_line(&pending, &at, base_dir)?;
        }
        Ok(())
    }

    fn parse_line(
        &mut self,
        line: &str,
        at: &Location,
        base_dir: &Path,
    ) -> Result<(), ConfigError> {
        // Comments were removed per physical line by parse_source.
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        if let Some(rest) = line.strip_prefix('!') {
            return self.directive(rest, at, base_dir);
        }
        if let Some(rest) = line.strip_prefix('}') {
            if !rest.trim().is_empty() {
                return Err(err(at, "Garbage after '}'"));
            }
            return self.close(at);
        }
        let key_end = line
            .find(|c: char| c.is_whitespace() || c == '=' || c == '{')
            .unwrap_or(line.len());
        let key = &line[..key_end];
        if key.is_empty() {
            return Err(err(at, "Missing setting name before '=' or '{'"));
        }
        let rest = line[key_end..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            return self.assign(key, value.trim(), at, base_dir);
        }
        if let Some(after) = rest.strip_prefix('{') {
            if !after.trim().is_empty() {
                return self.one_line_section(key, None, after, at, base_dir);
            }
            return self.open(key, None, at);
        }
        if rest.is_empty() {
            return Err(err(at, format!("Expecting '=' after {key}")));
        }
        // `type name {` or `type "quoted name" {`
        let (name, after_name) = if rest.starts_with(is_quote) {
            let mut quotes = QuoteScan::after_opening(rest.chars().next().unwrap_or('"'));
            let end = rest
                .char_indices()
                .skip(1)
                .find(|&(_, c)| quotes.quoted(c) && !quotes.is_open())
                .map(|(i, _)| i);
            let Some(end) = end else {
                return Err(err(at, "Missing closing quote in section name"));
            };
            let quoted = &rest[..=end];
            (unquote(quoted).unwrap_or_default(), &rest[end + 1..])
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '{')
                .unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        };
        let after_name = after_name.trim_start();
        match after_name.strip_prefix('{') {
            Some(inner) if !inner.trim().is_empty() => {
                self.one_line_section(key, Some(name), inner, at, base_dir)
            }
            Some(_) => self.open(key, Some(name), at),
            None => Err(err(
                at,
                format!("Expecting '{{' after section name, or '=' after {key}"),
            )),
        }
    }

    fn open(
        &mut self,
        keyword: &str,
        name: Option<String>,
        at: &Location,
    ) -> Result<(), ConfigError> {
        let Some(kind) = SectionKind::from_keyword(keyword) else {
            let mut reason = format!("Unknown section type: {keyword}");
            let keywords = SectionKind::ALL_NAMED.iter().map(|k| k.keyword());
            if let Some(guess) = defs::suggest(keyword, keywords) {
                reason.push_str(&format!(" (did you mean `{guess}`?)"));
            } else if defs::global(keyword).is_some() {
                reason.push_str(&format!(" (missing '=' after {keyword}?)"));
            }
            return Err(err(at, reason));
        };
        if self.stack.len() > MAX_SECTION_DEPTH {
            return Err(err(at, "Sections nested too deeply"));
        }
        let parent = self.top().kind;
        if let Some(reason) = parent.child_error(kind) {
            return Err(err(at, format!("{keyword}: {reason}")));
        }
        let ancestors: Vec<SectionKind> = self.stack.iter().map(|f| f.section.kind).collect();
        if kind == SectionKind::Protocol && ancestors.contains(&SectionKind::Protocol) {
            return Err(err(
                at,
                "protocol filter not allowed inside protocol filter",
            ));
        }
        if kind == SectionKind::Local && ancestors.contains(&SectionKind::Remote) {
            return Err(err(
                at,
                "local filter not allowed inside remote filter (put local outside)",
            ));
        }
        if kind.name_required() && name.as_deref().is_none_or(str::is_empty) {
            return Err(err(at, format!("{keyword} section needs a name")));
        }
        let parent_networks: Option<Vec<Network>> = self
            .stack
            .iter()
            .rev()
            .find(|f| f.section.kind == SectionKind::Local)
            .map(|f| f.section.networks.clone());
        let mut networks = Vec::new();
        if let Some(name) = &name {
            match kind {
                SectionKind::Protocol => {
                    let bare = name.strip_prefix('!').unwrap_or(name);
                    if bare.is_empty()
                        || !bare
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    {
                        return Err(err(at, format!("Invalid protocol name: {name}")));
                    }
                }
                SectionKind::Local | SectionKind::Remote => {
                    networks = parse_networks(name).map_err(|reason| err(at, reason))?;
                    if let (SectionKind::Local, Some(parents)) = (kind, &parent_networks) {
                        let inside = networks.iter().all(|n| {
                            parents
                                .iter()
                                .any(|p| p.bits <= n.bits && p.contains(n.addr))
                        });
                        if !inside {
                            return Err(err(
                                at,
                                format!("local {name} is not inside its parent local network"),
                            ));
                        }
                    }
                }
                SectionKind::Service if !defs::SERVICE_NAMES.contains(&name.as_str()) => {
                    let mut reason = format!("Unknown service: {name}");
                    if let Some(guess) = defs::suggest(name, defs::SERVICE_NAMES.iter().copied()) {
                        reason.push_str(&format!(" (did you mean `{guess}`?)"));
                    }
                    return Err(err(at, reason));
                }
                _ => {}
            }
        }
        let existing = if kind.repeatable(name.as_deref()) {
            None
        } else {
            self.top()
                .children
                .iter()
                .position(|c| c.kind == kind && c.name == name)
        };
        let (section, reinsert_at) = match existing {
            Some(index) => (self.top_mut().children.remove(index), Some(index)),
            None => {
                let mut section = Section::new(kind, name, at.clone());
                section.networks = networks;
                (section, None)
            }
        };
        self.stack.push(Frame {
            section,
            reinsert_at,
        });
        Ok(())
    }

    fn close(&mut self, at: &Location) -> Result<(), ConfigError> {
        if self.stack.len() <= 1 {
            return Err(err(at, "Unexpected '}' (no section is open)"));
        }
        let Some(frame) = self.stack.pop() else {
            return Err(err(at, "Unexpected '}'"));
        };
        if let Some(why) = frame.section.kind.ignored_reason()
            && !frame.section.settings.is_empty()
            && self
                .warned_ignored
                .insert(frame.section.kind.keyword().to_string())
        {
            let what = frame.section.kind.keyword();
            self.warn(
                &frame.section.at,
                format!("{what} sections are accepted but ignored: {why}"),
            );
        }
        let parent = self.top_mut();
        match frame.reinsert_at {
            Some(index) if index <= parent.children.len() => {
                parent.children.insert(index, frame.section)
            }
            _ => parent.children.push(frame.section),
        }
        Ok(())
    }

    /// `key` within the non-filter sections, as Dovecot names it in errors.
    fn setting_path(&self, key: &str) -> String {
        let mut path: Vec<&str> = self
            .stack
            .iter()
            .map(|f| f.section.kind)
            .filter(|k| *k != SectionKind::Root && !k.is_filter())
            .map(|k| k.keyword())
            .collect();
        path.push(key);
        path.join("/")
    }

    fn assign(
        &mut self,
        key: &str,
        raw: &str,
        at: &Location,
        base_dir: &Path,
    ) -> Result<(), ConfigError> {
        let kind = self.top().kind;
        let def = match kind.keys() {
            KeySet::Free => None,
            KeySet::Table(table) => match defs::find(table, key) {
                Some(def) => Some(def),
                None => {
                    let mut reason = format!("Unknown setting: {}", self.setting_path(key));
                    if let Some(guess) = defs::suggest(key, table.iter().map(|d| d.name)) {
                        reason.push_str(&format!(" (did you mean `{guess}`?)"));
                    }
                    return Err(err(at, reason));
                }
            },
        };
        let in_local_or_remote = self
            .stack
            .iter()
            .any(|f| matches!(f.section.kind, SectionKind::Local | SectionKind::Remote));
        if kind.is_filter() && in_local_or_remote && defs::is_auth_setting(key) {
            return Err(err(
                at,
                format!("Auth settings not supported inside local/remote blocks: {key}"),
            ));
        }
        let (text, file) = self.value(raw, at, base_dir)?;
        if let Some(def) = def {
            let normalized = defs::normalize(def.ty, &text)
                .map_err(|e| err(at, format!("{}: {e}", self.setting_path(key))))?;
            if let defs::ValueType::Workarounds(set) = def.ty
                && let Ok(list) = defs::workarounds(set, &text)
            {
                for (name, why) in list.dropped {
                    self.warn(
                        at,
                        format!("{key}: workaround {name} is obsolete ({why}); ignored"),
                    );
                }
            }
            if let Some(why) = def.ignored {
                let differs = defs::normalize(def.ty, def.default).is_ok_and(|d| d != normalized);
                if differs && self.warned_ignored.insert(key.to_string()) {
                    self.warn(at, format!("{key} is accepted but ignored: {why}"));
                }
            }
        }
        if kind == SectionKind::Root && self.top().children.iter().any(|c| filter_sets(c, key)) {
            self.warn(
                at,
                format!("{key} is set globally after a filter set it; the filter's value still wins inside that filter"),
            );
        }
        let value = Value {
            text,
            file,
            at: at.clone(),
        };
        self.top_mut().set(key, value);
        Ok(())
    }

    /// Turns the text after `=` into the setting's value.
    fn value(
        &self,
        raw: &str,
        at: &Location,
        base_dir: &Path,
    ) -> Result<(String, Option<FileRef>), ConfigError> {
        if let Some(path) = raw.strip_prefix('<') {
            let written = path.trim();
            if written.is_empty() {
                return Err(err(at, "Missing file name after '<'"));
            }
            let resolved = self.resolve(written, base_dir);
            let contents = read_limited(&resolved).map_err(|reason| {
                err(
                    at,
                    format!("Can't open file {}: {reason}", resolved.display()),
                )
            })?;
            self.account(contents.len(), at)?;
            let file = FileRef {
                written: written.to_string(),
                resolved,
            };
            return Ok((contents, Some(file)));
        }
        if let Some(text) = unquote(raw) {
            return Ok((text, None));
        }
        if raw.contains('$') {
            return Ok((self.expand_references(raw, at)?, None));
        }
        Ok((raw.to_string(), None))
    }

    /// §1.2: only whole tokens that start with `$` are references.
    fn expand_references(&self, raw: &str, at: &Location) -> Result<String, ConfigError> {
        let mut pieces: Vec<String> = Vec::new();
        let mut total = raw.len();
        for token in raw.split_whitespace() {
            let Some(name) = token.strip_prefix('$').filter(|n| !n.is_empty()) else {
                pieces.push(token.to_string());
                continue;
            };
            let value = if let Some(var) = name.strip_prefix("ENV:") {
                std::env::var(var).unwrap_or_default()
            } else {
                self.lookup(name)
                    .ok_or_else(|| err(at, format!("Unknown variable: ${name}")))?
            };
            // An empty expansion still takes its place, as in doveconf:
            // `protocols = $protocols imap` with nothing before gives " imap".
            total += value.len() + 1;
            if total > MAX_VALUE_BYTES {
                return Err(err(at, "Value too long after $ expansion"));
            }
            pieces.push(value);
        }
        Ok(pieces.join(" "))
    }

    /// The value `name` has at this point of the parse, innermost section first, then
    /// the defaults of the sections on the stack.
    fn lookup(&self, name: &str) -> Option<String> {
        for frame in self.stack.iter().rev() {
            if let Some(value) = frame.section.get(name) {
                return Some(value.text.clone());
            }
        }
        if name == "protocols" {
            return Some(defs::PROTOCOLS_REFERENCE_DEFAULT.to_string());
        }
        for frame in self.stack.iter().rev() {
            if let KeySet::Table(table) = frame.section.kind.keys()
                && let Some(def) = defs::find(table, name)
            {
                return Some(def.default.to_string());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(
            parse_networks("192.0.2.0/24"),
            Ok(vec![Network {
                addr: "192.0.2.0".parse().unwrap(),
                bits: 24
            }])
        );
        assert_eq!(parse_networks("::1").map(|n| n[0].bits), Ok(128));
        assert!(parse_networks("192.0.2.0/33").is_err());
        assert!(parse_networks("foo/8").is_err());
    }
}
