//! sha256d of 1, 2 or 4 headers at once with the SHA-NI instructions.
//!
//! One SHA-256 compression is a chain of 32 dependent `sha256rnds2`; hashing
//! one header at a time leaves the SHA unit idle while each result is awaited.
//! Interleaving `N` independent headers, round group by round group, gives the
//! core `N` chains to overlap. The state is kept in the `ABEF`/`CDGH` register
//! form that `sha256rnds2` uses (Intel, "Intel SHA Extensions", 2013).

use core::arch::x86_64::*;

use super::consts::{IV, K, PAD32, PAD80};

/// `(abef, cdgh)`: the eight state words as `sha256rnds2` wants them.
type State = (__m128i, __m128i);

/// Builds a vector whose lane `i` (lowest first) is `w[i]`.
#[target_feature(enable = "sse2")]
#[inline]
fn words(w: [u32; 4]) -> __m128i {
    _mm_set_epi32(w[3] as i32, w[2] as i32, w[1] as i32, w[0] as i32)
}

/// Reverses the bytes of every 32-bit lane (big-endian words <-> bytes).
#[target_feature(enable = "sse2,ssse3")]
#[inline]
fn bswap32(v: __m128i) -> __m128i {
    let mask = _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203);
    _mm_shuffle_epi8(v, mask)
}

/// Loads bytes `16 * i .. 16 * i + 16` of a header as four big-endian words.
#[target_feature(enable = "sse2,ssse3")]
#[inline]
fn load_words(header: &[u8; 80], i: usize) -> __m128i {
    let chunk: &[u8; 16] = header[16 * i..16 * i + 16].try_into().expect("16 bytes");
    // SAFETY: `chunk` is a reference to 16 initialised bytes, exactly what
    // `_mm_loadu_si128` reads; it has no alignment requirement.
    let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast()) };
    bswap32(v)
}

/// The initial state H(0) in `(abef, cdgh)` form.
#[target_feature(enable = "sse2")]
#[inline]
fn iv() -> State {
    let [a, b, c, d, e, f, g, h] = IV;
    (words([f, e, b, a]), words([h, g, d, c]))
}

/// Converts `(abef, cdgh)` back to the words `(a, b, c, d)` and `(e, f, g, h)`,
/// lowest lane first.
#[target_feature(enable = "sse2,ssse3,sse4.1")]
#[inline]
fn to_words((abef, cdgh): State) -> (__m128i, __m128i) {
    let feba = _mm_shuffle_epi32(abef, 0x1b);
    let dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    let dcba = _mm_blend_epi16(feba, dchg, 0xf0);
    let hgef = _mm_alignr_epi8(dchg, feba, 8);
    (dcba, hgef)
}

/// Four rounds starting at round `4 * g`, with message words `m` (W[4g..4g+4]).
#[target_feature(enable = "sha,sse2")]
#[inline]
fn rounds4(s: &mut State, m: __m128i, g: usize) {
    let wk = _mm_add_epi32(m, words([K[4 * g], K[4 * g + 1], K[4 * g + 2], K[4 * g + 3]]));
    s.1 = _mm_sha256rnds2_epu32(s.1, s.0, wk);
    s.0 = _mm_sha256rnds2_epu32(s.0, s.1, _mm_shuffle_epi32(wk, 0x0e));
}

/// W[t..t+4] from the previous sixteen words `w0..w3` (oldest first).
#[target_feature(enable = "sha,sse2,ssse3")]
#[inline]
fn schedule(w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i) -> __m128i {
    let t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
    _mm_sha256msg2_epu32(t, w3)
}

/// Compresses one block per lane, the `N` lanes interleaved group by group.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn compress<const N: usize>(state: &mut [State; N], mut w: [[__m128i; 4]; N]) {
    let mut s = *state;
    // Written out so every index is a constant: the ring `w` stays in registers.
    macro_rules! group {
        ($g:literal) => {
            for l in 0..N {
                let m = if $g < 4 {
                    w[l][$g % 4]
                } else {
                    let ring = &mut w[l];
                    let next = schedule(
                        ring[$g % 4],
                        ring[($g + 1) % 4],
                        ring[($g + 2) % 4],
                        ring[($g + 3) % 4],
                    );
                    ring[$g % 4] = next;
                    next
                };
                rounds4(&mut s[l], m, $g);
            }
        };
    }
    group!(0);
    group!(1);
    group!(2);
    group!(3);
    group!(4);
    group!(5);
    group!(6);
    group!(7);
    group!(8);
    group!(9);
    group!(10);
    group!(11);
    group!(12);
    group!(13);
    group!(14);
    group!(15);
    for l in 0..N {
        state[l].0 = _mm_add_epi32(state[l].0, s[l].0);
        state[l].1 = _mm_add_epi32(state[l].1, s[l].1);
    }
}

/// sha256d of `N` headers, interleaved.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
#[inline]
fn sha256d_n<const N: usize>(headers: &[&[u8; 80]; N]) -> [[u8; 32]; N] {
    let p80 = |i: usize| words([PAD80[i], PAD80[i + 1], PAD80[i + 2], PAD80[i + 3]]);
    let p32 = |i: usize| words([PAD32[i], PAD32[i + 1], PAD32[i + 2], PAD32[i + 3]]);

    let mut state = [iv(); N];
    let block1 = core::array::from_fn(|l| core::array::from_fn(|i| load_words(headers[l], i)));
    compress(&mut state, block1);
    let block2 = core::array::from_fn(|l| [load_words(headers[l], 4), p80(0), p80(4), p80(8)]);
    compress(&mut state, block2);

    let block3 = core::array::from_fn(|l| {
        let (abcd, efgh) = to_words(state[l]);
        [abcd, efgh, p32(0), p32(4)]
    });
    let mut out_state = [iv(); N];
    compress(&mut out_state, block3);

    let mut out = [[0u8; 32]; N];
    for (digest, s) in out.iter_mut().zip(out_state) {
        let (abcd, efgh) = to_words(s);
        let (lo, hi) = digest.split_at_mut(16);
        let lo: &mut [u8; 16] = lo.try_into().expect("16 bytes");
        let hi: &mut [u8; 16] = hi.try_into().expect("16 bytes");
        // SAFETY: `lo` and `hi` are exclusive references to 16 bytes each,
        // exactly what `_mm_storeu_si128` writes; it has no alignment requirement.
        unsafe {
            _mm_storeu_si128(lo.as_mut_ptr().cast(), bswap32(abcd));
            _mm_storeu_si128(hi.as_mut_ptr().cast(), bswap32(efgh));
        }
    }
    out
}

/// sha256d of one header.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(super) fn sha256d_x1(headers: &[&[u8; 80]; 1]) -> [[u8; 32]; 1] {
    sha256d_n(headers)
}

/// sha256d of two headers, interleaved.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(super) fn sha256d_x2(headers: &[&[u8; 80]; 2]) -> [[u8; 32]; 2] {
    sha256d_n(headers)
}

/// sha256d of four headers, interleaved.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
pub(super) fn sha256d_x4(headers: &[&[u8; 80]; 4]) -> [[u8; 32]; 4] {
    sha256d_n(headers)
}
