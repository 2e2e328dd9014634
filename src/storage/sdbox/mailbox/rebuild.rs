//! Building a mailbox's index from the mail files (plus whatever index
//! state survived, or Dovecot's index on first open). Blocking code: runs
//! inside `blocking::run` jobs.

use super::OpenReport;
use crate::storage::error::Result;
use crate::storage::guid;
use crate::storage::index::files::{
    INDEX_MAGIC, LogHeader, STATE_MAGIC, encode_log_header, encode_snapshot,
};
use crate::storage::index::state::{MAX_KEYWORDS, kw_set};
use crate::storage::index::{Entry, MailboxState};
use crate::storage::indexed::uidvalidity;
use crate::storage::indexed::unix_now;
use crate::storage::sdbox::dovecot_delta;
use crate::storage::sdbox::dovecot_index::{self, DovecotState};
use crate::storage::sdbox::io;
use std::path::Path;

pub(super) fn index_bytes(state: &MailboxState) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let log = encode_log_header(&LogHeader::of(state));
    (
        encode_snapshot(state, INDEX_MAGIC),
        log,
        encode_snapshot(state, STATE_MAGIC),
    )
}

/// Write a fresh index for a new, empty mailbox (blocking).
pub(crate) fn init_index(dir: &Path, control_dir: &Path) -> Result<()> {
    let uidv = uidvalidity::allocate(control_dir, unix_now() as u32)?;
    let state = MailboxState::new(uidv, guid::new_guid());
    let (i, l, s) = index_bytes(&state);
    io::write_index_files(dir, &i, &l, &s).map(|_| ())
}

/// Write the index of an emptied mailbox that carries on from `prior`
/// (INBOX after `RENAME INBOX x`, blocking): same UIDVALIDITY, UIDs and
/// modseqs go on from where they were, and the old expunges are not
/// itemised, so a client that knew the old messages (a session still
/// selected on INBOX, a QRESYNC cache) sees them all expunged and no UID
/// is ever reused.
pub(crate) fn init_index_continuing(dir: &Path, prior: &MailboxState) -> Result<()> {
    let mut state = MailboxState::new(prior.uidvalidity, guid::new_guid());
    state.uidnext = prior.uidnext;
    state.first_recent_uid = prior.uidnext;
    state.highest_modseq = prior.highest_modseq + 1;
    state.expunge_floor = state.highest_modseq;
    let (i, l, s) = index_bytes(&state);
    io::write_index_files(dir, &i, &l, &s).map(|_| ())
}

/// Bring `state` in line with the mail files on disk (blocking). `dovecot`
/// is Dovecot's current index, if any: it tells a message Dovecot saved
/// under a UID tern had expunged from a leftover of tern's own expunge.
pub(super) fn reconcile(
    dir: &Path,
    state: &mut MailboxState,
    report: &mut OpenReport,
    dovecot: Option<&DovecotState>,
) -> Result<()> {
    let uids = io::list_uids(dir)?;
    let missing: Vec<u32> = state
        .records
        .iter()
        .map(|r| r.uid)
        .filter(|u| uids.binary_search(u).is_err())
        .collect();
    if !missing.is_empty() {
        let modseq = state.highest_modseq + 1;
        state.apply(&Entry::Expunge {
            modseq,
            uids: missing.clone(),
        });
        report.dropped = missing;
    }
    let mut leftovers = Vec::new();
    let mut reused = Vec::new();
    let expunged: std::collections::HashSet<u32> = state.expunged.iter().map(|&(u, _)| u).collect();
    for uid in uids {
        if state.position(uid).is_some() {
            continue;
        }
        if uid < state.uidnext && expunged.contains(&uid) {
            if dovecot_delta::lists(dovecot, uid) {
                // Dovecot (whose index did not know tern's expunge) saved a
                // new message under the old UID: keep it, under a new one.
                // (tern unlinks in the job that commits an expunge, so a
                // live tern writer never leaves such a file; only a crash
                // between the two could make an expunged message return.)
                reused.push(uid);
            } else {
                // Expunge committed but the unlink never happened (crash).
                leftovers.push(uid);
            }
            continue;
        }
        import_file(dir, state, report, uid);
    }
    io::unlink_messages(dir, &leftovers);
    for old in reused {
        let new = state.uidnext;
        match io::renumber(dir, old, new) {
            Ok(()) => {
                tracing::warn!(dir = %dir.display(), old, new,
                    "a foreign writer reused an expunged UID; the message gets a new UID");
                report
                    .problems
                    .push(format!("u.{old} reused an expunged UID; now u.{new}"));
                import_file(dir, state, report, new);
            }
            Err(e) => {
                tracing::warn!(dir = %dir.display(), uid = old, error = %e,
                    "could not give a reused UID's message a new UID; leaving it alone")
            }
        }
    }
    Ok(())
}

