//! MIME header values: Content-Type, Content-Disposition (RFC 2045, 2183),
//! Content-Language (RFC 3282) and parameters with RFC 2231 continuations.
//!
//! RFC 2231 decision (same as Dovecot): continuations (`name*0`, `name*1`,
//! ...) are joined into one parameter. When the value is charset-tagged
//! (`name*=utf-8''caf%C3%A9` or `name*0*=...`), the joined parameter keeps
//! the `*` on its name and its `charset'language'percent-encoded` value
//! undecoded: IMAP has no way to say which charset a parameter value is in,
//! and clients that understand RFC 2231 decode it themselves.
//! [`decode_rfc2231`] gives the decoded text for search.

/// MIME parameters as (name, value) pairs, in header order.
pub type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// A parsed `type/subtype; params` value. Case is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    pub media_type: Vec<u8>,
    pub subtype: Vec<u8>,
    pub params: Params,
}

impl ContentType {
    /// The RFC 2045 default: `text/plain; charset=us-ascii`.
    pub fn default_text() -> ContentType {
        ContentType {
            media_type: b"text".to_vec(),
            subtype: b"plain".to_vec(),
            params: vec![(b"charset".to_vec(), b"us-ascii".to_vec())],
        }
    }

    /// The RFC 2046 default inside multipart/digest.
    pub fn default_message() -> ContentType {
        ContentType {
            media_type: b"message".to_vec(),
            subtype: b"rfc822".to_vec(),
            params: Vec::new(),
        }
    }

    pub fn is(&self, media_type: &str, subtype: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type.as_bytes())
            && self.subtype.eq_ignore_ascii_case(subtype.as_bytes())
    }

    pub fn is_type(&self, media_type: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type.as_bytes())
    }

    /// First parameter with this name (ASCII case-insensitive).
    pub fn param(&self, name: &str) -> Option<&[u8]> {
        find_param(&self.params, name)
    }
}

/// First parameter called `name` (ASCII case-insensitive).
pub fn find_param<'a>(params: &'a [(Vec<u8>, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        .map(|(_, v)| v.as_slice())
}

/// A parsed Content-Disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    pub kind: Vec<u8>,
    pub params: Params,
}

