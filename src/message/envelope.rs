//! ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2).
//!
//! Typed data only; the IMAP codec writes the wire form. Values are the
//! raw header text, unfolded and with leading blanks trimmed; encoded-words are sent as they are, like Dovecot does. Absent
//! or empty fields are NIL. Sender and Reply-To fall back to From when
//! absent or empty, as the RFC requires. When a field appears more than
//! once the first one is used.

use super::address::{Address, parse_address_list};
use super::header::{HeaderBlock, unfold};

/// The parsed ENVELOPE of a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    pub date: Option<Vec<u8>>,
    pub subject: Option<Vec<u8>>,
    pub from: Vec<Address>,
    pub sender: Vec<Address>,
    pub reply_to: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub in_reply_to: Option<Vec<u8>>,
    pub message_id: Option<Vec<u8>>,
}

fn text_field(raw: &[u8], header: &HeaderBlock, name: &str) -> Option<Vec<u8>> {
    let value = unfold(header.get(raw, name)?);
    if value.is_empty() {
        None
    } else {
        Some(value.into_owned())
    }
}

fn address_field(raw: &[u8], header: &HeaderBlock, name: &str) -> Vec<Address> {
    header
        .get(raw, name)
        .map(parse_address_list)
        .unwrap_or_default()
}

impl Envelope {
    /// Builds the envelope from a header block of `raw`.
    pub fn from_header(raw: &[u8], header: &HeaderBlock) -> Envelope {
        let from = address_field(raw, header, "from");
        let mut sender = address_field(raw, header, "sender");
        if sender.is_empty() {
            sender = from.clone();
        }
        let mut reply_to = address_field(raw, header, "reply-to");
        if reply_to.is_empty() {
            reply_to = from.clone();
        }
        Envelope {
            date: text_field(raw, header, "date"),
            subject: text_field(raw, header, "subject"),
            from,
            sender,
            reply_to,
            to: address_field(raw, header, "to"),
            cc: address_field(raw, header, "cc"),
            bcc: address_field(raw, header, "bcc"),
            in_reply_to: text_field(raw, header, "in-reply-to"),
            message_id: text_field(raw, header, "message-id"),
        }
    }

    /// Builds the envelope from bytes that start with a header (a whole
    /// message, or just its header as a cache may hold it).
    pub fn from_raw_header(raw: &[u8]) -> Envelope {
        Envelope::from_header(raw, &HeaderBlock::parse(raw, 0, raw.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_only_input() {
        let env = Envelope::from_raw_header(b"Subject: only a header\r\nFrom: x@y");
        assert_eq!(env.subject.as_deref(), Some(&b"only a header"[..]));
        assert_eq!(env.reply_to, env.from);
        assert_eq!(env.from.len(), 1);
    }

    #[test]
    fn missing_and_empty_headers_are_none() {
        assert_eq!(Envelope::from_raw_header(b"\r\nbody"), Envelope::default());
        assert_eq!(
            Envelope::from_raw_header(b"Subject:\r\nTo:  \r\n\r\n"),
            Envelope::default()
        );
    }

    #[test]
    fn sender_and_reply_to_fall_back_to_from() {
        let env = Envelope::from_raw_header(b"From: a@x\nReply-To: r@x\nIn-Reply-To: <p@x>\n\n");
        assert_eq!(env.sender, env.from);
        assert_eq!(env.reply_to.len(), 1);
        assert_eq!(env.reply_to[0].mailbox.as_deref(), Some(&b"r"[..]));
        assert_eq!(env.in_reply_to.as_deref(), Some(&b"<p@x>"[..]));
        assert_eq!(env.message_id, None);
    }
}
