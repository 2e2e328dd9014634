//! SELECT / EXAMINE (with CONDSTORE and QRESYNC), CLOSE, UNSELECT.

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::{
    Data, FetchEncoder, FetchItem, ListResponse, ResponseCode, Status,
};
use crate::imap::codec::types::{
    FlagPerm, Mailbox as WireMailbox, QResync, SelectParams, SequenceSet, Tag,
};
use crate::imap::session::flags;
use crate::imap::session::names::{DELIMITER, to_wire};
use crate::imap::session::refresh;
use crate::imap::session::selected::Selected;
use crate::imap::session::state::Session;
use crate::storage::Mailbox;

pub async fn select(
    s: &mut Session,
    tag: &Tag,
    mailbox: &WireMailbox,
    params: SelectParams,
    read_only: bool,
) -> Flow {
    if params.qresync.is_some() && !s.enabled.qresync {
        s.bad(tag, "QRESYNC is not enabled.");
        return Flow::Continue;
    }
    if s.selected.take().is_some() && (s.enabled.qresync || s.enabled.rev2) {
        s.io.status(
            None,
            Status::Ok,
            Some(ResponseCode::Closed),
            "Previous mailbox closed.",
        );
    }
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let mbox = match store.open_current(&name).await {
        Ok((m, stale)) => {
            if let Some(e) = stale {
                refresh::failed(s, &e);
            }
            m
        }
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    if params.condstore {
        s.enabled.condstore = true;
    }
    let mut sel = Selected::new(mbox, name, read_only);
    sel.show_recent = !s.enabled.rev2;
    if !read_only && let Ok(claimed) = sel.mailbox.claim_recent().await {
        sel.recent = claimed;
        sel.recent.sort_unstable();
    }
    let status = sel.mailbox.status();
    let keywords = sel.mailbox.keywords();
    s.io.data(&Data::Flags(flags::defined(&keywords)));
    s.io.data(&Data::Exists(sel.exists()));
    if s.enabled.rev2 {
        // RFC 9051 §6.3.2: SELECT answers with the mailbox's LIST entry.
        let utf8 = s.utf8();
        s.io.data(&Data::List(ListResponse {
            attributes: Vec::new(),
            delimiter: Some(DELIMITER),
            mailbox: to_wire(&sel.name, utf8),
            extended: Vec::new(),
        }));
    }
    if !s.enabled.rev2 {
        s.io.data(&Data::Recent(sel.recent.len() as u32));
        if status.unseen > 0
            && let Some(seq) = sel.first_unseen()
        {
            s.io.status(
                None,
                Status::Ok,
                Some(ResponseCode::Unseen(seq)),
                "First unseen.",
            );
        }
    }
    let perm = if read_only {
        Vec::<FlagPerm>::new()
    } else {
        flags::permanent(&keywords)
    };
    s.io.status(
        None,
        Status::Ok,
        Some(ResponseCode::PermanentFlags(perm)),
        "Flags permitted.",
    );
    s.io.status(
        None,
        Status::Ok,
        Some(ResponseCode::UidValidity(status.uidvalidity)),
        "UIDs valid",
    );
    s.io.status(
        None,
        Status::Ok,
        Some(ResponseCode::UidNext(status.uidnext)),
        "Predicted next UID",
    );
    s.io.status(
        None,
        Status::Ok,
        Some(ResponseCode::HighestModSeq(status.highest_modseq)),
        "Highest",
    );
    if let Some(q) = &params.qresync
        && q.uid_validity == status.uidvalidity
    {
        qresync(s, &sel, q);
    }
    let code = if read_only {
        ResponseCode::ReadOnly
    } else {
        ResponseCode::ReadWrite
    };
    s.selected = Some(sel);
    s.ok_code(
        tag,
        code,
        if read_only {
            "Examine completed."
        } else {
            "Select completed."
        },
    );
    Flow::Continue
}

/// RFC 7162 §3.2.5: VANISHED (EARLIER) for what the client knows and we
/// lost, then FETCH for what changed since its modseq.
fn qresync(s: &mut Session, sel: &Selected, q: &QResync) {
    let changes = sel.mailbox.changes_since(q.modseq);
    let last_uid = sel.mailbox.status().uidnext.saturating_sub(1);
    let known = |uid: u32| match &q.known_uids {
        Some(set) => set.contains(uid, last_uid),
        None => true,
    };
    let mut vanished: Vec<u32> = if changes.expunged_complete {
        changes
            .expunged
            .iter()
            .copied()
            .filter(|&u| known(u))
            .collect()
    } else {
        // History is gone: every UID the client may know that we lack.
        let mut v = Vec::new();
        if let Some(SequenceSet::Ranges(ranges)) = &q.known_uids {
            for r in ranges {
                let (lo, hi) = r.resolve(last_uid);
                for uid in lo..=hi.min(last_uid) {
                    if sel.seq_of(uid).is_none() {
                        v.push(uid);
                    }
                }
            }
        }
        v
    };
    vanished.sort_unstable();
    vanished.dedup();
    if let Ok(set) = SequenceSet::from_numbers(&vanished) {
        s.io.data(&Data::Vanished {
            earlier: true,
            uids: set,
        });
    }
    let opts = s.io.opts;
    for m in &changes.changed {
        let Some(seq) = sel.seq_of(m.uid) else {
            continue;
        };
        let out = s.io.out();
        let mut f = FetchEncoder::begin(out, seq);
        f.item(out, &FetchItem::Uid(m.uid), opts);
        f.item(
            out,
            &FetchItem::Flags(flags::of_message(m, sel.is_recent(m.uid))),
            opts,
        );
        f.item(out, &FetchItem::ModSeq(m.modseq), opts);
        f.finish(out);
    }
}

/// CLOSE (expunges `\Deleted` silently when read-write) and UNSELECT.
pub async fn close(s: &mut Session, tag: &Tag, expunge: bool) -> Flow {
    let Some(sel) = s.selected.take() else {
        s.bad(tag, "No mailbox selected.");
        return Flow::Continue;
    };
    if expunge && !sel.read_only {
        let deleted = sel.deleted_uids();
        if !deleted.is_empty() {
            match sel.mailbox.expunge(&deleted).await {
                Ok(gone) => s.stats.expunged += gone.len() as u64,
                Err(e) => {
                    storage_no(s, tag, &e, false);
                    return Flow::Continue;
                }
            }
        }
    }
    s.ok(
        tag,
        if expunge {
            "Close completed."
        } else {
            "Unselect completed."
        },
    );
    Flow::Continue
}
