//! Loading a mailbox and re-reading what other writers changed. Blocking
//! code: runs inside `blocking::run` jobs, each under the mailbox lock.

use super::OpenReport;
use super::rebuild::{import_dovecot, rebuild};
use crate::storage::error::Result;
use crate::storage::index::{MailboxState, MessageRecord, Recovered, recover};
use crate::storage::sdbox::disk_stamp::{self, DiskStamp, Guarded, MailboxLock};
use crate::storage::sdbox::dovecot_index::DovecotState;
use crate::storage::sdbox::io;
use std::path::Path;

/// What `MailboxShared::open` loads.
pub(super) struct Loaded {
    pub state: MailboxState,
    pub report: OpenReport,
    pub stamp: DiskStamp,
    /// Dovecot's index as found, the base for later differences.
    pub dovecot: Option<DovecotState>,
}

pub(super) fn same_uids(listing: &[u32], records: &[MessageRecord]) -> bool {
    listing.len() == records.len() && listing.iter().zip(records).all(|(u, r)| *u == r.uid)
}

/// The stamp after a write of our own made under the lock: the directory
/// and Dovecot parts stay as they were before it, so anything a foreign
/// writer did alongside is still looked at by the next refresh.
fn after_own_write(dir: &Path, before: &DiskStamp) -> Result<DiskStamp> {
    let mut s = disk_stamp::read(dir)?;
    s.dir = before.dir;
    s.dovecot_log = before.dovecot_log;
    Ok(s)
}

/// Load (healing if needed) the mailbox whose mail files are in `dir`.
pub(super) fn open(dir: &Path, control: &Path) -> Result<Loaded> {
    let _lock = MailboxLock::exclusive(dir)?;
    let before = disk_stamp::read(dir)?;
    let dovecot = import_dovecot(dir);
    let files = io::load_index_files(dir)?;
    let all_missing = files.index.is_none() && files.log.is_none() && files.state.is_none();
    let rec = recover(
        files.index.as_deref(),
        files.log.as_deref(),
        files.state.as_deref(),
    );
    let (state, report) = match rec {
        Recovered {
            state: Some(state),
            clean: true,
            ..
        } => {
            // One readdir per load catches mail files added or removed
            // behind our back (another writer, a restore, a crash between
            // link and log commit).
            let on_disk = io::list_uids(dir)?;
            if same_uids(&on_disk, &state.records) {
                return Ok(Loaded {
                    state,
                    report: OpenReport::default(),
                    stamp: before,
                    dovecot,
                });
            }
            tracing::warn!(dir = %dir.display(), "mail files changed outside tern; resyncing the index");
            let problems = vec!["mail files changed outside tern".to_string()];
            let report = OpenReport {
                problems,
                ..Default::default()
            };
            rebuild(dir, control, Some(state), false, report, dovecot.as_ref())?
        }
        other => {
            if all_missing {
                tracing::info!(dir = %dir.display(), "no tern index yet; building it from the mail files");
            } else {
                tracing::warn!(dir = %dir.display(), problems = %other.problems.join("; "),
                    "tern index damaged; rebuilding from the mail files");
            }
            let report = OpenReport {
                problems: other.problems,
                ..Default::default()
            };
            rebuild(
                dir,
                control,
                other.state,
                all_missing,
                report,
                dovecot.as_ref(),
            )?
        }
    };
    Ok(Loaded {
        state,
        report,
        stamp: after_own_write(dir, &before)?,
        dovecot,
    })
}

/// What changed on disk since `recorded`, read as one consistent set.
pub(super) struct Probe {
    pub now: DiskStamp,
    /// tern's index files, re-read because `tern.log` changed.
    pub tern: Option<Recovered>,
    /// The mail files, listed because the directory or `tern.log` changed.
    pub listing: Option<Vec<u32>>,
    /// Dovecot's index, re-imported because its log changed (the inner
    /// None: Dovecot's files are gone or unusable).
    pub dovecot: Option<Option<DovecotState>>,
}

pub(super) fn probe(dir: &Path, recorded: &DiskStamp) -> Result<Probe> {
    let _lock = MailboxLock::shared(dir)?;
    let now = disk_stamp::read(dir)?;
    let tern = if now.log != recorded.log || now.dir.ino != recorded.dir.ino {
        let f = io::load_index_files(dir)?;
        Some(recover(
            f.index.as_deref(),
            f.log.as_deref(),
            f.state.as_deref(),
        ))
    } else {
        None
    };
    let listing = if tern.is_some() || now.dir != recorded.dir {
        Some(io::list_uids(dir)?)
    } else {
        None
    };
    let dovecot = (now.dovecot_log != recorded.dovecot_log).then(|| import_dovecot(dir));
    Ok(Probe {
        now,
        tern,
        listing,
        dovecot,
    })
}

/// Rebuild from `prior` and the mail files, unless another tern writer
/// committed since `expected` (then the caller reloads and tries again).
pub(super) fn rebuild_guarded(
    dir: &Path,
    control: &Path,
    prior: MailboxState,
    report: OpenReport,
    dovecot: Option<&DovecotState>,
    expected: &DiskStamp,
) -> Result<Guarded<(MailboxState, OpenReport)>> {
    disk_stamp::write_guarded(dir, expected, || {
        rebuild(dir, control, Some(prior), false, report, dovecot)
    })
}

/// Write Dovecot's index for a handover and return what the next refresh
/// compares with: the new stamp of Dovecot's log and the import of the
/// snapshot just written.
pub(super) fn export_dovecot(
    dir: &Path,
    snapshot: &[u8],
) -> Result<(Option<disk_stamp::FileStamp>, Option<DovecotState>)> {
    io::export_dovecot_index(dir, snapshot)?;
    let stamp = disk_stamp::read(dir)?;
    Ok((stamp.dovecot_log, import_dovecot(dir)))
}
