//! `tern doctor`: checks the host against the shard settings and says what
//! to change. Everything is read from /proc and /sys as text; the checks
//! themselves are pure functions of [`HostFacts`] so they can be tested with
//! fake sysfs contents. Runs from the CLI, never on a shard (std::fs is fine).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::shard::placement;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub text: String,
}

impl Finding {
    fn ok(text: impl Into<String>) -> Finding {
        Finding {
            level: Level::Ok,
            text: text.into(),
        }
    }

    fn warn(text: impl Into<String>) -> Finding {
        Finding {
            level: Level::Warn,
            text: text.into(),
        }
    }
}

/// A soft and hard resource limit; `None` = unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

/// What `io_uring_disabled` says (Linux 6.6+; absent before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoUring {
    Enabled,
    /// 1: only members of kernel.io_uring_group (or CAP_SYS_ADMIN)
    GroupOnly,
    Disabled,
    Unknown,
}

/// Everything the checks look at, as read from the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostFacts {
    /// CPUs this process may run on (Cpus_allowed_list).
    pub allowed: Vec<usize>,
    /// Physical cores: each entry lists the CPUs (SMT siblings) of one core.
    pub cores: Vec<Vec<usize>>,
    /// NUMA node → its CPUs.
    pub numa: BTreeMap<usize, Vec<usize>>,
    pub nofile: Option<Limit>,
    pub memlock: Option<Limit>,
    /// Effective uid 0 or CAP_IPC_LOCK: locked memory is not limited.
    pub can_lock_unlimited: bool,
    pub somaxconn: Option<u64>,
    pub syn_backlog: Option<u64>,
    pub port_range: Option<(u32, u32)>,
    pub tw_reuse: Option<u64>,
    pub nr_open: Option<u64>,
    pub io_uring: IoUring,
}

/// Bytes glommio registers per shard at most (tern's `io_memory_per_shard`).
const IO_MEMORY_WANT: u64 = 4 << 20;
/// glommio refuses to start below this RLIMIT_MEMLOCK.
const GLOMMIO_MIN_MEMLOCK: u64 = 512 << 10;
/// File descriptors worth having for an ISP-scale server.
const NOFILE_WANT: u64 = 1 << 20;
const BACKLOG_WANT: u64 = 4096;
/// With this many physical cores, CPU 0's core is left to interrupts.
const MANY_CORES: usize = 8;
/// Upper bound for any CPU number parsed from text (keeps parsing bounded).
const MAX_CPU: usize = 1 << 16;

// ---------------------------------------------------------------- parsing

