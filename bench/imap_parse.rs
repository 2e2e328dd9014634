//! IMAP command framing and parsing, on the commands desktop and mobile
//! clients send most (Thunderbird, Apple Mail, K-9 / FairEmail, Outlook).

#[path = "common/mod.rs"]
mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use tern::imap::codec::{FrameEvent, Framer, FramingLimits, parse_command, parse_idle_done};

/// (name, complete frame as sent).
fn typical_commands() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "uid_fetch_header_fields",
            b"A101 UID FETCH 4812:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS \
              (From To Cc Bcc Subject Date Message-ID Priority X-Priority References \
              Newsgroups In-Reply-To Content-Type Reply-To)])\r\n"
                .to_vec(),
        ),
        (
            "uid_fetch_flags_changedsince",
            b"A102 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 184467)\r\n".to_vec(),
        ),
        (
            "uid_fetch_body_partial",
            b"A103 UID FETCH 4907 (BODY.PEEK[1.2]<0.16384> BODYSTRUCTURE)\r\n".to_vec(),
        ),
        (
            "uid_search_unseen_since",
            b"A104 UID SEARCH RETURN (ALL COUNT) UNSEEN SINCE 1-Nov-2026 NOT DELETED\r\n".to_vec(),
        ),
        (
            "search_or_text",
            b"A105 SEARCH CHARSET UTF-8 OR FROM \"alice@example.org\" SUBJECT \"quarterly report\" \
              UID 1:5000 NOT KEYWORD $Junk\r\n"
                .to_vec(),
        ),
        (
            "uid_store_flags",
            b"A106 UID STORE 1201,1203:1210,1244 +FLAGS.SILENT (\\Seen \\Flagged)\r\n".to_vec(),
        ),
        (
            "append_with_literal",
            append_frame(&common::messages::simple(1)),
        ),
        ("idle", b"A108 IDLE\r\n".to_vec()),
        ("noop", b"A109 NOOP\r\n".to_vec()),
        (
            "select_condstore",
            b"A110 SELECT \"INBOX\" (CONDSTORE)\r\n".to_vec(),
        ),
    ]
}

fn append_frame(message: &[u8]) -> Vec<u8> {
    let mut f = format!(
        "A107 APPEND \"Sent Items\" (\\Seen $Forwarded) \"28-Nov-2026 14:35:00 +0000\" {{{}+}}\r\n",
        message.len()
    )
    .into_bytes();
    f.extend_from_slice(message);
    f.extend_from_slice(b"\r\n");
    f
}

/// Runs the framer over `input` fed in `chunk`-byte reads (as a socket
/// delivers them) and returns the number of complete frames.
fn frame_all(input: &[u8], chunk: usize) -> usize {
    let mut framer = Framer::new(FramingLimits::default());
    let mut frames = 0;
    for piece in input.chunks(chunk) {
        framer.enqueue(piece);
        loop {
            match framer.next_event() {
                FrameEvent::Complete(f) => {
                    frames += 1;
                    black_box(f);
                }
                FrameEvent::NeedMore => break,
                FrameEvent::NeedContinuation { len } => {
                    black_box(len);
                }
                FrameEvent::Error(e) => panic!("fixture did not frame: {e}"),
            }
        }
    }
    frames
}

fn parse_each(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_command");
    for (name, frame) in typical_commands() {
        assert!(parse_command(&frame).is_ok(), "fixture {name} must parse");
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(name), &frame, |b, f| {
            b.iter(|| parse_command(black_box(f)))
        });
    }
    g.finish();
}

fn idle_done(c: &mut Criterion) {
    // A whole IDLE round: the command, then the bare DONE line through a
    // framer switched to raw-line mode.
    c.bench_function("idle_done_round", |b| {
        b.iter(|| {
            let mut framer = Framer::new(FramingLimits::default());
            framer.enqueue(black_box(b"A108 IDLE\r\n"));
            let FrameEvent::Complete(cmd) = framer.next_event() else {
                panic!("IDLE did not frame");
            };
            let parsed = parse_command(cmd.as_bytes());
            framer.expect_raw_line();
            framer.enqueue(black_box(b"DONE\r\n"));
            let FrameEvent::Complete(done) = framer.next_event() else {
                panic!("DONE did not frame");
            };
            (parsed.is_ok(), parse_idle_done(done.line()).is_ok())
        })
    });
}

fn literal_through_framer(c: &mut Criterion) {
    // A synchronizing 10 KiB literal: announce, `+` continuation, then the
    // data in 1,448-byte TCP segments; then the whole command is parsed.
    let body = common::messages::small(1, 10 * 1024);
    let body = &body[..10 * 1024];
    let line = format!("A201 APPEND INBOX (\\Seen) {{{}}}\r\n", body.len());
    let mut g = c.benchmark_group("literal_10k");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("frame", |b| {
        b.iter(|| {
            let mut framer = Framer::new(FramingLimits::default());
            framer.enqueue(line.as_bytes());
            assert!(matches!(
                framer.next_event(),
                FrameEvent::NeedContinuation { .. }
            ));
            let mut frame = None;
            for seg in body.chunks(1448).chain([&b"\r\n"[..]]) {
                framer.enqueue(seg);
                if let FrameEvent::Complete(f) = framer.next_event() {
                    frame = Some(f);
                }
            }
            frame.map(|f| f.into_bytes().len())
        })
    });
    let mut whole = line.clone().into_bytes();
    whole.extend_from_slice(body);
    whole.extend_from_slice(b"\r\n");
    g.bench_function("frame_and_parse", |b| {
        b.iter(|| {
            let mut framer = Framer::new(FramingLimits::default());
            let mut parsed = 0;
            for seg in whole.chunks(1448) {
                framer.enqueue(seg);
                loop {
                    match framer.next_event() {
                        FrameEvent::Complete(f) => {
                            parsed += usize::from(parse_command(f.as_bytes()).is_ok())
                        }
                        FrameEvent::NeedMore => break,
                        _ => {}
                    }
                }
            }
            parsed
        })
    });
    g.finish();
}

fn session_stream(c: &mut Criterion) {
    // All typical commands back to back, as one pipelined stream, framed
    // from 1,448-byte reads and parsed: commands per second for one core.
    let commands = typical_commands();
    let mut stream = Vec::new();
    for (_, f) in &commands {
        stream.extend_from_slice(f);
    }
    assert_eq!(frame_all(&stream, 1448), commands.len());
    let mut g = c.benchmark_group("pipelined_stream");
    g.throughput(Throughput::Elements(commands.len() as u64));
    g.bench_function("frame_and_parse", |b| {
        b.iter(|| {
            let mut framer = Framer::new(FramingLimits::default());
            let mut ok = 0;
            for seg in stream.chunks(1448) {
                framer.enqueue(seg);
                loop {
                    match framer.next_event() {
                        FrameEvent::Complete(f) => {
                            ok += usize::from(parse_command(f.as_bytes()).is_ok())
                        }
                        FrameEvent::NeedMore => break,
                        _ => {}
                    }
                }
            }
            ok
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
    targets = parse_each, idle_done, literal_through_framer, session_stream
}
criterion_main!(benches);
