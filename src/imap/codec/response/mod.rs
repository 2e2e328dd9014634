//! Typed responses → bytes. Each encoder appends one complete response
//! (or, for FETCH, one piece of it) to a caller-owned `Vec<u8>`, so the
//! session can flush between responses and stream message bodies.
//!
//! This is the one home of IMAP wire syntax for message data: ENVELOPE,
//! BODY / BODYSTRUCTURE ([`structure`]) and section specs ([`section`]) are
//! written here from the message layer's typed values.

mod data;
mod fetch;
mod section;
mod status;
mod strings;
mod structure;

pub use data::{
    Data, ESearchItem, ListExtendedItem, ListResponse, MailboxAttribute, NamespaceDescription,
    ThreadNode, write_continuation, write_continuation_base64,
};
pub use fetch::{BodyItemName, FetchEncoder, FetchItem};
pub use section::{write_part, write_section};
pub use status::{ResponseCode, Status, StatusResponse};
pub use strings::{
    MAX_QUOTED_STRUCTURE_VALUE, write_astring, write_mailbox, write_nstring, write_string,
    write_structure_nstring, write_structure_string,
};
pub use structure::{write_body_structure, write_envelope};

/// Choices that depend on what the session negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    /// IMAP4rev2 or UTF8=ACCEPT is enabled: UTF-8 may go in quoted strings.
    /// Otherwise any 8-bit string is sent as a literal.
    pub utf8: bool,
}

/// Any complete response except FETCH (which is written piecewise with
/// [`FetchEncoder`]), for sessions that queue responses as values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Status(StatusResponse),
    Data(Data),
    /// `+ text`
    Continuation(String),
}

impl Response {
    pub fn encode(&self, out: &mut Vec<u8>, opts: EncodeOptions) {
        match self {
            Response::Status(s) => s.encode(out, opts),
            Response::Data(d) => d.encode(out, opts),
            Response::Continuation(text) => write_continuation(out, text),
        }
    }
}

pub(crate) fn write_number(out: &mut Vec<u8>, n: impl Into<u64>) {
    // Formatting into a stack buffer avoids a String per number.
    let mut n: u64 = n.into();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::codec::types::Atom;

    #[test]
    fn greeting_bye_and_continuation() {
        let caps = vec![
            Atom::try_from("IMAP4rev2").unwrap(),
            Atom::try_from("IMAP4rev1").unwrap(),
            Atom::try_from("STARTTLS").unwrap(),
            Atom::try_from("LOGINDISABLED").unwrap(),
        ];
        let mut out = Vec::new();
        let opts = EncodeOptions::default();
        Response::Status(
            StatusResponse::untagged(Status::Ok, "tern ready.")
                .with_code(ResponseCode::Capability(caps)),
        )
        .encode(&mut out, opts);
        Response::Status(
            StatusResponse::untagged(Status::Bye, "Disconnected for inactivity.")
                .with_code(ResponseCode::Unavailable),
        )
        .encode(&mut out, opts);
        Response::Continuation("idling".into()).encode(&mut out, opts);
        Response::Data(Data::Exists(3)).encode(&mut out, opts);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "* OK [CAPABILITY IMAP4rev2 IMAP4rev1 STARTTLS LOGINDISABLED] tern ready.\r\n\
* BYE [UNAVAILABLE] Disconnected for inactivity.\r\n+ idling\r\n* 3 EXISTS\r\n"
        );
    }

    #[test]
    fn numbers() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            let mut out = Vec::new();
            super::write_number(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}

#[cfg(test)]
mod structure_golden;
