//! What the benchmark reads about the server process from /proc: block
//! I/O it caused (`io`: read_bytes) and its memory (`smaps_rollup`: PSS,
//! `status`: VmHWM). Reading another process's `io` needs root or the
//! same uid.

fn field_kib(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Bytes the process caused to be read from block devices so far.
pub fn read_bytes(pid: i32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("read_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Proportional set size, KiB.
pub fn pss_kib(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    field_kib(&s, "Pss")
}

/// Peak resident set size, KiB.
pub fn hwm_kib(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    field_kib(&s, "VmHWM")
}

/// Bytes in the files under `dir` whose names start with `prefix`
/// (recursively): the mail data a body read would touch.
pub fn bytes_of_files(dir: &std::path::Path, prefix: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for e in entries.flatten() {
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            total += bytes_of_files(&e.path(), prefix);
        } else if e.file_name().to_string_lossy().starts_with(prefix) {
            total += meta.len();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_kib_fields() {
        assert_eq!(
            super::field_kib("Rss:  120 kB\nPss:   80 kB\n", "Pss"),
            Some(80)
        );
    }
}
