//! SORT / UID SORT (RFC 5256), with ESORT's RETURN options and
//! CONTEXT=SORT's UPDATE and PARTIAL (RFC 5267, RFC 9394).

use super::{Flow, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{SearchCommand, SortCriterion, Tag};
use crate::imap::eval;
use crate::imap::session::contexts;
use crate::imap::session::matching::{criteria_in_utf8, run_search, with_contexts};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

pub async fn sort(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    uid_mode: bool,
    criteria: &[SortCriterion],
    cmd: &SearchCommand,
) -> Flow {
    let Some(search) = criteria_in_utf8(s, tag, cmd.charset.as_ref(), &cmd.criteria) else {
        return Flow::Continue;
    };
    let Some(update) = super::search::update_admitted(s, out, tag, cmd.return_options.as_deref())
    else {
        return Flow::Continue;
    };
    let need = eval::sort::needs_headers(criteria);
    let hits = match run_search(s, &search, need).await {
        Ok(h) => h,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let uids = with_contexts(&hits, |ctxs| eval::sort(ctxs, criteria, true));
    let ids: Vec<u32> = if uid_mode {
        uids.clone()
    } else {
        let seq_of = |u: u32| s.selected.as_ref().and_then(|sel| sel.seq_of(u));
        uids.iter().filter_map(|&u| seq_of(u)).collect()
    };
    match &cmd.return_options {
        Some(opts) => {
            out.data(&Data::ESearch {
                tag: Some(tag.clone()),
                uid: uid_mode,
                items: eval::esearch::esort_result(&ids, opts),
            });
            if update {
                contexts::keep(s, tag, uid_mode, &search, Some(criteria), uids);
            }
        }
        None => out.data(&Data::Sort { ids, modseq: None }),
    }
    s.ok(tag, "Sort completed.");
    Flow::Continue
}