/// RFC 2045 tspecials plus blanks and controls end a token.
fn is_token_byte(b: u8) -> bool {
    b > b' '
        && b != 0x7f
        && !matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'@'
                | b','
                | b';'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'='
        )
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a [u8]) -> Self {
        Cursor { s, i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skips blanks, line breaks and (nested) comments.
    fn skip_cfws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.i += 1,
                b'(' => {
                    let mut depth = 0usize;
                    while let Some(c) = self.peek() {
                        self.i += 1;
                        match c {
                            b'\\' => self.i += 1,
                            b'(' => depth += 1,
                            b')' => {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                    self.i = self.i.min(self.s.len());
                }
                _ => break,
            }
        }
    }

    fn token(&mut self) -> Option<&'a [u8]> {
        self.skip_cfws();
        let start = self.i;
        while self.peek().is_some_and(is_token_byte) {
            self.i += 1;
        }
        if self.i > start {
            Some(&self.s[start..self.i])
        } else {
            None
        }
    }

    /// A quoted string (unescaped, line breaks removed) or a token. Lenient:
    /// stray bytes up to the next `;` are taken as the value.
    fn value(&mut self) -> Vec<u8> {
        self.skip_cfws();
        if self.peek() == Some(b'"') {
            self.i += 1;
            let mut out = Vec::new();
            while let Some(b) = self.peek() {
                self.i += 1;
                match b {
                    b'"' => break,
                    b'\\' => {
                        if let Some(n) = self.peek() {
                            out.push(n);
                            self.i += 1;
                        }
                    }
                    b'\r' | b'\n' => {}
                    _ => out.push(b),
                }
            }
            return out;
        }
        let start = self.i;
        while let Some(b) = self.peek() {
            if b == b';' || b == b' ' || b == b'\t' || b == b'\r' || b == b'\n' || b == b'(' {
                break;
            }
            self.i += 1;
        }
        self.s[start..self.i].to_vec()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip_cfws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Moves past the next `;` (or to the end).
    fn skip_past_semicolon(&mut self) {
        match memchr::memchr(b';', &self.s[self.i..]) {
            Some(p) => self.i += p + 1,
            None => self.i = self.s.len(),
        }
    }
}

/// Parses a Content-Type value. `None` when it is not `type/subtype`, in
/// which case RFC 2045 §5.2 says to use the default.
pub fn parse_content_type(raw: &[u8]) -> Option<ContentType> {
    let mut c = Cursor::new(raw);
    let media_type = c.token()?.to_vec();
    if !c.eat(b'/') {
        return None;
    }
    let subtype = c.token()?.to_vec();
    let params = parse_params(&mut c);
    Some(ContentType {
        media_type,
        subtype,
        params,
    })
}

/// Parses a Content-Disposition value; `None` without a disposition type.
pub fn parse_disposition(raw: &[u8]) -> Option<Disposition> {
    let mut c = Cursor::new(raw);
    let kind = c.token()?.to_vec();
    let params = parse_params(&mut c);
    Some(Disposition { kind, params })
}

/// Parses Content-Language: a comma-separated list of language tags.
pub fn parse_language(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut c = Cursor::new(raw);
    let mut out = Vec::new();
    loop {
        c.skip_cfws();
        match c.peek() {
            None => break,
            Some(b',') => c.i += 1,
            Some(_) => match c.token() {
                Some(t) => out.push(t.to_vec()),
                None => c.i += 1,
            },
        }
    }
    out
}

/// Largest RFC 2231 section number accepted; more would let a tiny header
/// make us sort and join huge section lists.
const MAX_RFC2231_SECTION: u32 = 255;

/// An RFC 2231 parameter split into numbered sections.
struct ContinuedParam {
    /// Base name, lower-cased, to collect the sections.
    key: Vec<u8>,
    /// Where the joined parameter goes in the output (first appearance).
    slot: usize,
    /// (section number, extended, value)
    sections: Vec<(u32, bool, Vec<u8>)>,
}

struct RawParam {
    name: Vec<u8>,
    value: Vec<u8>,
}

/// Most parameters kept from one header value. Real mail has a handful;
/// the cap keeps the RFC 2231 merge (quadratic in distinct names) cheap on
/// hostile input.
pub const MAX_PARAMS: usize = 256;

fn parse_params(c: &mut Cursor<'_>) -> Params {
    let mut raw = Vec::new();
    while raw.len() < MAX_PARAMS {
        c.skip_cfws();
        match c.peek() {
            None => break,
            Some(b';') => {
                c.i += 1;
                continue;
            }
            Some(_) => {}
        }
        let Some(name) = c.token() else {
            c.skip_past_semicolon();
            continue;
        };
        if !c.eat(b'=') {
            c.skip_past_semicolon();
            continue;
        }
        let value = c.value();
        raw.push(RawParam {
            name: name.to_vec(),
            value,
        });
    }
    merge_rfc2231(raw)
}

/// Splits `name*3*` into (`name`, Some(3), extended=true).
fn split_rfc2231_name(name: &[u8]) -> (&[u8], Option<u32>, bool) {
    let Some(star) = memchr::memchr(b'*', name) else {
        return (name, None, false);
    };
    let base = &name[..star];
    let rest = &name[star + 1..];
    if rest.is_empty() {
        return (base, None, true);
    }
    let (digits, extended) = match rest.strip_suffix(b"*") {
        Some(d) => (d, true),
        None => (rest, false),
    };
    let section = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u32>().ok());
    match section {
        Some(n) if n <= MAX_RFC2231_SECTION && !digits.is_empty() => (base, Some(n), extended),
        // Not a valid section: keep the parameter as it came.
        _ => (name, None, false),
    }
}

