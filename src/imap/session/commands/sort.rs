//! SORT / UID SORT (RFC 5256).

use super::{Flow, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{SearchCommand, SortCriterion, Tag};
use crate::imap::eval;
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
    let need = eval::sort::needs_headers(criteria);
    let hits = match run_search(s, &search, need).await {
        Ok(h) => h,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let ids = with_contexts(&hits, |ctxs| eval::sort(ctxs, criteria, uid_mode));
    out.data(&Data::Sort { ids, modseq: None });
    s.ok(tag, "Sort completed.");
    Flow::Continue
}
