//! Loading as little of a message as an operation needs: nothing, the
//! header block, or the whole message — for a group of messages at once,
//! so a FETCH or SEARCH over many messages makes one storage job per group
//! instead of one per message.

use crate::imap::eval::Content;
use crate::storage::{Mailbox, MessagePart, Result, StorageError};

/// Messages whose content is read in one storage job.
pub const GROUP_MESSAGES: usize = 64;
/// Bytes a group is expected to load at most (from RFC822.SIZE), so
/// memory stays bounded when messages are big.
pub const GROUP_BYTES: u64 = 4 << 20;
/// What a header read is expected to load: headers are small, but one
/// without an empty line is the whole message, so cap the guess rather
/// than assume a few hundred bytes.
const HEADER_ESTIMATE: u64 = 64 << 10;

/// Length of the header block including the blank line (the whole input
/// when it has no body).
pub fn header_len(raw: &[u8]) -> usize {
    memchr::memmem::find(raw, b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| memchr::memmem::find(raw, b"\n\n").map(|p| p + 2))
        .unwrap_or(raw.len())
}

/// Bytes that loading `need` of a message of `size` bytes is expected to
/// hold.
pub fn expected_bytes(need: Content, size: u64) -> u64 {
    match need {
        Content::None => 0,
        Content::HeaderOnly => size.min(HEADER_ESTIMATE),
        Content::Full => size,
    }
}

/// The size of the group being collected: when the next message does not
/// fit, the group is loaded and answered and a new one begins.
#[derive(Debug, Default)]
pub struct GroupRoom {
    messages: usize,
    bytes: u64,
}

impl GroupRoom {
    /// Does a message expected to load `bytes` still fit? An empty group
    /// takes any message, however big.
    pub fn fits(&self, bytes: u64) -> bool {
        self.messages == 0
            || (self.messages < GROUP_MESSAGES && self.bytes.saturating_add(bytes) <= GROUP_BYTES)
    }

    pub fn add(&mut self, bytes: u64) {
        self.messages += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }
}

/// The bytes each `(uid, need)` calls for, in the order given (`None` for
/// index-only work): one storage job for the headers and one for the whole
/// messages. The outer error is the storage's for the whole group.
pub async fn load_group<M: Mailbox>(
    mailbox: &M,
    wants: &[(u32, Content)],
) -> Result<Vec<Result<Option<Vec<u8>>>>> {
    let uids_needing = |need: Content| -> Vec<u32> {
        wants
            .iter()
            .filter(|&&(_, n)| n == need)
            .map(|&(u, _)| u)
            .collect()
    };
    let header_uids = uids_needing(Content::HeaderOnly);
    let whole_uids = uids_needing(Content::Full);
    let mut headers = read(mailbox, &header_uids, MessagePart::Header)
        .await?
        .into_iter();
    let mut wholes = read(mailbox, &whole_uids, MessagePart::Whole)
        .await?
        .into_iter();
    Ok(wants
        .iter()
        .map(|&(uid, need)| match need {
            Content::None => Ok(None),
            Content::HeaderOnly => next_of(&mut headers, uid).map(|mut raw| {
                raw.truncate(header_len(&raw));
                Some(raw)
            }),
            Content::Full => next_of(&mut wholes, uid).map(Some),
        })
        .collect())
}

async fn read<M: Mailbox>(
    mailbox: &M,
    uids: &[u32],
    part: MessagePart,
) -> Result<Vec<Result<Vec<u8>>>> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    mailbox.read_parts(uids, part).await
}

fn next_of(results: &mut impl Iterator<Item = Result<Vec<u8>>>, uid: u32) -> Result<Vec<u8>> {
    results.next().unwrap_or_else(|| {
        Err(StorageError::Internal(format!(
            "batch read returned no result for UID {uid}"
        )))
    })
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

    #[test]
    fn groups_stop_at_the_message_count() {
        let mut room = GroupRoom::default();
        for _ in 0..GROUP_MESSAGES {
            assert!(room.fits(100));
            room.add(100);
        }
        assert!(!room.fits(0));
    }

    #[test]
    fn groups_stop_at_the_expected_bytes_but_take_one_big_message() {
        let mut room = GroupRoom::default();
        assert!(room.fits(GROUP_BYTES * 10), "an empty group takes anything");
        room.add(GROUP_BYTES - 10);
        assert!(room.fits(10));
        assert!(!room.fits(11));
    }

    #[test]
    fn header_reads_are_expected_to_be_small_but_capped() {
        assert_eq!(expected_bytes(Content::None, 1 << 30), 0);
        assert_eq!(expected_bytes(Content::Full, 5000), 5000);
        assert_eq!(expected_bytes(Content::HeaderOnly, 5000), 5000);
        assert_eq!(
            expected_bytes(Content::HeaderOnly, 1 << 30),
            HEADER_ESTIMATE
        );
    }
}
