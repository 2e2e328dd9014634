//! Encoding of CATENATE (an APPEND message's data) and of the URLAUTH
//! commands.

use super::{astring, mailbox};
use crate::imap::codec::types::{AppendData, CatenatePart, CommandBody};

/// An APPEND message's data: a literal or `CATENATE (...)`.
pub(super) fn append_data(out: &mut Vec<u8>, data: &AppendData) {
    match data {
        AppendData::Literal { bytes, binary } => literal(out, bytes, *binary),
        AppendData::Catenate(parts) => {
            out.extend_from_slice(b"CATENATE (");
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                match part {
                    CatenatePart::Text(bytes) => {
                        out.extend_from_slice(b"TEXT ");
                        literal(out, bytes, bytes.contains(&0));
                    }
                    CatenatePart::Url(url) => {
                        out.extend_from_slice(b"URL ");
                        astring(out, url);
                    }
                }
            }
            out.push(b')');
        }
    }
}

fn literal(out: &mut Vec<u8>, bytes: &[u8], binary: bool) {
    if binary {
        out.push(b'~');
    }
    out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// GENURLAUTH, RESETKEY, URLFETCH (nothing for any other command).
pub(super) fn urlauth_command(out: &mut Vec<u8>, body: &CommandBody) {
    match body {
        CommandBody::GenUrlAuth { requests } => {
            out.extend_from_slice(b"GENURLAUTH");
            for (url, mechanism) in requests {
                out.push(b' ');
                astring(out, url);
                out.push(b' ');
                out.extend_from_slice(mechanism.as_str().as_bytes());
            }
        }
        CommandBody::ResetKey {
            mailbox: m,
            mechanisms,
        } => {
            out.extend_from_slice(b"RESETKEY");
            if let Some(m) = m {
                out.push(b' ');
                mailbox(out, m);
                for mechanism in mechanisms {
                    out.push(b' ');
                    out.extend_from_slice(mechanism.as_str().as_bytes());
                }
            }
        }
        CommandBody::UrlFetch { urls } => {
            out.extend_from_slice(b"URLFETCH");
            for request in urls {
                out.push(b' ');
                let Some(params) = request.params else {
                    astring(out, &request.url);
                    continue;
                };
                out.push(b'(');
                astring(out, &request.url);
                for (on, name) in [
                    (params.body, &b" BODY"[..]),
                    (params.binary, b" BINARY"),
                    (params.body_part_structure, b" BODYPARTSTRUCTURE"),
                ] {
                    if on {
                        out.extend_from_slice(name);
                    }
                }
                out.push(b')');
            }
        }
        _ => {}
    }
}
