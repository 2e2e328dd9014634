//! Extension: a whole section on one line (`inet_listener imaps { port = 993 ssl = yes }`).

use std::path::Path;

use super::{Parser, err};
use crate::config::ConfigError;
use crate::config::defs::{self, KeySet};
use crate::config::lexer::{is_quote, token_spans};
use crate::config::tree::Location;

impl Parser<'_> {
    /// Extension: `inet_listener imaps { port = 993 ssl = yes }` on one line. Dovecot
    /// refuses it ("Garbage after '{'"), so we warn; `config -n` prints the multi-line
    /// form. A new assignment starts at a word followed by `=`, or at `key=value` when
    /// `key` is a setting of that section (so `uid=vmail` inside a value stays a value).
    pub(super) fn one_line_section(
        &mut self,
        keyword: &str,
        name: Option<String>,
        after_brace: &str,
        at: &Location,
        base_dir: &Path,
    ) -> Result<(), ConfigError> {
        let body = after_brace.trim();
        let Some(inner) = body.strip_suffix('}') else {
            return Err(err(at, "Garbage after '{'"));
        };
        if inner.contains(['{', '}'])
            && token_spans(inner).iter().any(|(s, e)| {
                let t = &inner[*s..*e];
                t == "{" || t == "}" || t.ends_with('{')
            })
        {
            return Err(err(
                at,
                "Garbage after '{' (nested sections must span several lines)",
            ));
        }
        self.open(keyword, name, at)?;
        let kind = self.top().kind;
        let is_key = |word: &str| match kind.keys() {
            KeySet::Table(table) => defs::find(table, word).is_some(),
            KeySet::Free => true,
        };
        let spans = token_spans(inner);
        // (key, byte offset where the value text starts)
        let mut starts: Vec<(usize, String, usize)> = Vec::new();
        for (index, (s, e)) in spans.iter().enumerate() {
            let token = &inner[*s..*e];
            if is_quote(token.chars().next().unwrap_or(' ')) {
                continue;
            }
            let next = spans.get(index + 1).map(|(ns, ne)| (&inner[*ns..*ne], *ns));
            if let Some((next_text, next_start)) = next
                && next_text.starts_with('=')
                && !token.contains('=')
            {
                starts.push((*s, token.to_string(), next_start + 1));
            } else if let Some((key, _)) = token.split_once('=')
                && !key.is_empty()
                && (token.ends_with('=') || is_key(key))
            {
                starts.push((*s, key.to_string(), *s + key.len() + 1));
            }
        }
        if starts.is_empty() && !inner.trim().is_empty() {
            return Err(err(at, "Garbage after '{'"));
        }
        if starts
            .first()
            .is_some_and(|(s, _, _)| !inner[..*s].trim().is_empty())
        {
            return Err(err(at, "Garbage after '{'"));
        }
        for (index, (_, key, value_start)) in starts.iter().enumerate() {
            let value_end = starts.get(index + 1).map_or(inner.len(), |(s, _, _)| *s);
            let value = inner.get(*value_start..value_end).unwrap_or("").trim();
            self.assign(key, value, at, base_dir)?;
        }
        self.close(at)?;
        self.warn(
            at,
            "one-line section is a tern extension: Dovecot refuses it (\"Garbage after '{'\"); `tern config -n` prints the multi-line form",
        );
        Ok(())
    }
}
