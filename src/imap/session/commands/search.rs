//! SEARCH / ESEARCH (+SAVE, `$`, MODSEQ), SORT and THREAD. Evaluation is
//! `crate::imap::eval`; this file loads what it needs: index metadata
//! always, message files only when a key or criterion needs content (a
//! bounded group of messages per storage job).

use super::{Flow, storage_no};
use crate::imap::codec::response::{Data, ResponseCode};
use crate::imap::codec::types::{
    AString, Atom, SearchCommand, SearchKey, SearchReturnOption, SortCriterion, Tag,
    ThreadAlgorithm,
};
use crate::imap::eval::{self, Content, MsgCtx, SearchEnv};
use crate::imap::session::content::{GroupRoom, expected_bytes, header_len, load_group};
use crate::imap::session::dates;
use crate::imap::session::state::Session;
use crate::message::ParsedMessage;
use crate::net::conn::ConnError;
use crate::storage::{Mailbox, MessageInfo, StorageError};

const BATCH: usize = 256;

/// One matched message.
struct Hit {
    seq: u32,
    info: MessageInfo,
    raw: Option<Vec<u8>>,
}

fn charset_ok(charset: Option<&AString>) -> bool {
    charset.is_none_or(|c| {
        let c = c.as_bytes();
        c.eq_ignore_ascii_case(b"UTF-8") || c.eq_ignore_ascii_case(b"US-ASCII")
    })
}

/// Runs `key` over the selected mailbox. `keep_content` keeps the header
/// of each hit (SORT / THREAD need it afterwards).
async fn run_search(
    s: &Session,
    key: &SearchKey,
    keep_content: bool,
) -> Result<Vec<Hit>, StorageError> {
    let Some(sel) = s.selected.as_ref() else {
        return Ok(Vec::new());
    };
    let content = eval::search::content_needed(key);
    let env = SearchEnv {
        max_seq: sel.exists(),
        max_uid: sel.uids.last().copied().unwrap_or(0),
        saved: Some(&s.saved),
        now: dates::now(),
        zone_minutes: 0,
        savedate_supported: true,
    };
    let mut hits = Vec::new();
    for chunk in sel.uids.chunks(BATCH) {
        // Content is read for a group of candidates per storage job.
        let mut group: Vec<Candidate> = Vec::new();
        let mut room = GroupRoom::default();
        for info in sel.mailbox.messages_by_uid(chunk) {
            let Some(seq) = sel.seq_of(info.uid) else {
                continue;
            };
            // Index-only prefilter: `UNSEEN TEXT x` reads unseen mail only.
            if content != Content::None {
                let bare = MsgCtx {
                    seq,
                    info: &info,
                    content: None,
                };
                if !eval::search::may_match(key, &bare, &env) {
                    continue;
                }
            }
            // SORT / THREAD need headers of every hit afterwards.
            let need = if keep_content {
                content.max(Content::HeaderOnly)
            } else {
                content
            };
            let bytes = expected_bytes(need, info.virtual_size);
            if !room.fits(bytes) {
                let done = std::mem::take(&mut group);
                match_group(&sel.mailbox, key, &env, keep_content, done, &mut hits).await?;
                room = GroupRoom::default();
            }
            room.add(bytes);
            group.push(Candidate { seq, info, need });
        }
        match_group(&sel.mailbox, key, &env, keep_content, group, &mut hits).await?;
    }
    Ok(hits)
}

/// A message that passed the index-only prefilter.
struct Candidate {
    seq: u32,
    info: MessageInfo,
    need: Content,
}

/// Load the group's content in one storage job and keep the matches.
async fn match_group<M: Mailbox>(
    mailbox: &M,
    key: &SearchKey,
    env: &SearchEnv<'_>,
    keep_content: bool,
    group: Vec<Candidate>,
    hits: &mut Vec<Hit>,
) -> Result<(), StorageError> {
    if group.is_empty() {
        return Ok(());
    }
    let wants: Vec<(u32, Content)> = group.iter().map(|c| (c.info.uid, c.need)).collect();
    let loaded = load_group(mailbox, &wants).await?;
    for (Candidate { seq, info, .. }, raw) in group.into_iter().zip(loaded) {
        let raw = raw?;
        let parsed = raw.as_deref().map(ParsedMessage::parse);
        let ctx = MsgCtx {
            seq,
            info: &info,
            content: parsed.as_ref(),
        };
        if eval::matches(key, &ctx, env) {
            drop(parsed);
            // Only the header is kept, so memory stays small per hit.
            let kept = match raw {
                Some(mut r) if keep_content => {
                    r.truncate(header_len(&r));
                    r.shrink_to_fit();
                    Some(r)
                }
                _ => None,
            };
            hits.push(Hit {
                seq,
                info,
                raw: kept,
            });
        }
    }
    Ok(())
}

