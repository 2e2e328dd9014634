//! The process's resident memory and open descriptors, read from /proc at
//! scrape time. Blocking file reads: call [`ProcessStats::read`] off the
//! shard thread.

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessStats {
    pub resident_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

impl ProcessStats {
    pub fn read() -> ProcessStats {
        ProcessStats {
            resident_bytes: resident_bytes(),
            open_fds: open_fds(),
            max_fds: max_fds(),
        }
    }
}

/// `/proc/self/statm`'s second field is the resident set in pages.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?; // blocking-ok: off-shard (see module doc)
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).ok().map(|p| pages * p)
}

fn open_fds() -> Option<u64> {
    let dir = std::fs::read_dir("/proc/self/fd").ok()?; // blocking-ok: off-shard (see module doc)
    // The directory handle itself is one of the entries.
    Some((dir.count() as u64).saturating_sub(1))
}

fn max_fds() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills a plain struct.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    ok.then_some(lim.rlim_cur)
}
