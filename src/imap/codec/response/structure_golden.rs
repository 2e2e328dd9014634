//! Byte-exact pins of ENVELOPE / BODY / BODYSTRUCTURE and section echo
//! output. The digests were captured from the writers as they were before
//! the wire syntax moved out of `message/` (`Envelope::write_imap`,
//! `BodyStructure::write_imap`, `types::Section::write`), so any change to
//! the bytes sent to clients fails here, naming the case.

use sha2::{Digest, Sha256};

use crate::message::ParsedMessage;

/// (ENVELOPE, BODY, BODYSTRUCTURE) of a message as sent on the wire.
fn encode_all(raw: &[u8]) -> [Vec<u8>; 3] {
    let m = ParsedMessage::parse(raw);
    let (mut env, mut body, mut bs) = (Vec::new(), Vec::new(), Vec::new());
    super::write_envelope(&mut env, &m.envelope());
    super::write_body_structure(&mut body, &m.body_structure(), false);
    super::write_body_structure(&mut bs, &m.body_structure(), true);
    [env, body, bs]
}

/// Section spec as echoed in `BODY[...]`.
fn encode_section(section: &crate::imap::codec::types::Section) -> Vec<u8> {
    let mut out = Vec::new();
    super::write_section(&mut out, section);
    out
}

/// First 8 bytes of SHA-256, in hex.
fn short_digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed so that moving bytes between parts changes it.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn nested_multiparts(depth: usize) -> Vec<u8> {
    let mut m = Vec::new();
    for d in 0..depth {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=b{d}\r\n\r\n--b{d}\r\n").as_bytes(),
        );
    }
    m.extend_from_slice(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
    for d in (0..depth).rev() {
        m.extend_from_slice(format!("--b{d}--\r\n").as_bytes());
    }
    m
}

fn nested_messages(depth: usize) -> Vec<u8> {
    let mut m = Vec::new();
    for d in 0..depth {
        m.extend_from_slice(
            format!("Subject: level {d}\r\nFrom: l{d}@x\r\nContent-Type: message/rfc822\r\n\r\n")
                .as_bytes(),
        );
    }
    m.extend_from_slice(b"Subject: bottom\r\n\r\nbody\r\n");
    m
}

