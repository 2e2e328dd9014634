//! Choosing the mailbox state from tern's three index files.
//!
//! Preference: the index + log pair when both are intact; else the
//! independent `tern.state` copy when intact; else the most advanced partial
//! result. Anything but "all three intact and in agreement" is reported as
//! not clean, so the caller reconciles with the mail files and rewrites all
//! three (see `sdbox::mailbox`).

use super::files::{INDEX_MAGIC, STATE_MAGIC, decode_entries, decode_log_header, decode_snapshot};
use super::state::MailboxState;

#[derive(Debug)]
pub struct Recovered {
    /// None when no file gave any usable state.
    pub state: Option<MailboxState>,
    /// True when all three files were intact and agreed.
    pub clean: bool,
    /// Human-readable findings, for one warning line.
    pub problems: Vec<String>,
}

struct Candidate {
    state: MailboxState,
    intact: bool,
}

fn from_index_and_log(
    index: Option<&[u8]>,
    log: Option<&[u8]>,
    problems: &mut Vec<String>,
) -> Option<Candidate> {
    let index = match index {
        None => {
            problems.push("tern.index missing".into());
            return None;
        }
        Some(b) => match decode_snapshot(b, INDEX_MAGIC) {
            Ok((s, _)) => s,
            Err(e) => {
                problems.push(format!("tern.index unreadable: {e}"));
                return None;
            }
        },
    };
    let Some(log) = log else {
        problems.push("tern.log missing".into());
        return Some(Candidate {
            state: index,
            intact: false,
        });
    };
    let (hdr, pos) = match decode_log_header(log) {
        Ok(h) => h,
        Err(e) => {
            problems.push(format!("tern.log header unreadable: {e}"));
            return Some(Candidate {
                state: index,
                intact: false,
            });
        }
    };
    if hdr.uidvalidity != index.uidvalidity || hdr.mailbox_guid != index.mailbox_guid {
        problems.push("tern.log belongs to another mailbox incarnation".into());
        return Some(Candidate {
            state: index,
            intact: false,
        });
    }
    if hdr.base_generation < index.generation {
        // A compaction was interrupted after the new index was renamed in:
        // everything in this log is already folded into the index.
        problems.push("tern.log is older than tern.index".into());
        return Some(Candidate {
            state: index,
            intact: false,
        });
    }
    if hdr.base_generation > index.generation {
        problems.push("tern.index is older than tern.log".into());
        return Some(Candidate {
            state: index,
            intact: false,
        });
    }
    let (entries, damage) = decode_entries(log, pos);
    let mut state = index;
    for e in &entries {
        state.apply(e);
    }
    if let Some(err) = &damage {
        problems.push(format!(
            "tern.log damaged after {} entries: {err}",
            entries.len()
        ));
    }
    Some(Candidate {
        state,
        intact: damage.is_none(),
    })
}

fn from_state_file(data: Option<&[u8]>, problems: &mut Vec<String>) -> Option<Candidate> {
    let Some(data) = data else {
        problems.push("tern.state missing".into());
        return None;
    };
    let (mut state, pos) = match decode_snapshot(data, STATE_MAGIC) {
        Ok(x) => x,
        Err(e) => {
            problems.push(format!("tern.state unreadable: {e}"));
            return None;
        }
    };
    let (entries, damage) = decode_entries(data, pos);
    for e in &entries {
        state.apply(e);
    }
    if let Some(err) = &damage {
        problems.push(format!(
            "tern.state damaged after {} entries: {err}",
            entries.len()
        ));
    }
    Some(Candidate {
        state,
        intact: damage.is_none(),
    })
}

pub fn recover(index: Option<&[u8]>, log: Option<&[u8]>, state_file: Option<&[u8]>) -> Recovered {
    let mut problems = Vec::new();
    let primary = from_index_and_log(index, log, &mut problems);
    let secondary = from_state_file(state_file, &mut problems);
    let clean = match (&primary, &secondary) {
        (Some(a), Some(b)) if a.intact && b.intact => {
            let agree = a.state.summary() == b.state.summary();
            if !agree {
                problems.push("tern.state disagrees with tern.index + tern.log".into());
            }
            agree
        }
        _ => false,
    };
    // Every candidate is a prefix of the same history of changes, so the
    // most advanced one is the most complete. This matters after a crash:
    // the unsynced tail of tern.state may be lost while the fdatasync'd log
    // has it, and a torn log tail is never more than the unacknowledged
    // last commit. Intact beats damaged only on a tie.
    let best = [primary, secondary].into_iter().flatten().max_by_key(|c| {
        let s = &c.state;
        (
            s.highest_modseq,
            s.uidnext,
            s.first_recent_uid,
            s.keywords.len(),
            c.intact,
        )
    });
    let state = best
        .map(|c| c.state)
        .or_else(|| log_only(log, &mut problems));
    Recovered {
        state,
        clean,
        problems,
    }
}

