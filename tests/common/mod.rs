//! Test harness: starts the real `tern` binary on loopback ports with a
//! temporary config, and speaks to it over real TLS.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const DEMO_USER: &str = "alice";
pub const DEMO_PASS: &str = "wonderland";

/// A temp directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "tern-test-{tag}-{}-{}",
            std::process::id(),
            rand_u64()
        ));
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    h.finish()
}

/// A loopback port nobody else in this test run holds. Because tern binds
/// with SO_REUSEPORT, two test servers on one port would silently share it,
/// so a port is reserved across the parallel test processes by binding an
/// abstract Unix socket named after it: the kernel frees the name when the
/// `Port` is dropped or its process dies, and nothing is left on disk.
pub struct Port {
    pub port: u16,
    _reservation: std::os::unix::net::UnixListener,
}

pub fn free_port() -> Port {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let name = format!("tern-test-port-{port}");
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        // Fails while another test process holds the port.
        if let Ok(reservation) = UnixListener::bind_addr(&addr) {
            return Port {
                port,
                _reservation: reservation,
            };
        }
    }
}

pub struct Cert {
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn make_cert() -> Cert {
    let ss = tern::net::tls::self_signed(&["localhost", "127.0.0.1"]).unwrap();
    Cert {
        cert_pem: ss.cert_pem,
        key_pem: ss.key_pem,
    }
}

pub struct Options {
    pub shards: usize,
    pub extra_config: String,
    pub disable_plaintext_auth: bool,
    /// Replaces the default passdb/userdb blocks (passwd-file + static).
    pub auth_blocks: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            shards: 2,
            extra_config: String::new(),
            disable_plaintext_auth: true,
            auth_blocks: None,
        }
    }
}