fn import_file(dir: &Path, state: &mut MailboxState, report: &mut OpenReport, uid: u32) {
    match io::read_record(dir, uid, state.highest_modseq + 1) {
        Ok(rec) => {
            state.apply(&Entry::Append(rec));
            report.imported.push(uid);
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), uid, error = %e, "skipping unreadable mail file")
        }
    }
}

/// Flags, keywords, UIDVALIDITY and GUID from Dovecot's own index
/// (blocking); None when Dovecot left no index or it is unusable.
pub(crate) fn import_dovecot(dir: &Path) -> Option<DovecotState> {
    let read = |n: &str| std::fs::read(dir.join(n)).ok();
    let (i, l, l2) = (
        read(dovecot_index::INDEX_FILE),
        read(dovecot_index::LOG_FILE),
        read(dovecot_index::LOG2_FILE),
    );
    if i.is_none() && l.is_none() && l2.is_none() {
        return None;
    }
    dovecot_index::import(i.as_deref(), l.as_deref(), l2.as_deref())
}

/// Rebuild from whatever state survived plus the mail files, then write all
/// three index files (blocking; the caller holds the mailbox lock). With no
/// tern state at all on a first open, Dovecot's index (`dovecot`, if any)
/// supplies what the mail files cannot: flags, keywords, UIDVALIDITY,
/// UIDNEXT and the mailbox GUID.
pub(super) fn rebuild(
    dir: &Path,
    control_dir: &Path,
    prior: Option<MailboxState>,
    first_open: bool,
    mut report: OpenReport,
    dovecot: Option<&DovecotState>,
) -> Result<(MailboxState, OpenReport)> {
    let mut seed = None;
    let mut state = match prior {
        Some(s) => s,
        None => {
            seed = if first_open { dovecot } else { None };
            match seed {
                Some(d) => {
                    let mut s = MailboxState::new(
                        d.uidvalidity,
                        d.mailbox_guid.unwrap_or_else(guid::new_guid),
                    );
                    s.uidnext = d.next_uid;
                    s.keywords = d.keywords.iter().take(MAX_KEYWORDS).cloned().collect();
                    s
                }
                None => {
                    let uidv = uidvalidity::allocate(control_dir, unix_now() as u32)?;
                    MailboxState::new(uidv, guid::new_guid())
                }
            }
        }
    };
    reconcile(dir, &mut state, &mut report, dovecot)?;
    if let Some(d) = seed {
        for rec in &mut state.records {
            if let Some((flags, kws)) = d.messages.get(&rec.uid) {
                rec.flags = flags & 0x1f;
                for &k in kws.iter().filter(|&&k| k < MAX_KEYWORDS) {
                    kw_set(&mut rec.keywords, k, true);
                }
            }
        }
        report
            .problems
            .push("imported flags and keywords from Dovecot's index".into());
    }
    state.generation += 1;
    report.rebuilt = true;
    let (i, l, s) = index_bytes(&state);
    io::write_index_files(dir, &i, &l, &s)?;
    Ok((state, report))
}
