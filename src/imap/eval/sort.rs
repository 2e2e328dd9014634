//! SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM / DISPLAYTO).
//!
//! Keys are computed once per message, then compared; the last tie-break
//! is the sequence number, as the RFC requires. Text keys use the
//! i;ascii-casemap collation (RFC 5256 default), display names the
//! i;unicode-casemap one (RFC 5957).

use std::cmp::Ordering;

use super::{Content, MsgCtx};
use crate::imap::codec::types::{SortCriterion, SortKey};
use crate::message::search::fold_case;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyValue {
    Number(i64),
    Text(String),
}

/// A message's SORT DATE / THREAD date: the Date header in UTC, else the
/// internal date (RFC 5256 §2.2). A Date before 1970 sorts as Dovecot
/// sorts it: its index keeps dates as unsigned 32-bit seconds, so a
/// negative time wraps round to the far future.
pub fn sent_date(m: &MsgCtx<'_, '_>) -> i64 {
    match m.content.and_then(|c| c.sent_date()) {
        // Truncation is the point: Dovecot's wrap-around.
        Some(t) if t < 0 => i64::from(t as u32),
        Some(t) => t,
        None => m.info.internal_date,
    }
}

fn key_value(m: &MsgCtx<'_, '_>, key: SortKey) -> KeyValue {
    let text = |f: &dyn Fn(&crate::message::ParsedMessage<'_>) -> String| {
        KeyValue::Text(m.content.map(f).unwrap_or_default())
    };
    match key {
        SortKey::Arrival => KeyValue::Number(m.info.internal_date),
        SortKey::Date => KeyValue::Number(sent_date(m)),
        SortKey::Size => KeyValue::Number(i64::try_from(m.info.virtual_size).unwrap_or(i64::MAX)),
        SortKey::Subject => text(&|c| c.base_subject().to_ascii_lowercase()),
        SortKey::From => text(&|c| c.address_sort_key("from").to_ascii_lowercase()),
        SortKey::To => text(&|c| c.address_sort_key("to").to_ascii_lowercase()),
        SortKey::Cc => text(&|c| c.address_sort_key("cc").to_ascii_lowercase()),
        SortKey::DisplayFrom => text(&|c| fold_case(&c.address_display_key("from")).into_owned()),
        SortKey::DisplayTo => text(&|c| fold_case(&c.address_display_key("to")).into_owned()),
    }
}

/// True when any criterion reads message headers (all but ARRIVAL and
/// SIZE), so the caller must supply parsed headers.
pub fn needs_headers(criteria: &[SortCriterion]) -> bool {
    criteria
        .iter()
        .any(|c| !matches!(c.key, SortKey::Arrival | SortKey::Size))
}

/// How much content SORT needs: headers unless only ARRIVAL / SIZE.
pub fn content_needed(criteria: &[SortCriterion]) -> Content {
    if needs_headers(criteria) {
        Content::HeaderOnly
    } else {
        Content::None
    }
}