pub async fn search(s: &mut Session, tag: &Tag, uid_mode: bool, cmd: &SearchCommand) -> Flow {
    if !charset_ok(cmd.charset.as_ref()) {
        let utf8 = Atom::try_from("UTF-8").into_iter().collect();
        s.no(tag, ResponseCode::BadCharset(utf8), "Unsupported charset.");
        return Flow::Continue;
    }
    let hits = match run_search(s, &cmd.criteria, false).await {
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
        s.enabled.condstore = true;
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
                s.io.data(&Data::ESearch {
                    tag: Some(tag.clone()),
                    uid: uid_mode,
                    items: eval::esearch_result(&ids, opts, modseqs),
                });
            }
        }
        None => {
            let modseq = modseqs.and_then(|m| eval::esearch::highest_modseq(&ids, m, |_| true));
            if write_search(s, &ids, modseq).await.is_err() {
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
async fn write_search(s: &mut Session, ids: &[u32], modseq: Option<u64>) -> Result<(), ConnError> {
    use std::io::Write as _;
    s.io.push_raw(b"* SEARCH");
    let mut piece = Vec::with_capacity(SEARCH_SLICE * 8);
    for slice in ids.chunks(SEARCH_SLICE) {
        piece.clear();
        for id in slice {
            // Writing to a Vec cannot fail.
            let _ = write!(piece, " {id}");
        }
        s.io.push_raw(&piece);
        s.io.flush_if_big().await?;
    }
    if let Some(m) = modseq {
        s.io.push_raw(format!(" (MODSEQ {m})").as_bytes());
    }
    s.io.push_raw(b"\r\n");
    Ok(())
}

/// Ids per piece of a streamed `* SEARCH` line.
const SEARCH_SLICE: usize = 1024;

/// Parses the kept content of hits and hands them to `f`.
fn with_contexts<R>(hits: &[Hit], f: impl FnOnce(&[MsgCtx<'_, '_>]) -> R) -> R {
    let parsed: Vec<Option<ParsedMessage<'_>>> = hits
        .iter()
        .map(|h| h.raw.as_deref().map(ParsedMessage::parse))
        .collect();
    let ctxs: Vec<MsgCtx<'_, '_>> = hits
        .iter()
        .zip(parsed.iter())
        .map(|(h, p)| MsgCtx {
            seq: h.seq,
            info: &h.info,
            content: p.as_ref(),
        })
        .collect();
    f(&ctxs)
}

pub async fn sort(
    s: &mut Session,
    tag: &Tag,
    uid_mode: bool,
    criteria: &[SortCriterion],
    cmd: &SearchCommand,
) -> Flow {
    if !charset_ok(cmd.charset.as_ref()) {
        let utf8 = Atom::try_from("UTF-8").into_iter().collect();
        s.no(tag, ResponseCode::BadCharset(utf8), "Unsupported charset.");
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
    s.io.data(&Data::Sort { ids, modseq: None });
    s.ok(tag, "Sort completed.");
    Flow::Continue
}

pub async fn thread(
    s: &mut Session,
    tag: &Tag,
    uid_mode: bool,
    algorithm: &ThreadAlgorithm,
    criteria: &SearchKey,
) -> Flow {
    if matches!(algorithm, ThreadAlgorithm::Other(_)) {
        s.bad(tag, "Unknown thread algorithm.");
        return Flow::Continue;
    }
    let hits = match run_search(s, criteria, true).await {
        Ok(h) => h,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let nodes = with_contexts(&hits, |ctxs| match algorithm {
        ThreadAlgorithm::References => eval::thread_references(ctxs, uid_mode),
        _ => eval::thread_ordered_subject(ctxs, uid_mode),
    });
    s.io.data(&Data::Thread(nodes));
    s.ok(tag, "Thread completed.");
    Flow::Continue
}
