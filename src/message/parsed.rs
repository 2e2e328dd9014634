//! [`ParsedMessage`]: parse a message once, answer every FETCH / SEARCH /
//! SORT question about it.

use super::MessageError;
use super::address::{display_key, sort_mailbox_key};
use super::bodystructure::BodyStructure;
use super::cache::CachedStructure;
use super::envelope::Envelope;
use super::header::{decode_value, message_ids, parse_date, parse_date_day};
use super::search::{self, SearchKey};
use super::section::{Section, SectionData, binary_is_decoded, fetch_binary, fetch_section};
use super::subject::base_subject;
use super::transfer::canonical_size;
use super::tree::MimePart;

/// A message parsed into its MIME tree; borrows the raw bytes.
#[derive(Debug, Clone)]
pub struct ParsedMessage<'a> {
    raw: &'a [u8],
    root: MimePart,
}

impl<'a> ParsedMessage<'a> {
    /// Parses a message. Never fails: malformed MIME still gives a tree.
    pub fn parse(raw: &'a [u8]) -> ParsedMessage<'a> {
        ParsedMessage {
            raw,
            root: MimePart::parse_message(raw),
        }
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn root(&self) -> &MimePart {
        &self.root
    }

    /// RFC822.SIZE: octets of the CRLF-canonical message.
    pub fn size(&self) -> u64 {
        canonical_size(self.raw).0
    }

    pub fn envelope(&self) -> Envelope {
        Envelope::from_header(self.raw, &self.root.header)
    }

    pub fn body_structure(&self) -> BodyStructure {
        BodyStructure::from_part(self.raw, &self.root)
    }

    /// ENVELOPE + BODYSTRUCTURE for the index cache.
    pub fn cached_structure(&self) -> CachedStructure {
        CachedStructure {
            envelope: self.envelope(),
            body: self.body_structure(),
        }
    }

    /// BODY[section] data; apply `<partial>` with [`SectionData::partial`]
    /// and read the bytes with [`SectionData::bytes`]`(parsed.raw())`.
    pub fn section(&self, section: &Section) -> Result<SectionData, MessageError> {
        fetch_section(self.raw, &self.root, section)
    }

    /// BINARY[part] data (transfer encoding undone).
    pub fn binary(&self, part: &[u32]) -> Result<SectionData, MessageError> {
        fetch_binary(self.raw, &self.root, part)
    }

    /// True when BINARY of `part` decodes a content-transfer-encoding
    /// (base64 or quoted-printable) rather than passing bytes through.
    pub fn binary_is_decoded(&self, part: &[u32]) -> bool {
        binary_is_decoded(self.raw, &self.root, part)
    }

    /// BINARY.SIZE[part].
    pub fn binary_size(&self, part: &[u32]) -> Result<u64, MessageError> {
        self.binary(part).map(|d| d.len() as u64)
    }

    /// Raw value of the first top-level header field `name`.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.root.header.get(self.raw, name)
    }

    /// Decoded (RFC 2047, unfolded) value of the first field `name`.
    pub fn header_decoded(&self, name: &str) -> Option<String> {
        self.header(name).map(decode_value)
    }

    /// The Date header as a unix timestamp (SORT DATE, SENTBEFORE/ON/SINCE);
    /// `None` when absent or unparsable (callers use the internal date).
    pub fn sent_date(&self) -> Option<i64> {
        self.header("date").and_then(parse_date)
    }

    /// The Date header's calendar day as written (days since 1970-01-01),
    /// for SENTBEFORE / SENTON / SENTSINCE.
    pub fn sent_day(&self) -> Option<i64> {
        self.header("date").and_then(parse_date_day)
    }

    /// Message ids in a Message-ID / In-Reply-To / References field, in
    /// order, without angle brackets (THREAD=REFERENCES).
    pub fn message_ids(&self, field: &str) -> Vec<Vec<u8>> {
        self.header(field).map(message_ids).unwrap_or_default()
    }

    /// SORT SUBJECT / THREAD key (RFC 5256 base subject).
    pub fn base_subject(&self) -> String {
        self.header("subject").map(base_subject).unwrap_or_default()
    }

    /// SORT FROM/TO/CC key: the first mailbox's local part ("" if none).
    pub fn address_sort_key(&self, field: &str) -> String {
        self.header(field).map(sort_mailbox_key).unwrap_or_default()
    }

    /// SORT DISPLAYFROM/DISPLAYTO key (RFC 5957).
    pub fn address_display_key(&self, field: &str) -> String {
        self.header(field).map(display_key).unwrap_or_default()
    }

    /// SEARCH HEADER / SUBJECT / FROM ...: any field `name` contains `key`.
    pub fn search_header(&self, name: &str, key: &SearchKey) -> bool {
        search::header_matches(self.raw, &self.root.header, name, key)
    }

    /// SEARCH FROM / TO / CC / BCC: any field `name`, as a normalised
    /// address list, contains `key`.
    pub fn search_address(&self, name: &str, key: &SearchKey) -> bool {
        search::address_header_matches(self.raw, &self.root.header, name, key)
    }

    /// SEARCH BODY.
    pub fn search_body(&self, key: &SearchKey) -> bool {
        search::body_matches(self.raw, &self.root, key)
    }

    /// SEARCH TEXT.
    pub fn search_text(&self, key: &SearchKey) -> bool {
        search::text_matches(self.raw, &self.root, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::SectionText;

    #[test]
    fn answers_everything_from_one_parse() {
        let raw = b"From: Jo <jo@x>\nTo: =?UTF-8?Q?Z=C3=BC?= <z@y>\nSubject: =?UTF-8?B?UmU6IGjDqQ==?=\nDate: Thu, 01 Jan 1970 00:01:00 +0000\n\nbody text\n";
        let m = ParsedMessage::parse(raw);
        assert_eq!(m.size(), raw.len() as u64 + 6);
        assert_eq!(m.sent_date(), Some(60));
        assert_eq!(m.sent_day(), Some(0));
        assert!(m.message_ids("references").is_empty());
        assert_eq!(m.base_subject(), "hé");
        assert_eq!(m.header_decoded("to").as_deref(), Some("Zü <z@y>"));
        assert_eq!(m.address_sort_key("from"), "jo");
        assert_eq!(m.address_display_key("to"), "Zü");
        assert_eq!(m.address_display_key("cc"), "");
        assert!(m.search_header("subject", &SearchKey::new("RE: HÉ")));
        assert!(m.search_body(&SearchKey::new("BODY")));
        assert!(!m.search_body(&SearchKey::new("jo@x")));
        assert!(m.search_text(&SearchKey::new("jo@x")));
        let text = m
            .section(&Section {
                part: vec![],
                text: Some(SectionText::Text),
            })
            .unwrap();
        assert_eq!(text.bytes(m.raw()), b"body text\r\n");
        assert_eq!(m.binary_size(&[1]), Ok(11));
        let env = m.envelope();
        assert_eq!(
            env.date.as_deref(),
            Some(&b"Thu, 01 Jan 1970 00:01:00 +0000"[..])
        );
        assert_eq!(
            env.subject.as_deref(),
            Some(&b"=?UTF-8?B?UmU6IGjDqQ==?="[..])
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: many pseudo-random mixes of MIME-ish
        // fragments must parse and answer every query.
        let pieces: [&[u8]; 14] = [
            b"Content-Type: multipart/mixed; boundary=z\r\n",
            b"Content-Type: message/rfc822\n",
            b"\r\n",
            b"\n",
            b"--z\r\n",
            b"--z--\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: quoted-printable\n",
            b"=?utf-8?q?=C3?=",
            b"From: a:b;<<@>>,\r\n",
            b" folded\r\n",
            b"=\r\n",
            b"\xff\xfe\x00",
            b"Subject: [Fwd: Re: x]\r\n",
        ];
        let mut seed = 0x1234_5678u32;
        for _ in 0..300 {
            let mut raw = Vec::new();
            for _ in 0..24 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                raw.extend_from_slice(pieces[(seed % pieces.len() as u32) as usize]);
            }
            let m = ParsedMessage::parse(&raw);
            let cached = m.cached_structure();
            assert_eq!(CachedStructure::decode(&cached.encode()), Ok(cached));
            for part in [&[][..], &[1], &[1, 1], &[2, 1, 1]] {
                let _ = m.section(&Section {
                    part: part.to_vec(),
                    text: None,
                });
                let _ = m.section(&Section {
                    part: part.to_vec(),
                    text: Some(SectionText::Header),
                });
                let _ = m.binary(part);
            }
            let _ = m.search_text(&SearchKey::new("x"));
            let _ = m.base_subject();
            let _ = m.sent_date();
        }
    }
}
