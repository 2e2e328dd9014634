//! COMPRESS=DEFLATE (RFC 4978). The session only decides; the deflate
//! streams are the driver's.

use super::Flow;
use crate::imap::codec::response::ResponseCode;
use crate::imap::codec::types::{Atom, Tag};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

/// COMPRESS=DEFLATE (RFC 4978): the tagged OK goes out uncompressed, then
/// both directions are compressed.
pub fn compress(s: &mut Session, out: &mut impl Output, tag: &Tag, algorithm: &Atom) -> Flow {
    if !algorithm.eq_ignore_case("DEFLATE") {
        s.bad(tag, "Unknown compression algorithm.");
        return Flow::Continue;
    }
    if s.compressing {
        s.no(
            tag,
            ResponseCode::CompressionActive,
            "Compression already active.",
        );
        return Flow::Continue;
    }
    // Sent uncompressed; the driver compresses what follows.
    out.ok(tag, "Begin compression.");
    s.compressing = true;
    Flow::StartCompression
}
