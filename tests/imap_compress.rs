//! COMPRESS=DEFLATE (RFC 4978) with a Python zlib client over IMAPS.

mod common;

use common::{DEMO_PASS, DEMO_USER, Options, Server};

const SCRIPT: &str = r#"
import socket, ssl, sys, zlib
port, ca, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
buf = b""
def line():
    global buf
    while b"\r\n" not in buf:
        d = s.recv(4096)
        assert d, "eof"
        buf += d
    l, buf = buf.split(b"\r\n", 1)
    return l
assert line().startswith(b"* OK")
s.sendall(b"a LOGIN %s %s\r\n" % (user.encode(), pw.encode()))
while not line().startswith(b"a "): pass
s.sendall(b"c COMPRESS DEFLATE\r\n")
l = line()
assert l.startswith(b"c OK"), l
comp = zlib.compressobj(6, zlib.DEFLATED, -15)
dec = zlib.decompressobj(-15)
plain = dec.decompress(buf); buf = b""
def zsend(data):
    s.sendall(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))
def zline():
    global plain
    while b"\r\n" not in plain:
        d = s.recv(4096)
        assert d, "eof"
        plain += dec.decompress(d)
    l, plain = plain.split(b"\r\n", 1)
    return l
# Two commands in one compressed write, one with a literal.
zsend(b"n NOOP\r\nx APPEND INBOX {12+}\r\nSubject: z\r\n\r\n")
seen = []
while True:
    l = zline(); seen.append(l)
    if l.startswith(b"x "): break
assert any(l.startswith(b"n OK") for l in seen), seen
assert seen[-1].startswith(b"x OK"), seen
zsend(b"d COMPRESS DEFLATE\r\n")
l = zline()
assert l.startswith(b"d NO [COMPRESSIONACTIVE]"), l
zsend(b"s SELECT INBOX\r\n")
r = []
while True:
    l = zline(); r.append(l)
    if l.startswith(b"s "): break
assert b"* 1 EXISTS" in r, r
zsend(b"f FETCH 1 BODY.PEEK[]\r\n")
r = []
while True:
    l = zline(); r.append(l)
    if l.startswith(b"f "): break
assert r[-1].startswith(b"f OK") and b"Subject: z" in r, r
zsend(b"l LOGOUT\r\n")
assert zline().startswith(b"* BYE")
print("compress ok")
"#;

#[test]
fn compress_deflate_round_trip() {
    let Some(py) = common::python3() else {
        panic!("python3 is required for this test");
    };
    // With a rawlog, which must hold the plaintext, not deflate's bytes.
    let raw = common::TempDir::new("compress-rawlog");
    std::fs::create_dir_all(raw.path().join(DEMO_USER)).unwrap();
    let srv = Server::start(Options {
        extra_config: format!("rawlog_dir = {}/%u\n", raw.path().display()),
        ..Options::default()
    });
    let ca = srv.dir.path().join("cert.pem");
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(SCRIPT)
        .arg(srv.imaps.port.to_string())
        .arg(&ca)
        .arg(DEMO_USER)
        .arg(DEMO_PASS)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("compress ok"),
        "stdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}",
        srv.log_text()
    );
    let dir = raw.path().join(DEMO_USER);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (input, output) = loop {
        let read = |ext: &str| {
            std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|x| x == ext))
                .map(|p| std::fs::read(p).unwrap_or_default())
                .unwrap_or_default()
        };
        let (i, o) = (read("in"), read("out"));
        if i.ends_with(b"l LOGOUT\r\n") || std::time::Instant::now() > deadline {
            break (
                String::from_utf8_lossy(&i).into_owned(),
                String::from_utf8_lossy(&o).into_owned(),
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(
        input.starts_with("c COMPRESS DEFLATE\r\nn NOOP\r\nx APPEND INBOX {12+}\r\n"),
        "{input:?}"
    );
    assert!(input.contains("s SELECT INBOX\r\n"), "{input:?}");
    assert!(output.contains("* 1 EXISTS\r\n"), "{output:?}");
    assert!(output.contains("Subject: z"), "{output:?}");
}