/// Kernel CPU list syntax: `0-3,8,10-11` (also the `shard_cpus` syntax).
/// Bad pieces are ignored; numbers above 65535 are dropped.
pub fn parse_cpu_list(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for part in text.trim().split(',') {
        let part = part.trim();
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (Ok(lo), Ok(hi)) = (a.trim().parse::<usize>(), b.trim().parse::<usize>()) else {
            continue;
        };
        if lo > hi || hi >= MAX_CPU {
            continue;
        }
        out.extend(lo..=hi);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The shortest list text for a set of CPUs: `[0,1,2,5]` → `0-2,5`.
pub fn format_cpu_list(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = String::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// Groups CPUs into physical cores from each CPU's `thread_siblings_list`.
/// `siblings` maps a CPU to its file's text; CPUs without text are cores of
/// their own.
pub fn cores_from_siblings(cpus: &[usize], siblings: &BTreeMap<usize, String>) -> Vec<Vec<usize>> {
    let mut seen = std::collections::BTreeSet::new();
    let mut cores = Vec::new();
    for &cpu in cpus {
        if seen.contains(&cpu) {
            continue;
        }
        let mut group: Vec<usize> = siblings
            .get(&cpu)
            .map(|t| parse_cpu_list(t))
            .unwrap_or_default()
            .into_iter()
            .filter(|c| cpus.contains(c))
            .collect();
        if !group.contains(&cpu) {
            group.push(cpu);
            group.sort_unstable();
        }
        for &c in &group {
            seen.insert(c);
        }
        cores.push(group);
    }
    cores.sort();
    cores
}

/// One line of /proc/self/limits, e.g. `Max open files  1024  4096  files`.
pub fn parse_limit(limits: &str, name: &str) -> Option<Limit> {
    let line = limits.lines().find(|l| l.starts_with(name))?;
    let mut it = line[name.len()..].split_whitespace();
    let value = |s: &str| -> Option<Option<u64>> {
        if s == "unlimited" {
            Some(None)
        } else {
            s.parse().ok().map(Some)
        }
    };
    let soft = value(it.next()?)?;
    let hard = value(it.next()?)?;
    Some(Limit { soft, hard })
}

/// From /proc/self/status: effective uid 0, or CAP_IPC_LOCK (bit 14) in
/// CapEff — either way RLIMIT_MEMLOCK does not apply.
pub fn parse_can_lock(status: &str) -> bool {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let root = field("Uid:")
        .and_then(|v| v.split_whitespace().nth(1))
        .is_some_and(|euid| euid == "0");
    let ipc_lock = field("CapEff:")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .is_some_and(|caps| caps & (1 << 14) != 0);
    root || ipc_lock
}

pub fn parse_allowed(status: &str) -> Vec<usize> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .map(parse_cpu_list)
        .unwrap_or_default()
}

pub fn parse_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// `net.ipv4.ip_local_port_range`: two numbers separated by whitespace.
pub fn parse_port_range(text: &str) -> Option<(u32, u32)> {
    let mut it = text.split_whitespace();
    let lo = it.next()?.parse().ok()?;
    let hi = it.next()?.parse().ok()?;
    (lo <= hi).then_some((lo, hi))
}

pub fn parse_io_uring(text: Option<&str>) -> IoUring {
    match text.map(str::trim) {
        Some("0") => IoUring::Enabled,
        Some("1") => IoUring::GroupOnly,
        Some("2") => IoUring::Disabled,
        _ => IoUring::Unknown,
    }
}

// ---------------------------------------------------------------- reading

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Reads the host's facts from /proc and /sys.
pub fn gather() -> HostFacts {
    let status = read("/proc/self/status").unwrap_or_default();
    let mut allowed = parse_allowed(&status);
    if allowed.is_empty() {
        allowed = read("/sys/devices/system/cpu/online")
            .map(|t| parse_cpu_list(&t))
            .unwrap_or_default();
    }
    if allowed.is_empty() {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        allowed = (0..n).collect();
    }
    let siblings: BTreeMap<usize, String> = allowed
        .iter()
        .filter_map(|&c| {
            read(&format!(
                "/sys/devices/system/cpu/cpu{c}/topology/thread_siblings_list"
            ))
            .map(|t| (c, t))
        })
        .collect();
    let cores = cores_from_siblings(&allowed, &siblings);
    let mut numa = BTreeMap::new();
    if let Ok(dir) = std::fs::read_dir("/sys/devices/system/node") {
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_prefix("node"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            if let Some(list) = read(&format!("/sys/devices/system/node/node{id}/cpulist")) {
                numa.insert(id, parse_cpu_list(&list));
            }
        }
    }
    let limits = read("/proc/self/limits").unwrap_or_default();
    HostFacts {
        allowed,
        cores,
        numa,
        nofile: parse_limit(&limits, "Max open files"),
        memlock: parse_limit(&limits, "Max locked memory"),
        can_lock_unlimited: parse_can_lock(&status),
        somaxconn: read("/proc/sys/net/core/somaxconn").and_then(|t| parse_u64(&t)),
        syn_backlog: read("/proc/sys/net/ipv4/tcp_max_syn_backlog").and_then(|t| parse_u64(&t)),
        port_range: read("/proc/sys/net/ipv4/ip_local_port_range")
            .and_then(|t| parse_port_range(&t)),
        tw_reuse: read("/proc/sys/net/ipv4/tcp_tw_reuse").and_then(|t| parse_u64(&t)),
        nr_open: read("/proc/sys/fs/nr_open").and_then(|t| parse_u64(&t)),
        io_uring: parse_io_uring(read("/proc/sys/kernel/io_uring_disabled").as_deref()),
    }
}

// ---------------------------------------------------------------- checks

/// One shard per physical core, the lowest-numbered sibling of each; with
/// many cores the core holding CPU 0 (where most IRQs and housekeeping land)
/// is left out.
pub fn suggest_shard_cpus(cores: &[Vec<usize>]) -> Vec<usize> {
    let many = cores.len() >= MANY_CORES;
    let mut out: Vec<usize> = cores
        .iter()
        .filter(|core| !(many && core.contains(&0)))
        .filter_map(|core| core.iter().min().copied())
        .collect();
    out.sort_unstable();
    out
}

fn core_of(cores: &[Vec<usize>], cpu: usize) -> Option<usize> {
    cores.iter().position(|c| c.contains(&cpu))
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

/// The checks, as a pure function of the facts and the settings.
pub fn analyze(
    facts: &HostFacts,
    shards: Option<usize>,
    shard_cpus: Option<&[usize]>,
    io_ring_depth: u32,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let smt = facts.cores.iter().any(|c| c.len() > 1);
    out.push(Finding::ok(format!(
        "CPUs: {} usable ({}), {} physical core(s){}, {} NUMA node(s)",
        facts.allowed.len(),
        format_cpu_list(&facts.allowed),
        facts.cores.len(),
        if smt {
            " with SMT siblings"
        } else {
            ", no SMT"
        },
        facts.numa.len().max(1)
    )));

    // placement, exactly as the server will do it
    let planned = match placement::plan(shards, shard_cpus, &facts.allowed) {
        Ok(p) => Some(p),
        Err(e) => {
            out.push(Finding::warn(format!("shard placement fails: {e}")));
            None
        }
    };
    let suggested = suggest_shard_cpus(&facts.cores);
    if let Some(cpus) = &planned {
        out.extend(check_placement(facts, shards, cpus, &suggested));
    }
    let nshards = planned.as_ref().map_or(1, Vec::len).max(1) as u64;

    out.extend(check_limits(facts, nshards));
    out.extend(check_net(facts));
    out.push(match facts.io_uring {
        IoUring::Enabled => Finding::ok("io_uring: enabled (kernel.io_uring_disabled = 0)"),
        IoUring::GroupOnly if facts.can_lock_unlimited => {
            Finding::ok("io_uring: restricted to kernel.io_uring_group (= 1); allowed for root")
        }
        IoUring::GroupOnly => Finding::warn(
            "io_uring: restricted (kernel.io_uring_disabled = 1): run tern as a member of \
             kernel.io_uring_group, or set kernel.io_uring_disabled = 0",
        ),
        IoUring::Disabled => Finding::warn(
            "io_uring: disabled (kernel.io_uring_disabled = 2): tern cannot start; set it to 0",
        ),
        IoUring::Unknown => Finding::ok(
            "io_uring: no kernel.io_uring_disabled (kernel before 6.6): assumed available",
        ),
    });
    out.push(if io_ring_depth < 64 {
        Finding::warn(format!(
            "io_ring_depth = {io_ring_depth}: shallow rings make busy shards wait for \
             submission slots; 128-1024 is the useful range"
        ))
    } else if io_ring_depth > 4096 {
        Finding::warn(format!(
            "io_ring_depth = {io_ring_depth}: deep rings cost locked memory and can fail \
             with ENOMEM at start; 128-1024 is the useful range"
        ))
    } else {
        Finding::ok(format!("io_ring_depth = {io_ring_depth}"))
    });
    out.push(Finding::ok(format!(
        "suggested: shard_cpus = {}  (shards = {}; one per physical core{})",
        format_cpu_list(&suggested),
        suggested.len(),
        if facts.cores.len() >= MANY_CORES {
            ", CPU 0's core left to interrupts"
        } else {
            ""
        }
    )));
    out
}

fn check_placement(
    facts: &HostFacts,
    shards: Option<usize>,
    cpus: &[usize],
    suggested: &[usize],
) -> Vec<Finding> {
    let mut out = Vec::new();
    out.push(Finding::ok(format!(
        "shards: {} on CPU(s) {}{}",
        cpus.len(),
        format_cpu_list(cpus),
        if shards.is_none() {
            " (shards = auto)"
        } else {
            ""
        }
    )));
    // two shards on one CPU
    let mut per_cpu: BTreeMap<usize, usize> = BTreeMap::new();
    for &c in cpus {
        *per_cpu.entry(c).or_default() += 1;
    }
    let doubled: Vec<usize> = per_cpu
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(c, _)| *c)
        .collect();
    if !doubled.is_empty() {
        out.push(Finding::warn(format!(
            "more shards than CPUs: CPU(s) {} run several shards, which then take turns; \
             use at most one shard per CPU",
            format_cpu_list(&doubled)
        )));
    }
    // SMT siblings both carrying shards
    let mut per_core: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &c in per_cpu.keys() {
        if let Some(core) = core_of(&facts.cores, c) {
            per_core.entry(core).or_default().push(c);
        }
    }
    let shared: Vec<String> = per_core
        .values()
        .filter(|cs| cs.len() > 1)
        .map(|cs| format_cpu_list(cs))
        .collect();
    if !shared.is_empty() {
        out.push(Finding::warn(format!(
            "shards on SMT siblings of one core ({}): two siblings give ~1.1-1.3x one core, \
             not 2x, and their latencies disturb each other; prefer shard_cpus = {}",
            shared.join(" "),
            format_cpu_list(suggested)
        )));
    }
    if facts.cores.len() >= MANY_CORES
        && let Some(core0) = core_of(&facts.cores, 0)
        && per_cpu
            .keys()
            .any(|&c| core_of(&facts.cores, c) == Some(core0))
    {
        out.push(Finding::warn(
            "a shard runs on CPU 0's core, where most interrupts and kernel housekeeping \
             land; with this many cores leave it out (and steer NIC IRQs off the shard cores)",
        ));
    }
    // NUMA spread
    if facts.numa.len() > 1 {
        let mut per_node: BTreeMap<usize, usize> = BTreeMap::new();
        for &c in cpus {
            if let Some((node, _)) = facts.numa.iter().find(|(_, list)| list.contains(&c)) {
                *per_node.entry(*node).or_default() += 1;
            }
        }
        let text: Vec<String> = per_node
            .iter()
            .map(|(n, k)| format!("node {n}: {k}"))
            .collect();
        out.push(Finding::ok(format!(
            "NUMA: shards per node: {}; keep the NIC's IRQs on CPUs of the node it hangs \
             off, and run one tern per node if cross-node traffic shows up",
            text.join(", ")
        )));
    }
    out
}

fn check_limits(facts: &HostFacts, shards: u64) -> Vec<Finding> {
    let mut out = Vec::new();
    match facts.nofile {
        Some(Limit { soft: Some(s), .. }) if s < 65_536 => out.push(Finding::warn(format!(
            "open files limit is {s}: each connection is a descriptor; set LimitNOFILE={NOFILE_WANT} \
             in the unit (or `ulimit -n {NOFILE_WANT}`)"
        ))),
        Some(Limit { soft, .. }) => out.push(Finding::ok(format!(
            "open files limit: {}",
            soft.map_or("unlimited".into(), |s| s.to_string())
        ))),
        None => out.push(Finding::warn("open files limit: unreadable (/proc/self/limits)")),
    }
    if let (Some(nr_open), Some(Limit { soft: Some(s), .. })) = (facts.nr_open, facts.nofile)
        && nr_open < NOFILE_WANT
        && s >= nr_open
    {
        out.push(Finding::warn(format!(
            "fs.nr_open = {nr_open} caps the open files limit; raise it (sysctl fs.nr_open={NOFILE_WANT})"
        )));
    }
    // glommio registers each shard's io memory with 3 rings; tern asks for
    // 4 MiB per shard and, when locked memory is limited, takes half the
    // limit divided over 3 × shards (see shard::runtime::io_memory_per_shard).
    let want = 3 * IO_MEMORY_WANT * shards * 2;
    if facts.can_lock_unlimited {
        out.push(Finding::ok(
            "locked memory: not limited for this user (root or CAP_IPC_LOCK)",
        ));
    } else {
        match facts.memlock {
            Some(Limit { soft: None, .. }) => {
                out.push(Finding::ok("locked memory limit: unlimited"));
            }
            Some(Limit { soft: Some(s), .. }) if s < GLOMMIO_MIN_MEMLOCK => {
                out.push(Finding::warn(format!(
                    "locked memory limit is {}: glommio refuses to start below 512 KiB; set \
                     LimitMEMLOCK={} (or infinity)",
                    mib(s),
                    want
                )));
            }
            Some(Limit { soft: Some(s), .. }) if s < want => {
                let per_shard = (s / 2 / (3 * shards)).clamp(64 << 10, IO_MEMORY_WANT);
                out.push(Finding::warn(format!(
                    "locked memory limit is {}: each of {shards} shard(s) gets {} of registered \
                     io memory instead of {}; set LimitMEMLOCK={} (or infinity)",
                    mib(s),
                    mib(per_shard),
                    mib(IO_MEMORY_WANT),
                    want
                )));
            }
            Some(Limit { soft: Some(s), .. }) => {
                out.push(Finding::ok(format!("locked memory limit: {}", mib(s))));
            }
            None => out.push(Finding::warn(
                "locked memory limit: unreadable (/proc/self/limits)",
            )),
        }
    }
    out
}

fn check_net(facts: &HostFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let backlog = |name: &str, why: &str, v: Option<u64>, out: &mut Vec<Finding>| match v {
        Some(v) if v < BACKLOG_WANT => out.push(Finding::warn(format!(
            "{name} = {v}: {why}; set {name}={BACKLOG_WANT} or more"
        ))),
        Some(v) => out.push(Finding::ok(format!("{name} = {v}"))),
        None => out.push(Finding::ok(format!("{name}: unreadable"))),
    };
    backlog(
        "net.core.somaxconn",
        "it caps every listener's accept queue (each shard has its own SO_REUSEPORT \
         listener asking for 1024), and login storms overflow it",
        facts.somaxconn,
        &mut out,
    );
    backlog(
        "net.ipv4.tcp_max_syn_backlog",
        "it bounds half-open connections; during login storms further SYNs wait for \
         a retransmit (1 s, then 3 s)",
        facts.syn_backlog,
        &mut out,
    );
    if let Some((lo, hi)) = facts.port_range {
        let n = hi - lo + 1;
        out.push(if n < 28_000 {
            Finding::warn(format!(
                "net.ipv4.ip_local_port_range = {lo} {hi} ({n} ports): outgoing connections \
                 (proxying, replication, a local load generator) run out early; use 1024 65535"
            ))
        } else {
            Finding::ok(format!("net.ipv4.ip_local_port_range = {lo} {hi}"))
        });
    }
    if facts.tw_reuse == Some(0) {
        out.push(Finding::warn(
            "net.ipv4.tcp_tw_reuse = 0: a local load generator runs out of ports in TIME_WAIT; \
             2 (loopback only, the default) or 1",
        ));
    }
    out
}

// ---------------------------------------------------------------- entry

/// Inspects this host against the shard settings.
pub fn report(
    shards: Option<usize>,
    shard_cpus: Option<&[usize]>,
    io_ring_depth: u32,
) -> Vec<Finding> {
    analyze(&gather(), shards, shard_cpus, io_ring_depth)
}

/// The findings as text, one per line, warnings marked.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let mark = match f.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
        };
        let _ = writeln!(out, "{mark}  {}", f.text);
    }
    let warnings = findings.iter().filter(|f| f.level == Level::Warn).count();
    let _ = writeln!(out, "{warnings} warning(s)");
    out
}

