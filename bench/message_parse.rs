//! MIME parsing, ENVELOPE and BODYSTRUCTURE building for three message
//! shapes: plain text, multipart/alternative, and nested multipart with
//! attachments and a forwarded message.

#[path = "common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tern::imap::codec::response::{write_body_structure, write_envelope};
use tern::message::{CachedStructure, ParsedMessage};

fn shapes() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("simple", common::messages::simple(1)),
        ("alternative", common::messages::alternative(2)),
        ("nested_attachments", common::messages::nested(3)),
    ]
}

fn parse_and_build(c: &mut Criterion) {
    let shapes = shapes();
    let mut g = c.benchmark_group("message");
    for (name, raw) in &shapes {
        g.throughput(Throughput::Bytes(raw.len() as u64));
        g.bench_with_input(BenchmarkId::new("mime_tree", name), raw, |b, raw| {
            b.iter(|| ParsedMessage::parse(black_box(raw)).root().body.end)
        });
        let parsed = ParsedMessage::parse(raw);
        g.bench_with_input(BenchmarkId::new("envelope", name), &parsed, |b, p| {
            b.iter(|| p.envelope())
        });
        g.bench_with_input(BenchmarkId::new("bodystructure", name), &parsed, |b, p| {
            b.iter(|| p.body_structure())
        });
        // What FETCH ENVELOPE BODYSTRUCTURE costs without an index cache:
        // parse, build both, write both.
        g.bench_with_input(BenchmarkId::new("fetch_uncached", name), raw, |b, raw| {
            let mut out = Vec::with_capacity(8 * 1024);
            b.iter(|| {
                out.clear();
                let p = ParsedMessage::parse(black_box(raw));
                write_envelope(&mut out, &p.envelope());
                write_body_structure(&mut out, &p.body_structure(), true);
                out.len()
            })
        });
        // With the cache: decode the record and write both.
        let record = parsed.cached_structure().encode();
        g.bench_with_input(BenchmarkId::new("fetch_cached", name), &record, |b, rec| {
            let mut out = Vec::with_capacity(8 * 1024);
            b.iter(|| {
                out.clear();
                let Ok(s) = CachedStructure::decode(black_box(rec)) else {
                    panic!("cache record must decode");
                };
                write_envelope(&mut out, &s.envelope);
                write_body_structure(&mut out, &s.body, true);
                out.len()
            })
        });
        g.bench_with_input(BenchmarkId::new("cache_encode", name), &parsed, |b, p| {
            let s = p.cached_structure();
            b.iter(|| s.encode().len())
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = parse_and_build
}
criterion_main!(benches);
