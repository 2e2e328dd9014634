//! The auth helper's only `unsafe` code: thin wrappers over the libc calls
//! for process control (fork, waitpid, prctl, signal masks), the
//! SOCK_SEQPACKET socket pairs between shards and helper, NSS lookups
//! (`getpwnam_r`, `getgrnam_r`) and the set*id calls of the privilege
//! drop. Each wrapper is safe to call; the SAFETY notes say why.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn cvt(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc)
    }
}

/// A connected pair of SOCK_SEQPACKET unix sockets. Packet boundaries are
/// kept, so a helper worker that dies mid-request can never leave half a
/// frame behind for its successor to misread.
pub fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [-1 as RawFd; 2];
    // SAFETY: `fds` is a valid array of two ints for the kernel to fill.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub enum Forked {
    Parent { child: libc::pid_t },
    Child,
}

/// `fork()`. Only sound to call while the process has a single thread
/// (the caller checks): the child then runs ordinary Rust code.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: fork has no memory-safety preconditions by itself; the
    // single-thread rule above keeps locks held by other threads from
    // being copied into the child.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        child => Ok(Forked::Parent { child }),
    }
}

/// Waits for `pid` to exit; returns the raw wait status.
pub fn wait_for(pid: libc::pid_t) -> io::Result<libc::c_int> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(status);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Describes a wait status for the log.
pub fn describe_status(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status}")
    }
}

/// Asks the kernel to SIGKILL this process when its parent dies, then
/// checks the parent is still the one we were forked from (it may have
/// died before the request took effect).
pub fn die_with_parent(expected_parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: plain integer arguments.
    cvt(unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        )
    })?;
    if parent_pid() != expected_parent {
        std::process::exit(0);
    }
    Ok(())
}

pub fn parent_pid() -> libc::pid_t {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getppid() }
}

pub fn own_pid() -> libc::pid_t {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::getpid() }
}

/// Sets the process name shown by `ps` and in /proc/PID/comm (15 bytes).
pub fn set_process_name(name: &str) {
    let Ok(c) = CString::new(name) else {
        return;
    };
    // SAFETY: `c` is a valid NUL-terminated string; the kernel copies it.
    unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr() as libc::c_ulong, 0, 0, 0) };
}

/// The main process blocks its signals for sigwait; a forked helper
/// wants the default actions back (SIGTERM ends it).
pub fn unblock_all_signals() {
    // SAFETY: `set` is initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
    }
}

