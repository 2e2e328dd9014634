//! FETCH responses compared byte for byte.

use super::*;
use crate::imap::codec::types::FetchMacro;
use crate::imap::eval::sort::tests::info;

const SIMPLE: &[u8] = b"From: Jo <jo@x.org>\r\nSubject: Hi\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nHello world\r\n";

const NESTED: &[u8] = b"Subject: nest\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n\
--o\r\nContent-Type: text/plain\r\n\r\nouter\r\n\
--o\r\nContent-Type: multipart/alternative; boundary=m\r\n\r\n\
--m\r\nContent-Type: text/plain\r\n\r\nmid\r\n\
--m\r\nContent-Type: multipart/related; boundary=i\r\n\r\n\
--i\r\nContent-Type: text/html\r\n\r\n<b>in</b>\r\n\
--i\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n\
--i--\r\n--m--\r\n--o--\r\n";

fn msg_info() -> MessageInfo {
    let mut i = info(77, 1_704_103_200, 0);
    i.flags = SystemFlags::SEEN | SystemFlags::ANSWERED;
    i.keywords = vec!["$Label1".into(), "bad keyword".into()];
    i.modseq = 12345;
    i.save_date = 1_704_189_600;
    i.guid = "abc-123".into();
    i
}

fn fetch(raw: &[u8], attrs: &[FetchAttribute]) -> Result<(Vec<u8>, Vec<Segment>), EvalError> {
    let mut info = msg_info();
    info.virtual_size = raw.len() as u64;
    let parsed = ParsedMessage::parse(raw);
    let ctx = FetchContext {
        seq: 4,
        info: &info,
        content: Some(&parsed),
        cached: None,
        recent: true,
        zone_minutes: 60,
        savedate_supported: true,
        opts: EncodeOptions::default(),
    };
    let mut out = b"prefix ".to_vec();
    let segments = build_fetch(&mut out, &ctx, attrs)?;
    Ok((out, segments))
}

