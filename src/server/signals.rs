//! SIGTERM/SIGINT (shut down), SIGHUP (reload) and SIGUSR1 (reopen the log
//! files, as Dovecot's master does), taken synchronously by the
//! main thread with sigtimedwait. The signals are blocked in every thread
//! (the mask is inherited by the shard threads started afterwards), so none
//! of them interrupts a shard.

use std::io;
use std::time::Duration;

pub enum Event {
    Shutdown,
    Reload,
    ReopenLogs,
}

pub struct Signals {
    set: libc::sigset_t,
}

impl Signals {
    pub fn block() -> io::Result<Signals> {
        // SAFETY: sigset manipulation on a local, zeroed set.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1] {
                libc::sigaddset(&mut set, s);
            }
            let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            Ok(Signals { set })
        }
    }

    /// Waits up to `timeout` for one of the signals.
    pub fn wait(&self, timeout: Duration) -> Option<Event> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: valid set and timespec; info may be null.
        let sig = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &ts) };
        match sig {
            libc::SIGHUP => Some(Event::Reload),
            libc::SIGUSR1 => Some(Event::ReopenLogs),
            libc::SIGTERM | libc::SIGINT => Some(Event::Shutdown),
            _ => None,
        }
    }
}
