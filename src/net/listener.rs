//! Listening sockets. Every shard binds its own socket for each listener with
//! SO_REUSEPORT, so the kernel spreads new connections across shards with no
//! shared accept queue. IPv6 sockets are v6-only, so `listen = *, ::` gives
//! two independent sockets as in Dovecot.

use std::io;
use std::net::SocketAddr; // blocking-ok: a type, no I/O
use std::os::fd::{FromRawFd, IntoRawFd};
use std::path::Path;

use socket2::{Domain, Protocol, Socket, Type};

pub const BACKLOG: i32 = 1024;

/// Binds and listens on `addr` on the calling shard.
pub fn bind_tcp(addr: SocketAddr) -> io::Result<glommio::net::TcpListener> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let sk = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    sk.set_reuse_port(true)?;
    sk.set_reuse_address(true)?;
    if addr.is_ipv6() {
        sk.set_only_v6(true)?;
    }
    sk.set_nonblocking(true)?;
    sk.bind(&addr.into())?;
    sk.listen(BACKLOG)?;
    // SAFETY: the descriptor is a bound, listening TCP socket we own.
    Ok(unsafe { glommio::net::TcpListener::from_raw_fd(sk.into_raw_fd()) })
}

/// Fails if anything already listens on `addr`. The shards bind with
/// SO_REUSEPORT, which lets a second server of the same user join the port
/// and silently take half its connections (a forgotten old instance, a
/// test copy); a plain bind first turns that into "address in use", as
/// Dovecot reports it.
pub fn ensure_port_free(addr: SocketAddr) -> io::Result<()> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let sk = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    // SO_REUSEADDR only: TIME_WAIT leftovers of a previous run do not count.
    sk.set_reuse_address(true)?;
    if addr.is_ipv6() {
        sk.set_only_v6(true)?;
    }
    sk.bind(&addr.into())
}

/// Unix listeners are bound once (a path cannot be shared with
/// SO_REUSEPORT) by the first shard; a stale socket file left by a crashed
/// server is replaced, but never any other kind of file, and never a
/// socket another live process answers on (a system Dovecot's
/// `/run/dovecot/lmtp`, a forgotten tern): that is "address in use", as
/// for TCP ports.
pub fn bind_unix(path: &Path, mode: u32) -> io::Result<glommio::net::UnixListener> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    // Start-up only, before the shard serves anything.
    let existing = std::fs::symlink_metadata(path); // blocking-ok: start-up
    if let Ok(meta) = existing {
        // blocking-ok: start-up
        if meta.file_type().is_socket() {
            ensure_unix_socket_stale(path)?;
            std::fs::remove_file(path)?; // blocking-ok: start-up
        } else {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?; // blocking-ok: start-up
    }
    let l = glommio::net::UnixListener::bind(path).map_err(io::Error::from)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?; // blocking-ok: start-up
    Ok(l)
}

/// Fails if a process accepts connections on the socket at `path`. Only
/// "connection refused" (nobody listens: a crashed server's leftover) lets
/// the caller replace it.
pub fn ensure_unix_socket_stale(path: &Path) -> io::Result<()> {
    // blocking-ok: start-up; a unix connect answers at once
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "{} is served by another running process (a system Dovecot? set base_dir or the listener path)",
                path.display()
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        // Not ours to judge (e.g. permission denied): leave it alone.
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("{}: cannot tell whether it is in use: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_socket_path(tag: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("tern-listener-{tag}-{}", std::process::id()))
    }

    #[test]
    fn a_live_unix_socket_is_not_taken_over_and_a_stale_one_is() {
        let path = temp_socket_path("live");
        let _ = std::fs::remove_file(&path);
        let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let err = ensure_unix_socket_stale(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("another running process"), "{err}");
        // The owner goes away and leaves its socket file behind.
        drop(live);
        assert!(path.exists());
        ensure_unix_socket_stale(&path).unwrap();
        let _ = std::fs::remove_file(&path);
    }
}
