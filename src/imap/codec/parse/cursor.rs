//! A byte cursor with the IMAP lexical rules (atoms, strings, literals,
//! numbers, sequence sets, dates).

use crate::imap::codec::command::ParseErrorKind;
use crate::imap::codec::types::{
    Atom, Flag, ImapDate, ImapDateTime, Mailbox, SeqBound, SeqRange, SequenceSet,
};
use std::num::NonZeroU32;

use crate::imap::codec::types::{is_astring_char, is_atom_char, month_from_name};

/// Where and why parsing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail {
    pub kind: ParseErrorKind,
    pub pos: usize,
}

pub(crate) type PResult<T> = Result<T, Fail>;

pub(crate) struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Cursor { input, pos: 0 }
    }

    /// A cursor starting at `pos` (clamped to the input).
    pub fn at(input: &'a [u8], pos: usize) -> Self {
        Cursor {
            input,
            pos: pos.min(input.len()),
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn fail<T>(&self, kind: ParseErrorKind) -> PResult<T> {
        Err(Fail {
            kind,
            pos: self.pos,
        })
    }

    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    pub fn rest(&self) -> &'a [u8] {
        &self.input[self.pos..]
    }

    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect(&mut self, b: u8, what: &'static str) -> PResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            self.fail(ParseErrorKind::Expected(what))
        }
    }

    pub fn sp(&mut self) -> PResult<()> {
        self.expect(b' ', "space")
    }

    /// True at CRLF / LF (the end of the command line).
    pub fn at_eol(&self) -> bool {
        matches!(self.rest(), b"\r\n" | b"\n")
    }

    /// Consumes the final CRLF; nothing may follow.
    pub fn eol(&mut self) -> PResult<()> {
        if self.at_eol() {
            self.pos = self.input.len();
            Ok(())
        } else if self.rest().is_empty() {
            self.fail(ParseErrorKind::Expected("end of line"))
        } else {
            self.fail(ParseErrorKind::TrailingData)
        }
    }

    /// Case-insensitive keyword, which must not run on into more atom
    /// characters.
    pub fn keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest();
        let n = kw.len();
        if rest.len() >= n
            && rest[..n].eq_ignore_ascii_case(kw.as_bytes())
            && !rest
                .get(n)
                .is_some_and(|&b| is_atom_char(b) && b != b'[' && b != b'<')
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    /// A run of atom characters, stopping before `[` and `<` so that
    /// `BODY[` and `BODY.PEEK[` split naturally. Empty if none.
    pub fn token(&mut self) -> &'a [u8] {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !is_atom_char(b) || b == b'[' || b == b'<' {
                break;
            }
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }

    pub fn atom(&mut self) -> PResult<Atom> {
        let start = self.pos;
        while self.peek().is_some_and(is_atom_char) {
            self.pos += 1;
        }
        Atom::try_from(&self.input[start..self.pos]).or_else(|_| {
            self.pos = start;
            self.fail(ParseErrorKind::Expected("atom"))
        })
    }

    fn digits(&mut self) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }

    pub fn number64(&mut self) -> PResult<u64> {
        let start = self.pos;
        let digits = self.digits();
        if digits.is_empty() || digits.len() > 20 {
            self.pos = start;
            return self.fail(ParseErrorKind::InvalidNumber);
        }
        let mut n: u64 = 0;
        for &d in digits {
            match n
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => n = v,
                None => {
                    self.pos = start;
                    return self.fail(ParseErrorKind::InvalidNumber);
                }
            }
        }
        Ok(n)
    }

    pub fn number(&mut self) -> PResult<u32> {
        let start = self.pos;
        let n = self.number64()?;
        u32::try_from(n).or_else(|_| {
            self.pos = start;
            self.fail(ParseErrorKind::InvalidNumber)
        })
    }

    pub fn nz_number(&mut self) -> PResult<NonZeroU32> {
        let start = self.pos;
        let n = self.number()?;
        NonZeroU32::new(n).map_or_else(
            || {
                self.pos = start;
                self.fail(ParseErrorKind::InvalidNumber)
            },
            Ok,
        )
    }

    /// mod-sequence-value: 1..=2^63-1 (RFC 7162); `allow_zero` for
    /// mod-sequence-valzer.
    pub fn mod_sequence(&mut self, allow_zero: bool) -> PResult<u64> {
        let start = self.pos;
        let n = self.number64()?;
        if n > i64::MAX as u64 || (n == 0 && !allow_zero) {
            self.pos = start;
            return self.fail(ParseErrorKind::InvalidNumber);
        }
        Ok(n)
    }

    pub fn quoted(&mut self) -> PResult<Vec<u8>> {
        self.expect(b'"', "quoted string")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            out.push(c);
                            self.pos += 1;
                        }
                        _ => return self.fail(ParseErrorKind::Expected("quoted-special")),
                    }
                }
                None | Some(b'\r' | b'\n' | 0) => {
                    return self.fail(ParseErrorKind::Expected("closing quote"));
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `{n}` / `{n+}` CRLF data, or with `allow_binary` also `~{n}`.
    /// Returns the data and whether it was a literal8.
    pub fn literal(&mut self, allow_binary: bool) -> PResult<(Vec<u8>, bool)> {
        let start = self.pos;
        let binary = allow_binary && self.eat(b'~');
        self.expect(b'{', "literal")?;
        let len = self.number64()?;
        self.eat(b'+');
        self.expect(b'}', "}")?;
        self.eat(b'\r');
        self.expect(b'\n', "line end after literal")?;
        let Some(len) = usize::try_from(len)
            .ok()
            .filter(|&l| l <= self.rest().len())
        else {
            self.pos = start;
            return self.fail(ParseErrorKind::Incomplete);
        };
        let data = &self.input[self.pos..self.pos + len];
        if !binary && data.contains(&0) {
            return self.fail(ParseErrorKind::NulInLiteral);
        }
        self.pos += len;
        Ok((data.to_vec(), binary))
    }

    pub fn string(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => Ok(self.literal(false)?.0),
            _ => self.fail(ParseErrorKind::Expected("string")),
        }
    }

    pub fn astring(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(is_astring_char) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return self.fail(ParseErrorKind::Expected("astring"));
                }
                Ok(self.input[start..self.pos].to_vec())
            }
        }
    }

    /// NIL or a string.
    pub fn nstring(&mut self) -> PResult<Option<Vec<u8>>> {
        if self.keyword("NIL") {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    pub fn mailbox(&mut self) -> PResult<Mailbox> {
        Ok(Mailbox::from_bytes(&self.astring()?))
    }

    /// list-mailbox: 1*list-char (atom chars, `%`, `*`, `]`) or a string.
    pub fn list_mailbox(&mut self) -> PResult<Vec<u8>> {
        match self.peek() {
            Some(b'"' | b'{') => self.string(),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|b| is_astring_char(b) || b == b'%' || b == b'*')
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return self.fail(ParseErrorKind::Expected("mailbox pattern"));
                }
                Ok(self.input[start..self.pos].to_vec())
            }
        }
    }

    /// A flag: `\Seen`, `\Ext`, or a keyword atom.
    pub fn flag(&mut self) -> PResult<Flag> {
        let start = self.pos;
        self.eat(b'\\');
        while self.peek().is_some_and(is_atom_char) {
            self.pos += 1;
        }
        Flag::from_atom_bytes(&self.input[start..self.pos]).map_or_else(
            || {
                self.pos = start;
                self.fail(ParseErrorKind::Expected("flag"))
            },
            Ok,
        )
    }

    /// `(` [flag *(SP flag)] `)`.
    pub fn flag_list(&mut self) -> PResult<Vec<Flag>> {
        self.expect(b'(', "flag list")?;
        let mut flags = Vec::new();
        if self.eat(b')') {
            return Ok(flags);
        }
        loop {
            flags.push(self.flag()?);
            if self.eat(b')') {
                return Ok(flags);
            }
            self.sp()?;
        }
    }

    fn seq_bound(&mut self) -> PResult<SeqBound> {
        if self.eat(b'*') {
            Ok(SeqBound::Largest)
        } else {
            Ok(SeqBound::Value(self.nz_number()?))
        }
    }

    pub fn sequence_set(&mut self) -> PResult<SequenceSet> {
        if self.eat(b'$') {
            return Ok(SequenceSet::Saved);
        }
        let mut ranges = Vec::new();
        loop {
            let start = self.seq_bound()?;
            let end = if self.eat(b':') {
                self.seq_bound()?
            } else {
                start
            };
            ranges.push(SeqRange { start, end });
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SequenceSet::Ranges(ranges))
    }

    /// `date`: date-text or a quoted date-text (`1-Feb-2024`).
    pub fn date(&mut self) -> PResult<ImapDate> {
        let start = self.pos;
        self.date_inner()
            .or_else(|_| self.fail_at(start, ParseErrorKind::InvalidDate))
    }

    fn date_inner(&mut self) -> PResult<ImapDate> {
        let quoted = self.eat(b'"');
        let start = self.pos;
        let day = self.number()?;
        self.expect(b'-', "-")?;
        let month = self.month()?;
        self.expect(b'-', "-")?;
        let year = self.number()?;
        if quoted {
            self.expect(b'"', "closing quote")?;
        }
        match (u8::try_from(day), u16::try_from(year)) {
            (Ok(d), Ok(y)) if (1000..=9999).contains(&year) => ImapDate::new(y, month, d)
                .or_else(|_| self.fail_at(start, ParseErrorKind::InvalidDate)),
            _ => self.fail_at(start, ParseErrorKind::InvalidDate),
        }
    }

    fn fail_at<T>(&self, pos: usize, kind: ParseErrorKind) -> PResult<T> {
        Err(Fail { kind, pos })
    }

    fn month(&mut self) -> PResult<u8> {
        let start = self.pos;
        let name = self.rest().get(..3).unwrap_or_default();
        match month_from_name(name) {
            Some(m) => {
                self.pos += 3;
                Ok(m)
            }
            None => self.fail_at(start, ParseErrorKind::InvalidDate),
        }
    }

    fn two_digits(&mut self) -> PResult<u8> {
        match self.rest() {
            [a, b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => {
                self.pos += 2;
                Ok((a - b'0') * 10 + (b - b'0'))
            }
            _ => self.fail(ParseErrorKind::InvalidDate),
        }
    }

    /// `"dd-Mon-yyyy hh:mm:ss +zzzz"` (day may be space-padded).
    pub fn date_time(&mut self) -> PResult<ImapDateTime> {
        let start = self.pos;
        self.date_time_inner()
            .or_else(|_| self.fail_at(start, ParseErrorKind::InvalidDate))
    }

    fn date_time_inner(&mut self) -> PResult<ImapDateTime> {
        let start = self.pos;
        self.expect(b'"', "date-time")?;
        self.eat(b' ');
        let day = self.number()?;
        self.expect(b'-', "-")?;
        let month = self.month()?;
        self.expect(b'-', "-")?;
        let year = self.number()?;
        self.sp()?;
        let hour = self.two_digits()?;
        self.expect(b':', ":")?;
        let minute = self.two_digits()?;
        self.expect(b':', ":")?;
        let second = self.two_digits()?;
        self.sp()?;
        let negative = match self.peek() {
            Some(b'+') => false,
            Some(b'-') => true,
            _ => return self.fail(ParseErrorKind::InvalidDate),
        };
        self.pos += 1;
        let zh = self.two_digits()?;
        let zm = self.two_digits()?;
        self.expect(b'"', "closing quote")?;
        let zone = i16::from(zh) * 60 + i16::from(zm);
        let zone = if negative { -zone } else { zone };
        let date = match (u8::try_from(day), u16::try_from(year)) {
            (Ok(d), Ok(y)) if (1000..=9999).contains(&year) => ImapDate::new(y, month, d).ok(),
            _ => None,
        };
        date.and_then(|d| ImapDateTime::new(d, hour, minute, second, zone).ok())
            .map_or_else(|| self.fail_at(start, ParseErrorKind::InvalidDate), Ok)
    }

    /// `(` item *(SP item) `)` with at least one item.
    pub fn paren_list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect(b'(', "(")?;
        let mut items = vec![item(self)?];
        while !self.eat(b')') {
            self.sp()?;
            items.push(item(self)?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        let mut c = Cursor::new(b"\"a\\\"b\" {3}\r\nxyz abc]d NIL");
        assert_eq!(c.astring().unwrap(), b"a\"b");
        c.sp().unwrap();
        assert_eq!(c.astring().unwrap(), b"xyz");
        c.sp().unwrap();
        assert_eq!(c.astring().unwrap(), b"abc]d");
        c.sp().unwrap();
        assert_eq!(c.nstring().unwrap(), None);
    }

    #[test]
    fn literal_past_end_is_error() {
        let mut c = Cursor::new(b"{10}\r\nabc");
        assert_eq!(c.astring().unwrap_err().kind, ParseErrorKind::Incomplete);
        let mut c = Cursor::new(b"{3}\r\na\0c");
        assert_eq!(c.astring().unwrap_err().kind, ParseErrorKind::NulInLiteral);
        let mut c = Cursor::new(b"~{3}\r\na\0c");
        assert_eq!(c.literal(true).unwrap(), (b"a\0c".to_vec(), true));
    }

    #[test]
    fn numbers() {
        assert_eq!(Cursor::new(b"4294967295").number().unwrap(), u32::MAX);
        assert!(Cursor::new(b"4294967296").number().is_err());
        assert!(Cursor::new(b"0").nz_number().is_err());
        assert!(Cursor::new(b"99999999999999999999999").number64().is_err());
        assert!(
            Cursor::new(b"9223372036854775808")
                .mod_sequence(false)
                .is_err()
        );
    }

    #[test]
    fn dates() {
        let d = Cursor::new(b"1-Feb-2024").date().unwrap();
        assert_eq!((d.year(), d.month(), d.day()), (2024, 2, 1));
        assert!(Cursor::new(b"\"31-Apr-2024\"").date().is_err());
        let dt = Cursor::new(b"\" 7-Jul-2021 09:08:07 -0130\"")
            .date_time()
            .unwrap();
        assert_eq!(dt.zone_minutes(), -90);
        assert!(
            Cursor::new(b"\"07-Jul-2021 24:08:07 +0000\"")
                .date_time()
                .is_err()
        );
    }
}
