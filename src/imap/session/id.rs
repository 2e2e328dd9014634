//! RFC 2971 ID as Dovecot does it: the fields we send come from
//! `imap_id_send` (`name *` = the built-in value), and the client's fields
//! named in `imap_id_log` (`*` = all) are logged once per session as
//! `ID sent: name=..., version=...`, sanitized.

use super::os_info;
use crate::imap::codec::types::AString;

/// ID field/value pairs as sent in `* ID (...)`; `None` values are NIL.
pub type IdFields = Vec<(String, Option<String>)>;

/// RFC 2971 §3.3: field names are at most 30 octets.
const KEY_MAX: usize = 30;
/// Longest value logged (Dovecot's cap).
const VALUE_LOG_MAX: usize = 80;

/// One word of `imap_id_send`: an atom, a quoted string or NIL.
#[derive(Debug, PartialEq, Eq)]
enum Word {
    Text(String),
    Nil,
}

/// Splits `imap_id_send` into IMAP-style words. `None` when it cannot be
/// read (unterminated quote, parentheses), which sends `ID NIL`.
fn words(settings: &str) -> Option<Vec<Word>> {
    let mut out = Vec::new();
    let mut chars = settings.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_whitespace() {
            chars.next();
            continue;
        }
        if c == '(' || c == ')' {
            return None;
        }
        if c == '"' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => text.push(chars.next()?),
                    other => text.push(other),
                }
            }
            out.push(Word::Text(text));
            continue;
        }
        let mut atom = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_whitespace() || c == '"' || c == '(' || c == ')' {
                break;
            }
            atom.push(c);
            chars.next();
        }
        out.push(if atom.eq_ignore_ascii_case("NIL") {
            Word::Nil
        } else {
            Word::Text(atom)
        });
    }
    Some(out)
}

/// The value `*` stands for. Unknown fields have none (NIL).
fn built_in(key: &str) -> Option<String> {
    let key = key.to_ascii_lowercase();
    match key.as_str() {
        "name" => Some("tern".to_string()),
        "version" => Some(env!("CARGO_PKG_VERSION").to_string()),
        "support-url" => Some(env!("CARGO_PKG_REPOSITORY"))
            .filter(|url| !url.is_empty())
            .map(str::to_string),
        "os" => os_info::kernel().map(|(name, _)| name.clone()),
        "os-version" => os_info::kernel().map(|(_, release)| release.clone()),
        _ => None,
    }
}

/// The `* ID` answer for `imap_id_send`: `None` (NIL) when it is empty or
/// unreadable. A key without a value gets NIL; NIL as a key is skipped
/// with its value.
pub fn reply(settings: &str) -> Option<IdFields> {
    let words = words(settings)?;
    let mut fields = Vec::new();
    let mut it = words.into_iter();
    while let Some(key) = it.next() {
        let value = it.next();
        let Word::Text(key) = key else {
            continue;
        };
        let value = match value {
            Some(Word::Text(v)) if v == "*" => built_in(&key),
            Some(Word::Text(v)) => Some(v),
            Some(Word::Nil) | None => None,
        };
        fields.push((key, value));
    }
    (!fields.is_empty()).then_some(fields)
}

/// Dovecot's `str_sanitize`: control characters become `?`, invalid UTF-8
/// is replaced, and anything over `max` bytes is cut to end in `...`.
pub fn sanitize(bytes: &[u8], max: usize) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.len() <= max {
        return text;
    }
    let mut cut = max.saturating_sub(3);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &text[..cut])
}

