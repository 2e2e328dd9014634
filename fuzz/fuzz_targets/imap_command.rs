//! Arbitrary bytes → command parser (and the AUTHENTICATE / IDLE line
//! parsers). Must not panic; whatever parses must survive
//! encode → parse unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tern::imap::codec::{parse_authenticate_data, parse_command, parse_idle_done};

fuzz_target!(|data: &[u8]| {
    let _ = parse_authenticate_data(data);
    let _ = parse_idle_done(data);
    if let Ok(cmd) = parse_command(data) {
        let mut wire = Vec::new();
        cmd.encode(&mut wire);
        match parse_command(&wire) {
            Ok(again) => assert_eq!(again, cmd, "{:?}", String::from_utf8_lossy(&wire)),
            Err(e) => panic!("re-parse of {:?} failed: {e:?}", String::from_utf8_lossy(&wire)),
        }
    }
});
