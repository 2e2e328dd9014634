//! RFC 9394 `partial-range`: a window of results counted from the first
//! (`1:100`) or from the last (`-1:-100`) match.

use std::num::NonZeroU32;

/// A window of a result list. Kept with `first <= last`: `500:400` means
/// the same as `400:500` (RFC 9394 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialRange {
    /// Counted back from the last result (`-1` is the last).
    pub from_end: bool,
    pub first: NonZeroU32,
    pub last: NonZeroU32,
}

impl PartialRange {
    pub fn new(from_end: bool, a: NonZeroU32, b: NonZeroU32) -> Self {
        PartialRange {
            from_end,
            first: a.min(b),
            last: a.max(b),
        }
    }

    /// Wire form: `1:100` or `-1:-100`.
    pub fn write(&self, out: &mut Vec<u8>) {
        let sign = if self.from_end { "-" } else { "" };
        out.extend_from_slice(format!("{sign}{}:{sign}{}", self.first, self.last).as_bytes());
    }

    /// The part of `results` (in their order) the window covers; empty when
    /// it lies wholly outside them.
    pub fn select<'a, T>(&self, results: &'a [T]) -> &'a [T] {
        let len = results.len();
        let (first, last) = (self.first.get() as usize, self.last.get() as usize);
        let (start, end) = if self.from_end {
            (len.saturating_sub(last), len.saturating_sub(first - 1))
        } else {
            ((first - 1).min(len), last.min(len))
        };
        &results[start..end.max(start)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from_end: bool, a: u32, b: u32) -> PartialRange {
        PartialRange::new(
            from_end,
            NonZeroU32::new(a).unwrap(),
            NonZeroU32::new(b).unwrap(),
        )
    }

    #[test]
    fn windows_from_either_end() {
        let r = [10, 20, 30, 40, 50];
        assert_eq!(range(false, 1, 2).select(&r), &[10, 20]);
        assert_eq!(range(false, 4, 9).select(&r), &[40, 50]);
        assert!(range(false, 6, 9).select(&r).is_empty());
        assert_eq!(range(true, 1, 2).select(&r), &[40, 50]);
        assert_eq!(range(true, 2, 1).select(&r), &[40, 50]);
        assert_eq!(range(true, 4, 9).select(&r), &[10, 20]);
        assert!(range(true, 6, 9).select(&r).is_empty());
        assert!(range(true, 1, 1).select::<u32>(&[]).is_empty());
    }

    #[test]
    fn wire_form() {
        let mut out = Vec::new();
        range(true, 100, 1).write(&mut out);
        assert_eq!(out, b"-1:-100");
        out.clear();
        range(false, 501, 1000).write(&mut out);
        assert_eq!(out, b"501:1000");
    }
}
