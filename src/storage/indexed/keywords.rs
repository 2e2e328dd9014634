//! Keyword bit sets: how STORE merges them, and their names.

use crate::storage::index::KeywordBits;
use crate::storage::index::state::kw_has;
use crate::storage::types::FlagOp;

/// `b` applied to `a` as STORE's `op` says (trailing zero words dropped, so
/// equal sets compare equal).
pub fn kw_combine(a: &KeywordBits, b: &KeywordBits, op: FlagOp) -> KeywordBits {
    let n = a.len().max(b.len());
    let mut out = KeywordBits::new();
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        out.push(match op {
            FlagOp::Add => x | y,
            FlagOp::Remove => x & !y,
            FlagOp::Replace => y,
        });
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// The names of the keywords set in `bits`, in definition order.
pub fn keyword_names(known: &[String], bits: &KeywordBits) -> Vec<String> {
    known
        .iter()
        .enumerate()
        .filter(|(i, _)| kw_has(bits, *i))
        .map(|(_, k)| k.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::index::state::kw_set;

    fn bits(on: &[usize]) -> KeywordBits {
        let mut b = KeywordBits::new();
        for &i in on {
            kw_set(&mut b, i, true);
        }
        b
    }

    #[test]
    fn add_remove_replace_and_names() {
        let (a, b) = (bits(&[0, 70]), bits(&[1, 70]));
        assert_eq!(kw_combine(&a, &b, FlagOp::Add), bits(&[0, 1, 70]));
        assert_eq!(kw_combine(&a, &b, FlagOp::Remove), bits(&[0]));
        assert_eq!(kw_combine(&a, &b, FlagOp::Replace), b);
        assert_eq!(kw_combine(&a, &a, FlagOp::Remove), KeywordBits::new());
        let known: Vec<String> = ["$A", "$B", "$C"].iter().map(|s| s.to_string()).collect();
        assert_eq!(keyword_names(&known, &bits(&[0, 2])), vec!["$A", "$C"]);
    }
}
