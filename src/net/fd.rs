//! The few fd operations glommio does not offer: taking a socket out of a
//! glommio stream so it can cross to another shard, and wrapping it again
//! there. glommio's streams are `!Send` and have no `into_raw_fd`, so we
//! duplicate the descriptor and let the original stream close its copy.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

/// Duplicates the descriptor behind `s` (close-on-exec) and drops `s`.
pub fn detach<S: AsRawFd>(s: S) -> io::Result<OwnedFd> {
    // SAFETY: `s` is alive for the whole borrow, so the descriptor is open.
    let owned = unsafe { BorrowedFd::borrow_raw(s.as_raw_fd()) }.try_clone_to_owned()?;
    drop(s);
    Ok(owned)
}

/// Wraps an owned socket descriptor in a glommio stream of the current
/// executor. Must run on the shard that will own the stream.
pub fn attach<S: FromRawFd>(fd: OwnedFd) -> S {
    // SAFETY: we own `fd` and give that ownership to the stream.
    unsafe { S::from_raw_fd(fd.into_raw_fd()) }
}

/// Shuts a connected socket down in both directions without closing the
/// descriptor: whoever reads it sees end of input and closes it the usual
/// way. Used to push out a pre-login connection (see `login_budget`).
pub fn shutdown_socket(fd: std::os::fd::RawFd) {
    if fd < 0 {
        return;
    }
    // SAFETY: shutdown(2) only changes the state of the socket behind an
    // open descriptor; the caller's bookkeeping keeps `fd` open (the slot
    // that names it is dropped before its connection closes). A wrong fd
    // gives ENOTSOCK/EBADF, which we ignore.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// Whether the peer sent bytes that wait unread in the socket (a
/// non-blocking peek; never waits). Errors count as nothing waiting.
pub fn has_unread_input<S: AsRawFd>(s: &S) -> bool {
    let mut byte = 0u8;
    // SAFETY: `s` is alive for the call, so its descriptor is open, and
    // the buffer is one valid, writable byte.
    let n = unsafe {
        libc::recv(
            s.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n > 0
}