fn percent_encode_into(value: &[u8], out: &mut Vec<u8>) {
    for &b in value {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
}

fn merge_rfc2231(raw: Vec<RawParam>) -> Params {
    let mut groups: Vec<ContinuedParam> = Vec::new();
    let mut out: Params = Vec::new();
    for p in raw {
        let (base, section, extended) = split_rfc2231_name(&p.name);
        match section {
            None if !extended => out.push((p.name, p.value)),
            None => {
                let mut name = base.to_vec();
                name.push(b'*');
                out.push((name, p.value));
            }
            Some(n) => {
                let key = base.to_ascii_lowercase();
                match groups.iter_mut().find(|g| g.key == key) {
                    Some(g) => g.sections.push((n, extended, p.value)),
                    None => {
                        out.push((base.to_vec(), Vec::new()));
                        groups.push(ContinuedParam {
                            key,
                            slot: out.len() - 1,
                            sections: vec![(n, extended, p.value)],
                        });
                    }
                }
            }
        }
    }
    for ContinuedParam {
        slot, mut sections, ..
    } in groups
    {
        sections.sort_by_key(|s| s.0);
        let extended = sections.first().is_some_and(|s| s.0 == 0 && s.1);
        let mut value = Vec::new();
        for (_, ext, v) in &sections {
            if extended && !ext {
                percent_encode_into(v, &mut value);
            } else {
                value.extend_from_slice(v);
            }
        }
        if let Some(entry) = out.get_mut(slot) {
            if extended {
                entry.0.push(b'*');
            }
            entry.1 = value;
        }
    }
    out
}

/// Decodes an RFC 2231 extended value `charset'language'percent-text` to
/// text (for search). Values without the two quotes are taken as they are.
pub fn decode_rfc2231(value: &[u8]) -> String {
    let mut parts = value.splitn(3, |&b| b == b'\'');
    let (Some(charset), Some(_lang), Some(text)) = (parts.next(), parts.next(), parts.next())
    else {
        return String::from_utf8_lossy(value).into_owned();
    };
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' && i + 2 < text.len() {
            let hex = std::str::from_utf8(&text[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                bytes.push(b);
                i += 3;
                continue;
            }
        }
        bytes.push(text[i]);
        i += 1;
    }
    super::transfer::decode_charset(&bytes, Some(charset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
        (n.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    #[test]
    fn content_type_basic() {
        let ct =
            parse_content_type(b" Text/HTML; Charset=\"UTF-8\"; format=flowed (comment)").unwrap();
        assert_eq!(ct.media_type, b"Text");
        assert_eq!(ct.subtype, b"HTML");
        assert!(ct.is("text", "html"));
        assert_eq!(
            ct.params,
            vec![p("Charset", "UTF-8"), p("format", "flowed")]
        );
        assert_eq!(ct.param("charset"), Some(&b"UTF-8"[..]));
    }

    #[test]
    fn folded_boundary_and_escapes() {
        let ct = parse_content_type(b" multipart/mixed; boundary=\"foo\r\n bar\"; x=\"a\\\"b\"")
            .unwrap();
        assert_eq!(ct.param("boundary"), Some(&b"foo bar"[..]));
        assert_eq!(ct.param("x"), Some(&b"a\"b"[..]));
    }

    #[test]
    fn invalid_content_type() {
        assert_eq!(parse_content_type(b" text"), None);
        assert_eq!(parse_content_type(b""), None);
        assert_eq!(parse_content_type(b" /plain"), None);
        // Broken parameters are skipped, good ones kept.
        let ct = parse_content_type(b" text/plain; ;junk; charset=utf-8; =x; y").unwrap();
        assert_eq!(ct.params, vec![p("charset", "utf-8")]);
    }

    #[test]
    fn rfc2231_continuations() {
        let d = parse_disposition(
            b" attachment; filename*0=\"long \"; filename*1=\"name.txt\"; size=3",
        )
        .unwrap();
        assert_eq!(d.kind, b"attachment");
        assert_eq!(
            d.params,
            vec![p("filename", "long name.txt"), p("size", "3")]
        );
        let d =
            parse_disposition(b" inline; filename*0*=utf-8''caf%C3%A9; filename*1=\" x\"").unwrap();
        assert_eq!(d.params, vec![p("filename*", "utf-8''caf%C3%A9%20x")]);
        let d = parse_disposition(b" inline; title*=us-ascii'en'This%20is").unwrap();
        assert_eq!(d.params, vec![p("title*", "us-ascii'en'This%20is")]);
        assert_eq!(decode_rfc2231(b"utf-8''caf%C3%A9%20x"), "café x");
        assert_eq!(decode_rfc2231(b"plain"), "plain");
        assert_eq!(decode_rfc2231(b"utf-8''bad%zz%"), "bad%zz%");
    }

    #[test]
    fn parameter_count_is_capped() {
        let mut value = b"text/plain".to_vec();
        for i in 0..(MAX_PARAMS + 50) {
            value.extend_from_slice(format!("; p{i}*0=x").as_bytes());
        }
        let ct = parse_content_type(&value).unwrap();
        assert_eq!(ct.params.len(), MAX_PARAMS);
    }

    #[test]
    fn languages() {
        assert_eq!(
            parse_language(b" en, fi,se (x)"),
            vec![b"en".to_vec(), b"fi".to_vec(), b"se".to_vec()]
        );
        assert!(parse_language(b" ").is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b"a/b; c*99999999999=1"[..],
            b"a/b; c*=",
            b"a/b; c=\"",
            b"a/b; (((",
            b"a/b;\\",
            b"a/b; x*0*=1; x*300=2",
        ] {
            let _ = parse_content_type(raw);
        }
    }
}
