//! Byte-exact ENVELOPE / BODY / BODYSTRUCTURE output (the expected strings
//! are the ones the message layer's writer was checked against before the
//! syntax moved here), well-formedness on random input, and deep nesting.

use super::*;
use crate::message::ParsedMessage;
use crate::message::header::HeaderBlock;
use crate::message::tree::MimePart;

fn envelope_string(raw: &[u8]) -> String {
    let h = HeaderBlock::parse(raw, 0, raw.len());
    let mut out = Vec::new();
    write_envelope(&mut out, &Envelope::from_header(raw, &h));
    String::from_utf8_lossy(&out).into_owned()
}

/// (BODYSTRUCTURE, BODY) strings without the outer parentheses.
fn structures(raw: &[u8]) -> (String, String) {
    let tree = MimePart::parse_message(raw);
    let bs = BodyStructure::from_part(raw, &tree);
    let (mut ext, mut basic) = (Vec::new(), Vec::new());
    write_body_structure(&mut ext, &bs, true);
    write_body_structure(&mut basic, &bs, false);
    let strip = |v: Vec<u8>| {
        let s = String::from_utf8_lossy(&v).into_owned();
        s[1..s.len() - 1].to_string()
    };
    (strip(ext), strip(basic))
}

#[test]
fn full_envelope() {
    let raw = b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US,\r\n John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
\r\nbody\r\n";
    assert_eq!(
        envelope_string(raw),
        "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"imap\" \"cac.washington.edu\")) \
((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) \
NIL NIL \"<B27397-0100000@cac.washington.edu>\")"
    );
}

#[test]
fn missing_headers_are_nil() {
    assert_eq!(
        envelope_string(b"\r\nbody"),
        "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
    );
    assert_eq!(
        envelope_string(b"Subject:\r\nTo:  \r\n\r\n"),
        "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"
    );
}

#[test]
fn explicit_sender_reply_to_and_groups() {
    let raw = b"From: a@x\nSender: s@x\nReply-To: r@x\nTo: Friends: b@y, \"C\" <c@y>;\nBcc: undisclosed:;\nIn-Reply-To: <p@x>\n\n";
    assert_eq!(
        envelope_string(raw),
        "(NIL NIL ((NIL NIL \"a\" \"x\")) ((NIL NIL \"s\" \"x\")) ((NIL NIL \"r\" \"x\")) \
((NIL NIL \"Friends\" NIL)(NIL NIL \"b\" \"y\")(\"C\" NIL \"c\" \"y\")(NIL NIL NIL NIL)) NIL \
((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) \"<p@x>\" NIL)"
    );
}

#[test]
fn encoded_and_8bit_subjects() {
    let s = envelope_string(b"Subject: =?UTF-8?B?w6k=?= \"q\"\n\n");
    assert_eq!(
        s,
        "(NIL \"=?UTF-8?B?w6k=?= \\\"q\\\"\" NIL NIL NIL NIL NIL NIL NIL NIL)"
    );
    let s = envelope_string("Subject: café\n\n".as_bytes());
    assert_eq!(s, "(NIL {5}\r\ncafé NIL NIL NIL NIL NIL NIL NIL NIL)");
}

#[test]
fn plain_text_bare_lf() {
    let raw = b"From: a@b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nline one\nline two\n";
    let (bs, body) = structures(raw);
    assert_eq!(
        bs,
        "\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 20 2 NIL NIL NIL NIL"
    );
    assert_eq!(
        body,
        "\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" 20 2"
    );
}

#[test]
fn no_content_type_and_empty_body() {
    let (bs, _) = structures(b"Subject: nothing\r\n\r\n");
    assert_eq!(
        bs,
        "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL"
    );
    let (bs, _) = structures(b"");
    assert_eq!(
        bs,
        "\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL"
    );
}

#[test]
fn text_without_charset_gets_one_appended() {
    let (bs, _) = structures(
        b"Content-Type: text/plain; format=flowed\r\nContent-Transfer-Encoding: ?bad\r\n\r\nx",
    );
    assert_eq!(
        bs,
        "\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL"
    );
}

