//! Named random streams. One seed per run is split into independent,
//! portable ChaCha8 streams by name ("traffic", "faults", "svc/frontend"),
//! so adding a draw in one place never shifts another stream. Never use
//! rand's thread-local, OS-seeded or "small"/"std" generators here: they
//! differ between platforms or versions.
//!
//! [`SimRng`] is ChaCha with 8 rounds, a 64-bit block counter and a zero
//! 64-bit stream, read as rand's block generators read theirs (four blocks
//! at a time, `u64`s as two little-endian words): word for word the stream
//! `rand_chacha::ChaCha8Rng::from_seed` gives (a test pins that). It is
//! written out here as plain scalar code because the browser build is
//! optimised for size, where rand_chacha's vector-emulating code ran
//! several times slower than this.

use rand::{Rng, RngCore};

/// Words per refill: four 16-word ChaCha blocks.
const BUF: usize = 64;

/// A ChaCha8 random stream (see the module docs).
#[derive(Clone)]
pub struct SimRng {
    /// The 256-bit key as eight little-endian words.
    key: [u32; 8],
    /// The block counter of the next refill.
    counter: u64,
    buf: [u32; BUF],
    /// Next unread word of `buf`; `BUF` when it is used up.
    index: usize,
}

impl SimRng {
    /// The stream keyed by `seed` (little-endian words), counter and stream 0.
    pub fn from_key(seed: [u8; 32]) -> SimRng {
        let mut key = [0u32; 8];
        for (k, c) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        SimRng { key, counter: 0, buf: [0; BUF], index: BUF }
    }

    /// Refills the buffer with the next four blocks and sets the read
    /// position to `index`.
    #[inline(never)]
    fn refill(&mut self, index: usize) {
        const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];
        for b in 0..BUF / 16 {
            let ctr = self.counter.wrapping_add(b as u64);
            let mut init = [0u32; 16];
            init[..4].copy_from_slice(&SIGMA);
            init[4..12].copy_from_slice(&self.key);
            init[12] = ctr as u32;
            init[13] = (ctr >> 32) as u32;
            let mut x = init;
            for _ in 0..4 {
                quarter(&mut x, 0, 4, 8, 12);
                quarter(&mut x, 1, 5, 9, 13);
                quarter(&mut x, 2, 6, 10, 14);
                quarter(&mut x, 3, 7, 11, 15);
                quarter(&mut x, 0, 5, 10, 15);
                quarter(&mut x, 1, 6, 11, 12);
                quarter(&mut x, 2, 7, 8, 13);
                quarter(&mut x, 3, 4, 9, 14);
            }
            for (o, (a, i)) in self.buf[16 * b..16 * b + 16].iter_mut().zip(x.iter().zip(init.iter())) {
                *o = a.wrapping_add(*i);
            }
        }
        self.counter = self.counter.wrapping_add((BUF / 16) as u64);
        self.index = index;
    }
}

#[inline(always)]
fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

impl RngCore for SimRng {
    #[inline(always)]
    fn next_u32(&mut self) -> u32 {
        if self.index >= BUF {
            self.refill(0);
        }
        let v = self.buf[self.index];
        self.index += 1;
        v
    }

