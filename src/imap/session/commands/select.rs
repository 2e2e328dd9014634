//! SELECT / EXAMINE (with CONDSTORE and QRESYNC).

use super::{Flow, mailbox_name, storage_no};
use crate::imap::codec::response::{
    Data, FetchEncoder, FetchItem, ListResponse, ResponseCode, Status,
};
use crate::imap::codec::types::{Mailbox as WireMailbox, QResync, SelectParams, SequenceSet, Tag};
use crate::imap::session::flags;
use crate::imap::session::names::{DELIMITER, to_wire};
use crate::imap::session::output::Output;
use crate::imap::session::refresh;
use crate::imap::session::selected::{Selected, permanent_flags};
use crate::imap::session::state::Session;
use crate::storage::Mailbox;

pub async fn select(
    s: &mut Session,
    out: &mut impl Output,
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
        out.status(
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
    if read_only {
        // EXAMINE shows the unclaimed `\Recent` messages without taking
        // them (RFC 3501 §6.3.2); they are the newest ones.
        let unclaimed = sel.mailbox.status().recent as usize;
        sel.recent = sel.uids[sel.uids.len().saturating_sub(unclaimed)..].to_vec();
    } else if let Ok(claimed) = sel.mailbox.claim_recent().await {
        sel.recent = claimed;
        sel.recent.sort_unstable();
    }
    sel.announced_recent = sel.recent_count();
    let status = sel.mailbox.status();
    let keywords = sel.mailbox.keywords();
    sel.known_keywords = keywords.len();
    out.data(&Data::Flags(flags::defined(&keywords)));
    // Dovecot's order: FLAGS, PERMANENTFLAGS, EXISTS, RECENT, UNSEEN, ...
    permanent_flags(out, read_only, &keywords);
    out.data(&Data::Exists(sel.exists()));
    if s.enabled.rev2 {
        // RFC 9051 §6.3.2: SELECT answers with the mailbox's LIST entry.
        let utf8 = s.utf8();
        out.data(&Data::List(ListResponse {
            attributes: Vec::new(),
            delimiter: Some(DELIMITER),
            mailbox: to_wire(&sel.name, utf8),
            extended: Vec::new(),
        }));
    }
    if !s.enabled.rev2 {
        out.data(&Data::Recent(sel.announced_recent));
        if status.unseen > 0
            && let Some(seq) = sel.first_unseen()
        {
            out.status(
                None,
                Status::Ok,
                Some(ResponseCode::Unseen(seq)),
                "First unseen.",
            );
        }
    }
    out.status(
        None,
        Status::Ok,
        Some(ResponseCode::UidValidity(status.uidvalidity)),
        "UIDs valid",
    );
    out.status(
        None,
        Status::Ok,
        Some(ResponseCode::UidNext(status.uidnext)),
        "Predicted next UID",
    );
    out.status(
        None,
        Status::Ok,
        Some(ResponseCode::HighestModSeq(status.highest_modseq)),
        "Highest",
    );
    if let Some(q) = &params.qresync
        && q.uid_validity == status.uidvalidity
    {
        qresync(out, &sel, q);
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
fn qresync(out: &mut impl Output, sel: &Selected, q: &QResync) {
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
        out.data(&Data::Vanished {
            earlier: true,
            uids: set,
        });
    }
    let opts = out.opts();
    for m in &changes.changed {
        let Some(seq) = sel.seq_of(m.uid) else {
            continue;
        };
        let out = out.buf();
        let mut f = FetchEncoder::begin(out, seq);
        f.item(out, &FetchItem::Uid(m.uid), opts);
        f.item(
            out,
            &FetchItem::Flags(crate::imap::eval::fetch::flag_list(m, sel.is_recent(m.uid))),
            opts,
        );
        f.item(out, &FetchItem::ModSeq(m.modseq), opts);
        f.finish(out);
    }
}