/// multipart/mixed containing multipart/alternative, an attachment with a
/// filename, and a message/rfc822 that itself holds a multipart.
pub(crate) const NESTED: &[u8] = b"From: Alice <alice@example.org>\r\n\
To: bob@example.net\r\n\
Subject: nested\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
This is a MIME message.\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=alt\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Hi Bob =E2=82=AC\r\n\
\r\n\
--alt\r\n\
Content-Type: text/html; charset=UTF-8\r\n\
\r\n\
<p>Hi Bob</p>\r\n\
--alt--\r\n\
\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\n\
Content-Transfer-Encoding: BASE64\r\n\
Content-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-ID: <part3@example.org>\r\n\
Content-Language: en\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
Content-Description: forwarded\r\n\
\r\n\
From: carol@example.com\r\n\
Subject: inner\r\n\
Content-Type: multipart/mixed; boundary=in\r\n\
\r\n\
--in\r\n\
\r\n\
inner text\r\n\
--in\r\n\
Content-Type: image/png\r\n\
\r\n\
PNG\r\n\
--in--\r\n\
--outer--\r\n";

#[test]
fn nested_multipart_hand_checked() {
    let (bs, body) = structures(NESTED);
    // Sizes: "Hi Bob =E2=82=AC\r\n" = 18; "<p>Hi Bob</p>" = 13;
    // "JVBERi0xLjQK" = 12; inner message = 151 octets, 11 lines
    // (25+16+44+2+6+2+12+6+25+2+5+6, up to "--in--");
    // "inner text" = 10; "PNG" = 3.
    let alt = "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 18 1 NIL NIL NIL NIL)\
(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL) \
\"alternative\" (\"boundary\" \"alt\") NIL NIL NIL)";
    let pdf = "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<part3@example.org>\" NIL \"BASE64\" 12 \
NIL (\"attachment\" (\"filename\" \"report.pdf\")) (\"en\") NIL)";
    let msg = "(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 151 \
(NIL \"inner\" ((NIL NIL \"carol\" \"example.com\")) ((NIL NIL \"carol\" \"example.com\")) \
((NIL NIL \"carol\" \"example.com\")) NIL NIL NIL NIL NIL) \
((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)\
(\"image\" \"png\" NIL NIL NIL \"7bit\" 3 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"in\") NIL NIL NIL) \
11 NIL NIL NIL NIL)";
    assert_eq!(
        bs,
        format!("{alt}{pdf}{msg} \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL")
    );
    assert!(body.starts_with(
        "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 18 1)"
    ));
    assert!(body.ends_with("(\"image\" \"png\" NIL NIL NIL \"7bit\" 3) \"mixed\") 11) \"mixed\""));
    assert!(!body.contains("boundary"));
}

#[test]
fn bare_lf_gives_the_same_structure() {
    let bare: Vec<u8> = NESTED.iter().copied().filter(|&b| b != b'\r').collect();
    assert_eq!(structures(&bare), structures(NESTED));
}

#[test]
fn unknown_types_and_message_global() {
    let raw = b"Content-Type: message/global\r\nContent-Transfer-Encoding: Base64\r\n\r\nU3ViamVjdDogeA==";
    let (bs, body) = structures(raw);
    assert_eq!(
        bs,
        "\"message\" \"global\" NIL NIL NIL \"Base64\" 16 NIL NIL NIL NIL"
    );
    assert_eq!(body, "\"message\" \"global\" NIL NIL NIL \"Base64\" 16");
}

