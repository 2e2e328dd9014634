//! SEARCH keys and SEARCH/SORT options → wire bytes.

use super::{astring, number};
use crate::imap::codec::response::write_string;
use crate::imap::codec::types::{EntryType, SearchCommand, SearchKey, SearchReturnOption};

pub(super) fn search_key(out: &mut Vec<u8>, key: &SearchKey) {
    use SearchKey as K;
    let (name, arg): (&str, Option<&[u8]>) = match key {
        K::And(keys) => {
            out.push(b'(');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                search_key(out, k);
            }
            out.push(b')');
            return;
        }
        K::SequenceSet(s) => return s.write(out),
        K::All => ("ALL", None),
        K::Answered => ("ANSWERED", None),
        K::Deleted => ("DELETED", None),
        K::Draft => ("DRAFT", None),
        K::Flagged => ("FLAGGED", None),
        K::New => ("NEW", None),
        K::Old => ("OLD", None),
        K::Recent => ("RECENT", None),
        K::Seen => ("SEEN", None),
        K::Unanswered => ("UNANSWERED", None),
        K::Undeleted => ("UNDELETED", None),
        K::Undraft => ("UNDRAFT", None),
        K::Unflagged => ("UNFLAGGED", None),
        K::Unseen => ("UNSEEN", None),
        K::SaveDateSupported => ("SAVEDATESUPPORTED", None),
        K::Bcc(s) => ("BCC", Some(s.as_bytes())),
        K::Body(s) => ("BODY", Some(s.as_bytes())),
        K::Cc(s) => ("CC", Some(s.as_bytes())),
        K::From(s) => ("FROM", Some(s.as_bytes())),
        K::Subject(s) => ("SUBJECT", Some(s.as_bytes())),
        K::Text(s) => ("TEXT", Some(s.as_bytes())),
        K::To(s) => ("TO", Some(s.as_bytes())),
        K::Header(field, value) => {
            out.extend_from_slice(b"HEADER ");
            astring(out, field.as_bytes());
            out.push(b' ');
            astring(out, value.as_bytes());
            return;
        }
        K::Keyword(f) | K::Unkeyword(f) => {
            out.extend_from_slice(if matches!(key, K::Keyword(_)) {
                b"KEYWORD "
            } else {
                b"UNKEYWORD "
            });
            f.write(out);
            return;
        }
        K::Before(d)
        | K::On(d)
        | K::SentBefore(d)
        | K::SentOn(d)
        | K::SentSince(d)
        | K::Since(d)
        | K::SaveDateBefore(d)
        | K::SaveDateOn(d)
        | K::SaveDateSince(d) => {
            let name = match key {
                K::Before(_) => "BEFORE ",
                K::On(_) => "ON ",
                K::SentBefore(_) => "SENTBEFORE ",
                K::SentOn(_) => "SENTON ",
                K::SentSince(_) => "SENTSINCE ",
                K::Since(_) => "SINCE ",
                K::SaveDateBefore(_) => "SAVEDBEFORE ",
                K::SaveDateOn(_) => "SAVEDON ",
                _ => "SAVEDSINCE ",
            };
            out.extend_from_slice(name.as_bytes());
            d.write(out);
            return;
        }
        K::Larger(n) | K::Smaller(n) => {
            out.extend_from_slice(if matches!(key, K::Larger(_)) {
                b"LARGER "
            } else {
                b"SMALLER "
            });
            number(out, *n);
            return;
        }
        K::Older(n) | K::Younger(n) => {
            out.extend_from_slice(if matches!(key, K::Older(_)) {
                b"OLDER "
            } else {
                b"YOUNGER "
            });
            number(out, *n);
            return;
        }
        K::Not(k) => {
            out.extend_from_slice(b"NOT ");
            search_key(out, k);
            return;
        }
        K::Or(a, b) => {
            out.extend_from_slice(b"OR ");
            search_key(out, a);
            out.push(b' ');
            search_key(out, b);
            return;
        }
        K::Uid(s) => {
            out.extend_from_slice(b"UID ");
            s.write(out);
            return;
        }
        K::ModSeq { entry, modseq } => {
            out.extend_from_slice(b"MODSEQ ");
            if let Some((name, kind)) = entry {
                write_string(out, name.as_bytes(), true);
                out.extend_from_slice(match kind {
                    EntryType::Private => b" priv ",
                    EntryType::Shared => b" shared ",
                    EntryType::All => b" all ",
                });
            }
            number(out, *modseq);
            return;
        }
        K::EmailId(id) | K::ThreadId(id) => {
            out.extend_from_slice(if matches!(key, K::EmailId(_)) {
                b"EMAILID "
            } else {
                b"THREADID "
            });
            out.extend_from_slice(id.as_str().as_bytes());
            return;
        }
    };
    out.extend_from_slice(name.as_bytes());
    if let Some(arg) = arg {
        out.push(b' ');
        astring(out, arg);
    }
}

/// Top-level keys: an `And` is written as a bare key list.
pub(super) fn search_criteria(out: &mut Vec<u8>, key: &SearchKey) {
    match key {
        SearchKey::And(keys) if keys.len() > 1 => {
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                search_key(out, k);
            }
        }
        other => search_key(out, other),
    }
}

pub(super) fn search_return(out: &mut Vec<u8>, opts: &Option<Vec<SearchReturnOption>>) {
    let Some(opts) = opts else { return };
    out.extend_from_slice(b" RETURN (");
    for (i, o) in opts.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        let name: &[u8] = match o {
            SearchReturnOption::Min => b"MIN",
            SearchReturnOption::Max => b"MAX",
            SearchReturnOption::All => b"ALL",
            SearchReturnOption::Count => b"COUNT",
            SearchReturnOption::Save => b"SAVE",
            SearchReturnOption::Update => b"UPDATE",
            SearchReturnOption::Context => b"CONTEXT",
            SearchReturnOption::Partial(p) => {
                out.extend_from_slice(b"PARTIAL ");
                p.write(out);
                continue;
            }
        };
        out.extend_from_slice(name);
    }
    out.push(b')');
}

pub(super) fn search_command(out: &mut Vec<u8>, s: &SearchCommand) {
    search_return(out, &s.return_options);
    if let Some(cs) = &s.charset {
        out.extend_from_slice(b" CHARSET ");
        astring(out, cs.as_bytes());
    }
    out.push(b' ');
    search_criteria(out, &s.criteria);
}
