//! What every randomized suite shares: its size, its seed, a deterministic random
//! generator, and the summary line.

use std::time::{SystemTime, UNIX_EPOCH};

/// Whether `GALLERYFS_TORTURE=full` asks for the full sizes.
pub fn full() -> bool {
    std::env::var("GALLERYFS_TORTURE").is_ok_and(|v| v == "full")
}

/// `quick` normally, `full` under `GALLERYFS_TORTURE=full`.
pub fn size(quick: usize, full_size: usize) -> usize {
    if full() { full_size } else { quick }
}

/// The seed from `GALLERYFS_SEED` (decimal or 0x-hex), else a fresh one; printed.
pub fn seed(suite: &str) -> u64 {
    let seed = std::env::var("GALLERYFS_SEED")
        .ok()
        .and_then(|s| match s.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => s.parse().ok(),
        })
        .unwrap_or_else(|| {
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            t.as_nanos() as u64 ^ (std::process::id() as u64) << 32
        });
    eprintln!("{suite}: seed {seed:#x} (replay with GALLERYFS_SEED={seed:#x})");
    seed
}

/// Prints the suite's summary line, which `scripts/torture.sh` collects.
pub fn summary(suite: &str, seed: u64, figures: &str) {
    println!("SUITE {suite}: {figures} (seed {seed:#x})");
}

/// A small deterministic generator (xoshiro256**), so a seed replays a run exactly.
#[derive(Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix64 spreads the seed over the state.
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
