//! sha256d of 8 headers at once, one per 32-bit lane of AVX2 registers.

use core::arch::x86_64::*;

type V = __m256i;

#[target_feature(enable = "avx2")]
#[inline]
fn add(a: V, b: V) -> V {
    _mm256_add_epi32(a, b)
}

#[target_feature(enable = "avx2")]
#[inline]
fn splat(x: u32) -> V {
    _mm256_set1_epi32(x as i32)
}

#[target_feature(enable = "avx2")]
#[inline]
fn xor(a: V, b: V) -> V {
    _mm256_xor_si256(a, b)
}

/// Rotates every lane right by the literal `$r` (AVX2 has no rotate).
macro_rules! ror {
    ($x:expr, $r:literal) => {
        _mm256_or_si256(_mm256_srli_epi32::<$r>($x), _mm256_slli_epi32::<{ 32 - $r }>($x))
    };
}

#[target_feature(enable = "avx2")]
#[inline]
fn big_sigma0(x: V) -> V {
    xor(xor(ror!(x, 2), ror!(x, 13)), ror!(x, 22))
}

#[target_feature(enable = "avx2")]
#[inline]
fn big_sigma1(x: V) -> V {
    xor(xor(ror!(x, 6), ror!(x, 11)), ror!(x, 25))
}

#[target_feature(enable = "avx2")]
#[inline]
fn small_sigma0(x: V) -> V {
    xor(xor(ror!(x, 7), ror!(x, 18)), _mm256_srli_epi32::<3>(x))
}

#[target_feature(enable = "avx2")]
#[inline]
fn small_sigma1(x: V) -> V {
    xor(xor(ror!(x, 17), ror!(x, 19)), _mm256_srli_epi32::<10>(x))
}

/// Ch(e, f, g) = g ^ (e & (f ^ g)).
#[target_feature(enable = "avx2")]
#[inline]
fn ch(e: V, f: V, g: V) -> V {
    xor(g, _mm256_and_si256(e, xor(f, g)))
}

/// Maj(a, b, c) = (a & b) | (c & (a | b)).
#[target_feature(enable = "avx2")]
#[inline]
fn maj(a: V, b: V, c: V) -> V {
    _mm256_or_si256(_mm256_and_si256(a, b), _mm256_and_si256(c, _mm256_or_si256(a, b)))
}

/// Bytes `16 * chunk .. 16 * chunk + 16` of one header, as four big-endian words.
#[target_feature(enable = "avx2")]
#[inline]
fn chunk_words(header: &[u8; 80], chunk: usize) -> __m128i {
    let bytes: &[u8; 16] = header[16 * chunk..16 * chunk + 16].try_into().expect("16 bytes");
    // SAFETY: `bytes` refers to 16 initialised bytes, exactly what
    // `_mm_loadu_si128` reads; it has no alignment requirement.
    let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
    _mm_shuffle_epi8(v, _mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203))
}

/// Transposes four vectors within each 128-bit block: element `4p + j` of
/// input `k` becomes element `4p + k` of output `j`. It is its own inverse.
#[target_feature(enable = "avx2")]
#[inline]
fn transpose4([r0, r1, r2, r3]: [V; 4]) -> [V; 4] {
    let t0 = _mm256_unpacklo_epi32(r0, r1);
    let t1 = _mm256_unpacklo_epi32(r2, r3);
    let t2 = _mm256_unpackhi_epi32(r0, r1);
    let t3 = _mm256_unpackhi_epi32(r2, r3);
    [
        _mm256_unpacklo_epi64(t0, t1),
        _mm256_unpackhi_epi64(t0, t1),
        _mm256_unpacklo_epi64(t2, t3),
        _mm256_unpackhi_epi64(t2, t3),
    ]
}

/// Message words `4 * chunk .. 4 * chunk + 4` of every header: vector `j`,
/// lane `l` is word `4 * chunk + j` of header `l`.
#[target_feature(enable = "avx2")]
#[inline]
fn load4(headers: &[&[u8; 80]; 8], chunk: usize) -> [V; 4] {
    // Row k holds headers k and 4 + k in its two 128-bit blocks.
    let row = |k: usize| {
        let v = _mm256_castsi128_si256(chunk_words(headers[k], chunk));
        _mm256_inserti128_si256::<1>(v, chunk_words(headers[4 + k], chunk))
    };
    transpose4([row(0), row(1), row(2), row(3)])
}

/// Writes digest words `4 * half .. 4 * half + 4` (vector `j`, lane `l` is
/// word `4 * half + j` of digest `l`) big-endian into every digest.
#[target_feature(enable = "avx2")]
#[inline]
fn store4(out: &mut [[u8; 32]; 8], half: usize, words: [V; 4]) {
    let mask =
        _mm256_broadcastsi128_si256(_mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203));
    let rows = transpose4(words).map(|r| _mm256_shuffle_epi8(r, mask));
    for (k, row) in rows.iter().enumerate() {
        let blocks = [_mm256_extracti128_si256::<0>(*row), _mm256_extracti128_si256::<1>(*row)];
        for (p, block) in blocks.into_iter().enumerate() {
            let dst: &mut [u8; 16] =
                (&mut out[4 * p + k][16 * half..16 * half + 16]).try_into().expect("16 bytes");
            // SAFETY: `dst` is an exclusive reference to 16 bytes, exactly what
            // `_mm_storeu_si128` writes; it has no alignment requirement.
            unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), block) };
        }
    }
}

super::lanes::sha256d_lanes!("avx2", 8);
