//! BODY[section]<partial> and BINARY[section] extraction (RFC 9051 §6.4.5,
//! RFC 3516).
//!
//! All data is returned in CRLF-canonical form so that it matches the sizes
//! in BODYSTRUCTURE and RFC822.SIZE. When the requested bytes already are
//! canonical (the usual case) the answer is a range into the raw message;
//! otherwise, and for HEADER.FIELDS and decoded BINARY data, it is an owned
//! buffer.

use std::ops::Range;

use super::MessageError;
use super::header::HeaderBlock;
use super::transfer::{TransferEncoding, decode_base64, decode_quoted_printable, to_crlf};
use super::tree::{MimePart, PartKind};

/// The text part of a section spec (after the part numbers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    Header,
    /// Field names as the client sent them (matched case-insensitively).
    HeaderFields(Vec<Vec<u8>>),
    HeaderFieldsNot(Vec<Vec<u8>>),
    Text,
    /// Only after part numbers.
    Mime,
}

/// A parsed `section` of BODY[...] / BINARY[...]. `part` empty means the
/// whole message; numbers are 1-based as on the wire. `BODY[1.2.HEADER]`
/// is `Section { part: vec![1, 2], text: Some(Header) }`. (The IMAP codec
/// parses and writes the wire form.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Section {
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

/// Section bytes: a range into the raw message, or an owned buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionData {
    Range(Range<usize>),
    Owned(Vec<u8>),
}

impl SectionData {
    /// The bytes, given the raw message the range points into.
    pub fn bytes<'a>(&'a self, raw: &'a [u8]) -> &'a [u8] {
        match self {
            SectionData::Range(r) => raw.get(r.clone()).unwrap_or_default(),
            SectionData::Owned(v) => v,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SectionData::Range(r) => r.len(),
            SectionData::Owned(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies a `<start.length>` partial (`length` `None` = to the end).
    /// A start past the end gives empty data, as RFC 9051 requires.
    pub fn partial(self, start: u64, length: Option<u64>) -> SectionData {
        let len = self.len();
        let from = usize::try_from(start).unwrap_or(usize::MAX).min(len);
        let to = match length {
            Some(l) => from
                .saturating_add(usize::try_from(l).unwrap_or(usize::MAX))
                .min(len),
            None => len,
        };
        match self {
            SectionData::Range(r) => SectionData::Range(r.start + from..r.start + to),
            SectionData::Owned(mut v) => {
                v.truncate(to);
                v.drain(..from);
                SectionData::Owned(v)
            }
        }
    }
}

/// Canonical bytes of `range`: the range itself when it has no bare LF.
fn canonical(raw: &[u8], range: Range<usize>) -> SectionData {
    match to_crlf(&raw[range.clone()]) {
        std::borrow::Cow::Borrowed(_) => SectionData::Range(range),
        std::borrow::Cow::Owned(v) => SectionData::Owned(v),
    }
}

/// Finds the part a part-number path names.
///
/// Numbering (RFC 9051 §6.4.5): numbers index the parts of a multipart; a
/// message whose body is not multipart has one part, number 1, its body;
/// after a message/rfc822 part the numbers continue in the encapsulated
/// message.
pub fn resolve<'t>(root: &'t MimePart, path: &[u32]) -> Result<&'t MimePart, MessageError> {
    let mut node = root;
    for (i, &n) in path.iter().enumerate() {
        let container = match &node.kind {
            _ if i == 0 => root,
            PartKind::Message(inner) => inner.as_ref(),
            _ => node,
        };
        node = match &container.kind {
            PartKind::Multipart(children) => {
                let index = (n as usize)
                    .checked_sub(1)
                    .ok_or(MessageError::NoSuchPart)?;
                children.get(index).ok_or(MessageError::NoSuchPart)?
            }
            // Part 1 of a single part is the part itself, at any depth
            // (Dovecot answers BODY[1.1] of a text part with its body).
            _ if n == 1 => container,
            _ => return Err(MessageError::NoSuchPart),
        };
    }
    Ok(node)
}

/// The message (header + body) that HEADER / TEXT / HEADER.FIELDS refer to.
fn message_for<'t>(
    root: &'t MimePart,
    node: &'t MimePart,
    path: &[u32],
) -> Result<&'t MimePart, MessageError> {
    if path.is_empty() {
        return Ok(root);
    }
    match &node.kind {
        PartKind::Message(inner) => Ok(inner),
        _ => Err(MessageError::NotMessage),
    }
}

