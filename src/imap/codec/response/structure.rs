//! ENVELOPE, BODY and BODYSTRUCTURE (RFC 9051 §7.5.2, RFC 3501 §7.4.2):
//! the wire syntax of the message layer's typed structures, the only place
//! it is written.
//!
//! Output follows Dovecot 2.3 byte for byte where we know it:
//! - values are written with [`write_structure_string`], whatever the
//!   session negotiated (8-bit values are literals, NUL becomes `?`);
//! - an empty address list, parameter list or language list is NIL;
//!   Content-Language is always a parenthesised list, even of one;
//! - BODYSTRUCTURE always carries the extension data in full (MD5,
//!   disposition, language, location for single parts; parameters,
//!   disposition, language, location for multiparts); BODY carries none.
//!
//! The body structure is walked with an explicit stack, not recursion, so
//! a structure nested arbitrarily deep cannot exhaust the call stack.
//! Every function is total: any value encodes, nothing panics.

use super::strings::{write_structure_nstring, write_structure_string};
use super::write_number;
use crate::message::mime::Disposition;
use crate::message::{Address, BodyFields, BodyStructure, Envelope, Extension};

/// Writes the parenthesised ENVELOPE (without the `ENVELOPE ` name).
pub fn write_envelope(out: &mut Vec<u8>, env: &Envelope) {
    out.push(b'(');
    write_structure_nstring(out, env.date.as_deref());
    out.push(b' ');
    write_structure_nstring(out, env.subject.as_deref());
    for list in [
        &env.from,
        &env.sender,
        &env.reply_to,
        &env.to,
        &env.cc,
        &env.bcc,
    ] {
        out.push(b' ');
        write_addresses(out, list);
    }
    out.push(b' ');
    write_structure_nstring(out, env.in_reply_to.as_deref());
    out.push(b' ');
    write_structure_nstring(out, env.message_id.as_deref());
    out.push(b')');
}

fn write_addresses(out: &mut Vec<u8>, list: &[Address]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        write_structure_nstring(out, a.name.as_deref());
        out.push(b' ');
        write_structure_nstring(out, a.adl.as_deref());
        out.push(b' ');
        write_structure_nstring(out, a.mailbox.as_deref());
        out.push(b' ');
        write_structure_nstring(out, a.host.as_deref());
        out.push(b')');
    }
    out.push(b')');
}

/// Writes the parenthesised structure (without the item name):
/// BODYSTRUCTURE when `extended`, BODY otherwise.
pub fn write_body_structure(out: &mut Vec<u8>, body: &BodyStructure, extended: bool) {
    /// A node to open (its `(` and everything before its children), or to
    /// close (everything after its children, and its `)`).
    enum Step<'a> {
        Open(&'a BodyStructure),
        Close(&'a BodyStructure),
    }
    let mut stack = vec![Step::Open(body)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Open(node) => {
                out.push(b'(');
                match node {
                    BodyStructure::Multipart { parts, .. } => {
                        stack.push(Step::Close(node));
                        stack.extend(parts.iter().rev().map(Step::Open));
                    }
                    BodyStructure::Message {
                        fields,
                        envelope,
                        body,
                        ..
                    } => {
                        write_fields(out, fields);
                        out.push(b' ');
                        write_envelope(out, envelope);
                        out.push(b' ');
                        stack.push(Step::Close(node));
                        stack.push(Step::Open(body));
                    }
                    BodyStructure::Basic { fields, .. } | BodyStructure::Text { fields, .. } => {
                        write_fields(out, fields);
                        write_tail(out, node, extended);
                    }
                }
            }
            Step::Close(node) => write_tail(out, node, extended),
        }
    }
}

/// What follows a node's fields or children, up to its closing `)`.
fn write_tail(out: &mut Vec<u8>, node: &BodyStructure, extended: bool) {
    match node {
        BodyStructure::Basic { ext, .. } => {
            if extended {
                write_single_ext(out, ext);
            }
        }
        BodyStructure::Text { lines, ext, .. } | BodyStructure::Message { lines, ext, .. } => {
            out.push(b' ');
            write_number(out, *lines);
            if extended {
                write_single_ext(out, ext);
            }
        }
        BodyStructure::Multipart {
            subtype,
            params,
            ext,
            ..
        } => {
            out.push(b' ');
            write_structure_string(out, subtype);
            if extended {
                out.push(b' ');
                write_params(out, params);
                write_common_ext(out, ext);
            }
        }
    }
    out.push(b')');
}

/// `body-fields` with the media type in front: type, subtype, parameters,
/// id, description, encoding, octets.
fn write_fields(out: &mut Vec<u8>, f: &BodyFields) {
    write_structure_string(out, &f.media_type);
    out.push(b' ');
    write_structure_string(out, &f.subtype);
    out.push(b' ');
    write_params(out, &f.params);
    out.push(b' ');
    write_structure_nstring(out, f.id.as_deref());
    out.push(b' ');
    write_structure_nstring(out, f.description.as_deref());
    out.push(b' ');
    write_structure_string(out, &f.encoding);
    out.push(b' ');
    write_number(out, f.octets);
}

/// `("name" "value" ...)`, or NIL when there are no parameters.
fn write_params(out: &mut Vec<u8>, params: &[(Vec<u8>, Vec<u8>)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        write_structure_string(out, name);
        out.push(b' ');
        write_structure_string(out, value);
    }
    out.push(b')');
}

/// MD5, then the extension data multiparts have too.
fn write_single_ext(out: &mut Vec<u8>, ext: &Extension) {
    out.push(b' ');
    write_structure_nstring(out, ext.md5.as_deref());
    write_common_ext(out, ext);
}

/// Disposition, language and location, each preceded by a space.
fn write_common_ext(out: &mut Vec<u8>, ext: &Extension) {
    out.push(b' ');
    write_disposition(out, ext.disposition.as_ref());
    out.push(b' ');
    if ext.language.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        for (i, l) in ext.language.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            write_structure_string(out, l);
        }
        out.push(b')');
    }
    out.push(b' ');
    write_structure_nstring(out, ext.location.as_deref());
}

fn write_disposition(out: &mut Vec<u8>, disposition: Option<&Disposition>) {
    match disposition {
        Some(d) => {
            out.push(b'(');
            write_structure_string(out, &d.kind);
            out.push(b' ');
            write_params(out, &d.params);
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
}

#[cfg(test)]
#[path = "structure_tests.rs"]
pub(super) mod tests;
