//! Dovecot `%` variable expansion (§5): `%u`, `%{user}`, `%{env:X}`, width/offset,
//! zero padding, modifiers `L U E X R H N M D T`, and `%{if;a;op;b;then;else}`.
//!
//! Expansion is pure (except `%{env:…}`), so it is safe on shard threads. The caller
//! decides what each letter means: `%u` is the user in mail context but the UID in
//! `pop3_uidl_format`.

use md5::{Digest, Md5};

/// A variable as written: `%u` is `Short('u')`, `%{user}` is `Long("user")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarName<'a> {
    Short(char),
    Long(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("Unknown variable: {0}")]
    Unknown(String),
    #[error("Unterminated %{{ in template")]
    Unterminated,
    #[error("Template ends with a lone %")]
    TrailingPercent,
    #[error("Too many modifiers in a variable")]
    TooManyModifiers,
    #[error("Invalid %{{if}}: {0}")]
    InvalidIf(String),
    #[error("Variables nested too deeply")]
    TooDeep,
}

const MODIFIERS: &str = "LUEXRHNMDT";
const MAX_MODIFIERS: usize = 10;
const MAX_DEPTH: usize = 8;

/// Expands `template`; `lookup` answers each variable (None = unknown = error).
pub fn expand(
    template: &str,
    lookup: &dyn Fn(VarName<'_>) -> Option<String>,
) -> Result<String, VarError> {
    expand_at(template, lookup, 0)
}

/// A simple table of variables for callers that know their values up front.
#[derive(Debug, Clone, Default)]
pub struct VarTable {
    entries: Vec<(Option<char>, String, String)>,
}

/// Long names Dovecot accepts for the same variable.
const ALIASES: &[(&str, &str)] = &[
    ("local_ip", "lip"),
    ("remote_ip", "rip"),
    ("service", "service"),
];

impl VarTable {
    pub fn new() -> VarTable {
        VarTable::default()
    }

    /// Adds (or replaces) a variable with an optional one-letter form.
    pub fn with(mut self, short: Option<char>, long: &str, value: impl Into<String>) -> VarTable {
        self.set(short, long, value);
        self
    }

    pub fn set(&mut self, short: Option<char>, long: &str, value: impl Into<String>) {
        let value = value.into();
        self.entries
            .retain(|(s, l, _)| l != long && (short.is_none() || *s != short));
        self.entries.push((short, long.to_string(), value));
    }

    /// §5.2 mail-user variables from a login name: `%u`/`%{user}`, `%n`/`%{username}`,
    /// `%d`/`%{domain}`. Add service, ips, home etc. with `with`.
    pub fn for_user(user: &str) -> VarTable {
        let (name, domain) = user.split_once('@').unwrap_or((user, ""));
        VarTable::new()
            .with(Some('u'), "user", user)
            .with(Some('n'), "username", name)
            .with(Some('d'), "domain", domain)
    }

    /// `%h` / `%{home}`.
    pub fn home(self, home: &str) -> VarTable {
        self.with(Some('h'), "home", home)
    }

    /// `%s` / `%{service}`: `imap`, `pop3`, `lmtp`, …
    pub fn service(self, service: &str) -> VarTable {
        self.with(Some('s'), "service", service)
    }

    /// `%l` / `%{lip}` / `%{local_ip}`.
    pub fn local_ip(self, ip: std::net::IpAddr) -> VarTable {
        self.with(Some('l'), "lip", ip.to_string())
    }

    /// `%r` / `%{rip}` / `%{remote_ip}`.
    pub fn remote_ip(self, ip: std::net::IpAddr) -> VarTable {
        self.with(Some('r'), "rip", ip.to_string())
    }

    /// `%p` / `%{pid}` of this process.
    pub fn pid(self) -> VarTable {
        self.with(Some('p'), "pid", std::process::id().to_string())
    }

    /// `%i` / `%{uid}` and `%{gid}` of the mail user.
    pub fn ids(self, uid: u32, gid: u32) -> VarTable {
        self.with(Some('i'), "uid", uid.to_string())
            .with(None, "gid", gid.to_string())
    }

    /// `%{session}`.
    pub fn session(self, id: &str) -> VarTable {
        self.with(None, "session", id)
    }

    /// `%{hostname}`.
    pub fn hostname(self, name: &str) -> VarTable {
        self.with(None, "hostname", name)
    }

    pub fn lookup(&self, name: VarName<'_>) -> Option<String> {
        match name {
            VarName::Short(c) => self
                .entries
                .iter()
                .find(|(s, _, _)| *s == Some(c))
                .map(|(_, _, v)| v.clone()),
            VarName::Long(long) => {
                let canonical = ALIASES
                    .iter()
                    .find(|(alias, _)| *alias == long)
                    .map_or(long, |(_, c)| *c);
                self.entries
                    .iter()
                    .find(|(_, l, _)| l == long || l == canonical)
                    .map(|(_, _, v)| v.clone())
            }
        }
    }

    pub fn expand(&self, template: &str) -> Result<String, VarError> {
        expand(template, &|name| self.lookup(name))
    }

    /// Expands a template whose variables are only known at run time (log
    /// formats such as `imap_logout_format`), as Dovecot does there: an
    /// unknown `%x` expands to nothing and an unknown `%{name}` to
    /// `UNSUPPORTED_VARIABLE_name`, so a typo costs one field, not the line.
    /// Syntax errors (a lone `%`, an unclosed `%{`) are still errors.
    pub fn expand_lenient(&self, template: &str) -> Result<String, VarError> {
        expand(template, &|name| {
            self.lookup(name).or_else(|| match name {
                VarName::Short(_) => Some(String::new()),
                VarName::Long("pid") => None,
                VarName::Long(long) => Some(format!("UNSUPPORTED_VARIABLE_{long}")),
            })
        })
    }
}

#[derive(Debug, Default)]
struct Spec {
    offset: i64,
    width: Option<i64>,
    zero_pad: bool,
    modifiers: Vec<char>,
}

fn read_number(chars: &[char], i: &mut usize) -> Option<i64> {
    let start = *i;
    let mut value: i64 = 0;
    while let Some(c) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        value = value.saturating_mul(10).saturating_add(i64::from(c));
        *i += 1;
    }
    (*i > start).then_some(value)
}

