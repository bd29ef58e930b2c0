//! Message-parallel SHA-256: `N` independent headers, one per SIMD lane.
//!
//! [`sha256d_lanes!`] writes the rounds once over a small set of vector
//! primitives (`add`, `splat`, `big_sigma0`, `big_sigma1`, `small_sigma0`,
//! `small_sigma1`, `ch`, `maj`, and the transposing `load4` / `store4`) that
//! each instruction-set module (`avx2`, `avx512`) defines. The 64 rounds are
//! unrolled by macros, with every index a constant, so the constant words of
//! the padding blocks (`PAD80`, `PAD32`) fold away at compile time.

/// Expands to `pub(super) fn sha256d_headers(&[&[u8; 80]; $n]) -> [[u8; 32]; $n]`,
/// compiled with `$features`, in a module defining the primitives above for
/// the vector type `V`.
macro_rules! sha256d_lanes {
    ($features:literal, $n:literal) => {
        use super::consts::{IV, K, PAD32, PAD80};

        /// One round `t` on the state `s`, whose roles rotate by one slot per
        /// round (slot `(8 - t % 8) % 8` is `a`), so nothing moves between rounds.
        #[target_feature(enable = $features)]
        #[inline]
        fn round(s: &mut [V; 8], t: usize, w: V) {
            let r = t % 8;
            let at = |i: usize| (i + 8 - r) % 8;
            let (a, b, c) = (s[at(0)], s[at(1)], s[at(2)]);
            let (e, f, g, h) = (s[at(4)], s[at(5)], s[at(6)], s[at(7)]);
            let t1 = add(add(add(h, big_sigma1(e)), add(ch(e, f, g), splat(K[t]))), w);
            let t2 = add(big_sigma0(a), maj(a, b, c));
            s[at(3)] = add(s[at(3)], t1);
            s[at(7)] = add(t1, t2);
        }

        /// `W[t]` for t >= 16, replacing `W[t - 16]` in the ring `w`.
        #[target_feature(enable = $features)]
        #[inline]
        fn schedule(w: &mut [V; 16], t: usize) -> V {
            let next = add(
                add(small_sigma1(w[(t - 2) % 16]), w[(t - 7) % 16]),
                add(small_sigma0(w[(t - 15) % 16]), w[t % 16]),
            );
            w[t % 16] = next;
            next
        }

        macro_rules! sixteen_rounds {
                    ($s:ident, $w:ident, $base:literal, $sched:literal) => {
                        sixteen_rounds!(@one $s, $w, $base, $sched, 0);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 1);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 2);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 3);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 4);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 5);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 6);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 7);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 8);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 9);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 10);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 11);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 12);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 13);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 14);
                        sixteen_rounds!(@one $s, $w, $base, $sched, 15);
                    };
                    (@one $s:ident, $w:ident, $base:literal, $sched:literal, $j:literal) => {{
                        let t = $base + $j;
                        let word = if $sched { schedule(&mut $w, t) } else { $w[t % 16] };
                        round(&mut $s, t, word);
                    }};
                }

        /// One compression of the block `$w` into `$state` (FIPS 180-4 §6.2.2),
        /// expanded in place so the constant words of a padding block fold.
        macro_rules! compress {
            ($state:ident, $w:expr) => {{
                let mut w: [V; 16] = $w;
                let mut s = $state;
                sixteen_rounds!(s, w, 0, false);
                sixteen_rounds!(s, w, 16, true);
                sixteen_rounds!(s, w, 32, true);
                sixteen_rounds!(s, w, 48, true);
                // 64 rounds turn the roles 8 times: slot i holds word i again.
                for i in 0..8 {
                    $state[i] = add($state[i], s[i]);
                }
            }};
        }

        /// sha256d of `$n` headers, one per lane.
        #[target_feature(enable = $features)]
        pub(super) fn sha256d_headers(headers: &[&[u8; 80]; $n]) -> [[u8; 32]; $n] {
            let iv: [V; 8] = core::array::from_fn(|i| splat(IV[i]));

            // First sha256, block 1: bytes 0..64.
            let mut mid = iv;
            let [w0, w1, w2, w3] = load4(headers, 0);
            let [w4, w5, w6, w7] = load4(headers, 1);
            let [w8, w9, w10, w11] = load4(headers, 2);
            let [w12, w13, w14, w15] = load4(headers, 3);
            compress!(mid, [w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15]);

            // First sha256, block 2: bytes 64..80, then the padding of 80 bytes.
            let [w0, w1, w2, w3] = load4(headers, 4);
            let block2: [V; 16] = core::array::from_fn(|i| match i {
                0 => w0,
                1 => w1,
                2 => w2,
                3 => w3,
                _ => splat(PAD80[i - 4]),
            });
            compress!(mid, block2);

            // Second sha256: the 32-byte digest, then the padding of 32 bytes.
            let mut fin = iv;
            let block3: [V; 16] =
                core::array::from_fn(|i| if i < 8 { mid[i] } else { splat(PAD32[i - 8]) });
            compress!(fin, block3);

            let mut out = [[0u8; 32]; $n];
            store4(&mut out, 0, [fin[0], fin[1], fin[2], fin[3]]);
            store4(&mut out, 1, [fin[4], fin[5], fin[6], fin[7]]);
            out
        }
    };
}

pub(super) use sha256d_lanes;
