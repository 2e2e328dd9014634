//! LIST (LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CHILDREN).

use std::collections::BTreeSet;

use super::{Flow, storage_no};
use crate::imap::codec::response::{Data, ListExtendedItem, ListResponse, MailboxAttribute};
use crate::imap::codec::types::{
    Atom, ListReturnOption, ListSelectOption, Mailbox as WireMailbox, StatusItem, Tag,
};
use crate::imap::session::names::{DELIMITER, pattern_matches, to_wire};
use crate::imap::session::output::Output;
use crate::imap::session::refresh;
use crate::imap::session::state::Session;
use crate::storage::{MailStore, MailboxInfo, MailboxName, SpecialUse, mutf7};

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

pub(super) fn special_attr(u: SpecialUse) -> MailboxAttribute {
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

/// The special-use attribute LIST shows for `m`: its own (CREATE … USE),
/// else the one the configuration gives its name.
pub(super) fn special_use_of(s: &Session, m: &MailboxInfo) -> Option<SpecialUse> {
    m.special_use.or_else(|| {
        s.settings
            .options
            .special_use
            .iter()
            .find(|(name, _)| name == m.name.as_str())
            .map(|(_, u)| *u)
    })
}

/// Names RECURSIVEMATCH (and LSUB's `\Noselect` rule) adds: every
/// ancestor of a subscribed name that matches a pattern, is not subscribed
/// itself, and has a subscribed descendant no pattern matches (RFC 5258
/// §3, RFC 3501 §6.3.9). Dovecot lists a parent only for the descendants
/// the pattern hides: with `*` the descendant itself is listed instead.
pub(super) fn hidden_child_parents(
    subscribed: &[MailboxName],
    matches: &dyn Fn(&MailboxName) -> bool,
) -> BTreeSet<MailboxName> {
    let mut out = BTreeSet::new();
    for sub in subscribed.iter().filter(|n| !matches(n)) {
        let mut parent = sub.parent();
        while let Some(p) = parent {
            parent = p.parent();
            if matches(&p) && !subscribed.contains(&p) {
                out.insert(p);
            }
        }
    }
    out
}

/// What a LIST asks for, decoded from its options.
struct Asked {
    /// Only subscribed names (SUBSCRIBED selection).
    subscribed_only: bool,
    /// Only special-use mailboxes (SPECIAL-USE selection, RFC 6154).
    special_only: bool,
    recursive: bool,
    show_subscribed: bool,
    show_children: bool,
    show_special: bool,
    /// LIST-EXTENDED answer: a missing mailbox is `\NonExistent`.
    extended: bool,
}

impl Asked {
    /// `Err` carries the BAD text (Dovecot's wording).
    fn new(
        extended: bool,
        selection: &[ListSelectOption],
        returns: &[ListReturnOption],
    ) -> Result<Asked, &'static str> {
        use ListReturnOption as R;
        use ListSelectOption as S;
        if selection.iter().any(|o| matches!(o, S::Other(_))) {
            return Err("Unknown select options");
        }
        if returns.iter().any(|o| matches!(o, R::Other(_))) {
            return Err("Unknown return options");
        }
        let has = |o: &S| selection.contains(o);
        let subscribed_only = has(&S::Subscribed);
        let special_only = has(&S::SpecialUse);
        let recursive = has(&S::RecursiveMatch);
        // RFC 5258 §3: RECURSIVEMATCH needs a selection option it can
        // apply to (REMOTE is not one).
        if recursive && !subscribed_only && !special_only {
            return Err("RECURSIVEMATCH must not be the only selection");
        }
        let ret = |o: &R| returns.contains(o);
        // Dovecot: a plain LIST shows children and special-use; an extended
        // one only what RETURN (or the SPECIAL-USE selection) asks for.
        Ok(Asked {
            subscribed_only,
            special_only,
            recursive,
            show_subscribed: subscribed_only || ret(&R::Subscribed),
            show_children: !extended || ret(&R::Children),
            show_special: !extended || special_only || ret(&R::SpecialUse),
            extended,
        })
    }
}

