//! Test helpers: a scripted fake server on a std thread and a one-shot
//! glommio executor to drive a client against it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;

use glommio::{LocalExecutorBuilder, Placement};

use crate::conn::{Conn, Dialer};

pub enum Step {
    /// the server writes these bytes
    Send(&'static [u8]),
    /// the next client line must start with this
    Expect(&'static str),
    /// the server reads this many raw bytes (a literal / message body)
    Swallow(usize),
    /// the server closes the connection
    Close,
}

/// Serves one connection following `script`; the handle says whether the
/// client behaved.
pub fn serve(script: Vec<Step>) -> (SocketAddr, JoinHandle<Result<(), String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let h = std::thread::spawn(move || {
        let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
        let mut out = sock.try_clone().map_err(|e| e.to_string())?;
        let mut input = BufReader::new(sock);
        for step in script {
            match step {
                Step::Send(b) => out.write_all(b).map_err(|e| e.to_string())?,
                Step::Expect(prefix) => {
                    let mut line = String::new();
                    input.read_line(&mut line).map_err(|e| e.to_string())?;
                    if !line.starts_with(prefix) || !line.ends_with("\r\n") {
                        return Err(format!("expected {prefix:?}, got {line:?}"));
                    }
                }
                Step::Swallow(n) => {
                    let mut buf = vec![0u8; n];
                    std::io::Read::read_exact(&mut input, &mut buf).map_err(|e| e.to_string())?;
                }
                Step::Close => return Ok(()),
            }
        }
        Ok(())
    });
    (addr, h)
}

/// Runs `f` on a fresh executor with a plain connection to `addr`.
pub fn with_conn<F, Fut, T>(addr: SocketAddr, f: F) -> T
where
    F: FnOnce(Conn) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T> + 'static,
    T: Send + 'static,
{
    LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .spawn(move || async move {
            let dialer = Dialer::new(addr);
            let conn = Conn::open(&dialer, None).await.expect("connect");
            f(conn).await
        })
        .expect("executor")
        .join()
        .expect("join")
}