/// The `ID sent:` log text for the client's fields selected by
/// `imap_id_log`; `None` when nothing is to be logged.
pub fn log_text(params: Option<&[(AString, Option<AString>)]>, settings: &str) -> Option<String> {
    let wanted: Vec<&str> = settings.split_ascii_whitespace().collect();
    if wanted.is_empty() {
        return None;
    }
    let all = settings.trim() == "*";
    let mut line = String::new();
    for (key, value) in params? {
        let key = key.as_bytes();
        // RFC 2971 keys are at most 30 octets; longer ones are broken input.
        if key.len() > KEY_MAX {
            continue;
        }
        let chosen = all
            || wanted
                .iter()
                .any(|w| w.as_bytes().eq_ignore_ascii_case(key));
        if !chosen {
            continue;
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&sanitize(key, KEY_MAX));
        line.push('=');
        match value {
            Some(v) => line.push_str(&sanitize(v.as_bytes(), VALUE_LOG_MAX)),
            None => line.push_str("NIL"),
        }
    }
    (!line.is_empty()).then_some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, Option<&str>)]) -> Vec<(AString, Option<AString>)> {
        list.iter()
            .map(|(k, v)| {
                (
                    AString::new(k.as_bytes()),
                    v.map(|v| AString::new(v.as_bytes())),
                )
            })
            .collect()
    }

    #[test]
    fn default_sends_our_name() {
        assert_eq!(
            reply("name *"),
            Some(vec![("name".to_string(), Some("tern".to_string()))])
        );
    }

    #[test]
    fn literal_values_star_values_and_nil() {
        let fields =
            reply(r#"name * version * vendor "Example \"Mail\" Co" x-none NIL support-email *"#)
                .unwrap();
        assert_eq!(fields[0], ("name".into(), Some("tern".into())));
        assert_eq!(
            fields[1],
            ("version".into(), Some(env!("CARGO_PKG_VERSION").into()))
        );
        assert_eq!(
            fields[2],
            ("vendor".into(), Some("Example \"Mail\" Co".into()))
        );
        assert_eq!(fields[3], ("x-none".into(), None));
        assert_eq!(fields[4], ("support-email".into(), None));
        let os = reply("os * os-version *").unwrap();
        let (name, release) = os_info::kernel().unwrap();
        assert_eq!(os[0].1.as_deref(), Some(name.as_str()));
        assert_eq!(os[1].1.as_deref(), Some(release.as_str()));
    }

    #[test]
    fn empty_odd_or_broken_settings() {
        assert_eq!(reply(""), None);
        assert_eq!(reply("   "), None);
        assert_eq!(reply("name"), Some(vec![("name".into(), None)]));
        assert_eq!(
            reply("NIL x name y"),
            Some(vec![("name".into(), Some("y".into()))])
        );
        assert_eq!(reply("name \"unterminated"), None);
        assert_eq!(reply("(name *)"), None);
    }

    #[test]
    fn log_selected_fields() {
        let p = pairs(&[
            ("name", Some("Thunderbird")),
            ("version", Some("115.0")),
            ("os", None),
        ]);
        assert_eq!(log_text(Some(&p), ""), None);
        assert_eq!(
            log_text(Some(&p), "*").as_deref(),
            Some("name=Thunderbird, version=115.0, os=NIL")
        );
        assert_eq!(
            log_text(Some(&p), "VERSION name").as_deref(),
            Some("name=Thunderbird, version=115.0")
        );
        assert_eq!(log_text(Some(&p), "vendor"), None);
        assert_eq!(log_text(None, "*"), None);
    }

    #[test]
    fn log_is_sanitized() {
        let long = "x".repeat(200);
        let long_key = "k".repeat(31);
        let p = pairs(&[
            ("name", Some("evil\r\nline\u{7}")),
            ("version", Some(long.as_str())),
            (long_key.as_str(), Some("dropped")),
        ]);
        let line = log_text(Some(&p), "*").unwrap();
        assert_eq!(
            line,
            format!("name=evil??line?, version={}...", "x".repeat(77))
        );
        assert_eq!(sanitize("é".repeat(50).as_bytes(), 10), "ééé...");
        assert_eq!(sanitize(b"a\xffb", 80), "a\u{fffd}b");
    }
}
