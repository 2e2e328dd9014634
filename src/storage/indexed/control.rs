//! A user's small control files, kept the same way by every store:
//! subscriptions (Dovecot's format, under the name the layout uses) and
//! tern's special-use file. Blocking functions run inside
//! `blocking::run`; [`with_control_file`] serialises the read-modify-write
//! of one file among the shard's sessions.

use crate::storage::blocking;
use crate::storage::cache::{Cached, MailboxRegistry};
use crate::storage::error::{Result, StorageError};
use crate::storage::index::disk;
use crate::storage::indexed::subscriptions;
use crate::storage::name::MailboxName;
use crate::storage::types::SpecialUse;
use std::path::Path;

/// tern's own file for special-use attributes: `<attribute>\t<name>` lines.
pub const SPECIAL_USE_FILE: &str = "tern.special-use";

/// Run `job` (blocking) while no other session of the shard changes
/// `control/file`.
pub async fn with_control_file<T, F>(
    registry: &MailboxRegistry<T>,
    control: &Path,
    file: &str,
    job: F,
) -> Result<()>
where
    T: Cached,
    F: FnOnce() -> Result<()> + Send + 'static,
{
    let key = control.join(file);
    let gate = registry.gate(&key);
    let result = match gate.acquire_permit(1).await {
        Ok(_permit) => blocking::run(job).await,
        Err(_) => Err(StorageError::Internal("control file gate closed".into())),
    };
    registry.release_gate(&key, gate);
    result
}

/// Replace a small control file: unique temp (mode 0600), fsync, rename,
/// directory fsync.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    disk::replace_file(dir, name, bytes)?;
    disk::sync_dir(dir)
}

/// The subscribed names in `control/file` (none when it is missing).
pub fn read_subscriptions(control: &Path, file: &str) -> Result<Vec<MailboxName>> {
    Ok(disk::read_optional(&control.join(file))?
        .map(|b| subscriptions::parse(&b))
        .unwrap_or_default())
}

/// Subscribe or unsubscribe `name`; the file is rewritten only on a change.
pub fn set_subscribed(
    control: &Path,
    file: &str,
    name: MailboxName,
    subscribed: bool,
) -> Result<()> {
    let mut subs = read_subscriptions(control, file)?;
    if subs.contains(&name) == subscribed {
        return Ok(());
    }
    if subscribed {
        subs.push(name);
    } else {
        subs.retain(|n| *n != name);
    }
    write_atomically(control, file, &subscriptions::format(&subs))
}

pub fn read_special_use(control: &Path) -> Result<Vec<(SpecialUse, MailboxName)>> {
    let Some(b) = disk::read_optional(&control.join(SPECIAL_USE_FILE))? else {
        return Ok(Vec::new());
    };
    Ok(String::from_utf8_lossy(&b)
        .lines()
        .filter_map(|l| {
            let (a, n) = l.split_once('\t')?;
            Some((SpecialUse::parse(a)?, MailboxName::new(n).ok()?))
        })
        .collect())
}

pub fn write_special_use(control: &Path, entries: &[(SpecialUse, MailboxName)]) -> Result<()> {
    let mut text = String::new();
    for (u, n) in entries {
        text.push_str(u.as_str());
        text.push('\t');
        text.push_str(n.as_str());
        text.push('\n');
    }
    write_atomically(control, SPECIAL_USE_FILE, text.as_bytes())
}

/// Give `name` the attribute `usage` (`None`: none).
pub fn set_special_use(control: &Path, name: MailboxName, usage: Option<SpecialUse>) -> Result<()> {
    let mut uses = read_special_use(control)?;
    uses.retain(|(_, n)| *n != name);
    if let Some(u) = usage {
        uses.push((u, name));
    }
    write_special_use(control, &uses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_and_special_use_round_trip() {
        let dir = crate::storage::sdbox::test_dir("control");
        let (a, b) = (
            MailboxName::new("A").unwrap(),
            MailboxName::new("B").unwrap(),
        );
        assert!(read_subscriptions(&dir, ".subs").unwrap().is_empty());
        set_subscribed(&dir, ".subs", a.clone(), true).unwrap();
        set_subscribed(&dir, ".subs", b.clone(), true).unwrap();
        set_subscribed(&dir, ".subs", a.clone(), false).unwrap();
        let subs = read_subscriptions(&dir, ".subs").unwrap();
        set_special_use(&dir, a.clone(), Some(SpecialUse::Trash)).unwrap();
        set_special_use(&dir, b.clone(), Some(SpecialUse::Sent)).unwrap();
        set_special_use(&dir, a.clone(), None).unwrap();
        let uses = read_special_use(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(subs, vec![b.clone()]);
        assert_eq!(uses, vec![(SpecialUse::Sent, b)]);
    }
}