/// Attributes in Dovecot's order: `\Subscribed`, `\Noselect` /
/// `\NonExistent`, children, special-use.
fn attributes(
    asked: &Asked,
    info: Option<&MailboxInfo>,
    subscribed: bool,
    special: Option<SpecialUse>,
) -> Vec<MailboxAttribute> {
    let mut attrs = Vec::new();
    if asked.show_subscribed && subscribed {
        attrs.push(MailboxAttribute::Subscribed);
    }
    match info {
        None if asked.extended => attrs.push(MailboxAttribute::NonExistent),
        None => attrs.push(MailboxAttribute::NoSelect),
        Some(m) if !m.selectable => attrs.push(MailboxAttribute::NoSelect),
        Some(_) => {}
    }
    if asked.show_children
        && let Some(m) = info
    {
        attrs.push(if m.has_children {
            MailboxAttribute::HasChildren
        } else {
            MailboxAttribute::HasNoChildren
        });
    }
    if asked.show_special
        && let Some(u) = special
    {
        attrs.push(special_attr(u));
    }
    attrs
}

pub async fn list(
    s: &mut Session,
    out: &mut impl Output,
    tag: &Tag,
    (extended, selection): (bool, &[ListSelectOption]),
    reference: &WireMailbox,
    patterns: &[Vec<u8>],
    returns: &[ListReturnOption],
) -> Flow {
    let utf8 = s.utf8();
    let asked = match Asked::new(extended, selection, returns) {
        Ok(a) => a,
        Err(text) => {
            s.bad(tag, text);
            return Flow::Continue;
        }
    };
    if !asked.subscribed_only
        && !asked.special_only
        && patterns.len() == 1
        && patterns[0].is_empty()
    {
        out.data(&Data::List(ListResponse {
            attributes: vec![MailboxAttribute::NoSelect],
            delimiter: Some(DELIMITER),
            mailbox: WireMailbox::Other(Vec::new()),
            extended: Vec::new(),
        }));
        s.ok(tag, "List completed.");
        return Flow::Continue;
    }
    let status_items: Option<&Vec<StatusItem>> = returns.iter().find_map(|o| match o {
        ListReturnOption::Status(items) => Some(items),
        _ => None,
    });
    let pats: Vec<String> = patterns
        .iter()
        .filter_map(|p| full_pattern(s, reference, p))
        .collect();
    let matches = |n: &MailboxName| {
        pats.iter()
            .any(|p| pattern_matches(p.as_bytes(), n.as_str().as_bytes()))
    };
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
    // Subscriptions to mailboxes that no longer exist are listed too.
    let subscribed: Vec<MailboxName> = if asked.subscribed_only {
        match store.subscriptions().await {
            Ok(subs) => subs,
            Err(e) => {
                storage_no(s, tag, &e, false);
                return Flow::Continue;
            }
        }
    } else {
        all.iter()
            .filter(|m| m.subscribed)
            .map(|m| m.name.clone())
            .collect()
    };
    let parents = if asked.recursive {
        hidden_child_parents(&subscribed, &matches)
    } else {
        BTreeSet::new()
    };
    let mut names: BTreeSet<MailboxName> = if asked.subscribed_only {
        subscribed.iter().filter(|n| matches(n)).cloned().collect()
    } else {
        all.iter()
            .filter(|m| matches(&m.name))
            .map(|m| m.name.clone())
            .collect()
    };
    names.extend(parents.iter().cloned());
    for name in &names {
        let info = all.iter().find(|m| &m.name == name);
        let special = info.and_then(|m| special_use_of(s, m));
        if asked.special_only && special.is_none() {
            continue;
        }
        let is_subscribed = subscribed.contains(name);
        // CHILDINFO: the name has a subscribed descendant (RFC 5258 §3.5),
        // whether or not it is subscribed or the descendant listed too.
        let child_subscribed = asked.recursive
            && asked.subscribed_only
            && subscribed.iter().any(|c| c != name && c.is_within(name));
        out.data(&Data::List(ListResponse {
            attributes: attributes(&asked, info, is_subscribed, special),
            delimiter: Some(DELIMITER),
            mailbox: to_wire(name, utf8),
            extended: if child_subscribed {
                vec![ListExtendedItem::ChildInfo(
                    Atom::try_from("SUBSCRIBED").into_iter().collect(),
                )]
            } else {
                Vec::new()
            },
        }));
        if let Some(items) = status_items
            && info.is_some_and(|m| m.selectable)
            && let Ok((mbox, stale)) = store.open_current(name).await
        {
            if let Some(e) = stale {
                refresh::failed(s, &e);
            }
            super::status::write_status(s, out, name, &mbox, items);
        }
        out.flush_if_big().await.ok();
    }
    s.ok(tag, "List completed.");
    Flow::Continue
}