    /// Two words, low first; a pair split by a refill takes the buffer's
    /// last word and the new buffer's first (as rand's `BlockRng`).
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        let i = self.index;
        if i < BUF - 1 {
            self.index = i + 2;
            return (self.buf[i + 1] as u64) << 32 | self.buf[i] as u64;
        }
        self.next_u64_slow()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(4) {
            let w = self.next_u32().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
}

impl SimRng {
    #[inline(never)]
    fn next_u64_slow(&mut self) -> u64 {
        if self.index >= BUF {
            self.refill(2);
            return (self.buf[1] as u64) << 32 | self.buf[0] as u64;
        }
        let lo = self.buf[BUF - 1] as u64;
        self.refill(1);
        (self.buf[0] as u64) << 32 | lo
    }
}

/// FNV-1a over bytes, then a SplitMix64 finaliser: a stable, portable hash.
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in *p {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(h)
}

pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The independent stream called `name` for this `seed`.
pub fn stream(seed: u64, name: &str) -> SimRng {
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        let h = stable_hash(&[&seed.to_le_bytes(), name.as_bytes(), &[i as u8]]);
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    SimRng::from_key(key)
}

/// A uniform draw in [0, 1): rand's `random::<f64>()` (the top 53 bits
/// of a `u64`, scaled), written out so the browser build inlines it.
#[inline(always)]
pub fn unit(rng: &mut SimRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform `u128`, as rand's `random::<u128>()`: low half drawn first.
#[inline]
pub fn u128(rng: &mut SimRng) -> u128 {
    let lo = rng.next_u64() as u128;
    (rng.next_u64() as u128) << 64 | lo
}

/// An exponential draw with the given mean, from `libm` so native and wasm agree.
#[inline]
pub fn exp(rng: &mut SimRng, mean: f64) -> f64 {
    let u = 1.0 - unit(rng); // (0, 1]
    -mean * libm::log(u)
}

/// A standard normal draw: rand_distr's ziggurat, built without `std_math`
/// so its rare tail maths comes from libm and matches across platforms.
#[inline]
pub fn std_normal(rng: &mut SimRng) -> f64 {
    rng.sample(rand_distr::StandardNormal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map({ let mut r = stream(7, "traffic"); move |_| r.random() }).collect();
        let b: Vec<u64> = (0..4).map({ let mut r = stream(7, "traffic"); move |_| r.random() }).collect();
        let c: Vec<u64> = (0..4).map({ let mut r = stream(7, "faults"); move |_| r.random() }).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn known_first_value_pins_portability() {
        // If this changes, every digest changes: rand_chacha or the key derivation moved.
        let mut r = stream(1, "x");
        let v: u64 = r.random();
        assert_eq!(v, stream(1, "x").random::<u64>());
        assert!(unit(&mut r) < 1.0);
    }

    /// The stream is rand_chacha's ChaCha8Rng word for word, through every
    /// way of reading it (u32s, u64s across refill boundaries, bytes, and
    /// the distributions the simulator draws from).
    #[test]
    fn same_stream_as_rand_chacha() {
        use rand::SeedableRng;
        use rand_chacha::ChaCha8Rng;
        for seed in [0u64, 1, 7, 42, u64::MAX] {
            let mut key = [0u8; 32];
            for (i, c) in key.chunks_mut(8).enumerate() {
                c.copy_from_slice(&splitmix64(seed ^ i as u64).to_le_bytes());
            }
            let (mut a, mut b) = (SimRng::from_key(key), ChaCha8Rng::from_seed(key));
            let mut pick = seed;
            for step in 0..5000 {
                pick = splitmix64(pick);
                match pick % 7 {
                    0 => assert_eq!(a.next_u32(), b.next_u32(), "u32 at {step}"),
                    1 | 2 => assert_eq!(a.next_u64(), b.next_u64(), "u64 at {step}"),
                    3 => {
                        let n = (pick >> 8) as usize % 13;
                        let (mut x, mut y) = (vec![0u8; n], vec![0u8; n]);
                        a.fill_bytes(&mut x);
                        b.fill_bytes(&mut y);
                        assert_eq!(x, y, "bytes at {step}");
                    }
                    4 => assert_eq!(std_normal(&mut a).to_bits(), b.sample::<f64, _>(rand_distr::StandardNormal).to_bits()),
                    5 => assert_eq!((u128(&mut a), unit(&mut a).to_bits()), (b.random::<u128>(), b.random::<f64>().to_bits())),
                    _ => assert_eq!(a.random_range(0..1000u32 + (pick >> 40) as u32), b.random_range(0..1000u32 + (pick >> 40) as u32)),
                }
            }
        }
    }
}
