//! LIST (LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CHILDREN).

use super::{Flow, storage_no};
use crate::imap::codec::response::{Data, ListExtendedItem, ListResponse, MailboxAttribute};
use crate::imap::codec::types::{
    Atom, ListReturnOption, ListSelectOption, Mailbox as WireMailbox, StatusItem, Tag,
};
use crate::imap::session::names::{DELIMITER, pattern_matches, to_wire};
use crate::imap::session::output::Output;
use crate::imap::session::refresh;
use crate::imap::session::state::Session;
use crate::storage::{MailStore, MailboxInfo, SpecialUse, mutf7};

/// reference + pattern in storage (UTF-8) form, INBOX upper-cased.
pub(super) fn full_pattern(s: &Session, reference: &WireMailbox, pattern: &[u8]) -> Option<String> {
    let mut raw = reference.as_bytes().to_vec();
    if pattern.first() == Some(&DELIMITER) && raw.last() == Some(&DELIMITER) {
        raw.pop();
    }
    raw.extend_from_slice(pattern);
    let text = String::from_utf8(raw).ok()?;
    let text = if s.utf8() {
        text
    } else {
        mutf7::decode(&text).ok()?
    };
    let head = text.split('/').next().unwrap_or("");
    if head.eq_ignore_ascii_case("INBOX") {
        return Some(format!("INBOX{}", &text[head.len()..]));
    }
    Some(text)
}

fn special_attr(u: SpecialUse) -> MailboxAttribute {
    match u {
        SpecialUse::All => MailboxAttribute::All,
        SpecialUse::Archive => MailboxAttribute::Archive,
        SpecialUse::Drafts => MailboxAttribute::Drafts,
        SpecialUse::Flagged => MailboxAttribute::Flagged,
        SpecialUse::Junk => MailboxAttribute::Junk,
        SpecialUse::Sent => MailboxAttribute::Sent,
        SpecialUse::Trash => MailboxAttribute::Trash,
    }
}

pub async fn list(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    selection: &[ListSelectOption],
    reference: &WireMailbox,
    patterns: &[Vec<u8>],
    returns: &[ListReturnOption],
) -> Flow {
    let utf8 = s.utf8();
    // RFC 5258 §3: REMOTE asks for remote mailboxes too. tern has none, so
    // it lists exactly what the same command without it lists.
    let local_only = selection
        .iter()
        .all(|o| matches!(o, ListSelectOption::Remote));
    if local_only && patterns.len() == 1 && patterns[0].is_empty() {
        out.data(&Data::List(ListResponse {
            attributes: vec![MailboxAttribute::NoSelect],
            delimiter: Some(DELIMITER),
            mailbox: WireMailbox::Other(Vec::new()),
            extended: Vec::new(),
        }));
        s.ok(tag, "List completed.");
        return Flow::Continue;
    }
    let only_subscribed = selection
        .iter()
        .any(|o| matches!(o, ListSelectOption::Subscribed));
    let only_special = selection
        .iter()
        .any(|o| matches!(o, ListSelectOption::SpecialUse));
    let recursive = selection
        .iter()
        .any(|o| matches!(o, ListSelectOption::RecursiveMatch));
    if recursive && !only_subscribed {
        // RFC 5258 §3: RECURSIVEMATCH alone is an error.
        s.bad(tag, "RECURSIVEMATCH needs another selection option.");
        return Flow::Continue;
    }
    let show_subscribed = only_subscribed
        || returns
            .iter()
            .any(|o| matches!(o, ListReturnOption::Subscribed));
    let status_items: Option<&Vec<StatusItem>> = returns.iter().find_map(|o| match o {
        ListReturnOption::Status(items) => Some(items),
        _ => None,
    });
    let pats: Vec<String> = patterns
        .iter()
        .filter_map(|p| full_pattern(s, reference, p))
        .collect();
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    let all = match store.list().await {
        Ok(l) => l,
        Err(e) => {
            storage_no(s, tag, &e, false);
            return Flow::Continue;
        }
    };
    let mut entries: Vec<(MailboxInfo, bool)> = all.into_iter().map(|m| (m, true)).collect();
    if only_subscribed && let Ok(subs) = store.subscriptions().await {
        // Subscriptions to mailboxes that no longer exist are listed too.
        for sub in subs {
            if !entries.iter().any(|(m, _)| m.name == sub) {
                entries.push((
                    MailboxInfo {
                        name: sub,
                        selectable: false,
                        has_children: false,
                        subscribed: true,
                        special_use: None,
                    },
                    false,
                ));
            }
        }
        entries.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    }
    for (m, exists) in &entries {
        if !pats
            .iter()
            .any(|p| pattern_matches(p.as_bytes(), m.name.as_str().as_bytes()))
        {
            continue;
        }
        // RECURSIVEMATCH: a parent with a subscribed descendant is listed
        // (with CHILDINFO) even when not subscribed itself.
        let prefix = format!("{}/", m.name.as_str());
        let subscribed_child = recursive
            && entries
                .iter()
                .any(|(c, _)| c.subscribed && c.name.as_str().starts_with(&prefix));
        if only_subscribed && !m.subscribed && !subscribed_child {
            continue;
        }
        if only_special && m.special_use.is_none() {
            continue;
        }
        let mut attrs = Vec::new();
        if !exists {
            attrs.push(MailboxAttribute::NonExistent);
        } else if !m.selectable {
            attrs.push(MailboxAttribute::NoSelect);
        }
        if *exists {
            attrs.push(if m.has_children {
                MailboxAttribute::HasChildren
            } else {
                MailboxAttribute::HasNoChildren
            });
        }
        if show_subscribed && m.subscribed {
            attrs.push(MailboxAttribute::Subscribed);
        }
        if let Some(u) = m.special_use {
            attrs.push(special_attr(u));
        }
        out.data(&Data::List(ListResponse {
            attributes: attrs,
            delimiter: Some(DELIMITER),
            mailbox: to_wire(&m.name, utf8),
            extended: if subscribed_child {
                vec![ListExtendedItem::ChildInfo(
                    Atom::try_from("SUBSCRIBED").into_iter().collect(),
                )]
            } else {
                Vec::new()
            },
        }));
        if let Some(items) = status_items
            && *exists
            && m.selectable
            && let Ok((mbox, stale)) = store.open_current(&m.name).await
        {
            if let Some(e) = stale {
                refresh::failed(s, &e);
            }
            super::status::write_status(s, out, &m.name, &mbox, items);
        }
        out.flush_if_big().await.ok();
    }
    s.ok(tag, "List completed.");
    Flow::Continue
}
