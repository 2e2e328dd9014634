//! A compact binary form of ENVELOPE + BODYSTRUCTURE for the storage index
//! cache, so FETCH does not have to re-parse the message.
//!
//! Layout: a version byte, then the envelope, then the body structure.
//! Integers are LEB128 varints; byte strings are length-prefixed; optional
//! strings carry a 0/1 tag; lists are count-prefixed. Decoding is total:
//! corrupt input gives [`MessageError::CorruptCache`] (the caller rebuilds
//! from the message), never a panic, and counts are checked against the
//! bytes left so a corrupt count cannot allocate much.

use super::MessageError;
use super::address::Address;
use super::bodystructure::{BodyFields, BodyStructure, Extension};
use super::envelope::Envelope;
use super::mime::{Disposition, Params};

const VERSION: u8 = 1;
/// Deeper nesting than the MIME parser produces means corruption.
const MAX_NESTING: usize = 4 * super::tree::MAX_DEPTH;

/// ENVELOPE and BODYSTRUCTURE of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedStructure {
    pub envelope: Envelope,
    pub body: BodyStructure,
}

impl CachedStructure {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(256);
        w.push(VERSION);
        put_envelope(&mut w, &self.envelope);
        put_body(&mut w, &self.body);
        w
    }

    pub fn decode(bytes: &[u8]) -> Result<CachedStructure, MessageError> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.byte()? != VERSION {
            return Err(MessageError::CorruptCache("unknown version"));
        }
        let envelope = r.envelope()?;
        let body = r.body(0)?;
        if r.pos != bytes.len() {
            return Err(MessageError::CorruptCache("trailing bytes"));
        }
        Ok(CachedStructure { envelope, body })
    }
}

fn put_varint(w: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            w.push(byte);
            return;
        }
        w.push(byte | 0x80);
    }
}

fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    put_varint(w, b.len() as u64);
    w.extend_from_slice(b);
}

fn put_opt(w: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            w.push(1);
            put_bytes(w, b);
        }
        None => w.push(0),
    }
}

fn put_params(w: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)]) {
    put_varint(w, params.len() as u64);
    for (n, v) in params {
        put_bytes(w, n);
        put_bytes(w, v);
    }
}

fn put_addresses(w: &mut Vec<u8>, list: &[Address]) {
    put_varint(w, list.len() as u64);
    for a in list {
        put_opt(w, a.name.as_deref());
        put_opt(w, a.adl.as_deref());
        put_opt(w, a.mailbox.as_deref());
        put_opt(w, a.host.as_deref());
    }
}

fn put_envelope(w: &mut Vec<u8>, e: &Envelope) {
    put_opt(w, e.date.as_deref());
    put_opt(w, e.subject.as_deref());
    for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
        put_addresses(w, list);
    }
    put_opt(w, e.in_reply_to.as_deref());
    put_opt(w, e.message_id.as_deref());
}

fn put_fields(w: &mut Vec<u8>, f: &BodyFields) {
    put_bytes(w, &f.media_type);
    put_bytes(w, &f.subtype);
    put_params(w, &f.params);
    put_opt(w, f.id.as_deref());
    put_opt(w, f.description.as_deref());
    put_bytes(w, &f.encoding);
    put_varint(w, f.octets);
}

fn put_ext(w: &mut Vec<u8>, e: &Extension) {
    put_opt(w, e.md5.as_deref());
    match &e.disposition {
        Some(d) => {
            w.push(1);
            put_bytes(w, &d.kind);
            put_params(w, &d.params);
        }
        None => w.push(0),
    }
    put_varint(w, e.language.len() as u64);
    for l in &e.language {
        put_bytes(w, l);
    }
    put_opt(w, e.location.as_deref());
}

