//! `doveconf -n` / `-a` / `-P` output (§10): top-level settings and sections mixed in
//! alphabetical order, passdb/userdb order kept, filter blocks last, values normalised,
//! secrets masked. The output parses back to the same effective settings.
//!
//! Checked against doveconf 2.3.19.1 (tests/doveconf.rs). Deliberate differences:
//! - `$other_setting` and `$ENV:X` print expanded (doveconf keeps the reference), so
//!   the output is self-contained and round-trips.
//! - Dropping an obsolete workaround does not leave doveconf's trailing space.
//! - Values that would read back differently (`$` tokens, a leading `<`, surrounding
//!   quotes, a trailing `\`) are quoted.
//! - `-a` prints every top-level setting but, inside sections, only what was set.
//! - One header comment line instead of doveconf's version/OS/hostname lines.

use super::RenderOptions;
use super::defs::{self, KeySet, SectionKind, ValueType};
use super::tree::{Section, Value};
use super::view::{Specificity, extend_specificity};

const HIDDEN_LINE: &str = "# hidden, use -P to show it";
const HIDDEN_WORD: &str = "#hidden_use-P_to_show#";

/// Renders the tree; `header` is the first comment line, without `# `.
pub(crate) fn render(root: &Section, header: &str, options: RenderOptions) -> String {
    let mut out = format!("# {header}\n");
    let mut entries: Vec<(String, String)> = Vec::new();
    if options.non_default_only {
        for (key, value) in &root.settings {
            let def = defs::global(key);
            let ty = def.map(|d| d.ty);
            let always = def.is_some_and(|d| d.always_print);
            let differs = match def {
                Some(d) => normalized(ty, &value.text) != normalized(ty, d.default),
                None => true,
            };
            if differs || always || value.file.is_some() {
                entries.push((
                    key.clone(),
                    setting_line("", key, Some(value), &value.text, ty, options),
                ));
            }
        }
    } else {
        // Explicit keys outside the main table (accepted-but-unsupported ones) too.
        for (key, value) in &root.settings {
            if !defs::GLOBAL.iter().any(|d| d.name == key) {
                let ty = defs::global(key).map(|d| d.ty);
                entries.push((
                    key.clone(),
                    setting_line("", key, Some(value), &value.text, ty, options),
                ));
            }
        }
        for def in defs::GLOBAL {
            let value = root.get(def.name);
            let text = value.map_or(def.default, |v| v.text.as_str());
            entries.push((
                def.name.to_string(),
                setting_line("", def.name, value, text, Some(def.ty), options),
            ));
        }
    }
    for child in root
        .children
        .iter()
        .filter(|c| !c.kind.is_filter() && c.is_significant(None))
    {
        entries.push((child.header(), render_section(child, "", options)));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, text) in entries {
        out.push_str(&text);
    }
    out.push_str(&render_filters(root, options));
    out
}

/// Like doveconf, every filter chain that sets something gets its own block
/// (`local X { protocol imap { … } }` prints apart from `local X { … }`), from the least
/// to the most specific, in file order among equals.
fn render_filters(root: &Section, options: RenderOptions) -> String {
    let mut chains: Vec<(Specificity, Vec<&Section>)> = Vec::new();
    collect_chains(root, (0, 0, 0, 0), &mut Vec::new(), &mut chains);
    chains.sort_by_key(|(spec, _)| *spec);
    chains
        .into_iter()
        .map(|(_, chain)| render_chain(&chain, "", options))
        .collect()
}

fn collect_chains<'a>(
    node: &'a Section,
    spec: Specificity,
    chain: &mut Vec<&'a Section>,
    out: &mut Vec<(Specificity, Vec<&'a Section>)>,
) {
    for child in node.children.iter().filter(|c| c.kind.is_filter()) {
        let child_spec = extend_specificity(spec, child);
        chain.push(child);
        let sets_something = !child.settings.is_empty()
            || child
                .children
                .iter()
                .any(|c| !c.kind.is_filter() && c.is_significant(None));
        if sets_something {
            out.push((child_spec, chain.clone()));
        }
        collect_chains(child, child_spec, chain, out);
        chain.pop();
    }
}

fn render_chain(chain: &[&Section], indent: &str, options: RenderOptions) -> String {
    match chain {
        [] => String::new(),
        [last] => render_section(last, indent, options),
        [first, rest @ ..] => format!(
            "{indent}{} {{\n{}{indent}}}\n",
            section_header(first),
            render_chain(rest, &format!("{indent}  "), options)
        ),
    }
}

fn value_type(kind: SectionKind, key: &str) -> Option<ValueType> {
    match kind.keys() {
        KeySet::Table(table) => defs::find(table, key).map(|d| d.ty),
        KeySet::Free => None,
    }
}

