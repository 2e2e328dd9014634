//! SEARCH / ESEARCH answers (RFC 9051 §7.3.4, RFC 4731, RFC 5182 SAVE,
//! RFC 7162 MODSEQ).

use crate::imap::codec::response::{Data, ESearchItem};
use crate::imap::codec::types::{
    PartialRange, SearchReturnOption, SeqBound, SeqRange, SequenceSet,
};
use std::num::NonZeroU32;

/// `1:3,5` form of a set of numbers (any order, duplicates allowed);
/// empty input gives an empty string.
pub fn compact_set(numbers: &[u32]) -> String {
    match SequenceSet::from_numbers(numbers) {
        Ok(set) => {
            let mut out = Vec::new();
            set.write(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        }
        Err(_) => String::new(),
    }
}

fn wants(opts: &[SearchReturnOption], o: SearchReturnOption) -> bool {
    opts.contains(&o)
}

/// The PARTIAL window asked for, if any.
pub fn partial_of(opts: &[SearchReturnOption]) -> Option<PartialRange> {
    opts.iter().find_map(|o| match o {
        SearchReturnOption::Partial(p) => Some(*p),
        _ => None,
    })
}

/// `RETURN ()` means `RETURN (ALL)`.
fn effective(opts: &[SearchReturnOption]) -> Vec<SearchReturnOption> {
    if opts.is_empty() {
        vec![SearchReturnOption::All]
    } else {
        opts.to_vec()
    }
}

/// A set that keeps the order of `ids` (ESORT's ALL, RFC 5267 §3.2):
/// only runs that ascend by one become ranges. `None` when empty.
pub fn ordered_set(ids: &[u32]) -> Option<SequenceSet> {
    let mut ranges: Vec<SeqRange> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    let close = |ranges: &mut Vec<SeqRange>, (lo, hi): (u32, u32)| {
        if let (Some(a), Some(b)) = (NonZeroU32::new(lo), NonZeroU32::new(hi)) {
            ranges.push(SeqRange {
                start: SeqBound::Value(a),
                end: SeqBound::Value(b),
            });
        }
    };
    for &id in ids {
        run = match run {
            Some((lo, hi)) if hi.checked_add(1) == Some(id) => Some((lo, id)),
            Some(done) => {
                close(&mut ranges, done);
                Some((id, id))
            }
            None => Some((id, id)),
        };
    }
    if let Some(done) = run {
        close(&mut ranges, done);
    }
    SequenceSet::ranges(ranges).ok()
}

/// ESORT answer items (RFC 5267 §3.1) for `ids` in sort order: MIN and
/// MAX are the first and last in that order, ALL and PARTIAL keep it.
pub fn esort_result(ids: &[u32], opts: &[SearchReturnOption]) -> Vec<ESearchItem> {
    use SearchReturnOption as R;
    let opts = effective(opts);
    let mut items = Vec::new();
    if wants(&opts, R::Min)
        && let Some(&first) = ids.first()
    {
        items.push(ESearchItem::Min(first));
    }
    if wants(&opts, R::Max)
        && let Some(&last) = ids.last()
    {
        items.push(ESearchItem::Max(last));
    }
    if wants(&opts, R::All)
        && let Some(set) = ordered_set(ids)
    {
        items.push(ESearchItem::All(set));
    }
    if let Some(range) = partial_of(&opts) {
        items.push(ESearchItem::Partial {
            range,
            results: ordered_set(range.select(ids)),
        });
    }
    if wants(&opts, R::Count) {
        items.push(ESearchItem::Count(
            u32::try_from(ids.len()).unwrap_or(u32::MAX),
        ));
    }
    items
}

/// The highest of `modseqs` at the positions whose id is among `ids_used`.
pub fn highest_modseq(ids: &[u32], modseqs: &[u64], used: impl Fn(u32) -> bool) -> Option<u64> {
    ids.iter()
        .zip(modseqs)
        .filter(|(id, _)| used(**id))
        .map(|(_, m)| *m)
        .max()
}

/// ESEARCH result items for the matches `ids` (sequence numbers or UIDs,
/// ascending). `modseqs`, parallel to `ids`, is given when the criteria
/// held MODSEQ: then a `MODSEQ` item carries the highest mod-sequence of
/// the messages reported (only MIN/MAX's when just those were asked,
/// RFC 7162 §3.1.5). MIN/MAX/ALL are left out when nothing matched; COUNT
/// is always given when asked.
pub fn esearch_result(
    ids: &[u32],
    opts: &[SearchReturnOption],
    modseqs: Option<&[u64]>,
) -> Vec<ESearchItem> {
    use SearchReturnOption as R;
    let opts = effective(opts);
    let mut items = Vec::new();
    let min = ids.iter().copied().min();
    let max = ids.iter().copied().max();
    if wants(&opts, R::Min)
        && let Some(min) = min
    {
        items.push(ESearchItem::Min(min));
    }
    if wants(&opts, R::Max)
        && let Some(max) = max
    {
        items.push(ESearchItem::Max(max));
    }
    if wants(&opts, R::All)
        && let Ok(set) = SequenceSet::from_numbers(ids)
    {
        items.push(ESearchItem::All(set));
    }
    let partial = partial_of(&opts);
    if let Some(range) = partial {
        items.push(ESearchItem::Partial {
            range,
            results: SequenceSet::from_numbers(range.select(ids)).ok(),
        });
    }
    if wants(&opts, R::Count) {
        items.push(ESearchItem::Count(
            u32::try_from(ids.len()).unwrap_or(u32::MAX),
        ));
    }
    if let Some(modseqs) = modseqs {
        let everything = wants(&opts, R::All) || wants(&opts, R::Count) || partial.is_some();
        let highest = if everything {
            highest_modseq(ids, modseqs, |_| true)
        } else {
            highest_modseq(ids, modseqs, |id| {
                (wants(&opts, R::Min) && Some(id) == min)
                    || (wants(&opts, R::Max) && Some(id) == max)
            })
        };
        if let Some(h) = highest {
            items.push(ESearchItem::ModSeq(h));
        }
    }
    items
}

/// True when an ESEARCH response is to be sent at all: `RETURN (SAVE)`
/// alone sends none (RFC 5182 §2.1).
pub fn esearch_wanted(opts: &[SearchReturnOption]) -> bool {
    opts.is_empty() || opts.iter().any(|o| *o != SearchReturnOption::Save)
}

/// What SAVE stores (RFC 5182 §2.4, RFC 9394 §3.2): with MIN, MAX and/or
/// PARTIAL (and neither ALL nor COUNT) only the messages those return,
/// otherwise every match. `ids` must be UIDs in mailbox order for the
/// result to survive expunges (`$` is kept as UIDs).
pub fn saved_result(ids: &[u32], opts: &[SearchReturnOption]) -> Vec<u32> {
    use SearchReturnOption as R;
    let partial = partial_of(opts);
    let min_max_only = (wants(opts, R::Min) || wants(opts, R::Max) || partial.is_some())
        && !wants(opts, R::All)
        && !wants(opts, R::Count);
    if !min_max_only {
        let mut all = ids.to_vec();
        all.sort_unstable();
        all.dedup();
        return all;
    }
    let mut saved = Vec::new();
    if wants(opts, R::Min)
        && let Some(min) = ids.iter().copied().min()
    {
        saved.push(min);
    }
    if wants(opts, R::Max)
        && let Some(max) = ids.iter().copied().max()
    {
        saved.push(max);
    }
    if let Some(range) = partial {
        saved.extend_from_slice(range.select(ids));
    }
    saved.sort_unstable();
    saved.dedup();
    saved
}

/// The classic `* SEARCH ...` response; `(MODSEQ n)` is added when
/// `modseqs` (parallel to `ids`) is given and something matched.
pub fn search_response(ids: &[u32], modseqs: Option<&[u64]>) -> Data {
    Data::Search {
        ids: ids.to_vec(),
        modseq: modseqs.and_then(|m| highest_modseq(ids, m, |_| true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::codec::response::EncodeOptions;
    use crate::imap::codec::types::Tag;
    use SearchReturnOption as R;

    fn encode_esearch(items: Vec<ESearchItem>) -> String {
        let mut out = Vec::new();
        Data::ESearch {
            tag: Some(Tag::try_from("A1").unwrap()),
            uid: true,
            items,
        }
        .encode(&mut out, EncodeOptions::default());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn compact_sets() {
        assert_eq!(compact_set(&[1, 2, 3, 5]), "1:3,5");
        assert_eq!(compact_set(&[9, 7, 8, 8, 1]), "1,7:9");
        assert_eq!(compact_set(&[]), "");
        assert_eq!(compact_set(&[4]), "4");
    }

    #[test]
    fn all_items() {
        let items = esearch_result(&[2, 3, 4, 10], &[R::Min, R::Max, R::Count, R::All], None);
        assert_eq!(
            encode_esearch(items),
            "* ESEARCH (TAG \"A1\") UID MIN 2 MAX 10 ALL 2:4,10 COUNT 4\r\n"
        );
    }

    #[test]
    fn empty_return_means_all_and_no_match_omits_min_max() {
        assert_eq!(
            encode_esearch(esearch_result(&[1, 2], &[], None)),
            "* ESEARCH (TAG \"A1\") UID ALL 1:2\r\n"
        );
        assert_eq!(
            encode_esearch(esearch_result(
                &[],
                &[R::Min, R::Max, R::All, R::Count],
                None
            )),
            "* ESEARCH (TAG \"A1\") UID COUNT 0\r\n"
        );
    }

    #[test]
    fn modseq_of_returned_messages() {
        let ids = [1, 5, 9];
        let ms = [100, 300, 200];
        assert_eq!(
            esearch_result(&ids, &[R::Min], Some(&ms)),
            vec![ESearchItem::Min(1), ESearchItem::ModSeq(100)]
        );
        assert_eq!(
            esearch_result(&ids, &[R::Min, R::Max], Some(&ms)),
            vec![
                ESearchItem::Min(1),
                ESearchItem::Max(9),
                ESearchItem::ModSeq(200)
            ]
        );
        assert_eq!(
            esearch_result(&ids, &[R::Count], Some(&ms)),
            vec![ESearchItem::Count(3), ESearchItem::ModSeq(300)]
        );
        assert_eq!(
            esearch_result(&[], &[R::Count], Some(&[])),
            vec![ESearchItem::Count(0)]
        );
    }

    #[test]
    fn search_with_modseq() {
        let mut out = Vec::new();
        search_response(&[2, 7], Some(&[5, 9])).encode(&mut out, EncodeOptions::default());
        assert_eq!(out, b"* SEARCH 2 7 (MODSEQ 9)\r\n");
        let mut out = Vec::new();
        search_response(&[], Some(&[])).encode(&mut out, EncodeOptions::default());
        assert_eq!(out, b"* SEARCH\r\n");
        let mut out = Vec::new();
        search_response(&[3], None).encode(&mut out, EncodeOptions::default());
        assert_eq!(out, b"* SEARCH 3\r\n");
    }

    fn window(from_end: bool, a: u32, b: u32) -> PartialRange {
        PartialRange::new(
            from_end,
            NonZeroU32::new(a).unwrap(),
            NonZeroU32::new(b).unwrap(),
        )
    }

    #[test]
    fn partial_items() {
        let ids = [2, 3, 4, 10];
        let opts = [R::Min, R::Partial(window(false, 2, 3)), R::Count];
        assert_eq!(
            encode_esearch(esearch_result(&ids, &opts, None)),
            "* ESEARCH (TAG \"A1\") UID MIN 2 PARTIAL (2:3 3:4) COUNT 4\r\n"
        );
        let opts = [R::Partial(window(true, 1, 2))];
        assert_eq!(
            encode_esearch(esearch_result(&ids, &opts, None)),
            "* ESEARCH (TAG \"A1\") UID PARTIAL (-1:-2 4,10)\r\n"
        );
        let opts = [R::Partial(window(false, 5, 9))];
        assert_eq!(
            encode_esearch(esearch_result(&ids, &opts, None)),
            "* ESEARCH (TAG \"A1\") UID PARTIAL (5:9 NIL)\r\n"
        );
        assert_eq!(
            saved_result(&ids, &[R::Save, R::Partial(window(true, 1, 1))]),
            vec![10]
        );
    }

    #[test]
    fn esort_keeps_the_sort_order() {
        let sorted = [3, 1, 2, 7, 6];
        assert_eq!(
            encode_esearch(esort_result(&sorted, &[R::Min, R::Max, R::All, R::Count])),
            "* ESEARCH (TAG \"A1\") UID MIN 3 MAX 6 ALL 3,1:2,7,6 COUNT 5\r\n"
        );
        assert_eq!(
            encode_esearch(esort_result(&sorted, &[R::Partial(window(true, 1, 2))])),
            "* ESEARCH (TAG \"A1\") UID PARTIAL (-1:-2 7,6)\r\n"
        );
        assert_eq!(
            encode_esearch(esort_result(&[], &[])),
            "* ESEARCH (TAG \"A1\") UID\r\n"
        );
    }

    #[test]
    fn save_rules() {
        assert!(!esearch_wanted(&[R::Save]));
        assert!(esearch_wanted(&[R::Save, R::Count]));
        assert!(esearch_wanted(&[]));
        assert_eq!(saved_result(&[4, 2, 9], &[R::Save]), vec![2, 4, 9]);
        assert_eq!(saved_result(&[4, 2, 9], &[R::Save, R::Min]), vec![2]);
        assert_eq!(
            saved_result(&[4, 2, 9], &[R::Save, R::Min, R::Max]),
            vec![2, 9]
        );
        assert_eq!(
            saved_result(&[4, 2, 9], &[R::Save, R::Min, R::All]),
            vec![2, 4, 9]
        );
        assert_eq!(saved_result(&[], &[R::Save, R::Max]), Vec::<u32>::new());
    }
}