/// Hand-written messages covering the shapes and string forms.
fn named_corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut long_1024 = b"Subject: ".to_vec();
    long_1024.extend(std::iter::repeat_n(b'a', 1024));
    long_1024.extend_from_slice(b"\r\n\r\n");
    let mut long_1025 = b"Subject: ".to_vec();
    long_1025.extend(std::iter::repeat_n(b'a', 1025));
    long_1025.extend_from_slice(b"\r\n\r\n");
    let cases: Vec<(&'static str, &[u8])> = vec![
        ("empty", b""),
        ("blank lines", b"\r\n\r\n\r\n"),
        ("header only", b"Subject: only a header\r\nFrom: x@y"),
        (
            "rfc example",
            b"Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US,\r\n John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
\r\nbody\r\n",
        ),
        (
            "groups and explicit sender",
            b"From: a@x\nSender: s@x\nReply-To: r@x\nTo: Friends: b@y, \"C\" <c@y>;\nBcc: undisclosed:;\nIn-Reply-To: <p@x>\n\n",
        ),
        (
            "route address and comments",
            b"From: \"Q \\\"x\\\" \\\\ y\" <@relay1,@relay2:joe@example.com> (comment)\r\nTo: (only a comment)\r\nCc: <>, @, a@, @b\r\n\r\n",
        ),
        (
            "encoded and 8-bit subject",
            "Subject: =?UTF-8?B?w6k=?= \"q\"\nTo: Jürgen <j@ü.de>\n\ncafé\n".as_bytes(),
        ),
        ("nul bytes", b"Subject: a\0b\r\nFrom: \"n\0m\" <a@b>\r\n\r\nx\0y\r\n"),
        (
            "tab and folding",
            b"Subject:\tfolded\r\n\tover\r\n  lines\r\nDate:   \r\nMessage-ID:\r\n <id@x>\r\n\r\n",
        ),
        (
            "plain bare lf",
            b"From: a@b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nline one\nline two\n",
        ),
        (
            "text without charset",
            b"Content-Type: text/plain; format=flowed\r\nContent-Transfer-Encoding: ?bad\r\n\r\nx",
        ),
        (
            "upper case types",
            b"Content-Type: TEXT/HTML; CHARSET=\"ISO-8859-1\"\r\nContent-Transfer-Encoding: QUOTED-PRINTABLE\r\n\r\n<b>=E9</b>\r\n",
        ),
        (
            "message global",
            b"Content-Type: message/global\r\nContent-Transfer-Encoding: Base64\r\n\r\nU3ViamVjdDogeA==",
        ),
        (
            "all single-part extension fields",
            b"Content-Type: application/octet-stream; name=\"a b.bin\"\r\n\
Content-ID: <id@x>\r\nContent-Description: the \"file\"\r\n\
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n\
Content-Disposition: attachment; filename=\"a b.bin\"; size=3\r\n\
Content-Language: en-GB, de, fr\r\nContent-Location: http://example.org/a%20b\r\n\
Content-Transfer-Encoding: base64\r\n\r\nYWJj\r\n",
        ),
        (
            "rfc 2231 parameters",
            b"Content-Type: application/pdf;\r\n name*0*=utf-8''%E2%82%AC%20rates;\r\n name*1=\".pdf\"\r\n\
Content-Disposition: inline; filename*=iso-8859-1'en'%A3%20rates.pdf\r\n\r\nx\r\n",
        ),
        (
            "disposition without parameters",
            b"Content-Type: image/gif\r\nContent-Disposition: inline\r\nContent-Language: en\r\n\r\nGIF89a\r\n",
        ),
        (
            "multipart without parts",
            b"Content-Type: multipart/mixed; boundary=nothere\r\n\r\nno delimiter at all\r\n",
        ),
        (
            "multipart without boundary",
            b"Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\na\r\n--x--\r\n",
        ),
        (
            "multipart extension data",
            b"Content-Type: multipart/related; boundary=r; type=\"text/html\"\r\n\
Content-Disposition: inline\r\nContent-Language: en\r\nContent-Location: cid:root\r\n\r\n\
--r\r\nContent-Type: text/html\r\n\r\n<img src=cid:i>\r\n\
--r\r\nContent-Type: image/png\r\nContent-ID: <i>\r\n\r\nPNG\r\n--r--\r\n",
        ),
        (
            "message rfc822 in base64 is opaque",
            b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogYQ==",
        ),
        ("empty message rfc822", b"Content-Type: message/rfc822\r\n\r\n"),
        (
            "nested boundaries reused",
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x",
        ),
        (
            "empty boundary",
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
        ),
        (
            "broken parameters",
            b"Content-Type: text/plain; charset\r\nContent-Disposition: ;;;\r\n\r\n",
        ),
        (
            "mixed with alternative attachment and forward",
            super::structure::tests::NESTED,
        ),
        (
            "section test message",
            b"From: a@b\r\nSubject: s\r\n to\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n\
--x\r\nContent-Type: text/plain\r\n\r\npart one\r\n\
--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n\
--y\r\n\r\nalt one\r\n--y\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8=\r\n--y--\r\n\
--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n\
--x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n--x--\r\n",
        ),
        (
            "cache test message",
            b"From: \"A\" <a@x>\r\nTo: g: b@y;\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n\
--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: en, de\r\n\r\nhello\r\n\
--q\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n\
--q\r\nContent-Type: image/gif\r\nContent-Disposition: inline; filename=a.gif\r\nContent-MD5: abc\r\n\r\nGIF\r\n--q--\r\n",
        ),
        (
            "values that need literals",
            b"Content-Type: text/plain; name=\"caf\xc3\xa9.txt\"\r\nContent-Description: line\r\n one\r\n\
Content-Disposition: attachment; filename=\"\xff\xfe\"\r\n\r\nx\r\n",
        ),
    ];
    let mut out: Vec<(&'static str, Vec<u8>)> =
        cases.into_iter().map(|(n, m)| (n, m.to_vec())).collect();
    out.push(("subject of 1024 bytes", long_1024));
    out.push(("subject of 1025 bytes", long_1025));
    out.push(("multipart 40 deep", nested_multiparts(40)));
    out.push(("multipart 60 deep", nested_multiparts(60)));
    out.push(("message/rfc822 30 deep", nested_messages(30)));
    out.push(("message/rfc822 60 deep", nested_messages(60)));
    out
}

/// Digests of [`named_corpus`], in order.
const NAMED: &[&str] = &[
    "1c712e902369fa87",
    "72708070011c34c5",
    "ab6bc7a3af251be5",
    "e197ddcf4a091d84",
    "7a8868c1456ab4de",
    "27a3ef8bb99123f8",
    "140073c3834600c0",
    "0ca5ed75ea5424ff",
    "0fe58e8a901edff6",
    "8d7150404ab839c8",
    "d276e21ff36a126a",
    "4127b498193449a1",
    "d16a5378540e14b1",
    "5c0597d31837ee94",
    "4fdc3096e127ab73",
    "f0a8dc473f146fe5",
    "37b988c42d5b1ef3",
    "f32311987ae60bc4",
    "a71e9c566c2fe318",
    "768f2fb68fa7b747",
    "018d57f47abf61f9",
    "aa0fdd8f4b0250d2",
    "83ac18076e185c2a",
    "1c712e902369fa87",
    "03dba92bcc087bec",
    "a609018209fb523a",
    "bbfc779f0086df86",
    "7f2598feb227e853",
    "e73a54f47f77c4e3",
    "887cc63fcd17ecf3",
    "ffe0693a3bec9650",
    "9a70f963c42712d0",
    "d5b623c4dee8bdbf",
    "718964c745e151d4",
];

