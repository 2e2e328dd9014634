//! Loading as little of a message as an operation needs: nothing, the
//! header block, or the whole message.

use crate::imap::eval::Content;
use crate::storage::{Mailbox, MessageInfo, Result};

/// Length of the header block including the blank line (the whole input
/// when it has no body).
pub fn header_len(raw: &[u8]) -> usize {
    memchr::memmem::find(raw, b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| memchr::memmem::find(raw, b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len())
}

/// The message bytes `need` calls for (`None` for index-only work).
pub async fn load<M: Mailbox>(
    mailbox: &M,
    info: &MessageInfo,
    need: Content,
) -> Result<Option<Vec<u8>>> {
    match need {
        Content::None => Ok(None),
        Content::Full => mailbox.read_message(info.uid).await.map(Some),
        Content::HeaderOnly => {
            let mut raw = mailbox.read_header(info.uid).await?;
            raw.truncate(header_len(&raw));
            Ok(Some(raw))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_ends_at_blank_line() {
        assert_eq!(header_len(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(header_len(b"A: b\n\nbody"), 6);
        assert_eq!(header_len(b"A: b\r\n"), 6);
        assert_eq!(header_len(b""), 0);
    }
}