/// Sends one packet; never raises SIGPIPE.
pub fn send_packet(fd: &OwnedFd, data: &[u8]) -> io::Result<()> {
    loop {
        // SAFETY: `data` is valid for its length.
        let rc = unsafe {
            libc::send(
                fd.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if rc >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Receives one packet (blocking); 0 means the peer closed.
pub fn recv_packet(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is valid and writable for its length.
        let rc = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if rc >= 0 {
            return Ok(rc as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Fills `buf` from the kernel's random source.
pub fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer/length pair stays inside `buf`.
        let rc =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
            continue;
        }
        filled += rc as usize;
    }
    Ok(())
}

/// One entry of the system user database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

fn lossy(p: *const libc::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: NSS returns NUL-terminated strings inside our buffer.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Largest buffer we give NSS before giving up on an entry.
const MAX_NSS_BUFFER: usize = 1 << 20;

/// Runs one reentrant NSS lookup (`getpwnam_r`, `getgrnam_r`) with a buffer
/// that grows while the entry does not fit. `lookup` returns the C return
/// code on failure, or the entry (read out while the buffer lives).
fn with_nss_buffer<T>(
    mut lookup: impl FnMut(&mut [libc::c_char]) -> Result<Option<T>, libc::c_int>,
) -> io::Result<Option<T>> {
    let mut size = 4096;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        match lookup(&mut buf) {
            Err(libc::ERANGE) if size < MAX_NSS_BUFFER => size *= 4,
            Err(rc) => return Err(io::Error::from_raw_os_error(rc)),
            Ok(entry) => return Ok(entry),
        }
    }
}

/// `getpwnam_r`: `Ok(None)` when the user does not exist. Blocking (NSS
/// may read files or ask a network service): helper threads only.
pub fn getpwnam(name: &str) -> io::Result<Option<SystemUser>> {
    let Ok(c_name) = CString::new(name) else {
        return Ok(None);
    };
    with_nss_buffer(|buf| {
        // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids).
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call; `buf` outlives the
        // reads of `pwd`'s string fields below.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!result.is_null()).then(|| SystemUser {
            name: lossy(pwd.pw_name),
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
            home: lossy(pwd.pw_dir),
            shell: lossy(pwd.pw_shell),
        }))
    })
}

/// `getgrnam_r`: the gid of a group name, `Ok(None)` if unknown.
pub fn getgrnam(name: &str) -> io::Result<Option<u32>> {
    let Ok(c_name) = CString::new(name) else {
        return Ok(None);
    };
    with_nss_buffer(|buf| {
        // SAFETY: all-zero is a valid `group`.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call.
        let rc = unsafe {
            libc::getgrnam_r(
                c_name.as_ptr(),
                &mut grp,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc != 0 {
            return Err(rc);
        }
        Ok((!result.is_null()).then_some(grp.gr_gid))
    })
}

pub fn effective_uid() -> u32 {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::geteuid() }
}

/// (real, effective, saved) user ids.
pub fn res_uid() -> io::Result<(u32, u32, u32)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: valid out pointers.
    cvt(unsafe { libc::getresuid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

/// (real, effective, saved) group ids.
pub fn res_gid() -> io::Result<(u32, u32, u32)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: valid out pointers.
    cvt(unsafe { libc::getresgid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

/// Number of supplementary groups of the process.
pub fn supplementary_group_count() -> io::Result<usize> {
    // SAFETY: size 0 with a null list only asks for the count.
    let n = cvt(unsafe { libc::getgroups(0, std::ptr::null_mut()) })?;
    Ok(n as usize)
}

/// setgroups + setresgid + setresuid, in that order. glibc applies these
/// to every thread of the process, so shard threads started earlier lose
/// root too.
pub fn switch_ids(uid: u32, gid: u32) -> io::Result<()> {
    let groups = [gid];
    // SAFETY: `groups` is a valid array of one gid.
    cvt(unsafe { libc::setgroups(1, groups.as_ptr()) })?;
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    // SAFETY: plain integer arguments.
    cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
    Ok(())
}

/// Tries to get root back; must fail after a proper drop.
pub fn can_regain_root() -> bool {
    // SAFETY: plain integer argument; on success we are root again,
    // which the caller treats as a fatal error anyway.
    unsafe { libc::setuid(0) == 0 }
}

/// Wraps one end of a shard socket for the shard's glommio reactor.
pub fn glommio_stream(fd: OwnedFd) -> glommio::net::UnixStream {
    use std::os::fd::IntoRawFd;
    // SAFETY: we hand over sole ownership of an open unix socket.
    unsafe { glommio::net::UnixStream::from_raw_fd(fd.into_raw_fd()) }
}

/// Threads of this process, from /proc (1 if that cannot be read).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(1)
}

/// True when the peer of every socket has closed (the server exited).
/// Polls without asking for any event: POLLHUP is always reported.
pub fn all_peers_closed(fds: &[OwnedFd]) -> bool {
    use std::os::fd::AsRawFd;
    if fds.is_empty() {
        return false;
    }
    let mut polls: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: 0,
            revents: 0,
        })
        .collect();
    // SAFETY: `polls` is a valid array of `polls.len()` pollfd structs.
    let rc = unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, 0) };
    rc > 0
        && polls
            .iter()
            .all(|p| p.revents & (libc::POLLHUP | libc::POLLERR) != 0)
}

/// Ends a process we started (SIGKILL: the helper ignores SIGTERM).
pub fn kill_child(pid: libc::pid_t) {
    if pid > 0 {
        // SAFETY: plain integer arguments; `pid` is our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// The helper follows its parent (PR_SET_PDEATHSIG) rather than the
/// signals sent to the whole process group or cgroup: a Ctrl-C or a
/// `systemctl stop` must not take auth away while sessions still finish.
/// SIGUSR1 (log reopen, meant for the server) must not kill it either; it
/// follows a renamed log file on its own (see `crate::logging`).
pub fn ignore_termination_signals() {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1] {
        // SAFETY: SIG_IGN is a valid disposition for these signals.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nss_lookups_find_root_and_nothing_for_unknown_names() {
        let root = getpwnam("root").unwrap().expect("root in passwd");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(getgrnam("root").unwrap(), Some(0));
        assert!(getpwnam("tern-no-such-user-x").unwrap().is_none());
        assert!(getgrnam("tern-no-such-group-x").unwrap().is_none());
        assert!(getpwnam("nul\0inside").unwrap().is_none());
    }
}
