//! The two C library calls the mbox backend needs and std lacks: POSIX
//! `fcntl` record locks (what Postfix, mutt and Dovecot use on mbox files)
//! and the local time-zone offset (From_ lines carry local time). This is
//! the only `unsafe` code of the mbox backend.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Take a whole-file fcntl lock (write or read), waiting up to `timeout`.
/// Released when the file is closed.
pub fn fcntl_lock(file: &File, write: bool, timeout: Duration) -> io::Result<()> {
    let start = Instant::now();
    loop {
        // SAFETY: `flock` is a plain C struct; all-zero is a valid value
        // (l_start = l_len = 0 means the whole file).
        let mut fl: libc::flock = unsafe { std::mem::zeroed() };
        fl.l_type = if write { libc::F_WRLCK } else { libc::F_RDLCK } as libc::c_short;
        fl.l_whence = libc::SEEK_SET as libc::c_short;
        // SAFETY: the descriptor is open for the lifetime of `file`, and
        // `fl` is a valid, initialised flock that outlives the call.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &mut fl) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        let busy = matches!(err.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES));
        if !busy || start.elapsed() > timeout {
            return Err(err);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Seconds east of UTC of the local time zone at UNIX time `t`.
pub fn local_offset(t: i64) -> i64 {
    let tt = t as libc::time_t;
    // SAFETY: `tm` is a plain C struct, all-zero is valid; localtime_r only
    // writes into the buffer we pass and reads `tt`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&tt, &mut tm).is_null() };
    if ok { tm.tm_gmtoff } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_exclude_other_processes_only() {
        let d = crate::storage::sdbox::test_dir("fcntl");
        let f = File::create(d.join("m")).unwrap();
        fcntl_lock(&f, true, Duration::from_secs(1)).unwrap();
        // fcntl locks are per process: a second lock by us succeeds.
        let g = File::open(d.join("m")).unwrap();
        assert!(fcntl_lock(&g, false, Duration::from_millis(50)).is_ok());
        let off = local_offset(1_700_000_000);
        assert!(off.abs() <= 14 * 3600);
        let _ = std::fs::remove_dir_all(&d);
    }
}
