//! Replays a recorded-style client session (Thunderbird-like start-up,
//! mutt-like APPEND) through framer + parser, the way the session will
//! drive them, chunked at awkward places.

use super::types::{AppendData, AuthenticateData, CommandBody, FetchAttributes};
use super::{
    FrameEvent, Framer, FramingLimits, parse_authenticate_data, parse_command, parse_idle_done,
};

const TRANSCRIPT: &[u8] = b"1 capability\r\n\
2 authenticate PLAIN\r\n\
AHVzZXIAc2VjcmV0\r\n\
3 ID (\"name\" \"Thunderbird\" \"version\" \"115.3.1\")\r\n\
4 enable UTF8=ACCEPT CONDSTORE\r\n\
5 list (subscribed) \"\" \"*\" return (special-use)\r\n\
6 select \"INBOX\" (CONDSTORE)\r\n\
7 UID fetch 1:* (FLAGS) (CHANGEDSINCE 1)\r\n\
8 IDLE\r\n\
DONE\r\n\
9 UID fetch 5 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])\r\n\
10 APPEND \"Sent\" (\\Seen) {29}\r\n\
Subject: hi\r\n\
\r\n\
Hello there.\r\n\
\r\n\
11 uid store 5 +FLAGS (\\Deleted)\r\n\
12 UID EXPUNGE 5\r\n\
13 logout\r\n";

/// What the session would do with each frame: commands by name, plus the
/// raw lines of AUTHENTICATE and IDLE.
fn replay(chunk: usize) -> Vec<String> {
    let mut framer = Framer::new(FramingLimits::default());
    let mut seen = Vec::new();
    let mut continuations = 0;
    for piece in TRANSCRIPT.chunks(chunk) {
        framer.enqueue(piece);
        loop {
            match framer.next_event() {
                FrameEvent::NeedMore => break,
                FrameEvent::NeedContinuation { len } => {
                    assert_eq!(len, 29);
                    continuations += 1;
                }
                FrameEvent::Error(e) => panic!("framing error {e:?}"),
                FrameEvent::Complete(frame) => {
                    let last = seen.last().map(String::as_str);
                    if last == Some("AUTHENTICATE") {
                        let data = parse_authenticate_data(frame.as_bytes()).unwrap();
                        let AuthenticateData::Response(secret) = data else {
                            panic!("cancelled")
                        };
                        assert_eq!(secret.expose(), b"\0user\0secret");
                        seen.push("sasl-response".into());
                        continue;
                    }
                    if last == Some("IDLE") {
                        parse_idle_done(frame.line()).unwrap();
                        seen.push("done".into());
                        continue;
                    }
                    let cmd = parse_command(frame.as_bytes())
                        .unwrap_or_else(|e| panic!("{:?}: {e:?}", frame.as_bytes()));
                    let name = match &cmd.body {
                        CommandBody::Authenticate { .. } => "AUTHENTICATE",
                        CommandBody::Idle => "IDLE",
                        CommandBody::Append { messages, .. } => {
                            assert!(matches!(
                                &messages[0].data,
                                AppendData::Literal { bytes, .. } if bytes.len() == 29
                            ));
                            "APPEND"
                        }
                        CommandBody::Fetch {
                            attributes: FetchAttributes::List(l),
                            ..
                        } => {
                            if l.len() == 4 {
                                "FETCH4"
                            } else {
                                "FETCH"
                            }
                        }
                        _ => "other",
                    };
                    // The session switches the framer to raw lines after
                    // sending `+` for AUTHENTICATE / IDLE.
                    if matches!(name, "AUTHENTICATE" | "IDLE") {
                        framer.expect_raw_line();
                    }
                    seen.push(name.into());
                }
            }
        }
    }
    assert_eq!(continuations, 1);
    seen
}

#[test]
fn thunderbird_like_session() {
    let want: Vec<String> = [
        "other",
        "AUTHENTICATE",
        "sasl-response",
        "other",
        "other",
        "other",
        "other",
        "FETCH",
        "IDLE",
        "done",
        "FETCH4",
        "APPEND",
        "other",
        "other",
        "other",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for chunk in [1, 2, 3, 7, 64, 4096] {
        assert_eq!(replay(chunk), want, "chunk {chunk}");
    }
}
