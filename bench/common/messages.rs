//! Deterministic sample messages shaped like real mail: a plain text
//! message, a multipart/alternative newsletter, and a nested multipart with
//! attachments and a forwarded message. CRLF line ends, as IMAP sends them.

use base64::Engine as _;

/// Trace and authentication headers most delivered mail carries; they make
/// the header block as long as real ones (about 1.5 KiB).
fn trace_headers(out: &mut String, n: usize) {
    out.push_str(&format!(
        "Return-Path: <sender{n}@lists.example.org>\r\n\
         Delivered-To: jane@example.net\r\n\
         Received: from mx1.example.net (mx1.example.net [192.0.2.25])\r\n\
         \tby imap.example.net with LMTP id 8Mj3LwLbaGcCEwAA\r\n\
         \tfor <jane@example.net>; Sat, 28 Nov 2026 10:{:02}:03 +0000\r\n\
         Received: from out.lists.example.org (out.lists.example.org [198.51.100.7])\r\n\
         \tby mx1.example.net (Postfix) with ESMTPS id 4Zx1Ky2Qm9z9t\r\n\
         \tfor <jane@example.net>; Sat, 28 Nov 2026 10:{:02}:02 +0000 (UTC)\r\n\
         DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=lists.example.org;\r\n\
         \ts=2026; t=1795860000; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\
         \th=From:To:Subject:Date:Message-ID;\r\n\
         \tb=Yk3fR9pQm2vZx8LwTn5sHc1aJd7eUo4iGb6yKq0rPf2XtW9mVh3NzCl8BsDuEo1g\r\n\
         \t A7sK2dF9gH3jL4mN5pQ6rS8tU0vW1xY2zA3bC4dE5fG6hI7jK8lM9nO0pQ1rS2t=\r\n\
         Authentication-Results: mx1.example.net; dkim=pass header.d=lists.example.org;\r\n\
         \tspf=pass smtp.mailfrom=lists.example.org; dmarc=pass\r\n",
        n % 60,
        n % 60
    ));
}

fn addressing(out: &mut String, n: usize, subject: &str) {
    out.push_str(&format!(
        "From: \"Alice Example\" <alice{n}@example.org>\r\n\
         To: Jane Doe <jane@example.net>, \"Bob, the Builder\" <bob@example.com>\r\n\
         Cc: team@example.net, =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\r\n\
         Reply-To: replies@example.org\r\n\
         Subject: {subject} #{n}\r\n\
         Date: Sat, 28 Nov 2026 10:{:02}:00 +0000\r\n\
         Message-ID: <{n}.1795860000@mail.example.org>\r\n\
         In-Reply-To: <{}.1795850000@mail.example.net>\r\n\
         References: <{}.1795840000@mail.example.net>\r\n\t<{}.1795850000@mail.example.net>\r\n\
         MIME-Version: 1.0\r\n",
        n % 60,
        n + 1,
        n + 2,
        n + 1
    ));
}

fn prose(lines: usize, n: usize) -> String {
    let mut s = String::new();
    for i in 0..lines {
        s.push_str(&format!(
            "Line {i} of message {n}: the quarterly figures are attached; please review them before Monday.\r\n"
        ));
    }
    s
}

/// `len` pseudo-random bytes (xorshift; deterministic), base64 in 76-char
/// lines as MUAs send attachments.
fn base64_attachment(len: usize, seed: u64) -> String {
    let mut x = seed | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 38);
    for chunk in encoded.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// text/plain, about 3 KiB with headers.
pub fn simple(n: usize) -> Vec<u8> {
    let mut m = String::new();
    trace_headers(&mut m, n);
    addressing(&mut m, n, "Lunch on Friday?");
    m.push_str("Content-Type: text/plain; charset=utf-8; format=flowed\r\n");
    m.push_str("Content-Transfer-Encoding: 8bit\r\n\r\n");
    m.push_str(&prose(12, n));
    m.into_bytes()
}

/// multipart/alternative (text + HTML), about 8 KiB.
pub fn alternative(n: usize) -> Vec<u8> {
    let mut m = String::new();
    trace_headers(&mut m, n);
    addressing(&mut m, n, "Your November newsletter");
    m.push_str("Content-Type: multipart/alternative; boundary=\"alt-b1\"\r\n\r\n");
    m.push_str("This is a multi-part message in MIME format.\r\n");
    m.push_str("--alt-b1\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n");
    m.push_str("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
    m.push_str(&prose(20, n));
    m.push_str("--alt-b1\r\nContent-Type: text/html; charset=\"utf-8\"\r\n");
    m.push_str("Content-Transfer-Encoding: quoted-printable\r\n\r\n<html><body>\r\n");
    for line in prose(30, n).lines() {
        m.push_str("<p style=3D\"margin:0\">");
        m.push_str(line);
        m.push_str("</p>\r\n");
    }
    m.push_str("</body></html>\r\n--alt-b1--\r\n");
    m.into_bytes()
}

/// multipart/mixed { multipart/alternative { text, html }, a 24 KiB PDF,
/// a forwarded message/rfc822 { multipart/mixed { text, 6 KiB PNG } } },
/// about 45 KiB.
pub fn nested(n: usize) -> Vec<u8> {
    let mut m = String::new();
    trace_headers(&mut m, n);
    addressing(&mut m, n, "Q4 report and the forwarded thread");
    m.push_str("Content-Type: multipart/mixed; boundary=\"mix-outer\"\r\n\r\n");
    m.push_str(
        "--mix-outer\r\nContent-Type: multipart/alternative; boundary=\"alt-inner\"\r\n\r\n",
    );
    m.push_str("--alt-inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    m.push_str(&prose(10, n));
    m.push_str("--alt-inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n");
    m.push_str(&prose(10, n));
    m.push_str("</body></html>\r\n--alt-inner--\r\n");
    m.push_str("--mix-outer\r\nContent-Type: application/pdf; name=\"Q4 report.pdf\"\r\n");
    m.push_str("Content-Disposition: attachment; filename=\"Q4 report.pdf\"; size=24576\r\n");
    m.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
    m.push_str(&base64_attachment(24 * 1024, n as u64 + 7));
    m.push_str("--mix-outer\r\nContent-Type: message/rfc822\r\n");
    m.push_str("Content-Disposition: inline\r\n\r\n");
    addressing(&mut m, n + 1000, "Fwd: figures");
    m.push_str("Content-Type: multipart/mixed; boundary=\"fwd-b\"\r\n\r\n");
    m.push_str("--fwd-b\r\nContent-Type: text/plain; charset=us-ascii\r\n");
    m.push_str("Content-Language: en, de\r\n\r\n");
    m.push_str(&prose(6, n));
    m.push_str("--fwd-b\r\nContent-Type: image/png; name=chart.png\r\n");
    m.push_str("Content-Disposition: inline; filename=chart.png\r\n");
    m.push_str("Content-ID: <chart@example.org>\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    m.push_str(&base64_attachment(6 * 1024, n as u64 + 11));
    m.push_str("--fwd-b--\r\n");
    m.push_str("--mix-outer--\r\n");
    m.into_bytes()
}

/// A small message for storage benchmarks: `simple` with a body sized so
/// the whole message is about `approx_len` bytes.
pub fn small(n: usize, approx_len: usize) -> Vec<u8> {
    let mut m = String::new();
    addressing(&mut m, n, "Status update");
    m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
    let mut i = 0;
    while m.len() < approx_len {
        m.push_str(&format!(
            "Status line {i} for message {n}: all systems nominal.\r\n"
        ));
        i += 1;
    }
    m.into_bytes()
}
