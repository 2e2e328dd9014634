//! ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2).
//!
//! Values are the raw header text, unfolded and with leading blanks
//! trimmed; encoded-words are sent as they are, like Dovecot does. Absent
//! or empty fields are NIL. Sender and Reply-To fall back to From when
//! absent or empty, as the RFC requires. When a field appears more than
//! once the first one is used.

use super::address::{Address, parse_address_list};
use super::header::{HeaderBlock, unfold};
use super::wire::{write_nil, write_nstring};

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

    /// Appends the parenthesised ENVELOPE structure.
    pub fn write_imap(&self, out: &mut Vec<u8>) {
        out.push(b'(');
        write_nstring(out, self.date.as_deref());
        out.push(b' ');
        write_nstring(out, self.subject.as_deref());
        for list in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            out.push(b' ');
            write_address_list(out, list);
        }
        out.push(b' ');
        write_nstring(out, self.in_reply_to.as_deref());
        out.push(b' ');
        write_nstring(out, self.message_id.as_deref());
        out.push(b')');
    }
}

fn write_address_list(out: &mut Vec<u8>, list: &[Address]) {
    if list.is_empty() {
        write_nil(out);
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        write_nstring(out, a.name.as_deref());
        out.push(b' ');
        write_nstring(out, a.adl.as_deref());
        out.push(b' ');
        write_nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        write_nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope_string(raw: &[u8]) -> String {
        let h = HeaderBlock::parse(raw, 0, raw.len());
        let mut out = Vec::new();
        Envelope::from_header(raw, &h).write_imap(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn full_envelope() {
        let raw = b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US,\r\n John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
\r\nbody\r\n";
        assert_eq!(
            envelope_string(raw),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"imap\" \"cac.washington.edu\")) \
((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) \
NIL NIL \"<B27397-0100000@cac.washington.edu>\")"
        );
    }

    #[test]
    fn header_only_input() {
        let env = Envelope::from_raw_header(b"Subject: only a header\r\nFrom: x@y");
        assert_eq!(env.subject.as_deref(), Some(&b"only a header"[..]));
        assert_eq!(env.reply_to, env.from);
        assert_eq!(env.from.len(), 1);
    }

    #[test]
    fn missing_headers_are_nil() {
        assert_eq!(
            envelope_string(b"\r\nbody"),
            "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
        assert_eq!(
            envelope_string(b"Subject:\r\nTo:  \r\n\r\n"),
            "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn explicit_sender_reply_to_and_groups() {
        let raw = b"From: a@x\nSender: s@x\nReply-To: r@x\nTo: Friends: b@y, \"C\" <c@y>;\nBcc: undisclosed:;\nIn-Reply-To: <p@x>\n\n";
        assert_eq!(
            envelope_string(raw),
            "(NIL NIL ((NIL NIL \"a\" \"x\")) ((NIL NIL \"s\" \"x\")) ((NIL NIL \"r\" \"x\")) \
((NIL NIL \"Friends\" NIL)(NIL NIL \"b\" \"y\")(\"C\" NIL \"c\" \"y\")(NIL NIL NIL NIL)) NIL \
((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) \"<p@x>\" NIL)"
        );
    }

    #[test]
    fn encoded_and_8bit_subjects() {
        let s = envelope_string(b"Subject: =?UTF-8?B?w6k=?= \"q\"\n\n");
        assert_eq!(
            s,
            "(NIL \"=?UTF-8?B?w6k=?= \\\"q\\\"\" NIL NIL NIL NIL NIL NIL NIL NIL)"
        );
        let s = envelope_string("Subject: café\n\n".as_bytes());
        assert_eq!(s, "(NIL {5}\r\ncafé NIL NIL NIL NIL NIL NIL NIL NIL)");
    }
}
