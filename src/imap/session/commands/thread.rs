//! THREAD / UID THREAD (RFC 5256: REFERENCES, ORDEREDSUBJECT; Dovecot's REFS).

use super::{Flow, storage_no};
use crate::imap::codec::response::Data;
use crate::imap::codec::types::{AString, SearchKey, Tag, ThreadAlgorithm};
use crate::imap::eval;
use crate::imap::session::matching::{criteria_in_utf8, run_search, with_contexts};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;

pub async fn thread(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    uid_mode: bool,
    algorithm: &ThreadAlgorithm,
    charset: &AString,
    criteria: &SearchKey,
) -> Flow {
    if matches!(algorithm, ThreadAlgorithm::Other(_)) {
        s.bad(tag, "Unknown thread algorithm.");
        return Flow::Continue;
    }
    let Some(criteria) = criteria_in_utf8(s, tag, Some(charset), criteria) else {
        return Flow::Continue;
    };
    let hits = match run_search(s, &criteria, true).await {
        Ok(h) => h,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let nodes = with_contexts(&hits, |ctxs| match algorithm {
        ThreadAlgorithm::References => eval::thread_references(ctxs, uid_mode),
        ThreadAlgorithm::Refs => eval::thread::thread_refs(ctxs, uid_mode),
        _ => eval::thread_ordered_subject(ctxs, uid_mode),
    });
    out.data(&Data::Thread(nodes));
    s.ok(tag, "Thread completed.");
    Flow::Continue
}
