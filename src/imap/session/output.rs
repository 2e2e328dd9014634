//! Where command handlers write their responses: a buffer plus a way to
//! push it to the client when a big answer (FETCH, SEARCH, LIST) must
//! stream. The driver implements it over the connection; tests collect
//! the bytes in memory (`Collected`).

// Handlers are generic over the sink and run on one thread: the futures
// need no `Send` bound.
#![allow(async_fn_in_trait)]

use crate::imap::codec::response::{Data, EncodeOptions, ResponseCode, Status, StatusResponse};
use crate::imap::codec::types::Tag;

/// A streaming answer is pushed to the client once this much is buffered,
/// so a large FETCH never holds more than about this much in memory.
pub const FLUSH_THRESHOLD: usize = 64 * 1024;

/// Writing to the client failed: the connection is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client connection is gone")]
pub struct Gone;

/// The response sink of a session.
pub trait Output {
    /// Encoded responses not sent yet.
    fn buf(&mut self) -> &mut Vec<u8>;
    /// How responses are encoded (UTF-8 once enabled).
    fn opts(&self) -> EncodeOptions;
    fn set_opts(&mut self, opts: EncodeOptions);
    /// Sends everything buffered.
    async fn flush(&mut self) -> Result<(), Gone>;

    /// Sends the buffer only when enough has piled up (streaming).
    async fn flush_if_big(&mut self) -> Result<(), Gone> {
        if self.buf().len() >= FLUSH_THRESHOLD {
            self.flush().await
        } else {
            Ok(())
        }
    }

    /// `tag STATUS [code] text` (untagged when `tag` is `None`).
    fn status(
        &mut self,
        tag: Option<&Tag>,
        status: Status,
        code: Option<ResponseCode>,
        text: &str,
    ) {
        let r = StatusResponse {
            tag: tag.cloned(),
            status,
            code,
            text: text.to_string(),
        };
        let opts = self.opts();
        r.encode(self.buf(), opts);
    }

    fn ok(&mut self, tag: &Tag, text: &str) {
        self.status(Some(tag), Status::Ok, None, text);
    }

    fn no(&mut self, tag: Option<&Tag>, code: Option<ResponseCode>, text: &str) {
        self.status(tag, Status::No, code, text);
    }

    fn bad(&mut self, tag: Option<&Tag>, text: &str) {
        self.status(tag, Status::Bad, None, text);
    }

    fn data(&mut self, d: &Data) {
        let opts = self.opts();
        d.encode(self.buf(), opts);
    }

    fn push_raw(&mut self, bytes: &[u8]) {
        self.buf().extend_from_slice(bytes);
    }
}

/// An in-memory sink: what a session wrote, and how often it flushed.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct Collected {
    /// Bytes already flushed.
    pub sent: Vec<u8>,
    pending: Vec<u8>,
    opts: EncodeOptions,
    pub flushes: usize,
    /// Flushing fails (the client went away).
    pub gone: bool,
}

#[cfg(test)]
impl Collected {
    /// Everything written so far, flushed or not, as text.
    pub fn text(&self) -> String {
        let mut all = self.sent.clone();
        all.extend_from_slice(&self.pending);
        String::from_utf8_lossy(&all).into_owned()
    }

    /// Everything written so far as text; forgets it.
    pub fn take(&mut self) -> String {
        let text = self.text();
        self.sent.clear();
        self.pending.clear();
        text
    }
}

#[cfg(test)]
impl Output for Collected {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.pending
    }

    fn opts(&self) -> EncodeOptions {
        self.opts
    }

    fn set_opts(&mut self, opts: EncodeOptions) {
        self.opts = opts;
    }

    async fn flush(&mut self) -> Result<(), Gone> {
        if self.gone {
            return Err(Gone);
        }
        self.flushes += 1;
        self.sent.append(&mut self.pending);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_streams_only_big_output() {
        futures_lite::future::block_on(async {
            let mut out = Collected::default();
            let tag = Tag::try_from("a1").unwrap();
            out.ok(&tag, "Done.");
            out.flush_if_big().await.unwrap();
            assert_eq!(out.flushes, 0);
            out.push_raw(&vec![b'x'; FLUSH_THRESHOLD]);
            out.flush_if_big().await.unwrap();
            assert_eq!(out.flushes, 1);
            assert!(out.text().starts_with("a1 OK Done.\r\n"));
            out.gone = true;
            assert_eq!(out.flush().await, Err(Gone));
        });
    }
}
