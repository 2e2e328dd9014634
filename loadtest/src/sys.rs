//! The only place with `unsafe`: small libc calls the standard library does
//! not offer (resource limits, CPU time, a socket bound to a chosen source
//! address, and handing a connected fd to glommio).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, IntoRawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft
/// limit. Many connections need many descriptors, and distributions ship a
/// soft limit of 1024.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let want = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } != 0 {
            return Err(io::Error::last_os_error());
        }
        return Ok(want.rlim_cur);
    }
    Ok(lim.rlim_cur)
}

/// User + system CPU time this process has used so far.
pub fn process_cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value; getrusage fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a pointer to our own struct.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Starts a non-blocking connect from `source` (port chosen at connect time,
/// so the 4-tuple, not the source port alone, must be unique).
pub fn start_connect_from(source: IpAddr, target: SocketAddr) -> io::Result<Socket> {
    let domain = if target.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let sock = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    sock.set_nodelay(true)?;
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads `one` for its stated size; a failure is only a
    // lost optimisation, so it is ignored.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    sock.bind(&SockAddr::from(SocketAddr::new(source, 0)))?;
    match sock.connect(&SockAddr::from(target)) {
        Ok(()) => Ok(sock),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(sock),
        Err(e) => Err(e),
    }
}

/// Whether a connecting socket is writable yet (connect finished or failed);
/// never blocks.
pub fn is_writable(sock: &Socket) -> bool {
    let mut pfd = libc::pollfd {
        fd: sock.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one pollfd we own, zero timeout.
    let n = unsafe { libc::poll(&mut pfd, 1, 0) };
    n > 0 && pfd.revents != 0
}

/// Hands a connected socket to the current glommio executor.
pub fn into_glommio(sock: Socket) -> glommio::net::TcpStream {
    use std::os::fd::FromRawFd;
    let fd = sock.into_raw_fd();
    // SAFETY: `fd` is a connected TCP socket whose ownership we just released.
    unsafe { glommio::net::TcpStream::from_raw_fd(fd) }
}