/// Orders `msgs` by `criteria`; answers sequence numbers, or UIDs when
/// `uid` (UID SORT). Messages without content sort as if every header
/// were empty.
pub fn sort(msgs: &[MsgCtx<'_, '_>], criteria: &[SortCriterion], uid: bool) -> Vec<u32> {
    let mut keyed: Vec<(Vec<KeyValue>, &MsgCtx<'_, '_>)> = msgs
        .iter()
        .map(|m| (criteria.iter().map(|c| key_value(m, c.key)).collect(), m))
        .collect();
    keyed.sort_by(|(ka, a), (kb, b)| {
        for ((va, vb), c) in ka.iter().zip(kb).zip(criteria) {
            let ord = va.cmp(vb);
            let ord = if c.reverse { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.seq.cmp(&b.seq)
    });
    keyed
        .into_iter()
        .map(|(_, m)| if uid { m.info.uid } else { m.seq })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::message::ParsedMessage;
    use crate::storage::types::{MessageInfo, SystemFlags};

    pub(crate) fn info(uid: u32, internal_date: i64, size: u64) -> MessageInfo {
        MessageInfo {
            uid,
            flags: SystemFlags::NONE,
            keywords: Vec::new(),
            recent: false,
            modseq: 1,
            internal_date,
            save_date: internal_date,
            physical_size: size,
            virtual_size: size,
            guid: format!("g{uid}"),
            pop3_uidl: None,
            pop3_order: None,
        }
    }

    fn crit(key: SortKey, reverse: bool) -> SortCriterion {
        SortCriterion { reverse, key }
    }

    #[test]
    fn sorts_by_each_key_with_seq_tiebreak() {
        let raws: [&[u8]; 4] = [
            b"From: Zed <zed@x>\r\nTo: b@x\r\nSubject: Re: beta\r\nDate: Tue, 02 Jan 2024 00:00:00 +0000\r\n\r\n",
            b"From: \"Adam\" <Amy@x>\r\nTo: a@x\r\nCc: c@x\r\nSubject: alpha\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n",
            b"From: bob@x\r\nTo: a@x\r\nSubject: [list] Beta\r\n\r\n",
            b"From: Carl <carl@x>\r\nSubject: gamma\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n",
        ];
        let parsed: Vec<ParsedMessage<'_>> = raws.iter().map(|r| ParsedMessage::parse(r)).collect();
        let infos = [
            info(10, 500, 30),
            info(11, 400, 10),
            info(12, 100, 20),
            info(13, 400, 10),
        ];
        let msgs: Vec<MsgCtx<'_, '_>> = (0..4)
            .map(|i| MsgCtx {
                seq: i as u32 + 1,
                info: &infos[i],
                content: Some(&parsed[i]),
            })
            .collect();
        let s = |c: &[SortCriterion]| sort(&msgs, c, false);
        assert_eq!(s(&[crit(SortKey::Arrival, false)]), vec![3, 2, 4, 1]);
        assert_eq!(s(&[crit(SortKey::Arrival, true)]), vec![1, 2, 4, 3]);
        assert_eq!(s(&[crit(SortKey::Size, false)]), vec![2, 4, 3, 1]);
        // Message 3 has no Date: its internal date (100) is used.
        assert_eq!(s(&[crit(SortKey::Date, false)]), vec![3, 2, 4, 1]);
        assert_eq!(s(&[crit(SortKey::Subject, false)]), vec![2, 1, 3, 4]);
        assert_eq!(s(&[crit(SortKey::From, false)]), vec![2, 3, 4, 1]);
        assert_eq!(s(&[crit(SortKey::To, false)]), vec![4, 2, 3, 1]);
        assert_eq!(s(&[crit(SortKey::Cc, false)]), vec![1, 3, 4, 2]);
        assert_eq!(s(&[crit(SortKey::DisplayFrom, false)]), vec![2, 3, 4, 1]);
        assert_eq!(
            s(&[crit(SortKey::Subject, false), crit(SortKey::Arrival, true)]),
            vec![2, 1, 3, 4]
        );
        assert_eq!(
            sort(&msgs, &[crit(SortKey::Size, true)], true),
            vec![10, 12, 11, 13]
        );
    }

    #[test]
    fn without_content_headers_sort_empty() {
        let infos = [info(1, 5, 1), info(2, 1, 1)];
        let msgs: Vec<MsgCtx<'_, '_>> = infos
            .iter()
            .enumerate()
            .map(|(i, info)| MsgCtx {
                seq: i as u32 + 1,
                info,
                content: None,
            })
            .collect();
        assert_eq!(
            sort(&msgs, &[crit(SortKey::Subject, false)], false),
            vec![1, 2]
        );
        assert_eq!(
            sort(&msgs, &[crit(SortKey::Date, false)], false),
            vec![2, 1]
        );
        assert!(needs_headers(&[crit(SortKey::Date, false)]));
        assert!(!needs_headers(&[crit(SortKey::Size, false)]));
        assert_eq!(
            content_needed(&[crit(SortKey::Arrival, true)]),
            Content::None
        );
        assert_eq!(
            content_needed(&[crit(SortKey::Cc, false)]),
            Content::HeaderOnly
        );
    }
}
