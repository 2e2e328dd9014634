//! FETCH response encoding for 1,000 messages: the flag-sync answer every
//! client asks for on SELECT (UID FLAGS RFC822.SIZE), and the ENVELOPE +
//! BODYSTRUCTURE answer of a message-list refresh.

#[path = "common/mod.rs"]
mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tern::imap::codec::response::{EncodeOptions, FetchEncoder, FetchItem};
use tern::imap::codec::types::Flag;
use tern::message::{CachedStructure, ParsedMessage};

const MESSAGES: usize = 1_000;

/// What the index holds per message, as the session would read it.
struct Row {
    uid: u32,
    flags: u8,
    size: u64,
}

fn rows() -> Vec<Row> {
    (0..MESSAGES)
        .map(|i| Row {
            uid: 4_000 + i as u32 * 3,
            // A realistic mix: most seen, some answered/flagged, few none.
            flags: [0b1000, 0b1001, 0b1000, 0b1010, 0, 0b1000, 0b1000, 0b0001][i % 8],
            size: 2_000 + (i as u64 * 7919) % 60_000,
        })
        .collect()
}

fn flags_of(bits: u8) -> Vec<Flag> {
    let mut v = Vec::with_capacity(4);
    for (bit, f) in [
        (0b0001, Flag::Answered),
        (0b0010, Flag::Flagged),
        (0b0100, Flag::Deleted),
        (0b1000, Flag::Seen),
    ] {
        if bits & bit != 0 {
            v.push(f);
        }
    }
    v
}

fn flags_uid_size(c: &mut Criterion) {
    let rows = rows();
    let opts = EncodeOptions { utf8: true };
    let mut g = c.benchmark_group("fetch_1000");
    g.throughput(Throughput::Elements(MESSAGES as u64));
    g.bench_function("uid_flags_size", |b| {
        let mut out = Vec::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            for (i, r) in rows.iter().enumerate() {
                let mut enc = FetchEncoder::begin(&mut out, i as u32 + 1);
                enc.item(&mut out, &FetchItem::Uid(r.uid), opts);
                enc.item(&mut out, &FetchItem::Flags(flags_of(r.flags)), opts);
                enc.item(&mut out, &FetchItem::Rfc822Size(r.size), opts);
                enc.finish(&mut out);
            }
            black_box(out.len())
        })
    });

    // The three message shapes, cycled over the 1,000 messages.
    let raws = [
        common::messages::simple(1),
        common::messages::alternative(2),
        common::messages::nested(3),
    ];
    let parsed: Vec<_> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
    let typed: Vec<CachedStructure> = parsed.iter().map(|p| p.cached_structure()).collect();
    g.bench_function("envelope_bodystructure_codec", |b| {
        let mut out = Vec::with_capacity(2 << 20);
        b.iter(|| {
            out.clear();
            for (i, r) in rows.iter().enumerate() {
                let s = &typed[i % typed.len()];
                let mut enc = FetchEncoder::begin(&mut out, i as u32 + 1);
                enc.item(&mut out, &FetchItem::Uid(r.uid), opts);
                enc.envelope(&mut out, &s.envelope);
                enc.body_structure(&mut out, &s.body, true);
                enc.finish(&mut out);
            }
            black_box(out.len())
        })
    });

    // The path a FETCH takes when the index cache holds the structure:
    // decode the cached record and let the codec write it.
    let cached: Vec<Vec<u8>> = typed.iter().map(CachedStructure::encode).collect();
    g.bench_function("envelope_bodystructure_from_cache", |b| {
        let mut out = Vec::with_capacity(2 << 20);
        b.iter(|| {
            out.clear();
            for (i, r) in rows.iter().enumerate() {
                let Ok(s) = CachedStructure::decode(&cached[i % cached.len()]) else {
                    panic!("cache record must decode");
                };
                let mut enc = FetchEncoder::begin(&mut out, i as u32 + 1);
                enc.item(&mut out, &FetchItem::Uid(r.uid), opts);
                enc.envelope(&mut out, &s.envelope);
                enc.body_structure(&mut out, &s.body, true);
                enc.finish(&mut out);
            }
            black_box(out.len())
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = flags_uid_size
}
criterion_main!(benches);