fn put_body(w: &mut Vec<u8>, b: &BodyStructure) {
    match b {
        BodyStructure::Basic { fields, ext } => {
            w.push(0);
            put_fields(w, fields);
            put_ext(w, ext);
        }
        BodyStructure::Text { fields, lines, ext } => {
            w.push(1);
            put_fields(w, fields);
            put_varint(w, *lines);
            put_ext(w, ext);
        }
        BodyStructure::Message {
            fields,
            envelope,
            body,
            lines,
            ext,
        } => {
            w.push(2);
            put_fields(w, fields);
            put_envelope(w, envelope);
            put_body(w, body);
            put_varint(w, *lines);
            put_ext(w, ext);
        }
        BodyStructure::Multipart {
            parts,
            subtype,
            params,
            ext,
        } => {
            w.push(3);
            put_varint(w, parts.len() as u64);
            for p in parts {
                put_body(w, p);
            }
            put_bytes(w, subtype);
            put_params(w, params);
            put_ext(w, ext);
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

const TRUNCATED: MessageError = MessageError::CorruptCache("truncated");

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, MessageError> {
        let b = *self.b.get(self.pos).ok_or(TRUNCATED)?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, MessageError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(MessageError::CorruptCache("varint too long"))
    }

    /// A count of items that each take at least one byte.
    fn count(&mut self) -> Result<usize, MessageError> {
        let n = self.varint()?;
        let left = (self.b.len() - self.pos) as u64;
        if n > left {
            return Err(MessageError::CorruptCache("count exceeds data"));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, MessageError> {
        let n = self.count()?;
        let v = self.b[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(v)
    }

    fn opt(&mut self) -> Result<Option<Vec<u8>>, MessageError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(self.bytes()?)),
            _ => Err(MessageError::CorruptCache("bad option tag")),
        }
    }

    fn params(&mut self) -> Result<Params, MessageError> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push((self.bytes()?, self.bytes()?));
        }
        Ok(out)
    }

    fn addresses(&mut self) -> Result<Vec<Address>, MessageError> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(Address {
                name: self.opt()?,
                adl: self.opt()?,
                mailbox: self.opt()?,
                host: self.opt()?,
            });
        }
        Ok(out)
    }

    fn envelope(&mut self) -> Result<Envelope, MessageError> {
        Ok(Envelope {
            date: self.opt()?,
            subject: self.opt()?,
            from: self.addresses()?,
            sender: self.addresses()?,
            reply_to: self.addresses()?,
            to: self.addresses()?,
            cc: self.addresses()?,
            bcc: self.addresses()?,
            in_reply_to: self.opt()?,
            message_id: self.opt()?,
        })
    }

    fn fields(&mut self) -> Result<BodyFields, MessageError> {
        Ok(BodyFields {
            media_type: self.bytes()?,
            subtype: self.bytes()?,
            params: self.params()?,
            id: self.opt()?,
            description: self.opt()?,
            encoding: self.bytes()?,
            octets: self.varint()?,
        })
    }

    fn ext(&mut self) -> Result<Extension, MessageError> {
        let md5 = self.opt()?;
        let disposition = match self.byte()? {
            0 => None,
            1 => Some(Disposition {
                kind: self.bytes()?,
                params: self.params()?,
            }),
            _ => return Err(MessageError::CorruptCache("bad disposition tag")),
        };
        let n = self.count()?;
        let mut language = Vec::with_capacity(n);
        for _ in 0..n {
            language.push(self.bytes()?);
        }
        Ok(Extension {
            md5,
            disposition,
            language,
            location: self.opt()?,
        })
    }

    fn body(&mut self, depth: usize) -> Result<BodyStructure, MessageError> {
        if depth > MAX_NESTING {
            return Err(MessageError::CorruptCache("nesting too deep"));
        }
        match self.byte()? {
            0 => Ok(BodyStructure::Basic {
                fields: self.fields()?,
                ext: self.ext()?,
            }),
            1 => Ok(BodyStructure::Text {
                fields: self.fields()?,
                lines: self.varint()?,
                ext: self.ext()?,
            }),
            2 => Ok(BodyStructure::Message {
                fields: self.fields()?,
                envelope: Box::new(self.envelope()?),
                body: Box::new(self.body(depth + 1)?),
                lines: self.varint()?,
                ext: self.ext()?,
            }),
            3 => {
                let n = self.count()?;
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    parts.push(self.body(depth + 1)?);
                }
                Ok(BodyStructure::Multipart {
                    parts,
                    subtype: self.bytes()?,
                    params: self.params()?,
                    ext: self.ext()?,
                })
            }
            _ => Err(MessageError::CorruptCache("bad body tag")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ParsedMessage;

    const MSG: &[u8] = b"From: \"A\" <a@x>\r\nTo: g: b@y;\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n\
--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: en, de\r\n\r\nhello\r\n\
--q\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n\
--q\r\nContent-Type: image/gif\r\nContent-Disposition: inline; filename=a.gif\r\nContent-MD5: abc\r\n\r\nGIF\r\n--q--\r\n";

    #[test]
    fn round_trip() {
        let parsed = ParsedMessage::parse(MSG);
        let cached = parsed.cached_structure();
        let bytes = cached.encode();
        let back = CachedStructure::decode(&bytes).unwrap();
        assert_eq!(back, cached);
        assert_eq!(back.body, parsed.body_structure());
        assert_eq!(back.envelope, parsed.envelope());
    }

    #[test]
    fn corruption_is_an_error() {
        let bytes = ParsedMessage::parse(MSG).cached_structure().encode();
        for cut in 0..bytes.len() {
            assert!(
                CachedStructure::decode(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = bytes.clone();
        bad[0] = 99;
        assert_eq!(
            CachedStructure::decode(&bad),
            Err(MessageError::CorruptCache("unknown version"))
        );
        let mut extra = bytes;
        extra.push(0);
        assert!(CachedStructure::decode(&extra).is_err());
        // Flipping any byte must never panic.
        let good = ParsedMessage::parse(MSG).cached_structure().encode();
        for i in 0..good.len() {
            let mut m = good.clone();
            m[i] ^= 0xff;
            let _ = CachedStructure::decode(&m);
        }
        assert!(
            CachedStructure::decode(&[
                VERSION, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .is_err()
        );
    }
}
