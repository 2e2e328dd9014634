//! SORT / UID SORT (RFC 5256).

use super::{Flow, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{SearchCommand, SortCriterion, Tag};
use crate::imap::eval;
use crate::imap::session::matching::{charset_accepted, run_search, with_contexts};
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
    if !charset_accepted(s, tag, cmd.charset.as_ref()) {
        return Flow::Continue;
    }
    let need = eval::sort::needs_headers(criteria);
    let hits = match run_search(s, &cmd.criteria, need).await {
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
