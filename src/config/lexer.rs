//! Lexical pieces of the configuration language: comments, quoting, tokens and
//! `{a,b}` include patterns. Pure functions, no I/O.

/// Cap on `{a,b}` expansion results.
const MAX_BRACE_EXPANSIONS: usize = 1024;

pub(super) fn is_quote(c: char) -> bool {
    c == '"' || c == '\''
}

/// Where a left-to-right scan stands towards quoted strings (`"…"` or
/// `'…'`, with `\` escapes inside).
#[derive(Debug, Default)]
pub(super) struct QuoteScan {
    open: Option<char>,
    escaped: bool,
}

impl QuoteScan {
    /// A scan that starts just after the opening `quote`.
    pub(super) fn after_opening(quote: char) -> QuoteScan {
        QuoteScan {
            open: Some(quote),
            escaped: false,
        }
    }

    /// True (and `c` consumed) when `c` is inside a quoted string, its
    /// closing quote included; false outside quotes.
    pub(super) fn quoted(&mut self, c: char) -> bool {
        let Some(quote) = self.open else {
            return false;
        };
        if self.escaped {
            self.escaped = false;
        } else if c == '\\' {
            self.escaped = true;
        } else if c == quote {
            self.open = None;
        }
        true
    }

    /// For a character outside quotes: starts a quoted string when it is a
    /// quote.
    pub(super) fn opens(&mut self, c: char) -> bool {
        if is_quote(c) {
            self.open = Some(c);
        }
        self.open.is_some()
    }

    pub(super) fn is_open(&self) -> bool {
        self.open.is_some()
    }
}

/// Removes the quotes of a fully quoted string and undoes `\x` escapes.
pub(super) fn unquote(text: &str) -> Option<String> {
    let first = text.chars().next()?;
    if text.len() < 2 || !is_quote(first) || !text.ends_with(first) {
        return None;
    }
    let inner = &text[1..text.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Cuts a line at the first `#` outside quotes. Returns the kept part and whether the
/// `#` was glued to text (Dovecot warns "Ambiguous '#'" then).
pub(super) fn strip_comment(line: &str) -> (&str, bool) {
    let mut quotes = QuoteScan::default();
    let mut previous: Option<char> = None;
    for (i, c) in line.char_indices() {
        if quotes.quoted(c) || quotes.opens(c) {
            // inside a quoted string: a `#` there is text
        } else if c == '#' {
            let ambiguous = previous.is_some_and(|p| !p.is_whitespace());
            return (&line[..i], ambiguous);
        }
        previous = Some(c);
    }
    (line, false)
}

/// Expands `{a,b}` alternatives (nested allowed) into separate patterns.
pub(super) fn brace_expand(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    brace_expand_into(pattern, &mut out);
    out
}

fn brace_expand_into(pattern: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_BRACE_EXPANSIONS {
        return;
    }
    let Some(open) = pattern.find('{') else {
        out.push(pattern.to_string());
        return;
    };
    let mut depth = 0usize;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in pattern[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        out.push(pattern.to_string());
        return;
    };
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        let alternative = &pattern[start..end];
        brace_expand_into(&format!("{prefix}{alternative}{suffix}"), out);
        start = end + 1;
    }
}

pub(super) fn has_glob_meta(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Byte spans of whitespace-separated tokens, keeping quoted strings whole.
pub(super) fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut quotes = QuoteScan::default();
    for (i, c) in text.char_indices() {
        if quotes.quoted(c) {
            continue;
        }
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                spans.push((s, i));
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        quotes.opens(c);
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_respect_quotes() {
        assert_eq!(strip_comment("a = b # c"), ("a = b ", false));
        assert_eq!(strip_comment("a = b#c"), ("a = b", true));
        assert_eq!(strip_comment(r#"a = "x # y""#), (r#"a = "x # y""#, false));
        assert_eq!(
            strip_comment(r#"a = "x \" # y" # z"#),
            (r#"a = "x \" # y" "#, false)
        );
        assert_eq!(strip_comment("a = 'it # is'"), ("a = 'it # is'", false));
    }

    #[test]
    fn quote_scan_follows_escapes_and_both_quote_kinds() {
        let mut q = QuoteScan::default();
        assert!(!q.quoted('a') && !q.opens('a'));
        assert!(q.opens('\''));
        for c in ['"', '\\', '\'', 'x'] {
            assert!(q.quoted(c) && q.is_open(), "{c:?} stays inside");
        }
        assert!(
            q.quoted('\'') && !q.is_open(),
            "the closing quote belongs to it"
        );
        assert!(!q.quoted('b'));
    }

    #[test]
    fn unquoting() {
        assert_eq!(
            unquote(r#""a \"b\" \\ \n""#).as_deref(),
            Some(r#"a "b" \ n"#)
        );
        assert_eq!(unquote("'x'").as_deref(), Some("x"));
        assert_eq!(unquote("\"x'"), None);
        assert_eq!(unquote("\""), None);
        assert_eq!(unquote("plain"), None);
    }

    #[test]
    fn braces() {
        assert_eq!(brace_expand("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(brace_expand("{x,y{1,2}}"), vec!["x", "y1", "y2"]);
        assert_eq!(brace_expand("none"), vec!["none"]);
        assert_eq!(brace_expand("open{a,b"), vec!["open{a,b"]);
        assert!(brace_expand(&"{a,b}".repeat(20)).len() <= MAX_BRACE_EXPANSIONS + 1);
    }

    #[test]
    fn tokens_keep_quotes_whole() {
        let text = r#"a = "b c" 'd\' e' f"#;
        let tokens: Vec<&str> = token_spans(text)
            .iter()
            .map(|(s, e)| &text[*s..*e])
            .collect();
        assert_eq!(tokens, vec!["a", "=", "\"b c\"", "'d\\' e'", "f"]);
    }
}
