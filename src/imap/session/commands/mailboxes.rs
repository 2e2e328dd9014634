//! Mailbox management: CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE,
//! LIST (LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CHILDREN), LSUB, STATUS.

use super::{Flow, mailbox_name, storage_no};
use crate::config::ImapWorkaround;
use crate::imap::codec::response::{
    Data, ListExtendedItem, ListResponse, MailboxAttribute, ResponseCode,
};
use crate::imap::codec::types::{
    Atom, Flag, ListReturnOption, ListSelectOption, Mailbox as WireMailbox, StatusItem, Tag,
};
use crate::imap::session::capability::append_limit;
use crate::imap::session::names::{DELIMITER, pattern_matches, to_wire};
use crate::imap::session::refresh;
use crate::imap::session::selected;
use crate::imap::session::state::Session;
use crate::storage::{MailStore, Mailbox, MailboxInfo, MailboxName, SpecialUse, mutf7};

pub async fn create(s: &mut Session, tag: &Tag, mailbox: &WireMailbox, uses: &[Flag]) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let mut special = None;
    for f in uses {
        let text = match f {
            Flag::Extension(a) => format!("\\{}", a.as_str()),
            Flag::Flagged => "\\Flagged".to_string(),
            _ => String::new(),
        };
        match SpecialUse::parse(&text) {
            Some(u) if special.is_none() => special = Some(u),
            _ => {
                s.no(
                    tag,
                    ResponseCode::UseAttr,
                    "Unsupported special-use attribute.",
                );
                return Flow::Continue;
            }
        }
    }
    if name.is_inbox() {
        s.no(tag, ResponseCode::AlreadyExists, "Mailbox already exists.");
        return Flow::Continue;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    if let Err(e) = store.create(&name).await {
        storage_no(s, tag, &e, false);
        return Flow::Continue;
    }
    if special.is_some()
        && let Err(e) = store.set_special_use(&name, special).await
    {
        storage_no(s, tag, &e, false);
        return Flow::Continue;
    }
    s.ok(tag, "Create completed.");
    Flow::Continue
}

pub async fn delete(s: &mut Session, tag: &Tag, mailbox: &WireMailbox) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    if name.is_inbox() {
        s.no(tag, ResponseCode::Cannot, "INBOX can't be deleted.");
        return Flow::Continue;
    }
    if s.selected.as_ref().is_some_and(|sel| sel.name == name) {
        s.selected = None;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.delete(&name).await {
        Ok(()) => s.ok(tag, "Delete completed."),
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

pub async fn rename(s: &mut Session, tag: &Tag, from: &WireMailbox, to: &WireMailbox) -> Flow {
    let Some(from) = mailbox_name(s, tag, from) else {
        return Flow::Continue;
    };
    let Some(to) = mailbox_name(s, tag, to) else {
        return Flow::Continue;
    };
    if to.is_inbox() {
        s.no(
            tag,
            ResponseCode::AlreadyExists,
            "Target mailbox already exists.",
        );
        return Flow::Continue;
    }
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.rename(&from, &to).await {
        Ok(()) => {
            selected::after_own_rename(s, &from, &to).await;
            s.ok(tag, "Rename completed.");
        }
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

pub async fn subscribe(s: &mut Session, tag: &Tag, mailbox: &WireMailbox, on: bool) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.set_subscribed(&name, on).await {
        Ok(()) if on => s.ok(tag, "Subscribe completed."),
        Ok(()) => s.ok(tag, "Unsubscribe completed."),
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}

/// reference + pattern in storage (UTF-8) form, INBOX upper-cased.
fn full_pattern(s: &Session, reference: &WireMailbox, pattern: &[u8]) -> Option<String> {
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
        s.io.data(&Data::List(ListResponse {
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
        s.io.data(&Data::List(ListResponse {
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
            write_status(s, &m.name, &mbox, items);
        }
        s.io.flush_if_big().await.ok();
    }
    s.ok(tag, "List completed.");
    Flow::Continue
}

pub async fn lsub(s: &mut Session, tag: &Tag, reference: &WireMailbox, pattern: &[u8]) -> Flow {
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
    // tb-lsub-flags: Thunderbird wants \Noselect on LSUB entries it
    // cannot open.
    let selectable: Option<Vec<MailboxName>> = if s.workaround(ImapWorkaround::TbLsubFlags) {
        store.list().await.ok().map(|l| {
            l.into_iter()
                .filter(|m| m.selectable)
                .map(|m| m.name)
                .collect()
        })
    } else {
        None
    };
    for name in subs {
        if pattern_matches(pat.as_bytes(), name.as_str().as_bytes()) {
            let attributes = match &selectable {
                Some(ok) if !ok.contains(&name) => vec![MailboxAttribute::NoSelect],
                _ => Vec::new(),
            };
            s.io.data(&Data::Lsub(ListResponse {
                attributes,
                delimiter: Some(DELIMITER),
                mailbox: to_wire(&name, utf8),
                extended: Vec::new(),
            }));
        }
    }
    s.ok(tag, "Lsub completed.");
    Flow::Continue
}

fn write_status<M: Mailbox>(s: &mut Session, name: &MailboxName, mbox: &M, items: &[StatusItem]) {
    let st = mbox.status();
    let limit = append_limit(&s.env.settings.imap.imap_options);
    let values = items
        .iter()
        .map(|&i| {
            let v = match i {
                StatusItem::Messages => u64::from(st.messages),
                StatusItem::UidNext => u64::from(st.uidnext),
                StatusItem::UidValidity => u64::from(st.uidvalidity),
                StatusItem::Unseen => u64::from(st.unseen),
                StatusItem::Deleted => u64::from(st.deleted),
                StatusItem::Size => st.size,
                StatusItem::Recent => u64::from(st.recent),
                StatusItem::HighestModSeq => st.highest_modseq,
                StatusItem::AppendLimit => limit,
            };
            (i, v)
        })
        .collect();
    let utf8 = s.utf8();
    s.io.data(&Data::Status {
        mailbox: to_wire(name, utf8),
        items: values,
    });
}

pub async fn status(
    s: &mut Session,
    tag: &Tag,
    mailbox: &WireMailbox,
    items: &[StatusItem],
) -> Flow {
    let Some(name) = mailbox_name(s, tag, mailbox) else {
        return Flow::Continue;
    };
    let Some(store) = super::mail(s, tag).await else {
        return Flow::Continue;
    };
    match store.open_current(&name).await {
        Ok((mbox, stale)) => {
            if let Some(e) = stale {
                refresh::failed(s, &e);
            }
            write_status(s, &name, &mbox, items);
            s.ok(tag, "Status completed.");
        }
        Err(e) => storage_no(s, tag, &e, false),
    }
    Flow::Continue
}
