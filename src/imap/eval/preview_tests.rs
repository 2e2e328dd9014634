//! Every expectation here is what Dovecot 2.3.19 answered to
//! `FETCH n (PREVIEW)` for the same message.

use super::*;

fn p(raw: &[u8]) -> String {
    preview(raw, &MimePart::parse_message(raw))
}

fn multipart(subtype: &str, parts: &[(&str, &str)]) -> Vec<u8> {
    let mut m = format!("Subject: p\r\nContent-Type: multipart/{subtype}; boundary=zz\r\n\r\n");
    for (header, body) in parts {
        m.push_str(&format!("--zz\r\n{header}\r\n\r\n{body}\r\n"));
    }
    m.push_str("--zz--\r\n");
    m.into_bytes()
}

const PLAIN: &str = "Content-Type: text/plain";
const HTML: &str = "Content-Type: text/html";

#[test]
fn the_first_text_part_only() {
    assert_eq!(
        p(&multipart("mixed", &[(PLAIN, "abc"), (PLAIN, "def")])),
        "abc"
    );
    assert_eq!(
        p(&multipart("mixed", &[(PLAIN, ""), (PLAIN, "second")])),
        ""
    );
    let pdf = "Content-Type: application/pdf";
    assert_eq!(
        p(&multipart("mixed", &[(pdf, "xx"), (PLAIN, "def")])),
        "def"
    );
    assert_eq!(
        p(&multipart("mixed", &[(pdf, "xx"), (HTML, "<i>h</i>")])),
        "h"
    );
    assert_eq!(
        p(&multipart(
            "mixed",
            &[(HTML, "<b>html</b>"), (PLAIN, "plain")]
        )),
        "html"
    );
    let calendar = "Content-Type: text/calendar";
    assert_eq!(
        p(&multipart("mixed", &[(calendar, "CAL"), (PLAIN, "plain")])),
        "CAL"
    );
    let attached = "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt";
    assert_eq!(
        p(&multipart(
            "mixed",
            &[(attached, "attached"), (PLAIN, "body")]
        )),
        "attached"
    );
    let message = "Content-Type: message/rfc822";
    let inner = "Subject: inner\r\n\r\ninner body";
    assert_eq!(
        p(&multipart("mixed", &[(message, inner), (PLAIN, "outer")])),
        "outer"
    );
    assert_eq!(p(&multipart("mixed", &[(message, inner)])), "");
    assert_eq!(
        p(&multipart(
            "mixed",
            &[("X-Foo: bar", "noct"), (PLAIN, "plain")]
        )),
        "noct"
    );
}

#[test]
fn alternative_prefers_plain() {
    let alt = [(HTML, "<b>html</b> version"), (PLAIN, "plain version")];
    assert_eq!(p(&multipart("alternative", &alt)), "plain version");
    let nested = "--yy\r\nContent-Type: text/html\r\n\r\n<b>H</b>\r\n\
--yy\r\nContent-Type: text/plain\r\n\r\nP\r\n--yy--";
    let outer = [
        ("Content-Type: multipart/alternative; boundary=yy", nested),
        (PLAIN, "after"),
    ];
    assert_eq!(p(&multipart("mixed", &outer)), "P");
}

#[test]
fn quoted_lines_whitespace_and_length() {
    assert_eq!(p(b"Subject: l\r\n\r\na b c\r\n"), "a b c");
    assert_eq!(
        p(b"Subject: l\r\n\r\n> q1\r\n>q2\r\nnot > quoted\r\n  > indented\r\n>\r\nend\r\n"),
        "not > quoted > indented end"
    );
    assert_eq!(
        p(b"Subject: l\r\n\r\nhello\r\n-- \r\nsig\r\n"),
        "hello -- sig"
    );
    assert_eq!(
        p(b"Subject: l\r\n\r\na\tb\x01c\x7fd\r\n"),
        "a b\u{1}c\u{7f}d"
    );
    assert_eq!(
        p(
            "Subject: l\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\u{feff}hi there\r\n"
                .as_bytes()
        ),
        "hi there"
    );
    assert_eq!(p(b"Subject: l\r\n\r\n\r\n\r\n   \r\n"), "");
    assert_eq!(p(b"Subject: l\r\n\r\n"), "");
    let words: Vec<String> = (0..120).map(|i| format!("w{i:03}")).collect();
    let long = format!("Subject: l\r\n\r\nword000 {}\r\n", words.join(" "));
    let cut = p(long.as_bytes());
    assert_eq!(cut.chars().count(), PREVIEW_CHARS);
    assert!(cut.ends_with("w036 w037 w0"), "{cut}");
    let accents = format!("Subject: l\r\n\r\n{}\r\n", "é".repeat(250));
    assert_eq!(p(accents.as_bytes()), "é".repeat(200));
}

#[test]
fn transfer_and_charset_decoded() {
    assert_eq!(
        p(
            b"Subject: q\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9=\r\n soft\r\n"
        ),
        "café soft"
    );
    assert_eq!(
        p(b"Subject: j\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\n\x1b$BF|K\\8l\x1b(B text\r\n"),
        "日本語 text"
    );
}

#[test]
fn html_as_dovecot_reads_it() {
    let html = |body: &str| {
        p(format!("Subject: h\r\nContent-Type: text/html\r\n\r\n{body}\r\n").as_bytes())
    };
    assert_eq!(
        html(
            "<p>a&lt;b &gt; c &amp; d &quot;e&quot; &#65;&#x42; &eacute; &euro; &nbsp;x&unknown; y</p>"
        ),
        "a<b > c & d \"e\" AB é € \u{a0}x y"
    );
    assert_eq!(
        html(
            "<html><head><script>var x=1;</script><style>.a{}</style></head><body><!-- hidden -->\
<div>vis<br>ible</div><blockquote>quoted text</blockquote><p>tail</p></body></html>"
        ),
        "vis ible tail"
    );
    assert_eq!(
        html("ab<b>cd</b>ef<span>gh</span>i<br/>j<img src=x alt=y>k"),
        "ab cd ef gh i j k"
    );
    assert_eq!(html("> not quote\r\nline2"), "line2");
    assert_eq!(html("<a title=\"x>y\">link</a> after"), "link after");
    assert_eq!(
        html("<STYLE>p{}</STYLE><SCRIPT>x</SCRIPT>Up<P>per"),
        "Up per"
    );
    assert_eq!(
        html(
            "<pre>a\r\n  b</pre><table><tr><td>c</td><td>d</td></tr></table>&#8364;&#x20AC;&copy;&apos;&hellip;"
        ),
        "a b c d €€©'…"
    );
    assert_eq!(
        html(
            "A<blockquote>B<blockquote>C</blockquote>D</blockquote>E<!-- x > y -->F<![CDATA[G]]>H"
        ),
        "A EFGH"
    );
    assert_eq!(
        html("<html><head><title>Title</title><meta x=y></head><body>Body</body></html>"),
        "Title Body"
    );
}

#[test]
fn broken_html_never_panics() {
    for s in [
        "<",
        "&",
        "&#;",
        "<!--",
        "<![CDATA[",
        "<style>",
        "<a \"",
        "&#x110000;",
        "</",
        "<é>",
    ] {
        let _ = html_to_text(s);
        let _ = snippet(s, 5);
    }
}