/// BODY[section] data (before any partial).
pub fn fetch_section(
    raw: &[u8],
    root: &MimePart,
    section: &Section,
) -> Result<SectionData, MessageError> {
    let node = resolve(root, &section.part)?;
    let data = match &section.text {
        None if section.part.is_empty() => canonical(raw, 0..raw.len()),
        None => canonical(raw, node.body.clone()),
        Some(SectionText::Mime) => {
            if section.part.is_empty() {
                return Err(MessageError::MimeWithoutPart);
            }
            canonical(raw, node.header.range.clone())
        }
        Some(SectionText::Header) => canonical(
            raw,
            message_for(root, node, &section.part)?.header.range.clone(),
        ),
        Some(SectionText::Text) => {
            canonical(raw, message_for(root, node, &section.part)?.body.clone())
        }
        Some(SectionText::HeaderFields(names)) => SectionData::Owned(header_subset(
            raw,
            &message_for(root, node, &section.part)?.header,
            names,
            true,
        )),
        Some(SectionText::HeaderFieldsNot(names)) => SectionData::Owned(header_subset(
            raw,
            &message_for(root, node, &section.part)?.header,
            names,
            false,
        )),
    };
    Ok(data)
}

/// The fields whose names are (`keep`) or are not (`!keep`) in `names`, in
/// message order, each ending in CRLF, followed by the blank line.
fn header_subset(raw: &[u8], header: &HeaderBlock, names: &[Vec<u8>], keep: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for field in &header.fields {
        let name = &raw[field.name.clone()];
        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) != keep {
            continue;
        }
        let line = &raw[field.line.clone()];
        out.extend_from_slice(&to_crlf(line));
        if !line.ends_with(b"\n") {
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// BINARY[part] data: the part body with its transfer encoding undone.
/// Containers (and the whole message) come back unchanged. An unknown
/// encoding is [`MessageError::UnknownTransferEncoding`] (`[UNKNOWN-CTE]`).
pub fn fetch_binary(
    raw: &[u8],
    root: &MimePart,
    part: &[u32],
) -> Result<SectionData, MessageError> {
    if part.is_empty() {
        return Ok(canonical(raw, 0..raw.len()));
    }
    let node = resolve(root, part)?;
    if !matches!(node.kind, PartKind::Single) {
        return Ok(canonical(raw, node.body.clone()));
    }
    let body = &raw[node.body.clone()];
    match node.transfer_encoding(raw) {
        TransferEncoding::Identity => Ok(canonical(raw, node.body.clone())),
        TransferEncoding::Base64 => Ok(SectionData::Owned(decode_base64(body).0)),
        TransferEncoding::QuotedPrintable => {
            Ok(SectionData::Owned(decode_quoted_printable(body).0))
        }
        TransferEncoding::Unknown => Err(MessageError::UnknownTransferEncoding),
    }
}

/// True when [`fetch_binary`] of `part` decodes base64 or
/// quoted-printable (the whole message and multiparts never are).
pub fn binary_is_decoded(raw: &[u8], root: &MimePart, part: &[u32]) -> bool {
    if part.is_empty() {
        return false;
    }
    resolve(root, part).is_ok_and(|node| {
        matches!(node.kind, PartKind::Single)
            && matches!(
                node.transfer_encoding(raw),
                TransferEncoding::Base64 | TransferEncoding::QuotedPrintable
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"From: a@b\r\nSubject: s\r\n to\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n\
--x\r\nContent-Type: text/plain\r\n\r\npart one\r\n\
--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n\
--y\r\n\r\nalt one\r\n--y\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n--y--\r\n\
--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n\
--x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n--x--\r\n";

    fn get(section: Section) -> Result<Vec<u8>, MessageError> {
        let root = MimePart::parse_message(MSG);
        fetch_section(MSG, &root, &section).map(|d| d.bytes(MSG).to_vec())
    }

    fn sec(part: &[u32], text: Option<SectionText>) -> Section {
        Section {
            part: part.to_vec(),
            text,
        }
    }

    #[test]
    fn whole_header_text() {
        assert_eq!(get(sec(&[], None)).unwrap(), MSG);
        let header = get(sec(&[], Some(SectionText::Header))).unwrap();
        assert!(header.starts_with(b"From: a@b\r\n"));
        assert!(header.ends_with(b"boundary=x\r\n\r\n"));
        assert!(
            get(sec(&[], Some(SectionText::Text)))
                .unwrap()
                .starts_with(b"--x\r\n")
        );
    }

    #[test]
    fn parts_and_mime() {
        assert_eq!(get(sec(&[1], None)).unwrap(), b"part one");
        assert_eq!(
            get(sec(&[1], Some(SectionText::Mime))).unwrap(),
            b"Content-Type: text/plain\r\n\r\n"
        );
        assert_eq!(get(sec(&[2, 1], None)).unwrap(), b"alt one");
        assert_eq!(get(sec(&[2, 2], None)).unwrap(), b"SGVsbG8=");
        assert_eq!(get(sec(&[2, 1], Some(SectionText::Mime))).unwrap(), b"\r\n");
        assert_eq!(
            get(sec(&[2], Some(SectionText::Header))).unwrap(),
            b"Subject: inner\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n"
        );
        assert!(
            get(sec(&[2], Some(SectionText::Text)))
                .unwrap()
                .starts_with(b"--y\r\n\r\nalt one")
        );
        assert!(
            get(sec(&[2], None))
                .unwrap()
                .starts_with(b"Subject: inner\r\n")
        );
    }

    #[test]
    fn errors() {
        assert_eq!(get(sec(&[9], None)), Err(MessageError::NoSuchPart));
        assert_eq!(get(sec(&[0], None)), Err(MessageError::NoSuchPart));
        // Part 1 of a leaf is the leaf (Dovecot); part 2 of it is nothing.
        assert_eq!(get(sec(&[1, 1], None)), Ok(b"part one".to_vec()));
        assert_eq!(get(sec(&[1, 2], None)), Err(MessageError::NoSuchPart));
        assert_eq!(
            get(sec(&[1], Some(SectionText::Header))),
            Err(MessageError::NotMessage)
        );
        assert_eq!(
            get(sec(&[], Some(SectionText::Mime))),
            Err(MessageError::MimeWithoutPart)
        );
    }

    #[test]
    fn header_fields() {
        let names = vec![b"SUBJECT".to_vec(), b"x-none".to_vec()];
        assert_eq!(
            get(sec(&[], Some(SectionText::HeaderFields(names.clone())))).unwrap(),
            b"Subject: s\r\n to\r\n\r\n"
        );
        assert_eq!(
            get(sec(&[2], Some(SectionText::HeaderFields(names.clone())))).unwrap(),
            b"Subject: inner\r\n\r\n"
        );
        let not = get(sec(&[], Some(SectionText::HeaderFieldsNot(names)))).unwrap();
        assert_eq!(
            not,
            b"From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
        );
    }

    #[test]
    fn non_multipart_part_one_and_bare_lf() {
        let raw = b"Subject: x\nContent-Transfer-Encoding: base64\n\naGk=\n";
        let root = MimePart::parse_message(raw);
        let one = fetch_section(raw, &root, &sec(&[1], None)).unwrap();
        assert_eq!(one, SectionData::Owned(b"aGk=\r\n".to_vec()));
        assert_eq!(
            fetch_section(raw, &root, &sec(&[], None)).unwrap().len(),
            raw.len() + 4
        );
        assert_eq!(fetch_binary(raw, &root, &[1]).unwrap().bytes(raw), b"hi");
        assert_eq!(
            fetch_section(raw, &root, &sec(&[1], Some(SectionText::Mime)))
                .unwrap()
                .bytes(raw),
            b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        );
    }

    #[test]
    fn binary() {
        let root = MimePart::parse_message(MSG);
        assert_eq!(
            fetch_binary(MSG, &root, &[2, 2]).unwrap().bytes(MSG),
            b"Hello"
        );
        assert_eq!(fetch_binary(MSG, &root, &[3]).unwrap().bytes(MSG), b"a=b");
        assert_eq!(
            fetch_binary(MSG, &root, &[1]).unwrap().bytes(MSG),
            b"part one"
        );
        assert_eq!(
            fetch_binary(MSG, &root, &[4]),
            Err(MessageError::UnknownTransferEncoding)
        );
        assert_eq!(fetch_binary(MSG, &root, &[]).unwrap().len(), MSG.len());
        assert!(
            fetch_binary(MSG, &root, &[2])
                .unwrap()
                .bytes(MSG)
                .starts_with(b"Subject: inner")
        );
    }

    #[test]
    fn partials() {
        let d = SectionData::Range(10..20);
        assert_eq!(d.clone().partial(2, Some(3)), SectionData::Range(12..15));
        assert_eq!(d.clone().partial(8, Some(100)), SectionData::Range(18..20));
        assert_eq!(d.clone().partial(50, None), SectionData::Range(20..20));
        assert_eq!(d.partial(u64::MAX, Some(u64::MAX)).len(), 0);
        let o = SectionData::Owned(b"abcdef".to_vec());
        assert_eq!(
            o.clone().partial(1, Some(2)),
            SectionData::Owned(b"bc".to_vec())
        );
        assert_eq!(o.partial(4, None), SectionData::Owned(b"ef".to_vec()));
    }
}