pub struct Server {
    pub dir: TempDir,
    pub child: Child,
    pub imap: Port,
    pub imaps: Port,
    pub pop3: Port,
    pub pop3s: Port,
    pub lmtp: Port,
    pub cert: Cert,
    pub stderr: mpsc::Receiver<String>,
    pub log: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(opts: Options) -> Server {
        let dir = TempDir::new("srv");
        let cert = make_cert();
        fs::write(dir.path().join("cert.pem"), &cert.cert_pem).unwrap();
        fs::write(dir.path().join("key.pem"), &cert.key_pem).unwrap();
        fs::write(
            dir.path().join("users"),
            format!("{DEMO_USER}:{{PLAIN}}{DEMO_PASS}::::::\nbob:{{PLAIN}}builder::::::\n"),
        )
        .unwrap();
        let (imap, imaps, pop3, pop3s, lmtp) = (
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
        );
        let conf = format!(
            r#"# test config
protocols = imap pop3 lmtp
listen = 127.0.0.1
shards = {shards}
ssl = yes
ssl_cert = <cert.pem
ssl_key = <key.pem
disable_plaintext_auth = {dpa}
auth_mechanisms = plain login
auth_failure_delay = 100 ms
base_dir = {base}/run
mail_location = sdbox:{base}/mail/%n
{auth}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
{extra}
"#,
            shards = opts.shards,
            dpa = if opts.disable_plaintext_auth {
                "yes"
            } else {
                "no"
            },
            base = dir.path().display(),
            imap = imap.port,
            imaps = imaps.port,
            pop3 = pop3.port,
            pop3s = pop3s.port,
            lmtp = lmtp.port,
            extra = opts.extra_config,
            auth = opts.auth_blocks.clone().unwrap_or_else(|| format!(
                "passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {base}/users\n}}\nuserdb {{\n  driver = static\n  args = home={base}/mail/%n\n}}",
                base = dir.path().display()
            )),
        );
        let conf_path = dir.path().join("tern.conf");
        fs::write(&conf_path, conf).unwrap();
        let (child, rx, log, ready_rx) = launch(&conf_path);
        let mut srv = Server {
            dir,
            child,
            imap,
            imaps,
            pop3,
            pop3s,
            lmtp,
            cert,
            stderr: rx,
            log,
        };
        if ready_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = srv.child.kill();
            panic!("server did not start; log:\n{}", srv.log_text());
        }
        srv
    }

    /// Stops the server (SIGTERM) and starts it again on the same config,
    /// ports and mail directory. The log starts afresh.
    pub fn restart(&mut self) {
        self.signal(libc::SIGTERM);
        if self.wait_exit(Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let conf_path = self.dir.path().join("tern.conf");
        let (child, rx, log, ready_rx) = launch(&conf_path);
        self.child = child;
        self.stderr = rx;
        self.log = log;
        if ready_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = self.child.kill();
            panic!("server did not restart; log:\n{}", self.log_text());
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn signal(&self, sig: i32) {
        unsafe {
            libc::kill(self.pid(), sig);
        }
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let t = Instant::now();
        while t.elapsed() < within {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        client_config(&self.cert.cert_pem)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal(libc::SIGTERM);
        if self.wait_exit(Duration::from_secs(10)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

type Launched = (
    Child,
    mpsc::Receiver<String>,
    Arc<std::sync::Mutex<Vec<String>>>,
    mpsc::Receiver<()>,
);

/// Starts `tern serve` on a config file (for `Server::restart`); the last
/// receiver fires once the server says it is ready.
fn launch(conf_path: &Path) -> Launched {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tern"))
        .arg("-c")
        .arg(conf_path)
        .arg("serve")
        .env("RUST_LOG", "info,tern=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tern");
    // stdout: the connection table, then a line "tern: ready"
    let stdout = child.stdout.take().unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("tern: ready") {
                let _ = ready_tx.send(());
            }
        }
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        // Bytes, not `lines()`: a log line with invalid UTF-8 must not stop
        // the capture of everything after it.
        let mut r = BufReader::new(stderr);
        let mut buf = Vec::new();
        while r
            .read_until(b'\n', &mut buf)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
            buf.clear();
            log2.lock().unwrap().push(line.clone());
            let _ = tx.send(line);
        }
    });
    (child, rx, log, ready_rx)
}

pub fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A blocking line-oriented client over plain TCP or TLS.
pub struct Client {
    stream: Box<dyn ReadWrite>,
    buf: Vec<u8>,
    /// The stream ended (or timed out): `line` returns "" from now on.
    eof: bool,
}

pub trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

impl Client {
    pub fn plain(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Client {
            stream: Box::new(s),
            buf: Vec::new(),
            eof: false,
        }
    }

    pub fn tls(port: u16, cfg: Arc<rustls::ClientConfig>) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let conn = rustls::ClientConnection::new(cfg, "localhost".try_into().unwrap()).unwrap();
        Client {
            stream: Box::new(rustls::StreamOwned::new(conn, s)),
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Upgrades a plain client after STARTTLS/STLS succeeded.
    pub fn upgrade(self, cfg: Arc<rustls::ClientConfig>, tcp: TcpStream) -> Client {
        drop(self);
        let conn = rustls::ClientConnection::new(cfg, "localhost".try_into().unwrap()).unwrap();
        Client {
            stream: Box::new(rustls::StreamOwned::new(conn, tcp)),
            buf: Vec::new(),
            eof: false,
        }
    }

    pub fn send(&mut self, line: &str) {
        self.stream.write_all(line.as_bytes()).unwrap();
        self.stream.write_all(b"\r\n").unwrap();
        self.stream.flush().unwrap();
    }

    /// Sends bytes as they are (literal data, pipelined commands).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
        self.stream.flush().unwrap();
    }

    pub fn line(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let l: Vec<u8> = self.buf.drain(..=p).collect();
                return String::from_utf8_lossy(&l).trim_end().to_string();
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                self.eof = true;
                return String::new();
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads lines until one starts with `prefix` (or the stream ends);
    /// returns all of them. Blank lines inside responses (header literals)
    /// are ordinary lines here.
    pub fn until(&mut self, prefix: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line();
            let done = l.starts_with(prefix) || self.eof;
            out.push(l);
            if done {
                return out;
            }
        }
    }

    /// Reads whatever bytes are available (for tests that check for EOF).
    pub fn at_eof(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

/// Connects from 127.0.0.2 to the server on 127.0.0.1. A connection whose
/// client and server addresses are equal counts as secured (Dovecot's rule
/// for local connections), so tests of plaintext refusal come from another
/// loopback address.
pub fn connect_from_other_ip(port: u16) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(
        &"127.0.0.2:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.connect(
        &format!("127.0.0.1:{port}")
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    s.into()
}

/// A STARTTLS client: connects plain (from 127.0.0.2, so the connection is
/// not "secured"), returns the raw stream for the upgrade.
pub fn plain_pair(port: u16) -> (Client, TcpStream) {
    let s = connect_from_other_ip(port);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let c = Client {
        stream: Box::new(s.try_clone().unwrap()),
        buf: Vec::new(),
        eof: false,
    };
    (c, s)
}

/// True when `program` is on the PATH.
pub fn have_program(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Fails the calling test when `program` is missing: a test that cannot run
/// must not count as passed. Names the Debian package that provides it
/// (scripts/test-all.sh installs them all).
pub fn require_program(program: &str, package: &str) {
    assert!(
        have_program(program),
        "{program} is required for this test and is not installed \
         (apt-get install {package}; scripts/test-all.sh installs it)"
    );
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Fails the calling test unless it runs as root. CI (scripts/test-all.sh)
/// runs the suite as root, so there a failure here is real.
pub fn require_root(why: &str) {
    assert!(
        is_root(),
        "this test must run as root ({why}); run it with sudo, as CI does"
    );
}

pub fn python3() -> Option<PathBuf> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then(|| PathBuf::from("python3"))
}

/// Logs in over IMAPS as the demo user, APPENDs one message to INBOX and
/// selects it (`* 1 EXISTS`). Tags a to c are used; go on with "d".
pub fn selected_with_one_message(srv: &Server) -> Client {
    let mut c = Client::tls(srv.imaps.port, srv.tls_config());
    assert!(c.line().starts_with("* OK"));
    c.send(&format!("a LOGIN {DEMO_USER} {DEMO_PASS}"));
    assert!(c.until("a ").pop().unwrap().starts_with("a OK"));
    let msg = "Subject: via imap\r\n\r\nbody\r\n";
    c.send_raw(format!("b APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len()).as_bytes());
    assert!(c.until("b ").pop().unwrap().starts_with("b OK"));
    c.send("c SELECT INBOX");
    let r = c.until("c ");
    assert!(r.iter().any(|l| l == "* 1 EXISTS"), "{r:?}");
    c
}