#[test]
fn malformed_inputs_do_not_panic() {
    let inputs: [&[u8]; 6] = [
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x",
        b"Content-Type: message/rfc822\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
        b"Content-Type: text/plain; charset\r\nContent-Disposition: ;;;\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogYQ==",
    ];
    for raw in inputs {
        let (bs, body) = structures(raw);
        for s in [bs, body] {
            let opens = s.matches('(').count();
            assert_eq!(opens, s.matches(')').count(), "unbalanced: {s}");
        }
    }
}
/// Checks IMAP syntax at the token level: balanced parentheses, closed
/// quoted strings with only escaped `"` / `\\`, no CR/LF outside
/// literals, literal lengths that match. Returns the top-level count.
fn well_formed(out: &[u8]) -> Result<usize, String> {
    let (mut i, mut depth, mut top) = (0usize, 0usize, 0usize);
    while i < out.len() {
        match out[i] {
            b'(' => {
                if depth == 0 {
                    top += 1;
                }
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1).ok_or("unbalanced ')'")?;
                i += 1;
            }
            b'"' => {
                i += 1;
                loop {
                    match out.get(i) {
                        None => return Err("unterminated quoted".into()),
                        Some(b'"') => break,
                        Some(b'\\') => {
                            if !matches!(out.get(i + 1), Some(b'"') | Some(b'\\')) {
                                return Err("bad escape".into());
                            }
                            i += 2;
                        }
                        Some(b'\r') | Some(b'\n') => return Err("CR/LF in quoted".into()),
                        Some(b) if *b >= 0x80 => return Err("8-bit in quoted".into()),
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            b'{' => {
                let close = out[i..]
                    .iter()
                    .position(|&b| b == b'}')
                    .ok_or("bad literal")?
                    + i;
                let n: usize = std::str::from_utf8(&out[i + 1..close])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or("bad literal length")?;
                if out.get(close + 1..close + 3) != Some(b"\r\n") {
                    return Err("literal without CRLF".into());
                }
                i = close + 3 + n;
                if i > out.len() {
                    return Err("literal too short".into());
                }
            }
            b'\r' | b'\n' => return Err("CR/LF outside literal".into()),
            _ => i += 1,
        }
    }
    if depth != 0 {
        return Err("unbalanced '('".into());
    }
    Ok(top)
}

#[test]
fn random_bytes_never_panic() {
    let alphabet = b"ab:;<>@,\"\\()[]=?-\r\n \t/*'%\xc3\xff\x00";
    let prefixes: [&[u8]; 4] = [
        b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n",
        b"From: ",
        b"To: x@y, ",
        b"Subject: x\r\nContent-Type: message/rfc822\r\n\r\nCc: ",
    ];
    let mut seed = 0x9e37_79b9u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for _ in 0..500 {
        let len = (next() % 200) as usize;
        let mut raw = prefixes[(next() as usize) % prefixes.len()].to_vec();
        raw.extend((0..len).map(|_| alphabet[(next() as usize) % alphabet.len()]));
        let m = ParsedMessage::parse(&raw);
        let mut out = Vec::new();
        write_body_structure(&mut out, &m.body_structure(), true);
        write_body_structure(&mut out, &m.body_structure(), false);
        write_envelope(&mut out, &m.envelope());
        assert_eq!(
            well_formed(&out),
            Ok(3),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// Runs `f` on a thread with a 128 KiB stack, so recursion proportional to
/// the nesting depth would overflow it.
fn on_small_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn_scoped(scope, f)
        {
            Ok(handle) => match handle.join() {
                Ok(v) => v,
                Err(e) => std::panic::resume_unwind(e),
            },
            Err(e) => panic!("cannot start a thread: {e}"),
        }
    })
}

fn text_part(octets: u64, lines: u64) -> BodyStructure {
    BodyStructure::Text {
        fields: BodyFields {
            media_type: b"text".to_vec(),
            subtype: b"plain".to_vec(),
            params: vec![(b"charset".to_vec(), b"us-ascii".to_vec())],
            id: None,
            description: None,
            encoding: b"7bit".to_vec(),
            octets,
        },
        lines,
        ext: Extension::default(),
    }
}

#[test]
fn deep_multipart_nesting_does_not_overflow() {
    let mut body = text_part(1, 1);
    for _ in 0..10_000 {
        body = BodyStructure::Multipart {
            parts: vec![body],
            subtype: b"mixed".to_vec(),
            params: vec![],
            ext: Extension::default(),
        };
    }
    let out = on_small_stack(|| {
        let mut out = Vec::new();
        write_body_structure(&mut out, &body, true);
        out
    });
    let leaf =
        b"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 1 NIL NIL NIL NIL)";
    let close = b" \"mixed\" NIL NIL NIL NIL)";
    assert_eq!(out.len(), 10_000 + leaf.len() + 10_000 * close.len());
    assert!(out.starts_with(&[b'('; 10_000]));
    assert_eq!(&out[10_000..10_000 + leaf.len()], leaf);
    assert!(out.ends_with(close));
    assert_eq!(well_formed(&out), Ok(1));
}

#[test]
fn deep_message_nesting_does_not_overflow() {
    let mut body = text_part(0, 0);
    for _ in 0..10_000 {
        body = BodyStructure::Message {
            fields: BodyFields {
                media_type: b"message".to_vec(),
                subtype: b"rfc822".to_vec(),
                encoding: b"7bit".to_vec(),
                ..BodyFields::default()
            },
            envelope: Box::default(),
            body: Box::new(body),
            lines: 2,
            ext: Extension::default(),
        };
    }
    let out = on_small_stack(|| {
        let mut out = Vec::new();
        write_body_structure(&mut out, &body, false);
        out
    });
    let open = b"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ";
    let leaf = b"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)";
    let mut want = open.repeat(10_000);
    want.extend_from_slice(leaf);
    want.extend_from_slice(&b" 2)".repeat(10_000));
    assert!(out == want, "output differs from the expected nesting");
    assert_eq!(well_formed(&out), Ok(1));
}
