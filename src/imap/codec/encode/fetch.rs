//! FETCH attributes → wire bytes.

use crate::imap::codec::response::{write_part, write_section};
use crate::imap::codec::types::{FetchAttribute, Partial};

fn partial(out: &mut Vec<u8>, p: &Option<Partial>) {
    if let Some(p) = p {
        out.extend_from_slice(format!("<{}.{}>", p.origin, p.length).as_bytes());
    }
}

pub(super) fn fetch_attribute(out: &mut Vec<u8>, a: &FetchAttribute) {
    use FetchAttribute as A;
    let simple = match a {
        A::Envelope => "ENVELOPE",
        A::Flags => "FLAGS",
        A::InternalDate => "INTERNALDATE",
        A::Rfc822 => "RFC822",
        A::Rfc822Header => "RFC822.HEADER",
        A::Rfc822Size => "RFC822.SIZE",
        A::Rfc822Text => "RFC822.TEXT",
        A::Body => "BODY",
        A::BodyStructure => "BODYSTRUCTURE",
        A::Uid => "UID",
        A::ModSeq => "MODSEQ",
        A::SaveDate => "SAVEDATE",
        A::EmailId => "EMAILID",
        A::ThreadId => "THREADID",
        A::Preview {
            lazy: false,
            fuzzy: false,
        } => "PREVIEW",
        A::Preview {
            lazy: true,
            fuzzy: false,
        } => "PREVIEW (LAZY)",
        A::Preview {
            lazy: false,
            fuzzy: true,
        } => "PREVIEW (FUZZY)",
        A::Preview {
            lazy: true,
            fuzzy: true,
        } => "PREVIEW (LAZY=FUZZY)",
        A::Snippet { lazy: false } => "SNIPPET (FUZZY)",
        A::Snippet { lazy: true } => "SNIPPET (LAZY=FUZZY)",
        A::BodySection {
            peek,
            section,
            partial: p,
        } => {
            out.extend_from_slice(if *peek { b"BODY.PEEK[" } else { b"BODY[" });
            write_section(out, section);
            out.push(b']');
            partial(out, p);
            return;
        }
        A::Binary {
            peek,
            part: pt,
            partial: p,
        } => {
            out.extend_from_slice(if *peek { b"BINARY.PEEK[" } else { b"BINARY[" });
            write_part(out, pt);
            out.push(b']');
            partial(out, p);
            return;
        }
        A::BinarySize { part: pt } => {
            out.extend_from_slice(b"BINARY.SIZE[");
            write_part(out, pt);
            out.push(b']');
            return;
        }
    };
    out.extend_from_slice(simple.as_bytes());
}
