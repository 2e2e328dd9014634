//! Sequence sets: `1:5,7,10:*` and `$` (the saved SEARCHRES result).

use super::core::InvalidValue;
use std::num::NonZeroU32;

/// One end of a range: a number or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeqBound {
    Value(NonZeroU32),
    Largest,
}

impl SeqBound {
    /// The number this bound means when the largest number in use is
    /// `largest`.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            SeqBound::Value(v) => v.get(),
            SeqBound::Largest => largest,
        }
    }
}

/// `a` or `a:b` (either order means the same range, RFC 9051 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    pub start: SeqBound,
    pub end: SeqBound,
}

impl SeqRange {
    pub fn single(bound: SeqBound) -> Self {
        SeqRange {
            start: bound,
            end: bound,
        }
    }

    /// Inclusive low/high numbers for a mailbox whose largest number is
    /// `largest`.
    pub fn resolve(&self, largest: u32) -> (u32, u32) {
        let a = self.start.resolve(largest);
        let b = self.end.resolve(largest);
        (a.min(b), a.max(b))
    }
}

/// A non-empty set of ranges, or `$` (RFC 5182 SEARCHRES).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SequenceSet {
    Ranges(Vec<SeqRange>),
    Saved,
}

impl SequenceSet {
    pub fn ranges(ranges: Vec<SeqRange>) -> Result<Self, InvalidValue> {
        if ranges.is_empty() {
            return Err(InvalidValue {
                what: "sequence set",
            });
        }
        Ok(SequenceSet::Ranges(ranges))
    }

    /// A set from sorted or unsorted numbers, compressed into ranges
    /// (used for responses such as COPYUID and VANISHED). Zeros are skipped.
    pub fn from_numbers(numbers: &[u32]) -> Result<Self, InvalidValue> {
        let mut sorted: Vec<u32> = numbers.iter().copied().filter(|&n| n != 0).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let mut ranges: Vec<SeqRange> = Vec::new();
        let mut iter = sorted.into_iter();
        let Some(first) = iter.next() else {
            return Err(InvalidValue {
                what: "sequence set",
            });
        };
        let (mut lo, mut hi) = (first, first);
        let push = |ranges: &mut Vec<SeqRange>, lo: u32, hi: u32| {
            if let (Some(a), Some(b)) = (NonZeroU32::new(lo), NonZeroU32::new(hi)) {
                ranges.push(SeqRange {
                    start: SeqBound::Value(a),
                    end: SeqBound::Value(b),
                });
            }
        };
        for n in iter {
            if n == hi + 1 {
                hi = n;
            } else {
                push(&mut ranges, lo, hi);
                (lo, hi) = (n, n);
            }
        }
        push(&mut ranges, lo, hi);
        Ok(SequenceSet::Ranges(ranges))
    }

    /// True when `n` is in the set, given the largest number in use.
    /// `$` contains nothing here: the session substitutes the saved result.
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(r) => r.iter().any(|range| {
                let (lo, hi) = range.resolve(largest);
                (lo..=hi).contains(&n)
            }),
        }
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        let ranges = match self {
            SequenceSet::Saved => {
                out.push(b'$');
                return;
            }
            SequenceSet::Ranges(r) => r,
        };
        for (i, range) in ranges.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_bound(out, range.start);
            if range.end != range.start {
                out.push(b':');
                write_bound(out, range.end);
            }
        }
    }
}

fn write_bound(out: &mut Vec<u8>, bound: SeqBound) {
    match bound {
        SeqBound::Value(v) => out.extend_from_slice(v.get().to_string().as_bytes()),
        SeqBound::Largest => out.push(b'*'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_numbers() {
        let set = SequenceSet::from_numbers(&[5, 1, 2, 3, 9, 10, 3]).unwrap();
        let mut out = Vec::new();
        set.write(&mut out);
        assert_eq!(out, b"1:3,5,9:10");
        assert!(SequenceSet::from_numbers(&[0]).is_err());
    }

    #[test]
    fn contains_with_star_and_reversed() {
        let nz = |n| SeqBound::Value(NonZeroU32::new(n).unwrap());
        let set = SequenceSet::ranges(vec![SeqRange {
            start: SeqBound::Largest,
            end: nz(4),
        }])
        .unwrap();
        assert!(set.contains(4, 6));
        assert!(set.contains(6, 6));
        assert!(!set.contains(3, 6));
        assert!(!SequenceSet::Saved.contains(1, 1));
    }
}