pub fn print(findings: &[Finding]) {
    print!("{}", render(findings));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(cores: Vec<Vec<usize>>, nodes: usize) -> HostFacts {
        let mut allowed: Vec<usize> = cores.iter().flatten().copied().collect();
        allowed.sort_unstable();
        let mut numa = BTreeMap::new();
        let per = allowed.len().div_ceil(nodes);
        for (i, chunk) in allowed.chunks(per).enumerate() {
            numa.insert(i, chunk.to_vec());
        }
        HostFacts {
            allowed,
            cores,
            numa,
            nofile: Some(Limit {
                soft: Some(1 << 20),
                hard: Some(1 << 20),
            }),
            memlock: Some(Limit {
                soft: None,
                hard: None,
            }),
            can_lock_unlimited: false,
            somaxconn: Some(4096),
            syn_backlog: Some(4096),
            port_range: Some((1024, 65535)),
            tw_reuse: Some(2),
            nr_open: Some(1 << 20),
            io_uring: IoUring::Enabled,
        }
    }

    /// 2 sockets × 8 cores × 2 threads, Linux numbering: sibling of CPU c is
    /// c + 16.
    fn big_host() -> HostFacts {
        host((0..16).map(|c| vec![c, c + 16]).collect(), 2)
    }

    fn warns(f: &[Finding]) -> Vec<&str> {
        f.iter()
            .filter(|f| f.level == Level::Warn)
            .map(|f| f.text.as_str())
            .collect()
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,8,10-11\n"), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse_cpu_list("5,1,1"), vec![1, 5]);
        assert_eq!(parse_cpu_list("x,3-1,2,99999999"), vec![2]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
        assert_eq!(format_cpu_list(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(format_cpu_list(&[]), "");
    }

    #[test]
    fn siblings_group_into_cores() {
        let text: BTreeMap<usize, String> = [
            (0, "0,4\n"),
            (1, "1,5\n"),
            (4, "0,4\n"),
            (5, "1,5\n"),
            (2, "2\n"),
        ]
        .into_iter()
        .map(|(c, t)| (c, t.to_string()))
        .collect();
        let cores = cores_from_siblings(&[0, 1, 2, 4, 5, 6], &text);
        assert_eq!(cores, vec![vec![0, 4], vec![1, 5], vec![2], vec![6]]);
        let dash: BTreeMap<usize, String> = [(0, "0-1".to_string())].into_iter().collect();
        assert_eq!(cores_from_siblings(&[0, 1], &dash), vec![vec![0, 1]]);
    }

    #[test]
    fn proc_text() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n\
                      Max locked memory         8388608              unlimited            bytes\n";
        assert_eq!(
            parse_limit(limits, "Max open files"),
            Some(Limit {
                soft: Some(1024),
                hard: Some(524_288)
            })
        );
        assert_eq!(
            parse_limit(limits, "Max locked memory"),
            Some(Limit {
                soft: Some(8_388_608),
                hard: None
            })
        );
        assert_eq!(parse_limit(limits, "Max nothing"), None);
        assert!(parse_can_lock(
            "Uid:\t0\t0\t0\t0\nCapEff:\t0000000000000000\n"
        ));
        assert!(parse_can_lock(
            "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000004000\n"
        ));
        assert!(!parse_can_lock(
            "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n"
        ));
        assert!(!parse_can_lock(""));
        assert_eq!(
            parse_allowed("Name: x\nCpus_allowed_list:\t0-1,4\n"),
            vec![0, 1, 4]
        );
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("9 1"), None);
        assert_eq!(parse_io_uring(Some("2\n")), IoUring::Disabled);
        assert_eq!(parse_io_uring(None), IoUring::Unknown);
    }

    #[test]
    fn suggestion_is_one_per_core_skipping_cpu0_when_many() {
        assert_eq!(
            suggest_shard_cpus(&big_host().cores),
            (1..16).collect::<Vec<_>>()
        );
        let small = host(vec![vec![0, 2], vec![1, 3]], 1);
        assert_eq!(suggest_shard_cpus(&small.cores), vec![0, 1]);
        let f = analyze(&big_host(), None, None, 256);
        let last = &f[f.len() - 1];
        assert_eq!(last.level, Level::Ok);
        assert!(last.text.contains("shard_cpus = 1-15"), "{}", last.text);
    }

    #[test]
    fn auto_on_smt_host_warns_about_siblings_and_cpu0() {
        let f = analyze(&big_host(), None, None, 256);
        let w = warns(&f);
        assert!(w.iter().any(|t| t.contains("SMT siblings")), "{w:?}");
        assert!(w.iter().any(|t| t.contains("CPU 0's core")), "{w:?}");
        assert!(f.iter().any(|f| {
            f.text
                .contains("NUMA: shards per node: node 0: 16, node 1: 16")
        }));
    }

    #[test]
    fn good_settings_give_no_warnings() {
        let cpus: Vec<usize> = (1..16).collect();
        let f = analyze(&big_host(), None, Some(&cpus), 256);
        assert_eq!(warns(&f), Vec::<&str>::new());
        assert!(
            f.iter()
                .any(|f| f.text.starts_with("shards: 15 on CPU(s) 1-15"))
        );
    }

    #[test]
    fn placement_errors_and_oversubscription() {
        let small = host(vec![vec![0], vec![1]], 1);
        let f = analyze(&small, Some(3), Some(&[0, 1]), 128);
        assert!(
            warns(&f)
                .iter()
                .any(|t| t.contains("shard placement fails"))
        );
        let f = analyze(&small, Some(4), None, 128);
        assert!(
            warns(&f)
                .iter()
                .any(|t| t.contains("more shards than CPUs"))
        );
        let f = analyze(&small, None, Some(&[7]), 128);
        assert!(warns(&f).iter().any(|t| t.contains("may not use")));
    }

    #[test]
    fn limits_and_sysctls() {
        let mut h = host(vec![vec![0], vec![1]], 1);
        h.nofile = Some(Limit {
            soft: Some(1024),
            hard: Some(4096),
        });
        h.memlock = Some(Limit {
            soft: Some(8 << 20),
            hard: Some(8 << 20),
        });
        h.somaxconn = Some(128);
        h.port_range = Some((32768, 40000));
        h.tw_reuse = Some(0);
        h.io_uring = IoUring::Disabled;
        let f = analyze(&h, None, None, 16);
        let w = warns(&f);
        assert!(w.iter().any(|t| t.contains("LimitNOFILE=1048576")), "{w:?}");
        // 2 shards: 8 MiB / 2 / 6 = 682 KiB each
        assert!(w.iter().any(|t| t.contains("gets 682 KiB")), "{w:?}");
        assert!(w.iter().any(|t| t.contains("net.core.somaxconn = 128")));
        assert!(w.iter().any(|t| t.contains("ip_local_port_range")));
        assert!(w.iter().any(|t| t.contains("tcp_tw_reuse")));
        assert!(w.iter().any(|t| t.contains("tern cannot start")));
        assert!(w.iter().any(|t| t.contains("io_ring_depth = 16")));
        h.memlock = Some(Limit {
            soft: Some(256 << 10),
            hard: Some(256 << 10),
        });
        assert!(
            warns(&analyze(&h, None, None, 128))
                .iter()
                .any(|t| t.contains("refuses to start"))
        );
        h.can_lock_unlimited = true;
        assert!(
            !warns(&analyze(&h, None, None, 128))
                .iter()
                .any(|t| t.contains("locked memory"))
        );
    }

    #[test]
    fn render_marks_warnings() {
        let text = render(&[Finding::ok("fine"), Finding::warn("bad")]);
        assert_eq!(text, "ok    fine\nWARN  bad\n1 warning(s)\n");
    }

    #[test]
    fn this_host_reads() {
        let facts = gather();
        assert!(!facts.allowed.is_empty());
        assert!(!facts.cores.is_empty());
        let f = report(None, None, 128);
        print(&f); // visible with --nocapture
        assert!(
            f.iter()
                .any(|f| f.text.starts_with("suggested: shard_cpus = "))
        );
    }
}
