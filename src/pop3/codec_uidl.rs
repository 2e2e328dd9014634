//! `pop3_uidl_format` expansion for the variables POP3 UIDLs use.
//!
//! This is a deliberately small subset of Dovecot's `%` expansion, enough
//! for the formats seen in real configs: `%u` (UID), `%v` (UIDVALIDITY),
//! `%m` (header MD5), `%f` (Maildir file name), `%g` (GUID), their long
//! forms `%{uid}` etc., `%%`, zero padding `%08…`, truncation `%8…` and the
//! modifiers `X` (decimal → hex), `L` and `U` (case). The config layer will
//! own the full expander later; this must then agree with it.
//!
//! Dovecot's `X` modifier prints lower-case hex (`printf("%llx")`), so the
//! default `%08Xu%08Xv` gives e.g. `0000002a5f3b2c10`. Matching it byte for
//! byte matters: a different UIDL makes every client download every
//! message again after a migration.

use thiserror::Error;

/// Dovecot's default `pop3_uidl_format`.
pub const DEFAULT_UIDL_FORMAT: &str = "%08Xu%08Xv";

/// Widths above this are refused so a bad setting cannot allocate much.
const MAX_WIDTH: usize = 255;

/// The per-message values a UIDL can be built from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UidlValues<'a> {
    pub uid: u32,
    pub uidvalidity: u32,
    /// Hex MD5 of the message header (old UW-IMAP / qpopper migrations).
    pub header_md5: Option<&'a str>,
    /// Maildir base file name.
    pub filename: Option<&'a str>,
    /// Message GUID.
    pub guid: Option<&'a str>,
}

/// Why a format could not be expanded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UidlFormatError {
    #[error("unknown variable '%{0}' in pop3_uidl_format")]
    UnknownVariable(String),
    #[error("pop3_uidl_format uses %{0}, which this mailbox cannot provide")]
    MissingValue(&'static str),
    #[error("pop3_uidl_format ends in the middle of a % sequence")]
    Incomplete,
    #[error("pop3_uidl_format width is larger than {MAX_WIDTH}")]
    WidthTooLarge,
    #[error("pop3_uidl_format expands to an empty UIDL")]
    Empty,
}

/// Expands `format` for one message.
pub fn format_uidl(format: &str, values: &UidlValues<'_>) -> Result<String, UidlFormatError> {
    let mut out = String::with_capacity(24);
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let zero_pad = chars.next_if_eq(&'0').is_some();
        let mut width = 0usize;
        while let Some(digit) = chars
            .next_if(char::is_ascii_digit)
            .and_then(|d| d.to_digit(10))
        {
            width = width * 10 + digit as usize;
            if width > MAX_WIDTH {
                return Err(UidlFormatError::WidthTooLarge);
            }
        }
        let mut modifiers = Vec::new();
        while let Some(m) = chars.next_if(|c| matches!(c, 'X' | 'L' | 'U')) {
            modifiers.push(m);
        }
        let name: String = match chars.next() {
            None => return Err(UidlFormatError::Incomplete),
            Some('{') => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        None => return Err(UidlFormatError::Incomplete),
                        Some('}') => break,
                        Some(c) => name.push(c),
                    }
                }
                name
            }
            Some(short) => short.to_string(),
        };
        let mut value = lookup(&name, values)?;
        for modifier in modifiers {
            value = match modifier {
                // Like Dovecot: a value that is not a decimal number is 0.
                'X' => format!("{:x}", value.parse::<u64>().unwrap_or(0)),
                'L' => value.to_lowercase(),
                _ => value.to_uppercase(),
            };
        }
        let len = value.chars().count();
        if width == 0 {
            out.push_str(&value);
        } else if zero_pad {
            out.extend(std::iter::repeat_n('0', width.saturating_sub(len)));
            out.push_str(&value);
        } else {
            out.extend(value.chars().take(width));
        }
    }
    if out.is_empty() {
        return Err(UidlFormatError::Empty);
    }
    Ok(out)
}