fn expand_at(
    template: &str,
    lookup: &dyn Fn(VarName<'_>) -> Option<String>,
    depth: usize,
) -> Result<String, VarError> {
    if depth > MAX_DEPTH {
        return Err(VarError::TooDeep);
    }
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::with_capacity(template.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        match chars.get(i) {
            None => return Err(VarError::TrailingPercent),
            Some('%') => {
                out.push('%');
                i += 1;
                continue;
            }
            Some(_) => {}
        }
        let mut spec = Spec::default();
        let negative = chars.get(i) == Some(&'-');
        if negative {
            i += 1;
        }
        if chars.get(i) == Some(&'0') {
            spec.zero_pad = true;
            i += 1;
        }
        let first = read_number(&chars, &mut i);
        if chars.get(i) == Some(&'.') {
            // `[-]offset.[0][-]width`: the sign belongs to the offset, and only a `0`
            // after the dot asks for zero padding (as in Dovecot's var-expand.c).
            i += 1;
            spec.offset = first.map_or(0, |n| if negative { -n } else { n });
            spec.zero_pad = chars.get(i) == Some(&'0');
            if spec.zero_pad {
                i += 1;
            }
            let negative_width = chars.get(i) == Some(&'-');
            if negative_width {
                i += 1;
            }
            spec.width = read_number(&chars, &mut i).map(|n| if negative_width { -n } else { n });
        } else {
            // Without a dot Dovecot ignores a leading `-`.
            spec.width = first;
        }
        while let Some(&c) = chars.get(i).filter(|c| MODIFIERS.contains(**c)) {
            if spec.modifiers.len() >= MAX_MODIFIERS {
                return Err(VarError::TooManyModifiers);
            }
            spec.modifiers.push(c);
            i += 1;
        }
        let value = match chars.get(i) {
            None => return Err(VarError::TrailingPercent),
            Some('{') => {
                let mut level = 0usize;
                let mut end = None;
                let mut escaped = false;
                for (j, c) in chars.iter().enumerate().skip(i) {
                    if escaped {
                        escaped = false;
                        continue;
                    }
                    match c {
                        '\\' => escaped = true,
                        '{' => level += 1,
                        '}' => {
                            level -= 1;
                            if level == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or(VarError::Unterminated)?;
                let content: String = chars[i + 1..end].iter().collect();
                i = end + 1;
                long_variable(&content, lookup, depth)?
            }
            Some(&c) => {
                i += 1;
                lookup(VarName::Short(c)).ok_or_else(|| VarError::Unknown(c.to_string()))?
            }
        };
        out.push_str(&apply(value, spec));
    }
    Ok(out)
}

fn long_variable(
    content: &str,
    lookup: &dyn Fn(VarName<'_>) -> Option<String>,
    depth: usize,
) -> Result<String, VarError> {
    if let Some(args) = content.strip_prefix("if;") {
        return conditional(args, lookup, depth);
    }
    if let Some(name) = content.strip_prefix("env:") {
        return Ok(std::env::var(name).unwrap_or_default());
    }
    if let Some(value) = lookup(VarName::Long(content)) {
        return Ok(value);
    }
    // Dovecot's built-in fallback when the table lacks it.
    if content == "pid" {
        return Ok(std::process::id().to_string());
    }
    Err(VarError::Unknown(content.to_string()))
}

/// Splits `%{if;…}` arguments on `;` outside nested `%{…}`; `\;` is a literal `;`.
fn split_if_args(args: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut level = 0usize;
    let mut chars = args.chars();
    while let Some(c) = chars.next() {
        let current = parts.len() - 1;
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    parts[current].push(next);
                }
            }
            '{' => {
                level += 1;
                parts[current].push(c);
            }
            '}' => {
                level = level.saturating_sub(1);
                parts[current].push(c);
            }
            ';' if level == 0 => parts.push(String::new()),
            _ => parts[current].push(c),
        }
    }
    parts
}

fn wildcard_match(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|k| wildcard_match(&text[k..], rest)),
        Some(('?', rest)) => !text.is_empty() && wildcard_match(&text[1..], rest),
        Some((c, rest)) => text.first() == Some(c) && wildcard_match(&text[1..], rest),
    }
}

