//! The POP3 maildrop snapshot a session works on.
//!
//! The snapshot is taken at login and never changes during the session
//! (RFC 1939: message numbers and sizes are stable). Deletions are marks
//! here; only QUIT turns them into an expunge request.

use super::codec::MessageNumber;

/// One message of the maildrop snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// Size as sent by RETR (CRLF line endings, before byte-stuffing).
    pub size: u64,
    /// The UIDL, already formatted by `pop3_uidl_format`.
    pub uidl: String,
}

#[derive(Debug)]
pub(super) struct Maildrop {
    pub(super) messages: Vec<MessageInfo>,
    pub(super) deleted: Vec<bool>,
    /// Highest message number accessed (RETR/TOP/DELE), for LAST.
    pub(super) last_accessed: u32,
}

impl Maildrop {
    pub(super) fn new(messages: Vec<MessageInfo>) -> Self {
        Self {
            deleted: vec![false; messages.len()],
            messages,
            last_accessed: 0,
        }
    }

    pub(super) fn live(&self) -> impl Iterator<Item = (usize, &MessageInfo)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(index, _)| !self.deleted[*index])
    }

    /// The messages marked for deletion.
    pub(super) fn deleted_messages(&self) -> Vec<&MessageInfo> {
        self.messages
            .iter()
            .zip(&self.deleted)
            .filter(|(_, deleted)| **deleted)
            .map(|(message, _)| message)
            .collect()
    }

    pub(super) fn live_totals(&self) -> (usize, u64) {
        self.live().fold((0, 0), |(count, size), (_, info)| {
            (count + 1, size + info.size)
        })
    }

    pub(super) fn live_message(&self, number: MessageNumber) -> Result<&MessageInfo, String> {
        let index = number.index();
        match self.messages.get(index) {
            None => Err(format!("There's no message {number}.")),
            Some(_) if self.deleted[index] => Err("Message is deleted.".into()),
            Some(info) => Ok(info),
        }
    }
}

pub(super) fn number_of(index: usize) -> MessageNumber {
    // Indexes come from a Vec built from at most u32::MAX messages; clamp
    // instead of panicking if that ever changes.
    let number = u32::try_from(index.saturating_add(1)).unwrap_or(u32::MAX);
    MessageNumber::new(number).unwrap_or(MessageNumber::FIRST)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maildrop() -> Maildrop {
        let info = |size, uidl: &str| MessageInfo {
            size,
            uidl: uidl.into(),
        };
        Maildrop::new(vec![info(10, "a"), info(20, "b"), info(30, "c")])
    }

    #[test]
    fn live_view_skips_deleted_messages() {
        let mut drop = maildrop();
        assert_eq!(drop.live_totals(), (3, 60));
        drop.deleted[1] = true;
        assert_eq!(drop.live_totals(), (2, 40));
        let live: Vec<usize> = drop.live().map(|(index, _)| index).collect();
        assert_eq!(live, vec![0, 2]);
        assert_eq!(drop.deleted_messages().len(), 1);
        assert_eq!(drop.deleted_messages()[0].uidl, "b");
    }

    #[test]
    fn live_message_errors() {
        let mut drop = maildrop();
        drop.deleted[0] = true;
        let number = |n| MessageNumber::new(n).unwrap();
        assert_eq!(
            drop.live_message(number(1)),
            Err("Message is deleted.".into())
        );
        assert_eq!(
            drop.live_message(number(4)),
            Err("There's no message 4.".into())
        );
        assert_eq!(
            drop.live_message(number(u32::MAX)),
            Err(format!("There's no message {}.", u32::MAX))
        );
        assert_eq!(drop.live_message(number(3)).map(|m| m.size), Ok(30));
    }

    #[test]
    fn numbers_from_indexes() {
        assert_eq!(number_of(0).get(), 1);
        assert_eq!(number_of(41).get(), 42);
        assert_eq!(number_of(usize::MAX).get(), u32::MAX);
    }
}
