//! `!include` / `!include_try` (§3): globs with `{a,b}`, relative to the including
//! file, recursion and size limits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{MAX_INCLUDE_DEPTH, Parser, err, read_limited};
use crate::config::ConfigError;
use crate::config::lexer::{brace_expand, has_glob_meta, unquote};
use crate::config::tree::Location;

impl Parser<'_> {
    pub(super) fn directive(
        &mut self,
        text: &str,
        at: &Location,
        base_dir: &Path,
    ) -> Result<(), ConfigError> {
        let (word, arg) = match text.find(char::is_whitespace) {
            Some(i) => (&text[..i], text[i..].trim()),
            None => (text, ""),
        };
        let optional = match word {
            "include" => false,
            "include_try" => true,
            _ => return Err(err(at, format!("Unknown directive: !{word}"))),
        };
        if arg.is_empty() {
            return Err(err(at, format!("!{word} needs a path")));
        }
        let arg = unquote(arg).unwrap_or_else(|| arg.to_string());
        self.include(&arg, optional, at, base_dir)
    }

    fn include(
        &mut self,
        arg: &str,
        optional: bool,
        at: &Location,
        base_dir: &Path,
    ) -> Result<(), ConfigError> {
        let patterns = brace_expand(arg);
        let is_glob = patterns.len() > 1 || patterns.iter().any(|p| has_glob_meta(p));
        let mut files: Vec<PathBuf> = Vec::new();
        for pattern in &patterns {
            let resolved = self.resolve(pattern, base_dir);
            if !is_glob {
                if resolved.exists() {
                    files.push(resolved);
                } else if !optional {
                    // doveconf 2.3.19 globs every path, so a missing plain file is
                    // "No matches" too (checked on this machine).
                    return Err(err(at, format!("!include {arg}: No matches")));
                }
                continue;
            }
            let Some(pattern_text) = resolved.to_str() else {
                return Err(err(
                    at,
                    format!("Include path is not UTF-8: {}", resolved.display()),
                ));
            };
            let matches = glob::glob(pattern_text)
                .map_err(|e| err(at, format!("Invalid include pattern {arg}: {e}")))?;
            // glibc's glob(GLOB_BRACE), which Dovecot uses, sorts the matches of each
            // brace alternative but keeps the alternatives in the order written.
            let mut found = Vec::new();
            for entry in matches {
                match entry {
                    Ok(path) if path.is_dir() => {}
                    Ok(path) => found.push(path),
                    Err(_) if optional => {}
                    Err(e) => return Err(err(at, format!("Couldn't read include file: {e}"))),
                }
            }
            found.sort();
            for path in found {
                if !files.contains(&path) {
                    files.push(path);
                }
            }
        }
        if is_glob && files.is_empty() && !optional {
            return Err(err(at, format!("!include {arg}: No matches")));
        }
        for file in files {
            self.include_file(&file, optional, at)?;
        }
        Ok(())
    }

    fn include_file(
        &mut self,
        file: &Path,
        optional: bool,
        at: &Location,
    ) -> Result<(), ConfigError> {
        let canonical = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        if self.include_stack.contains(&canonical) {
            return Err(err(
                at,
                format!("Recursive include file: {}", file.display()),
            ));
        }
        if self.include_stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(err(
                at,
                format!("Includes nested too deeply at {}", file.display()),
            ));
        }
        let text = match read_limited(file) {
            Ok(text) => text,
            Err(_) if optional => return Ok(()),
            Err(reason) => {
                return Err(err(
                    at,
                    format!("Couldn't open include file {}: {reason}", file.display()),
                ));
            }
        };
        self.account(text.len(), at)?;
        let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        self.include_stack.push(canonical);
        let label = self.logical_path(file);
        let result = self.parse_source(&text, Arc::from(label.as_path()), &base_dir);
        self.include_stack.pop();
        result
    }
}
