//! Where shards run: how many, and on which CPUs.

/// The CPUs this process may run on (its affinity mask), in order.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if ok != 0 {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        return (0..n).collect();
    }
    (0..libc::CPU_SETSIZE as usize)
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlacementError {
    #[error("shard_cpus names CPU {0}, which this process may not use (allowed: {1})")]
    CpuNotAllowed(usize, String),
    #[error("shards = {shards} but shard_cpus lists only {cpus} CPUs")]
    TooFewCpus { shards: usize, cpus: usize },
    #[error("no CPU available")]
    NoCpu,
}

/// Decides the CPU of each shard. `shards = None` means `auto`: one shard per
/// listed CPU (or per allowed CPU when `shard_cpus` is empty). With an
/// explicit count and no list, shards are pinned round-robin over the
/// allowed CPUs.
pub fn plan(
    shards: Option<usize>,
    shard_cpus: Option<&[usize]>,
    allowed: &[usize],
) -> Result<Vec<usize>, PlacementError> {
    if allowed.is_empty() {
        return Err(PlacementError::NoCpu);
    }
    let allowed_text = || {
        allowed
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    match shard_cpus {
        Some(list) if !list.is_empty() => {
            if let Some(&bad) = list.iter().find(|c| !allowed.contains(c)) {
                return Err(PlacementError::CpuNotAllowed(bad, allowed_text()));
            }
            let n = shards.unwrap_or(list.len());
            if n > list.len() {
                return Err(PlacementError::TooFewCpus {
                    shards: n,
                    cpus: list.len(),
                });
            }
            Ok(list[..n].to_vec())
        }
        _ => {
            let n = shards.unwrap_or(allowed.len()).max(1);
            Ok((0..n).map(|i| allowed[i % allowed.len()]).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_uses_every_allowed_cpu() {
        assert_eq!(plan(None, None, &[0, 1, 2]).unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn explicit_list_and_count() {
        assert_eq!(plan(None, Some(&[2, 0]), &[0, 1, 2]).unwrap(), vec![2, 0]);
        assert_eq!(plan(Some(1), Some(&[2, 0]), &[0, 1, 2]).unwrap(), vec![2]);
        assert_eq!(
            plan(Some(3), Some(&[2, 0]), &[0, 1, 2]),
            Err(PlacementError::TooFewCpus { shards: 3, cpus: 2 })
        );
        assert!(matches!(
            plan(None, Some(&[7]), &[0, 1]),
            Err(PlacementError::CpuNotAllowed(7, _))
        ));
    }

    #[test]
    fn more_shards_than_cpus_wrap_around() {
        assert_eq!(plan(Some(3), None, &[0, 1]).unwrap(), vec![0, 1, 0]);
    }

    #[test]
    fn allowed_cpus_is_not_empty() {
        assert!(!allowed_cpus().is_empty());
    }
}
