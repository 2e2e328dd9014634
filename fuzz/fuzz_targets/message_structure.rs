//! Arbitrary bytes as a message → ENVELOPE, BODY and BODYSTRUCTURE through
//! the IMAP encoder. Must not panic; the structure cache record round-trips
//! and encodes to the same bytes as the freshly parsed structure (FETCH
//! answers from either, so they must agree).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::imap::codec::response::{write_body_structure, write_envelope};
use tern::message::{BodyStructure, CachedStructure, Envelope, ParsedMessage};

fn encode(envelope: &Envelope, body: &BodyStructure) -> Vec<u8> {
    let mut out = Vec::new();
    write_envelope(&mut out, envelope);
    out.push(b' ');
    write_body_structure(&mut out, body, false);
    out.push(b' ');
    write_body_structure(&mut out, body, true);
    out
}

fuzz_target!(|data: &[u8]| {
    let parsed = ParsedMessage::parse(data);
    let fresh = parsed.cached_structure();
    let wire = encode(&fresh.envelope, &fresh.body);
    assert!(wire.starts_with(b"(") && wire.ends_with(b")"));
    let record = fresh.encode();
    match CachedStructure::decode(&record) {
        Ok(back) => assert_eq!(encode(&back.envelope, &back.body), wire),
        Err(e) => panic!("cache record of a parsed message does not decode: {e}"),
    }
});