fn render_section(section: &Section, indent: &str, options: RenderOptions) -> String {
    let inner = format!("{indent}  ");
    let mut out = format!("{indent}{} {{\n", section_header(section));
    let mut entries: Vec<(String, String)> = section
        .settings
        .iter()
        .filter(|(key, value)| !omitted_as_default(section.kind, key, value))
        .map(|(key, value)| {
            let ty = value_type(section.kind, key);
            (
                key.clone(),
                setting_line(&inner, key, Some(value), &value.text, ty, options),
            )
        })
        .collect();
    if section.kind == SectionKind::Namespace {
        // doveconf always prints these two, even when empty.
        for key in ["location", "prefix"] {
            if section.get(key).is_none() {
                entries.push((key.to_string(), format!("{inner}{key} = \n")));
            }
        }
    }
    let service = (section.kind == SectionKind::Service)
        .then_some(section.name.as_deref())
        .flatten();
    for child in section
        .children
        .iter()
        .filter(|c| !c.kind.is_filter() && c.is_significant(service))
    {
        entries.push((child.header(), render_section(child, &inner, options)));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, text) in entries {
        out.push_str(&text);
    }
    out.push_str(indent);
    out.push_str("}\n");
    out
}

/// doveconf drops explicitly set defaults inside passdb/userdb (other sections print
/// every key that was set).
fn omitted_as_default(kind: SectionKind, key: &str, value: &Value) -> bool {
    let table = match kind {
        SectionKind::Passdb => defs::PASSDB,
        SectionKind::Userdb => defs::USERDB,
        _ => return false,
    };
    defs::find(table, key).is_some_and(|d| {
        value.file.is_none()
            && normalized(Some(d.ty), &value.text) == normalized(Some(d.ty), d.default)
    })
}

fn section_header(section: &Section) -> String {
    match &section.name {
        Some(name)
            if needs_quotes(name)
                || name.contains(['{', '}'])
                || name.contains(char::is_whitespace) =>
        {
            format!("{} {}", section.kind.keyword(), quote(name))
        }
        Some(name) => format!("{} {}", section.kind.keyword(), name),
        None => section.kind.keyword().to_string(),
    }
}

fn normalized(ty: Option<ValueType>, text: &str) -> String {
    match ty {
        Some(ty) => defs::normalize(ty, text).unwrap_or_else(|_| text.to_string()),
        None => text.to_string(),
    }
}

fn setting_line(
    indent: &str,
    key: &str,
    value: Option<&Value>,
    text: &str,
    ty: Option<ValueType>,
    options: RenderOptions,
) -> String {
    let file = value.and_then(|v| v.file.as_ref());
    let shown =
        if defs::is_secret(key) && !options.show_secrets && (file.is_some() || !text.is_empty()) {
            HIDDEN_LINE.to_string()
        } else if let Some(file) = file {
            format!("<{}", file.written)
        } else {
            // Quote by the real value: the mask's own `#` must not force quotes.
            let text = normalized(ty, text);
            let quoted = needs_quotes(&text);
            let text = if options.show_secrets {
                text
            } else {
                mask_embedded_secrets(&text)
            };
            if quoted { quote(&text) } else { text }
        };
    format!("{indent}{key} = {shown}\n")
}

/// `password=…` words and URL user info inside other values (SQL/LDAP args).
fn mask_embedded_secrets(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("password=") && !lower.contains("://") {
        return text.to_string();
    }
    let masked: Vec<String> = text
        .split(' ')
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            if let Some(pos) = lower.find("password=") {
                return format!("{}{HIDDEN_WORD}", &word[..pos + "password=".len()]);
            }
            if let Some(scheme_end) = word.find("://") {
                let rest = &word[scheme_end + 3..];
                if let Some(at) = rest.find('@') {
                    return format!("{}{HIDDEN_WORD}{}", &word[..scheme_end + 3], &rest[at..]);
                }
            }
            word.to_string()
        })
        .collect();
    masked.join(" ")
}

/// doveconf quotes values with `#` or leading/trailing blanks. We also quote whatever
/// would read back differently (`$` tokens, leading `<`, trailing `\`, surrounding
/// quotes), so that parse(render(c)) gives the same settings.
fn needs_quotes(text: &str) -> bool {
    let first = text.chars().next();
    let last = text.chars().last();
    text.contains('#')
        || first.is_some_and(char::is_whitespace)
        || last.is_some_and(char::is_whitespace)
        || text.starts_with('<')
        || text.ends_with('\\')
        || text
            .split_whitespace()
            .any(|t| t.starts_with('$') && t.len() > 1)
        || (text.len() >= 2 && first == last && first.is_some_and(|c| c == '"' || c == '\''))
}

fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_rules() {
        assert!(!needs_quotes("plain login"));
        assert!(needs_quotes("Hello # there"));
        assert!(needs_quotes(" x"));
        assert!(needs_quotes("$notaref"));
        assert!(!needs_quotes("x$y"));
        assert!(needs_quotes("<file"));
        assert!(needs_quotes("'a'"));
        assert_eq!(quote(r#"a "b" \ 'c'"#), r#""a \"b\" \\ \'c\'""#);
    }

    #[test]
    fn masks_embedded_secrets() {
        assert_eq!(
            mask_embedded_secrets("host=db user=u password=secret dbname=x"),
            "host=db user=u password=#hidden_use-P_to_show# dbname=x"
        );
        assert_eq!(
            mask_embedded_secrets("ldap://admin:pw@ldap.example.org/"),
            "ldap://#hidden_use-P_to_show#@ldap.example.org/"
        );
        assert_eq!(mask_embedded_secrets("nothing here"), "nothing here");
    }
}