/// The whole response as the session would send it.
fn text(raw: &[u8], attrs: &[FetchAttribute]) -> String {
    let (mut out, segments) = fetch(raw, attrs).unwrap();
    for s in segments {
        match s {
            Segment::Bytes(b) => out.extend_from_slice(&b),
            Segment::Raw(r) => out.extend_from_slice(&raw[r]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn body(part: Vec<u32>, text: Option<SectionText>, partial: Option<(u32, u32)>) -> FetchAttribute {
    FetchAttribute::BodySection {
        peek: false,
        section: Section { part, text },
        partial: partial.map(|(origin, length)| Partial { origin, length }),
    }
}

#[test]
fn metadata_items() {
    use FetchAttribute as A;
    let attrs = [
        A::Uid,
        A::Flags,
        A::InternalDate,
        A::Rfc822Size,
        A::ModSeq,
        A::SaveDate,
        A::EmailId,
        A::ThreadId,
    ];
    assert_eq!(
        text(SIMPLE, &attrs),
        "prefix * 4 FETCH (UID 77 FLAGS (\\Answered \\Seen \\Recent $Label1) \
INTERNALDATE \" 1-Jan-2024 11:00:00 +0100\" RFC822.SIZE 88 MODSEQ (12345) \
SAVEDATE \" 2-Jan-2024 11:00:00 +0100\" EMAILID (abc-123) THREADID NIL)\r\n"
    );
}

#[test]
fn metadata_needs_no_content() {
    let info = msg_info();
    let ctx = FetchContext {
        seq: 1,
        info: &info,
        content: None,
        cached: None,
        recent: false,
        zone_minutes: 0,
        savedate_supported: false,
        opts: EncodeOptions::default(),
    };
    let attrs = FetchMacro::Fast.expand();
    assert_eq!(needs_content(&attrs, false), Content::None);
    let mut out = Vec::new();
    let segments = build_fetch(
        &mut out,
        &ctx,
        &[FetchAttribute::Flags, FetchAttribute::SaveDate],
    )
    .unwrap();
    assert!(segments.is_empty());
    assert_eq!(
        out,
        b"* 1 FETCH (FLAGS (\\Answered \\Seen $Label1) SAVEDATE NIL)\r\n"
    );
    let mut out = Vec::new();
    assert_eq!(
        build_fetch(&mut out, &ctx, &[FetchAttribute::Envelope]),
        Err(EvalError::MissingContent)
    );
    assert!(out.is_empty());
}

#[test]
fn envelope_and_body() {
    use FetchAttribute as A;
    assert_eq!(
        text(SIMPLE, &[A::Envelope, A::Body, A::BodyStructure]),
        "prefix * 4 FETCH (ENVELOPE (\"Mon, 01 Jan 2024 10:00:00 +0000\" \"Hi\" \
((\"Jo\" NIL \"jo\" \"x.org\")) ((\"Jo\" NIL \"jo\" \"x.org\")) ((\"Jo\" NIL \"jo\" \"x.org\")) \
NIL NIL NIL NIL NIL) \
BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 1) \
BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 1 NIL NIL NIL NIL))\r\n"
    );
}

#[test]
fn body_sections_and_partials() {
    use FetchAttribute as A;
    assert_eq!(
        text(SIMPLE, &[body(vec![], Some(SectionText::Text), None)]),
        "prefix * 4 FETCH (BODY[TEXT] {13}\r\nHello world\r\n)\r\n"
    );
    assert_eq!(
        text(SIMPLE, &[body(vec![], None, Some((6, 5)))]),
        "prefix * 4 FETCH (BODY[]<6> {5}\r\nJo <j)\r\n"
    );
    // Past the end: an empty string; running over the end: what is there.
    assert_eq!(
        text(SIMPLE, &[body(vec![1], None, Some((500, 10)))]),
        "prefix * 4 FETCH (BODY[1]<500> {0}\r\n)\r\n"
    );
    assert_eq!(
        text(SIMPLE, &[body(vec![1], None, Some((6, 100)))]),
        "prefix * 4 FETCH (BODY[1]<6> {7}\r\nworld\r\n)\r\n"
    );
    assert_eq!(
        text(
            SIMPLE,
            &[body(
                vec![],
                Some(SectionText::HeaderFields(vec![
                    b"subject".to_vec(),
                    b"To".to_vec()
                ])),
                None
            )]
        ),
        "prefix * 4 FETCH (BODY[HEADER.FIELDS (subject To)] {15}\r\nSubject: Hi\r\n\r\n)\r\n"
    );
    assert_eq!(
        text(
            SIMPLE,
            &[A::BodySection {
                peek: true,
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFieldsNot(vec![
                        b"From".to_vec(),
                        b"Date".to_vec()
                    ])),
                },
                partial: None,
            }]
        ),
        "prefix * 4 FETCH (BODY[HEADER.FIELDS.NOT (From Date)] {15}\r\nSubject: Hi\r\n\r\n)\r\n"
    );
    // A part that does not exist is empty, as Dovecot answers.
    assert_eq!(
        text(SIMPLE, &[body(vec![3], None, None)]),
        "prefix * 4 FETCH (BODY[3] {0}\r\n)\r\n"
    );
}

#[test]
fn rfc822_items() {
    use FetchAttribute as A;
    assert_eq!(
        text(SIMPLE, &[A::Rfc822Header, A::Rfc822Text]),
        "prefix * 4 FETCH (RFC822.HEADER {75}\r\nFrom: Jo <jo@x.org>\r\nSubject: Hi\r\n\
Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\n RFC822.TEXT {13}\r\nHello world\r\n)\r\n"
    );
    let lf = b"Subject: a\n\nb\n";
    assert_eq!(
        text(lf, &[A::Rfc822]),
        "prefix * 4 FETCH (RFC822 {17}\r\nSubject: a\r\n\r\nb\r\n)\r\n"
    );
}

#[test]
fn binary_of_base64_part() {
    use FetchAttribute as A;
    let (out, segments) = fetch(
        NESTED,
        &[
            A::Binary {
                peek: true,
                part: vec![2, 2, 2],
                partial: None,
            },
            A::BinarySize {
                part: vec![2, 2, 2],
            },
            A::Binary {
                peek: false,
                part: vec![2, 2, 2],
                partial: Some(Partial {
                    origin: 1,
                    length: 2,
                }),
            },
        ],
    )
    .unwrap();
    assert!(segments.is_empty());
    assert_eq!(
        out,
        b"prefix * 4 FETCH (BINARY[2.2.2] ~{4}\r\n\x00\x01\x02\xff BINARY.SIZE[2.2.2] 4 \
BINARY[2.2.2]<1> ~{2}\r\n\x01\x02)\r\n"
    );
    let unknown = b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n";
    assert_eq!(
        fetch(
            unknown,
            &[A::Binary {
                peek: true,
                part: vec![1],
                partial: None
            }]
        ),
        Err(EvalError::UnknownTransferEncoding(vec![1]))
    );
    assert_eq!(
        fetch(unknown, &[A::BinarySize { part: vec![1] }]),
        Err(EvalError::UnknownTransferEncoding(vec![1]))
    );
}

#[test]
fn three_level_nested_bodystructure() {
    // The CRLF before a boundary belongs to the boundary, so these
    // one-line bodies have no line end of their own: 0 lines.
    assert_eq!(
        text(NESTED, &[FetchAttribute::BodyStructure]),
        "prefix * 4 FETCH (BODYSTRUCTURE (\
(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)\
((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0 NIL NIL NIL NIL)\
((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)\
(\"image\" \"png\" NIL NIL NIL \"base64\" 8 NIL NIL NIL NIL) \
\"related\" (\"boundary\" \"i\") NIL NIL NIL) \
\"alternative\" (\"boundary\" \"m\") NIL NIL NIL) \
\"mixed\" (\"boundary\" \"o\") NIL NIL NIL))\r\n"
    );
    assert_eq!(
        text(NESTED, &[FetchAttribute::Body]),
        "prefix * 4 FETCH (BODY (\
(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0)\
((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)\
((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 9 0)\
(\"image\" \"png\" NIL NIL NIL \"base64\" 8) \"related\") \"alternative\") \"mixed\"))\r\n"
    );
    assert_eq!(
        text(
            NESTED,
            &[
                body(vec![2, 2, 1], None, None),
                body(vec![2, 2, 1], Some(SectionText::Mime), None)
            ]
        ),
        "prefix * 4 FETCH (BODY[2.2.1] {9}\r\n<b>in</b> BODY[2.2.1.MIME] {27}\r\nContent-Type: text/html\r\n\r\n)\r\n"
    );
}

#[test]
fn preview_item() {
    assert_eq!(
        text(
            NESTED,
            &[FetchAttribute::Preview {
                lazy: false,
                fuzzy: false,
            }]
        ),
        "prefix * 4 FETCH (PREVIEW \"outer\")\r\n"
    );
}

#[test]
fn large_literals_stream_from_the_message() {
    let mut raw = b"Subject: big\r\n\r\n".to_vec();
    raw.extend(std::iter::repeat_n(b'x', 10_000));
    raw.extend_from_slice(b"\r\n");
    let (out, segments) = fetch(
        &raw,
        &[
            body(vec![], Some(SectionText::Text), None),
            FetchAttribute::Uid,
        ],
    )
    .unwrap();
    assert_eq!(out, b"prefix * 4 FETCH (BODY[TEXT] {10002}\r\n");
    assert_eq!(
        segments,
        vec![
            Segment::Raw(16..raw.len()),
            Segment::Bytes(b" UID 77)\r\n".to_vec())
        ]
    );
}

#[test]
fn content_needs_and_seen() {
    use FetchAttribute as A;
    assert_eq!(
        needs_content(&[A::Flags, A::Uid, A::ModSeq], false),
        Content::None
    );
    assert_eq!(needs_content(&[A::Envelope], false), Content::HeaderOnly);
    assert_eq!(
        needs_content(&[A::Envelope, A::BodyStructure], true),
        Content::None
    );
    assert_eq!(
        needs_content(&[A::Rfc822Header], false),
        Content::HeaderOnly
    );
    assert_eq!(
        needs_content(&[body(vec![], Some(SectionText::Header), None)], false),
        Content::HeaderOnly
    );
    assert_eq!(
        needs_content(&[body(vec![1], Some(SectionText::Header), None)], false),
        Content::Full
    );
    assert_eq!(needs_content(&[A::BodyStructure], false), Content::Full);
    assert_eq!(
        needs_content(
            &[A::Preview {
                lazy: true,
                fuzzy: false
            }],
            false
        ),
        Content::Full
    );
    assert!(sets_seen(&[A::Uid, body(vec![], None, None)]));
    assert!(sets_seen(&[A::Rfc822Text]));
    assert!(sets_seen(&[A::Rfc822]));
    assert!(sets_seen(&[A::Binary {
        peek: false,
        part: vec![1],
        partial: None
    }]));
    assert!(!sets_seen(&[A::Rfc822Header, A::Flags]));
    assert!(!sets_seen(&[A::BodySection {
        peek: true,
        section: Section::default(),
        partial: None
    }]));
}

#[test]
fn attribute_preparation() {
    use FetchAttribute as A;
    let full = prepare_attributes(
        &FetchAttributes::Macro(FetchMacro::Full),
        true,
        false,
        false,
    );
    assert_eq!(
        full,
        vec![
            A::Uid,
            A::Flags,
            A::InternalDate,
            A::Rfc822Size,
            A::Envelope,
            A::Body
        ]
    );
    let list = FetchAttributes::List(vec![A::Flags, A::Uid, A::Flags]);
    assert_eq!(
        prepare_attributes(&list, true, false, false),
        vec![A::Uid, A::Flags]
    );
    assert_eq!(
        prepare_attributes(&list, false, false, true),
        vec![A::Flags, A::Uid, A::ModSeq]
    );
    let only_uid = FetchAttributes::List(vec![A::Uid]);
    assert_eq!(
        prepare_attributes(&only_uid, false, true, false),
        vec![A::Uid, A::ModSeq]
    );
    assert_eq!(
        prepare_attributes(&only_uid, false, false, true),
        vec![A::Uid]
    );
}

#[test]
fn cached_structure_needs_no_content() {
    use FetchAttribute as A;
    let parsed = ParsedMessage::parse(SIMPLE);
    let cached = parsed.cached_structure();
    let info = msg_info();
    let ctx = FetchContext {
        seq: 2,
        info: &info,
        content: None,
        cached: Some(&cached),
        recent: false,
        zone_minutes: 0,
        savedate_supported: false,
        opts: EncodeOptions::default(),
    };
    let mut out = Vec::new();
    let segments = build_fetch(&mut out, &ctx, &[A::Body]).unwrap();
    assert!(segments.is_empty());
    assert_eq!(
        out,
        b"* 2 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 1))\r\n"
    );
    let mut out = Vec::new();
    assert_eq!(
        build_fetch(&mut out, &ctx, &[A::Rfc822Text]),
        Err(EvalError::MissingContent)
    );
}

#[test]
fn bare_lf_bodies_are_sent_canonical() {
    let mut raw = b"Subject: lf\n\n".to_vec();
    for _ in 0..1000 {
        raw.extend_from_slice(b"line\n");
    }
    let (out, segments) = fetch(&raw, &[body(vec![], Some(SectionText::Text), None)]).unwrap();
    // 1000 lines of "line\r\n": converted, so sent inline, length exact.
    assert!(segments.is_empty());
    let head = b"prefix * 4 FETCH (BODY[TEXT] {6000}\r\n";
    assert!(out.starts_with(head));
    assert_eq!(out.len(), head.len() + 6000 + 3);
    assert!(out.ends_with(b"line\r\n)\r\n"));
}
