//! ENVELOPE (RFC 9051 7.5.2) encoding. The message layer fills the
//! struct from the header; this writes the syntax.

use super::strings::write_nstring;

/// One address; a group start has `host: None` and the group name in
/// `mailbox`, a group end has everything `None` (RFC 9051 9, `address`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    pub name: Option<Vec<u8>>,
    pub adl: Option<Vec<u8>>,
    pub mailbox: Option<Vec<u8>>,
    pub host: Option<Vec<u8>>,
}

/// Header values as they are to be sent (already unfolded). An empty
/// address list is sent as NIL.
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

fn write_addresses(out: &mut Vec<u8>, list: &[Address], utf8: bool) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        write_nstring(out, a.name.as_deref(), utf8);
        out.push(b' ');
        write_nstring(out, a.adl.as_deref(), utf8);
        out.push(b' ');
        write_nstring(out, a.mailbox.as_deref(), utf8);
        out.push(b' ');
        write_nstring(out, a.host.as_deref(), utf8);
        out.push(b')');
    }
    out.push(b')');
}

impl Envelope {
    /// Writes the parenthesised envelope (without the `ENVELOPE ` name).
    pub fn write(&self, out: &mut Vec<u8>, utf8: bool) {
        out.push(b'(');
        write_nstring(out, self.date.as_deref(), utf8);
        out.push(b' ');
        write_nstring(out, self.subject.as_deref(), utf8);
        for list in [
            &self.from,
            &self.sender,
            &self.reply_to,
            &self.to,
            &self.cc,
            &self.bcc,
        ] {
            out.push(b' ');
            write_addresses(out, list, utf8);
        }
        out.push(b' ');
        write_nstring(out, self.in_reply_to.as_deref(), utf8);
        out.push(b' ');
        write_nstring(out, self.message_id.as_deref(), utf8);
        out.push(b')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<Vec<u8>> {
        Some(v.as_bytes().to_vec())
    }

    #[test]
    fn rfc_example_shape() {
        let terry = Address {
            name: s("Terry Gray"),
            adl: None,
            mailbox: s("gray"),
            host: s("cac.washington.edu"),
        };
        let env = Envelope {
            date: s("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
            subject: s("IMAP4rev1 WG mtg summary and minutes"),
            from: vec![terry.clone()],
            sender: vec![terry.clone()],
            reply_to: vec![terry],
            to: vec![Address {
                name: None,
                adl: None,
                mailbox: s("imap"),
                host: s("cac.washington.edu"),
            }],
            cc: vec![],
            bcc: vec![],
            in_reply_to: None,
            message_id: s("<B27397-0100000@cac.washington.edu>"),
        };
        let mut out = Vec::new();
        env.write(&mut out, false);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) NIL NIL NIL \
\"<B27397-0100000@cac.washington.edu>\")"
        );
    }

    #[test]
    fn eight_bit_subject_is_a_literal_in_rev1() {
        let env = Envelope {
            subject: Some("Grüße".as_bytes().to_vec()),
            ..Default::default()
        };
        let mut out = Vec::new();
        env.write(&mut out, false);
        assert_eq!(
            out,
            "(NIL {7}\r\nGrüße NIL NIL NIL NIL NIL NIL NIL NIL)".as_bytes()
        );
        let mut out = Vec::new();
        env.write(&mut out, true);
        assert_eq!(
            out,
            "(NIL \"Grüße\" NIL NIL NIL NIL NIL NIL NIL NIL)".as_bytes()
        );
    }
}
