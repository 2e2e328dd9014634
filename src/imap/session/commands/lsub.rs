//! LSUB (with the tb-lsub-flags workaround).

use std::collections::BTreeSet;

use super::list::{full_pattern, hidden_child_parents, special_attr, special_use_of};
use super::{Flow, storage_no};
use crate::config::ImapWorkaround;
use crate::imap::codec::response::{Data, ListResponse, MailboxAttribute};
use crate::imap::codec::types::{Mailbox as WireMailbox, Tag};
use crate::imap::session::names::{DELIMITER, pattern_matches, to_wire};
use crate::imap::session::output::Output;
use crate::imap::session::state::Session;
use crate::storage::{MailStore, MailboxName};

pub async fn lsub(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    reference: &WireMailbox,
    pattern: &[u8],
) -> Flow {
    let utf8 = s.utf8();
    let Some(pat) = full_pattern(s, reference, pattern) else {
        s.ok(tag, "Lsub completed.");
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let subs = match store.subscriptions().await {
        Ok(l) => l,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let all = store.list().await.unwrap_or_default();
    let matches = |n: &MailboxName| pattern_matches(pat.as_bytes(), n.as_str().as_bytes());
    // RFC 3501 §6.3.9: with `%`, a parent that is not subscribed itself but
    // has a subscribed child the pattern hides is listed `\Noselect`.
    let parents = hidden_child_parents(&subs, &matches);
    let mut names: BTreeSet<&MailboxName> = subs.iter().filter(|n| matches(n)).collect();
    names.extend(parents.iter());
    // tb-lsub-flags: Thunderbird wants \Noselect on LSUB entries it
    // cannot open.
    let tb_flags = s.workaround(ImapWorkaround::TbLsubFlags);
    for name in names {
        let info = all.iter().find(|m| &m.name == name);
        let mut attributes = Vec::new();
        if parents.contains(name) || (tb_flags && !info.is_some_and(|m| m.selectable)) {
            attributes.push(MailboxAttribute::NoSelect);
        }
        // Dovecot shows special-use attributes on LSUB too.
        if let Some(u) = info.and_then(|m| special_use_of(s, m)) {
            attributes.push(special_attr(u));
        }
        out.data(&Data::Lsub(ListResponse {
            attributes,
            delimiter: Some(DELIMITER),
            mailbox: to_wire(name, utf8),
            extended: Vec::new(),
        }));
    }
    s.ok(tag, "Lsub completed.");
    Flow::Continue
}