/// Deterministic pseudo-random messages built from MIME-ish fragments.
fn random_corpus(count: usize, mut seed: u32) -> Vec<Vec<u8>> {
    let pieces: [&[u8]; 27] = [
        b"Content-Type: multipart/mixed; boundary=z\r\n",
        b"Content-Type: multipart/alternative; boundary=\"y\"\n",
        b"Content-Type: message/rfc822\n",
        b"Content-Type: text/plain; charset=\"utf-8\"; name*=utf-8''%C3%A9\r\n",
        b"Content-Disposition: attachment; filename=\"a\\\"b\"\r\n",
        b"Content-Language: en, de\r\n",
        b"Content-ID: <x@y>\r\n",
        b"Content-MD5: abc\r\n",
        b"\r\n",
        b"\n",
        b"--z\r\n",
        b"--y\n",
        b"--z--\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"=?utf-8?q?=C3?=",
        b"From: a:b;<<@>>,\r\n",
        b"To: \"Zo\\\"e\" <z@x>, g: c@d;\r\n",
        b" folded\r\n",
        b"=\r\n",
        b"\xff\xfe\x00",
        b"Subject: [Fwd: Re: x]\r\n",
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n",
        b"line of body text\r\n",
        // No line end: the next piece continues the value.
        b"Subject: caf\xc3\xa9 ",
        b"Content-Description: ",
        b"Cc: \"",
    ];
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    (0..count)
        .map(|_| {
            let n = 4 + next() % 40;
            let mut raw = Vec::new();
            for _ in 0..n {
                raw.extend_from_slice(pieces[(next() % pieces.len() as u32) as usize]);
            }
            raw
        })
        .collect()
}

/// Digests of [`random_corpus`]`(1000, 0x2545_f491)` in groups of 100.
const RANDOM: &[&str] = &[
    "d34f4b546fb5f67b",
    "8c6829df72327893",
    "69a5b649f5554e72",
    "3938cacb89191a62",
    "154b14d257670bb9",
    "ed8bc281827206cc",
    "f54bffa23ab1873c",
    "f8c6f0bf4c321ef5",
    "f59a4b5f56883870",
    "2ce5edfaf98ec3b7",
];

fn sections() -> Vec<crate::imap::codec::types::Section> {
    use crate::imap::codec::types::{Section, SectionText};
    let names = |n: &[&[u8]]| n.iter().map(|b| b.to_vec()).collect::<Vec<_>>();
    let odd = names(&[
        b"Subject",
        b"X y",
        b"",
        b"NIL",
        b"a]b",
        b"a\"b",
        b"\xc3\xa9",
        b"a\r\nb",
        b"{3}",
        b"%*",
    ]);
    vec![
        Section::default(),
        Section {
            part: vec![1, 2, 30],
            text: None,
        },
        Section {
            part: vec![],
            text: Some(SectionText::Header),
        },
        Section {
            part: vec![4],
            text: Some(SectionText::Text),
        },
        Section {
            part: vec![4, 1],
            text: Some(SectionText::Mime),
        },
        Section {
            part: vec![],
            text: Some(SectionText::HeaderFields(odd.clone())),
        },
        Section {
            part: vec![u32::MAX],
            text: Some(SectionText::HeaderFieldsNot(odd)),
        },
    ]
}

/// Digest of every [`sections`] echo.
const SECTIONS: &str = "93e78da940bdbe8a";

#[test]
fn named_messages_encode_as_before() {
    let got: Vec<(&str, String)> = named_corpus()
        .iter()
        .map(|(name, raw)| {
            let [env, body, bs] = encode_all(raw);
            (*name, short_digest(&[&env, &body, &bs]))
        })
        .collect();
    let digests: Vec<&str> = got.iter().map(|(_, d)| d.as_str()).collect();
    for (i, (name, digest)) in got.iter().enumerate() {
        assert_eq!(
            Some(digest.as_str()),
            NAMED.get(i).copied(),
            "case {i} ({name}) changed; all now: {digests:?}"
        );
    }
    assert_eq!(got.len(), NAMED.len());
}

#[test]
fn random_messages_encode_as_before() {
    let corpus = random_corpus(1000, 0x2545_f491);
    let got: Vec<String> = corpus
        .chunks(100)
        .map(|group| {
            let encoded: Vec<[Vec<u8>; 3]> = group.iter().map(|raw| encode_all(raw)).collect();
            let parts: Vec<&[u8]> = encoded.iter().flatten().map(Vec::as_slice).collect();
            short_digest(&parts)
        })
        .collect();
    assert_eq!(got, RANDOM);
}

#[test]
fn section_echo_as_before() {
    let echoes: Vec<Vec<u8>> = sections().iter().map(encode_section).collect();
    let parts: Vec<&[u8]> = echoes.iter().map(Vec::as_slice).collect();
    assert_eq!(short_digest(&parts), SECTIONS);
}
