//! The imap-mix operation set and its weights.
//!
//! The presets are modelled on what clients do, not measured traces:
//! - desktop (Thunderbird, Outlook, Apple Mail on a LAN): a long session
//!   that re-syncs flags often, fetches headers of new mail, opens bodies,
//!   marks read/flagged, files and deletes, searches now and then, and idles.
//! - mobile (iOS Mail, K-9/Thunderbird Android, Gmail app on IMAP): many
//!   short resyncs (flags, headers), fewer full bodies, more IDLE and NOOP
//!   keep-alives, little APPEND (sent mail goes mostly through SMTP's copy).

use crate::args::Profile;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MixOp {
    Select,
    FetchFlags,
    FetchHeaders,
    FetchBody,
    Store,
    Search,
    Append,
    Expunge,
    Idle,
    Noop,
}

pub const ALL_OPS: [MixOp; 10] = [
    MixOp::Select,
    MixOp::FetchFlags,
    MixOp::FetchHeaders,
    MixOp::FetchBody,
    MixOp::Store,
    MixOp::Search,
    MixOp::Append,
    MixOp::Expunge,
    MixOp::Idle,
    MixOp::Noop,
];

impl MixOp {
    pub fn name(self) -> &'static str {
        match self {
            MixOp::Select => "select",
            MixOp::FetchFlags => "fetch-flags",
            MixOp::FetchHeaders => "fetch-headers",
            MixOp::FetchBody => "fetch-body",
            MixOp::Store => "store",
            MixOp::Search => "search",
            MixOp::Append => "append",
            MixOp::Expunge => "expunge",
            MixOp::Idle => "idle",
            MixOp::Noop => "noop",
        }
    }

    pub fn from_name(s: &str) -> Option<MixOp> {
        ALL_OPS.into_iter().find(|op| op.name() == s)
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights([u32; 10]);

impl Weights {
    pub fn preset(p: Profile) -> Weights {
        // order: select, fetch-flags, fetch-headers, fetch-body, store,
        //        search, append, expunge, idle, noop
        match p {
            Profile::Desktop => Weights([10, 20, 15, 20, 15, 5, 5, 4, 4, 2]),
            Profile::Mobile => Weights([15, 25, 15, 10, 10, 3, 2, 2, 10, 8]),
        }
    }

    pub fn get(&self, op: MixOp) -> u32 {
        self.0[op.index()]
    }

    pub fn set(&mut self, op: MixOp, w: u32) {
        self.0[op.index()] = w;
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|&w| u64::from(w)).sum()
    }

    /// The operation for a uniform draw `r` (any u64).
    pub fn pick(&self, r: u64) -> MixOp {
        let total = self.total();
        if total == 0 {
            return MixOp::Noop;
        }
        let mut x = r % total;
        for op in ALL_OPS {
            let w = u64::from(self.get(op));
            if x < w {
                return op;
            }
            x -= w;
        }
        MixOp::Noop
    }
}

/// A small fast PRNG (xorshift64*): the generator must not spend its CPU on
/// randomness, and reproducible runs are handy.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in 1..=n (n ≥ 1).
    pub fn one_to(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n.max(1))) as u32 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in ALL_OPS {
            assert_eq!(MixOp::from_name(op.name()), Some(op));
        }
        assert_eq!(MixOp::from_name("nope"), None);
    }

    #[test]
    fn pick_follows_weights() {
        let mut w = Weights([0; 10]);
        w.set(MixOp::Store, 1);
        w.set(MixOp::Idle, 3);
        let mut rng = Rng::new(7);
        let mut idle = 0;
        for _ in 0..4000 {
            match w.pick(rng.next_u64()) {
                MixOp::Idle => idle += 1,
                MixOp::Store => {}
                other => panic!("picked zero-weight {other:?}"),
            }
        }
        assert!((2800..3200).contains(&idle), "idle picked {idle} of 4000");
        assert_eq!(Weights([0; 10]).pick(5), MixOp::Noop);
    }

    #[test]
    fn presets_cover_every_op() {
        for p in [Profile::Desktop, Profile::Mobile] {
            let w = Weights::preset(p);
            assert_eq!(w.total(), 100);
            assert!(ALL_OPS.iter().all(|&op| w.get(op) > 0));
        }
    }
}