fn lookup(name: &str, values: &UidlValues<'_>) -> Result<String, UidlFormatError> {
    let text = |value: Option<&str>, what: &'static str| {
        value
            .map(str::to_owned)
            .ok_or(UidlFormatError::MissingValue(what))
    };
    match name {
        "u" | "uid" => Ok(values.uid.to_string()),
        "v" | "uidvalidity" => Ok(values.uidvalidity.to_string()),
        "m" | "md5" => text(values.header_md5, "md5"),
        "f" | "filename" => text(values.filename, "filename"),
        "g" | "guid" => text(values.guid, "guid"),
        other => Err(UidlFormatError::UnknownVariable(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: UidlValues<'static> = UidlValues {
        uid: 42,
        uidvalidity: 1_597_713_424,
        header_md5: Some("9e107d9d372bb6826bd81d3542a419d6"),
        filename: Some("1597713424.M1P2.host"),
        guid: Some("Ab12Cd34"),
    };

    fn fmt(format: &str) -> Result<String, UidlFormatError> {
        format_uidl(format, &VALUES)
    }

    #[test]
    fn dovecot_default_is_lower_case_hex() {
        assert_eq!(fmt(DEFAULT_UIDL_FORMAT).unwrap(), "0000002a5f3b2c10");
        let small = UidlValues {
            uid: 1,
            uidvalidity: 1,
            ..UidlValues::default()
        };
        assert_eq!(
            format_uidl(DEFAULT_UIDL_FORMAT, &small).unwrap(),
            "0000000100000001"
        );
        let big = UidlValues {
            uid: u32::MAX,
            uidvalidity: u32::MAX,
            ..UidlValues::default()
        };
        assert_eq!(
            format_uidl(DEFAULT_UIDL_FORMAT, &big).unwrap(),
            "ffffffffffffffff"
        );
    }

    #[test]
    fn single_variables_and_long_names() {
        assert_eq!(fmt("%u").unwrap(), "42");
        assert_eq!(fmt("%v").unwrap(), "1597713424");
        assert_eq!(fmt("%m").unwrap(), "9e107d9d372bb6826bd81d3542a419d6");
        assert_eq!(fmt("%f").unwrap(), "1597713424.M1P2.host");
        assert_eq!(fmt("%g").unwrap(), "Ab12Cd34");
        assert_eq!(fmt("%{uid}.%{uidvalidity}").unwrap(), "42.1597713424");
        assert_eq!(
            fmt("%{guid}-%{md5}").unwrap(),
            "Ab12Cd34-9e107d9d372bb6826bd81d3542a419d6"
        );
        assert_eq!(fmt("%{filename}").unwrap(), "1597713424.M1P2.host");
        assert_eq!(fmt("UID%u-%v").unwrap(), "UID42-1597713424");
    }

    #[test]
    fn modifiers_padding_and_truncation() {
        assert_eq!(fmt("%Xu").unwrap(), "2a");
        assert_eq!(fmt("%XUu").unwrap(), "2A"); // modifiers apply left to right
        assert_eq!(fmt("%UXu").unwrap(), "2a");
        assert_eq!(fmt("%Lg").unwrap(), "ab12cd34");
        assert_eq!(fmt("%Ug").unwrap(), "AB12CD34");
        assert_eq!(fmt("%06u").unwrap(), "000042");
        assert_eq!(fmt("%01v").unwrap(), "1597713424"); // padding never truncates
        assert_eq!(fmt("%4v").unwrap(), "1597"); // plain width truncates
        assert_eq!(fmt("%Xg").unwrap(), "0"); // not a number → 0, as in Dovecot
        assert_eq!(fmt("100%%").unwrap(), "100%");
    }

    #[test]
    fn errors() {
        assert_eq!(fmt("%q"), Err(UidlFormatError::UnknownVariable("q".into())));
        assert_eq!(
            fmt("%{nope}"),
            Err(UidlFormatError::UnknownVariable("nope".into()))
        );
        assert_eq!(fmt("%"), Err(UidlFormatError::Incomplete));
        assert_eq!(fmt("%08X"), Err(UidlFormatError::Incomplete));
        assert_eq!(fmt("%{uid"), Err(UidlFormatError::Incomplete));
        assert_eq!(fmt("%999u"), Err(UidlFormatError::WidthTooLarge));
        assert_eq!(fmt(""), Err(UidlFormatError::Empty));
        assert_eq!(
            format_uidl("%f", &UidlValues::default()),
            Err(UidlFormatError::MissingValue("filename"))
        );
        assert!(fmt("%q").unwrap_err().to_string().contains("%q"));
    }
}
