//! Upper bounds on the work a stored hash may demand. A damaged or hostile
//! passdb line such as `$argon2id$v=19$m=4294967295,…` would otherwise make
//! the helper try to allocate terabytes (an abort, not an error) or spin
//! for hours. Real hashes sit far below these limits.

use std::str::FromStr;

/// Most memory one verification may use (Argon2, yescrypt).
pub(crate) const MAX_MEMORY_BYTES: u64 = 1 << 30;
pub(crate) const MAX_SHA_CRYPT_ROUNDS: u32 = 10_000_000;
/// bcrypt cost 20 is already about a minute of CPU.
pub(crate) const MAX_BCRYPT_COST: u32 = 20;
pub(crate) const MAX_ARGON2_PASSES: u32 = 64;
pub(crate) const MAX_PARALLELISM: u32 = 16;

/// `$5$rounds=N$…` / `$6$rounds=N$…`. Unparseable rounds are left to the
/// crate (which then treats the field as salt and uses the default).
pub(crate) fn sha_crypt_ok(hash: &str) -> bool {
    hash.split('$')
        .nth(2)
        .and_then(|field| field.strip_prefix("rounds="))
        .and_then(|n| n.parse::<u32>().ok())
        .is_none_or(|rounds| rounds <= MAX_SHA_CRYPT_ROUNDS)
}

/// `$2y$NN$…`.
pub(crate) fn bcrypt_ok(hash: &str) -> bool {
    hash.get(4..6)
        .and_then(|n| n.parse::<u32>().ok())
        .is_none_or(|cost| cost <= MAX_BCRYPT_COST)
}

/// `$y$<params>$salt$hash`: memory is 128·N·r bytes.
pub(crate) fn yescrypt_ok(hash: &str) -> bool {
    hash.split('$')
        .nth(2)
        .and_then(|field| yescrypt::Params::from_str(field).ok())
        .is_none_or(|p| {
            let memory = 128u64
                .saturating_mul(p.n())
                .saturating_mul(u64::from(p.r()));
            memory <= MAX_MEMORY_BYTES && p.p() <= MAX_PARALLELISM
        })
}

/// PHC `$argon2id$v=19$m=KiB,t=passes,p=lanes$…`.
pub(crate) fn argon2_ok(phc: &str) -> bool {
    let Some(params) = phc.split('$').find(|f| f.starts_with("m=")) else {
        return true;
    };
    params.split(',').all(|pair| {
        let Some((key, value)) = pair.split_once('=') else {
            return true;
        };
        let Ok(value) = value.parse::<u64>() else {
            return true;
        };
        match key {
            "m" => value.saturating_mul(1024) <= MAX_MEMORY_BYTES,
            "t" => value <= u64::from(MAX_ARGON2_PASSES),
            "p" => value <= u64::from(MAX_PARALLELISM),
            _ => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_hashes_pass() {
        assert!(sha_crypt_ok("$6$rounds=10000$salt$hash"));
        assert!(sha_crypt_ok("$6$salt$hash"));
        assert!(bcrypt_ok("$2y$05$x6pBEqqZpq7DgwjNCNpiee"));
        assert!(yescrypt_ok("$y$j9T$rYDGaY8aCRRZ8tu/.FUF5/$vcDB"));
        assert!(argon2_ok("$argon2id$v=19$m=65536,t=3,p=1$salt$hash"));
    }

    #[test]
    fn absurd_costs_are_refused() {
        assert!(!sha_crypt_ok("$6$rounds=999999999$salt$hash"));
        assert!(!bcrypt_ok("$2y$31$x6pBEqqZpq7DgwjNCNpiee"));
        assert!(!argon2_ok("$argon2id$v=19$m=4294967295,t=3,p=1$s$h"));
        assert!(!argon2_ok("$argon2id$v=19$m=65536,t=100000,p=1$s$h"));
        assert!(!argon2_ok("$argon2id$v=19$m=65536,t=3,p=255$s$h"));
        // yescrypt "jHT": N = 2^20 blocks of r = 32 → 4 GiB.
        assert!(!yescrypt_ok("$y$jHT$salt$hash"));
    }
}