fn conditional(
    args: &str,
    lookup: &dyn Fn(VarName<'_>) -> Option<String>,
    depth: usize,
) -> Result<String, VarError> {
    let parts = split_if_args(args);
    let [left, op, right, then, otherwise] = parts.as_slice() else {
        return Err(VarError::InvalidIf(format!(
            "expected 5 arguments, got {}",
            parts.len()
        )));
    };
    let left = expand_at(left, lookup, depth + 1)?;
    let right = expand_at(right, lookup, depth + 1)?;
    let numbers = || -> Result<(i64, i64), VarError> {
        let parse = |s: &str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| VarError::InvalidIf(format!("not a number: {s}")))
        };
        Ok((parse(&left)?, parse(&right)?))
    };
    let truth = match op.as_str() {
        "eq" => left == right,
        "ne" => left != right,
        "lt" => left < right,
        "le" => left <= right,
        "gt" => left > right,
        "ge" => left >= right,
        "==" => numbers().map(|(a, b)| a == b)?,
        "!=" => numbers().map(|(a, b)| a != b)?,
        "<" => numbers().map(|(a, b)| a < b)?,
        "<=" => numbers().map(|(a, b)| a <= b)?,
        ">" => numbers().map(|(a, b)| a > b)?,
        ">=" => numbers().map(|(a, b)| a >= b)?,
        "*" | "!*" => {
            let text: Vec<char> = left.chars().collect();
            let pattern: Vec<char> = right.chars().collect();
            wildcard_match(&text, &pattern) == (op == "*")
        }
        other => return Err(VarError::InvalidIf(format!("unsupported operator {other}"))),
    };
    expand_at(if truth { then } else { otherwise }, lookup, depth + 1)
}

