//! Helpers shared by unit tests in several layers (built for tests only).

use std::fmt::Debug;

/// xorshift64: a tiny deterministic PRNG for generated-input tests, so a
/// failing case reproduces from its seed (and no crate is needed).
pub struct XorShift64(u64);

impl XorShift64 {
    /// `seed` must not be 0 (xorshift would stay at 0).
    pub fn new(seed: u64) -> Self {
        assert_ne!(seed, 0, "xorshift needs a non-zero seed");
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`; `n` must not be 0.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() as usize) % n
    }

    /// One of `items`, which must not be empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Fewer than `max_len` items drawn from `alphabet`.
    pub fn sequence<T: Copy>(&mut self, max_len: u64, alphabet: &[T]) -> Vec<T> {
        (0..self.next_u64() % max_len)
            .map(|_| *self.pick(alphabet))
            .collect()
    }

    /// `count` lines for a line protocol, each one of `words` ended by CRLF
    /// or, at random, by a bare LF.
    pub fn lines(&mut self, words: &[&[u8]], count: usize) -> Vec<u8> {
        let mut input = Vec::new();
        for _ in 0..count {
            let r = self.next_u64();
            input.extend_from_slice(words[(r as usize) % words.len()]);
            input.extend_from_slice(if r & 0x100 == 0 { b"\r\n" } else { b"\n" });
        }
        input
    }
}

/// Runs a streaming codec over `input` whole, byte by byte, and cut into two
/// and three pieces at every position; asserts that every run gives the same
/// result and returns it. `run` gets the pieces in order.
pub fn same_at_every_split<R: PartialEq + Debug>(input: &[u8], run: impl Fn(&[&[u8]]) -> R) -> R {
    let whole = run(&[input]);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(&bytes), whole, "byte by byte");
    for a in 0..=input.len() {
        assert_eq!(run(&[&input[..a], &input[a..]]), whole, "split at {a}");
        for b in a..=input.len() {
            let pieces = [&input[..a], &input[a..b], &input[b..]];
            assert_eq!(run(&pieces), whole, "split at {a},{b}");
        }
    }
    whole
}