/// Last resort when both snapshots are unusable: the log header's values
/// plus the log's entries. Messages appended before the last compaction
/// come back from the mail files without their flags, but UIDVALIDITY, the
/// GUID, UIDNEXT and HIGHESTMODSEQ never regress.
fn log_only(log: Option<&[u8]>, problems: &mut Vec<String>) -> Option<MailboxState> {
    let (hdr, pos) = decode_log_header(log?).ok()?;
    let mut state = hdr.base_state();
    let (entries, _) = decode_entries(log?, pos);
    for e in &entries {
        state.apply(e);
    }
    problems.push("both snapshots lost; restored from tern.log alone".into());
    Some(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::files::{
        LogHeader, encode_log_header, encode_snapshot, entry_frame,
    };
    use crate::storage::index::state::{Entry, flag, sample_record};
    use smallvec::smallvec;

    fn files() -> (Vec<u8>, Vec<u8>, Vec<u8>, MailboxState) {
        let mut s = MailboxState::new(77, [9; 16]);
        s.apply(&Entry::Append(sample_record(1)));
        let index = encode_snapshot(&s, INDEX_MAGIC);
        let mut state = encode_snapshot(&s, STATE_MAGIC);
        let mut log = encode_log_header(&LogHeader::of(&s));
        let entries = [
            Entry::Append(sample_record(2)),
            Entry::Keyword("Work".into()),
            Entry::Flags {
                modseq: 50,
                changes: vec![(1, flag::SEEN, smallvec![1])],
            },
        ];
        for e in &entries {
            log.extend(entry_frame(e));
            state.extend(entry_frame(e));
            s.apply(e);
        }
        (index, log, state, s)
    }

    #[test]
    fn clean_when_all_agree() {
        let (i, l, st, want) = files();
        let r = recover(Some(&i), Some(&l), Some(&st));
        assert!(r.clean, "{:?}", r.problems);
        assert_eq!(r.state.unwrap(), want);
    }

    #[test]
    fn any_single_file_lost_or_damaged_keeps_everything() {
        let (i, l, st, want) = files();
        type Damage = Box<dyn Fn(&[u8]) -> Option<Vec<u8>>>;
        let damage: Vec<Damage> = vec![
            Box::new(|_| None),
            Box::new(|b| Some(b[..b.len() / 2].to_vec())),
            Box::new(|b| Some(b[..b.len() - 3].to_vec())),
            Box::new(|b| {
                let mut v = b.to_vec();
                let p = v.len() / 3;
                v[p] ^= 0xff;
                Some(v)
            }),
            Box::new(|_| Some(Vec::new())),
        ];
        for (which, d) in ["index", "log", "state"]
            .iter()
            .zip(0..3)
            .flat_map(|(n, k)| damage.iter().map(move |d| ((n, k), d)))
        {
            let (name, k) = which;
            let mut files = [Some(i.clone()), Some(l.clone()), Some(st.clone())];
            files[k] = d(files[k].as_deref().unwrap_or_default());
            let r = recover(
                files[0].as_deref(),
                files[1].as_deref(),
                files[2].as_deref(),
            );
            assert!(!r.clean, "damage to {name} went unnoticed");
            let got = r.state.unwrap();
            assert_eq!(
                got.summary(),
                want.summary(),
                "damaged {name}: {:?}",
                r.problems
            );
            assert_eq!(got.records, want.records, "damaged {name}");
            assert_eq!(got.keywords, want.keywords);
        }
    }

    #[test]
    fn lagging_state_copy_does_not_hide_committed_log_entries() {
        let (i, l, st, want) = files();
        // After a crash the unsynced state tail is gone and the log has a torn frame.
        let mut torn_log = l.clone();
        torn_log.extend_from_slice(&[9, 0, 0, 0, 1, 2]);
        let lagging = st[..st.len() - 20].to_vec();
        let r = recover(Some(&i), Some(&torn_log), Some(&lagging));
        assert!(!r.clean);
        assert_eq!(r.state.unwrap(), want);
    }

    #[test]
    fn log_alone_keeps_identity_and_counters() {
        let (_, l, _, want) = files();
        let r = recover(None, Some(&l), Some(b"garbage"));
        assert!(!r.clean);
        let got = r.state.unwrap();
        assert_eq!(got.uidvalidity, want.uidvalidity);
        assert_eq!(got.mailbox_guid, want.mailbox_guid);
        assert_eq!(got.uidnext, want.uidnext);
        assert_eq!(got.highest_modseq, want.highest_modseq);
        assert_eq!(got.keywords, want.keywords);
        // uid 1 was in the lost snapshot; uid 2 was appended in the log.
        assert_eq!(
            got.records.iter().map(|r| r.uid).collect::<Vec<_>>(),
            vec![2]
        );
    }

    #[test]
    fn nothing_usable() {
        let r = recover(None, Some(b"junk"), Some(b""));
        assert!(r.state.is_none());
        assert!(!r.clean);
        assert!(r.problems.len() >= 2);
    }
}
