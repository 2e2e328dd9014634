//! Server memory from /proc: the RSS of a process and all its descendants
//! (Dovecot forks a process per connection, tern does not; summing the
//! tree makes the two comparable).

use std::collections::HashMap;

/// `VmRSS:  1234 kB` → 1234.
pub fn parse_vmrss_kib(status: &str) -> Option<u64> {
    parse_kib_field(status, "VmRSS:")
}

/// A `Name:   1234 kB` field of /proc/<pid>/status or smaps_rollup.
pub fn parse_kib_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The parent pid from /proc/<pid>/stat (the field after the `(comm)`,
/// which may itself contain spaces and parentheses).
pub fn parse_ppid(stat: &str) -> Option<u32> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut it = after.split_whitespace();
    let _state = it.next()?;
    it.next()?.parse().ok()
}

/// Memory of a process tree, KiB: summed RSS (counts shared pages once per
/// process, so it overstates a forking server) and summed PSS (shared pages
/// split between their users; 0 where smaps_rollup is unreadable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeMem {
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub processes: u64,
}

/// Memory of `pid` plus every descendant. Reads /proc (the generator is not
/// a shard; this runs between phases, never per operation).
pub fn tree_mem(pid: u32) -> Option<TreeMem> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat"))
                && let Some(pp) = parse_ppid(&stat)
            {
                children.entry(pp).or_default().push(p);
            }
        }
    }
    let own = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut mem = TreeMem {
        rss_kib: parse_vmrss_kib(&own)?,
        pss_kib: pss(pid),
        processes: 1,
    };
    let mut stack = children.get(&pid).cloned().unwrap_or_default();
    while let Some(c) = stack.pop() {
        if mem.processes > 1_000_000 {
            break;
        }
        if let Ok(st) = std::fs::read_to_string(format!("/proc/{c}/status")) {
            mem.rss_kib += parse_vmrss_kib(&st).unwrap_or(0);
            mem.pss_kib += pss(c);
            mem.processes += 1;
        }
        if let Some(cs) = children.get(&c) {
            stack.extend(cs);
        }
    }
    Some(mem)
}

fn pss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|t| parse_kib_field(&t, "Pss:"))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_text() {
        let status = "Name:\tdovecot\nVmPeak:\t  9000 kB\nVmRSS:\t    4321 kB\nThreads: 1\n";
        assert_eq!(parse_vmrss_kib(status), Some(4321));
        assert_eq!(parse_vmrss_kib("Name: x\n"), None);
        assert_eq!(parse_kib_field("Rss: 10 kB\nPss:  7 kB\n", "Pss:"), Some(7));
        assert_eq!(parse_ppid("42 (imap-login) S 17 42 42 0"), Some(17));
        assert_eq!(parse_ppid("42 (a) b) (c) R 9 1"), Some(9));
        assert_eq!(parse_ppid("garbage"), None);
    }

    #[test]
    fn own_process_has_rss() {
        let me = std::process::id();
        let m = tree_mem(me).expect("own /proc entry");
        assert!(m.rss_kib > 0 && m.processes >= 1);
        assert!(m.pss_kib <= m.rss_kib + 4);
    }
}
