//! COMPRESS=DEFLATE (RFC 4978): raw deflate both ways, applied between the
//! framer/encoder and the connection. Each flushed response ends with a
//! sync flush so the client can decode it at once.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

#[derive(Debug, thiserror::Error)]
pub enum DeflateError {
    #[error("deflate: {0}")]
    Compress(#[from] flate2::CompressError),
    #[error("inflate: {0}")]
    Decompress(#[from] flate2::DecompressError),
}

pub struct Deflate {
    out: Compress,
    input: Decompress,
}

impl Default for Deflate {
    fn default() -> Self {
        Deflate {
            out: Compress::new(Compression::fast(), false),
            input: Decompress::new(false),
        }
    }
}

impl Deflate {
    /// Compresses `plain` and sync-flushes, appending to `out`.
    pub fn compress(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), DeflateError> {
        let start = self.out.total_in();
        loop {
            out.reserve(plain.len() / 2 + 64);
            let done = (self.out.total_in() - start) as usize;
            self.out
                .compress_vec(&plain[done..], out, FlushCompress::Sync)?;
            let done = (self.out.total_in() - start) as usize;
            // Spare room left means the sync flush completed.
            if done == plain.len() && out.len() < out.capacity() {
                return Ok(());
            }
        }
    }

    /// Inflates from `compressed` into `out`, producing at most `max`
    /// bytes (a small input can expand enormously). Returns the number of
    /// input bytes used; call again while it uses input or produces output.
    pub fn decompress(
        &mut self,
        compressed: &[u8],
        out: &mut Vec<u8>,
        max: usize,
    ) -> Result<usize, DeflateError> {
        let start = self.input.total_in();
        let limit = out.len() + max;
        out.reserve(max);
        loop {
            let used = (self.input.total_in() - start) as usize;
            let room = limit.saturating_sub(out.len());
            if room == 0 {
                return Ok(used);
            }
            let before = out.len();
            // Cap the output this call may write by limiting spare room.
            let mut chunk = Vec::with_capacity(room.min(16 * 1024));
            let status = self.input.decompress_vec(
                &compressed[used..],
                &mut chunk,
                FlushDecompress::Sync,
            )?;
            out.extend_from_slice(&chunk);
            let used_now = (self.input.total_in() - start) as usize;
            if status == Status::StreamEnd || (out.len() == before && used_now == used) {
                return Ok(used_now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_pieces() {
        let mut server = Deflate::default();
        let mut client = Deflate::default();
        let text = b"* 1 FETCH (FLAGS (\\Seen))\r\n".repeat(500);
        let mut wire = Vec::new();
        server.compress(&text, &mut wire).unwrap();
        assert!(wire.len() < text.len() / 5);
        assert!(wire.ends_with(&[0, 0, 0xff, 0xff]));
        // Feed the compressed bytes in small pieces with a small output cap.
        let mut plain = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for piece in wire.chunks(7) {
            pending.extend_from_slice(piece);
            loop {
                let before = plain.len();
                let used = client.decompress(&pending, &mut plain, 100).unwrap();
                pending.drain(..used);
                if used == 0 && plain.len() == before {
                    break;
                }
            }
        }
        assert_eq!(plain, text);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut d = Deflate::default();
        let mut out = Vec::new();
        let r = d.decompress(&[0xff; 64], &mut out, 1024);
        assert!(r.is_err() || out.len() <= 1024);
    }
}
