//! NAMESPACE (RFC 2342): one personal namespace, no prefix.

use super::Flow;
use crate::imap::codec::response::{Data, NamespaceDescription};
use crate::imap::codec::types::Tag;
use crate::imap::session::names::DELIMITER;
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

pub fn namespace(s: &mut Session, out: &mut impl Output, tag: &Tag) -> Flow {
    out.data(&Data::Namespace {
        personal: vec![NamespaceDescription {
            prefix: Vec::new(),
            delimiter: Some(DELIMITER),
        }],
        other: Vec::new(),
        shared: Vec::new(),
    });
    s.ok(tag, "Namespace completed.");
    Flow::Continue
}
