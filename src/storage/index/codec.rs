//! Byte-level building blocks of tern's index files: little-endian fields,
//! and CRC-framed blocks (`u32 len`, `u32 crc32(payload)`, payload).
//! Every decoder is bounds-checked and never allocates more than the input.

use thiserror::Error;

/// Largest frame accepted: bounds memory when a length field is corrupt.
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error("unexpected end of data")]
    Short,
    #[error("checksum mismatch")]
    Checksum,
    #[error("frame length {0} is out of range")]
    BadLength(usize),
    #[error("bad magic")]
    BadMagic,
    #[error("bad value: {0}")]
    BadValue(&'static str),
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }
    /// Length-prefixed string (u32 length).
    pub fn str(&mut self, v: &str) {
        self.u32(v.len() as u32);
        self.buf.extend_from_slice(v.as_bytes());
    }
}

pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or(CodecError::Short)?;
        let s = self.data.get(self.pos..end).ok_or(CodecError::Short)?;
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }
    pub fn u16(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    pub fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn u64(&mut self) -> Result<u64, CodecError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    pub fn i64(&mut self) -> Result<i64, CodecError> {
        Ok(self.u64()? as i64)
    }
    pub fn str(&mut self) -> Result<String, CodecError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| CodecError::BadValue("utf-8"))
    }
}

/// Append one CRC frame around `payload`.
pub fn put_frame(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Read the frame at `*pos`. `Ok(None)` at a clean end of data.
pub fn next_frame<'a>(data: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, CodecError> {
    if *pos == data.len() {
        return Ok(None);
    }
    let head = data.get(*pos..*pos + 8).ok_or(CodecError::Short)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len > MAX_FRAME {
        return Err(CodecError::BadLength(len));
    }
    let start = *pos + 8;
    let payload = data.get(start..start + len).ok_or(CodecError::Short)?;
    if crc32(payload) != crc {
        return Err(CodecError::Checksum);
    }
    *pos = start + len;
    Ok(Some(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_detect_damage() {
        let mut buf = Vec::new();
        put_frame(&mut buf, b"hello");
        put_frame(&mut buf, b"");
        let mut pos = 0;
        assert_eq!(next_frame(&buf, &mut pos).unwrap(), Some(&b"hello"[..]));
        assert_eq!(next_frame(&buf, &mut pos).unwrap(), Some(&b""[..]));
        assert_eq!(next_frame(&buf, &mut pos).unwrap(), None);
        let mut bad = buf.clone();
        bad[9] ^= 1;
        assert_eq!(next_frame(&bad, &mut 0), Err(CodecError::Checksum));
        assert_eq!(next_frame(&buf[..10], &mut 0), Err(CodecError::Short));
        let mut huge = buf.clone();
        huge[3] = 0xff;
        assert!(matches!(
            next_frame(&huge, &mut 0),
            Err(CodecError::BadLength(_))
        ));
    }

    #[test]
    fn reader_bounds() {
        let mut r = Reader::new(&[1, 0, 0]);
        assert_eq!(r.u16().unwrap(), 1);
        assert_eq!(r.u32(), Err(CodecError::Short));
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.str(), Err(CodecError::Short));
    }
}
