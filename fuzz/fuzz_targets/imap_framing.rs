//! Arbitrary bytes, cut into arbitrary chunks → framer → parser.
//! Must not panic; frames stay within the caps; the events do not depend
//! on how the input was chunked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::imap::codec::{FrameEvent, Framer, FramingLimits, parse_command};

const LIMITS: FramingLimits = FramingLimits {
    max_line_length: 256,
    max_literal_size: 128,
    max_command_literals: 512,
};

fn run(chunks: &[&[u8]]) -> Vec<FrameEvent> {
    let mut framer = Framer::new(LIMITS);
    let mut events = Vec::new();
    for chunk in chunks {
        framer.enqueue(chunk);
        loop {
            match framer.next_event() {
                FrameEvent::NeedMore => break,
                FrameEvent::Complete(frame) => {
                    let len = frame.as_bytes().len();
                    assert!(len <= LIMITS.max_line_length + LIMITS.max_command_literals as usize);
                    let _ = parse_command(frame.as_bytes());
                    events.push(FrameEvent::Complete(frame));
                }
                other => events.push(other),
            }
            if events.len() > 10_000 {
                panic!("framer does not make progress");
            }
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut_seed, input)) = data.split_first() else {
        return;
    };
    let whole = run(&[input]);
    let step = usize::from(cut_seed % 17) + 1;
    let chunks: Vec<&[u8]> = input.chunks(step).collect();
    assert_eq!(run(&chunks), whole);
});
