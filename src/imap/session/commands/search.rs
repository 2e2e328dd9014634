//! SEARCH / UID SEARCH and ESEARCH (+SAVE, `$`, MODSEQ, RFC 5267's
//! UPDATE and CONTEXT, RFC 9394's PARTIAL).

use super::{Flow, storage_no};
use crate::imap::codec::response::{Data, ResponseCode};
use crate::imap::codec::types::{Atom, SearchCommand, SearchReturnOption, Tag};
use crate::imap::eval;
use crate::imap::session::contexts::{self, Admission};
use crate::imap::session::matching::{criteria_in_utf8, run_search};
use crate::imap::session::output::{Gone, Output};
use crate::imap::session::state::Session;

pub async fn search(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    uid_mode: bool,
    cmd: &SearchCommand,
) -> Flow {
    let Some(criteria) = criteria_in_utf8(s, tag, cmd.charset.as_ref(), &cmd.criteria) else {
        return Flow::Continue;
    };
    let Some(update) = update_admitted(s, out, tag, cmd.return_options.as_deref()) else {
        return Flow::Continue;
    };
    let hits = match run_search(s, &criteria, false).await {
        Ok(h) => h,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let ids: Vec<u32> = hits
        .iter()
        .map(|h| if uid_mode { h.info.uid } else { h.seq })
        .collect();
    let with_modseq = eval::search::uses_modseq(&cmd.criteria);
    if with_modseq {
        s.enable_condstore_implicitly(out);
    }
    let modseqs: Vec<u64> = hits.iter().map(|h| h.info.modseq).collect();
    let modseqs = with_modseq.then_some(modseqs.as_slice());
    match &cmd.return_options {
        Some(opts) => {
            if opts.contains(&SearchReturnOption::Save) {
                let uids: Vec<u32> = hits.iter().map(|h| h.info.uid).collect();
                let by_uid = eval::saved_result(&uids, opts);
                s.saved = by_uid;
            }
            if eval::esearch::esearch_wanted(opts) {
                out.data(&Data::ESearch {
                    tag: Some(tag.clone()),
                    uid: uid_mode,
                    items: eval::esearch_result(&ids, opts, modseqs),
                });
            }
            if update {
                let uids = hits.iter().map(|h| h.info.uid).collect();
                contexts::keep(s, tag, uid_mode, &criteria, None, uids);
            }
        }
        None => {
            let modseq = modseqs.and_then(|m| eval::esearch::highest_modseq(&ids, m, |_| true));
            if write_search(out, &ids, modseq).await.is_err() {
                return Flow::Close;
            }
        }
    }
    s.ok(tag, "Search completed.");
    Flow::Continue
}

/// `* SEARCH n n … [(MODSEQ m)]`, written and flushed in slices: a search
/// matching most of a 100,000-message mailbox would otherwise build a
/// ~700 KB line in memory before its first byte leaves.
async fn write_search(out: &mut impl Output, ids: &[u32], modseq: Option<u64>) -> Result<(), Gone> {
    use std::io::Write as _;
    out.push_raw(b"* SEARCH");
    let mut piece = Vec::with_capacity(SEARCH_SLICE * 8);
    for slice in ids.chunks(SEARCH_SLICE) {
        piece.clear();
        for id in slice {
            // Writing to a Vec cannot fail.
            let _ = write!(piece, " {id}");
        }
        out.push_raw(&piece);
        out.flush_if_big().await?;
    }
    if let Some(m) = modseq {
        out.push_raw(format!(" (MODSEQ {m})").as_bytes());
    }
    out.push_raw(b"\r\n");
    Ok(())
}

/// Ids per piece of a streamed `* SEARCH` line.
const SEARCH_SLICE: usize = 1024;

/// Whether `RETURN (UPDATE)` will be honoured: `Some(false)` without it or
/// when too many results are live already (untagged `NO [NOUPDATE "tag"]`,
/// the search itself still answers, RFC 5267 §4.3.1); `None` once
/// answered BAD for a tag already keeping a result (§4.3).
pub(super) fn update_admitted(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    opts: Option<&[SearchReturnOption]>,
) -> Option<bool> {
    if !opts.is_some_and(|o| o.contains(&SearchReturnOption::Update)) {
        return Some(false);
    }
    match contexts::admission(s, tag) {
        Admission::Accept => Some(true),
        Admission::TagInUse => {
            s.bad(tag, "Tag reuse.");
            None
        }
        Admission::Full => {
            let quoted = format!("\"{}\"", tag.as_str());
            if let Ok(code) = Atom::try_from("NOUPDATE") {
                out.no(
                    None,
                    Some(ResponseCode::Other(code, Some(quoted))),
                    "Too many contexts.",
                );
            }
            Some(false)
        }
    }
}