/// Dovecot's `str_hash` (the ELF/PJW hash), used by `%H`.
fn str_hash(text: &str) -> u32 {
    let mut h: u32 = 0;
    for b in text.bytes() {
        h = (h << 4).wrapping_add(u32::from(b));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
            h ^= g;
        }
    }
    h
}

fn pad_hash(value: u64, spec: &mut Spec) -> String {
    let modulus = spec.width.take().filter(|w| *w > 0);
    let value = match modulus {
        Some(m) => value % (m as u64),
        None => value,
    };
    let mut hex = format!("{value:x}");
    let min_len = usize::try_from(spec.offset).unwrap_or(0);
    while hex.len() < min_len {
        hex.insert(0, '0');
    }
    spec.offset = 0;
    hex
}

fn apply(mut value: String, mut spec: Spec) -> String {
    let modifiers = std::mem::take(&mut spec.modifiers);
    for m in modifiers {
        value = match m {
            'L' => value.to_lowercase(),
            'U' => value.to_uppercase(),
            'E' => {
                let mut escaped = String::with_capacity(value.len());
                for c in value.chars() {
                    if matches!(c, '"' | '\'' | '\\') {
                        escaped.push('\\');
                    }
                    escaped.push(c);
                }
                escaped
            }
            'X' => format!("{:x}", value.trim().parse::<u64>().unwrap_or(0)),
            'R' => value.chars().rev().collect(),
            'H' => pad_hash(u64::from(str_hash(&value)), &mut spec),
            'N' => {
                let digest = Md5::digest(value.as_bytes());
                let mut first = [0u8; 8];
                first.copy_from_slice(&digest[..8]);
                // Dovecot keeps 64 bits for the modulus but prints them as 32-bit.
                let modulus = spec.width.take().filter(|w| *w > 0);
                let mut value = u64::from_be_bytes(first);
                if let Some(m) = modulus {
                    value %= m as u64;
                }
                pad_hash(u64::from(value as u32), &mut spec)
            }
            'M' => Md5::digest(value.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            'D' => value.replace('.', ",dc="),
            'T' => value.trim_end().to_string(),
            _ => value,
        };
    }
    let mut chars: Vec<char> = value.chars().collect();
    if spec.offset > 0 {
        let skip = usize::try_from(spec.offset)
            .unwrap_or(usize::MAX)
            .min(chars.len());
        chars.drain(..skip);
    } else if spec.offset < 0 {
        let keep = usize::try_from(-spec.offset)
            .unwrap_or(usize::MAX)
            .min(chars.len());
        chars.drain(..chars.len() - keep);
    }
    match spec.width {
        Some(width) if width > 0 => {
            let width = usize::try_from(width).unwrap_or(usize::MAX);
            if spec.zero_pad {
                while chars.len() < width {
                    chars.insert(0, '0');
                }
            } else {
                chars.truncate(width);
            }
        }
        Some(width) if width < 0 => {
            let drop = usize::try_from(-width)
                .unwrap_or(usize::MAX)
                .min(chars.len());
            chars.truncate(chars.len() - drop);
        }
        _ => {}
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jane() -> VarTable {
        VarTable::for_user("Jane.Doe@Example.org")
            .with(Some('h'), "home", "/home/jane")
            .with(Some('s'), "service", "imap")
            .with(Some('r'), "rip", "192.0.2.7")
            .with(Some('l'), "lip", "192.0.2.1")
            .with(None, "hostname", "mx.example.org")
    }

    #[test]
    fn basic_variables() {
        let t = jane();
        assert_eq!(
            t.expand("%u|%n|%d|%h|%s|%%").unwrap(),
            "Jane.Doe@Example.org|Jane.Doe|Example.org|/home/jane|imap|%"
        );
        assert_eq!(
            t.expand("%{user} %{username} %{domain}").unwrap(),
            "Jane.Doe@Example.org Jane.Doe Example.org"
        );
        assert_eq!(
            t.expand("%{remote_ip}/%{lip}").unwrap(),
            "192.0.2.7/192.0.2.1"
        );
        assert_eq!(
            t.expand("sdbox:/var/mail/%n/").unwrap(),
            "sdbox:/var/mail/Jane.Doe/"
        );
    }

    #[test]
    fn mail_context_builders() {
        let t = VarTable::for_user("jane@example.org")
            .home("/home/jane")
            .service("pop3")
            .local_ip("192.0.2.1".parse().unwrap())
            .remote_ip("2001:db8::7".parse().unwrap())
            .pid()
            .ids(1001, 100)
            .session("abc")
            .hostname("mx");
        assert_eq!(
            t.expand("%h %s %l %r %i %{gid} %{session} %{hostname} %{local_ip}")
                .unwrap(),
            "/home/jane pop3 192.0.2.1 2001:db8::7 1001 100 abc mx 192.0.2.1"
        );
        assert_eq!(t.expand("%p").unwrap(), std::process::id().to_string());
    }

    #[test]
    fn modifiers() {
        let t = jane();
        assert_eq!(t.expand("%Lu").unwrap(), "jane.doe@example.org");
        assert_eq!(t.expand("%Ud").unwrap(), "EXAMPLE.ORG");
        assert_eq!(t.expand("%L{user}").unwrap(), "jane.doe@example.org");
        assert_eq!(t.expand("%Rn").unwrap(), "eoD.enaJ");
        assert_eq!(t.expand("%Dd").unwrap(), "Example,dc=org");
        assert_eq!(t.expand("%Ln").unwrap(), "jane.doe");
        assert_eq!(
            t.expand("%M{username}").unwrap(),
            "35f5308b6e832df673c98b99dac4559e"
        );
        let e = VarTable::new().with(Some('x'), "x", "a\"b'c\\");
        assert_eq!(e.expand("%Ex").unwrap(), "a\\\"b\\'c\\\\");
        let ws = VarTable::new().with(Some('x'), "x", "ab  ");
        assert_eq!(ws.expand("[%Tx]").unwrap(), "[ab]");
    }

    #[test]
    fn width_offset_padding() {
        let t = jane();
        assert_eq!(t.expand("%1n").unwrap(), "J");
        assert_eq!(t.expand("%2.3n").unwrap(), "ne.");
        assert_eq!(t.expand("%-3.3n").unwrap(), "Doe");
        assert_eq!(t.expand("%.-4n").unwrap(), "Jane");
        assert_eq!(
            t.expand("%-3n").unwrap(),
            "Jan",
            "a sign without a dot is ignored"
        );
        assert_eq!(
            t.expand("%05.3n").unwrap(),
            "Doe",
            "a 0 before the dot does not pad"
        );
        assert_eq!(
            t.expand("%0.05n").unwrap(),
            "Jane.Doe",
            "padding never truncates"
        );
        assert_eq!(t.expand("%.010n").unwrap(), "00Jane.Doe");
        assert_eq!(t.expand("%{pid}").unwrap(), std::process::id().to_string());
        assert_eq!(t.expand("%1.1Ln").unwrap(), "a");
    }

    #[test]
    fn pop3_uidl_format() {
        let uidl = VarTable::new().with(Some('u'), "uid", "1").with(
            Some('v'),
            "uidvalidity",
            "1700000000",
        );
        assert_eq!(uidl.expand("%08Xu%08Xv").unwrap(), "000000016553f100");
        let big = VarTable::new().with(Some('u'), "uid", "4294967295");
        assert_eq!(big.expand("%08Xu").unwrap(), "ffffffff");
    }

    #[test]
    fn hashes() {
        let t = VarTable::new().with(Some('n'), "username", "jane");
        let h = t.expand("%256Hn").unwrap();
        assert!(u64::from_str_radix(&h, 16).unwrap() < 256);
        assert_eq!(h, format!("{:x}", str_hash("jane") % 256));
        let padded = t.expand("%4.256Hn").unwrap();
        assert_eq!(padded.len(), 4);
        let n = t.expand("%2.256Nn").unwrap();
        assert!(n.len() >= 2 && u64::from_str_radix(&n, 16).unwrap() < 256);
        // md5("jane") = 5844a15e76563fed…: %N keeps the first 64 bits, takes
        // the modulus there and prints the low 32 bits.
        assert_eq!(t.expand("%Nn").unwrap(), "76563fed");
        assert_eq!(t.expand("%256Nn").unwrap(), "ed");
    }

    #[test]
    fn md5_modifier_matches_rfc1321_vectors() {
        let vectors = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, expected) in vectors {
            let t = VarTable::new().with(Some('x'), "x", input);
            assert_eq!(t.expand("%Mx").unwrap(), expected, "md5({input:?})");
        }
    }

    #[test]
    fn env_and_conditionals() {
        let t = jane();
        assert_eq!(t.expand("%{env:TERN_SURELY_UNSET_VAR}").unwrap(), "");
        let default_postmaster = "postmaster@%{if;%d;ne;;%d;%{hostname}}";
        assert_eq!(
            t.expand(default_postmaster).unwrap(),
            "postmaster@Example.org"
        );
        let local = VarTable::for_user("root").with(None, "hostname", "mx.example.org");
        assert_eq!(
            local.expand(default_postmaster).unwrap(),
            "postmaster@mx.example.org"
        );
        assert_eq!(t.expand("%{if;10;>;9;big;small}").unwrap(), "big");
        assert_eq!(t.expand("%{if;%s;*;im*;yes;no}").unwrap(), "yes");
        assert!(matches!(
            t.expand("%{if;a;~;b;c;d}"),
            Err(VarError::InvalidIf(_))
        ));
        assert!(matches!(
            t.expand("%{if;a;eq;b}"),
            Err(VarError::InvalidIf(_))
        ));
    }

    #[test]
    fn lenient_expansion_keeps_the_line() {
        let t = VarTable::new()
            .with(Some('i'), "input", "12")
            .with(None, "deleted", "3");
        assert_eq!(
            t.expand_lenient("in=%i del=%{deleted} x=%z y=%{nope} %%")
                .unwrap(),
            "in=12 del=3 x= y=UNSUPPORTED_VARIABLE_nope %"
        );
        assert_eq!(
            t.expand_lenient("%{pid}").unwrap(),
            std::process::id().to_string()
        );
        assert_eq!(t.expand_lenient("%5.2{nope}").unwrap(), "PO");
        assert_eq!(t.expand_lenient("abc%"), Err(VarError::TrailingPercent));
    }

    #[test]
    fn errors_are_values_not_panics() {
        let t = jane();
        assert_eq!(t.expand("%z"), Err(VarError::Unknown("z".into())));
        assert_eq!(t.expand("%{nope}"), Err(VarError::Unknown("nope".into())));
        assert_eq!(t.expand("abc%"), Err(VarError::TrailingPercent));
        assert_eq!(t.expand("%{user"), Err(VarError::Unterminated));
        assert_eq!(t.expand("%08X"), Err(VarError::TrailingPercent));
        assert_eq!(t.expand("%LLLLLLLLLLLu"), Err(VarError::TooManyModifiers));
        for junk in [
            "%",
            "%-",
            "%.",
            "%0",
            "%{",
            "%{}",
            "%{if;",
            "%99999999999999999999999u",
            "%-99999999999.-9999999999u",
            "é%Ué",
        ] {
            let _ = t.expand(junk);
        }
        assert_eq!(
            t.expand("%-99999999999999u").unwrap(),
            "Jane.Doe@Example.org"
        );
    }
}
