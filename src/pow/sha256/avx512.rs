//! sha256d of 16 headers at once, one per 32-bit lane of AVX-512 registers.
//! Rotations are `vprord`; Σ, σ, Ch and Maj are one `vpternlogd` each.

use core::arch::x86_64::*;

type V = __m512i;

#[target_feature(enable = "avx512f")]
#[inline]
fn add(a: V, b: V) -> V {
    _mm512_add_epi32(a, b)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn splat(x: u32) -> V {
    _mm512_set1_epi32(x as i32)
}

/// a ^ b ^ c.
#[target_feature(enable = "avx512f")]
#[inline]
fn xor3(a: V, b: V, c: V) -> V {
    _mm512_ternarylogic_epi32::<0x96>(a, b, c)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn big_sigma0(x: V) -> V {
    xor3(_mm512_ror_epi32::<2>(x), _mm512_ror_epi32::<13>(x), _mm512_ror_epi32::<22>(x))
}

#[target_feature(enable = "avx512f")]
#[inline]
fn big_sigma1(x: V) -> V {
    xor3(_mm512_ror_epi32::<6>(x), _mm512_ror_epi32::<11>(x), _mm512_ror_epi32::<25>(x))
}

#[target_feature(enable = "avx512f")]
#[inline]
fn small_sigma0(x: V) -> V {
    xor3(_mm512_ror_epi32::<7>(x), _mm512_ror_epi32::<18>(x), _mm512_srli_epi32::<3>(x))
}

#[target_feature(enable = "avx512f")]
#[inline]
fn small_sigma1(x: V) -> V {
    xor3(_mm512_ror_epi32::<17>(x), _mm512_ror_epi32::<19>(x), _mm512_srli_epi32::<10>(x))
}

/// Ch(e, f, g): f where e is set, else g (truth table 0xca).
#[target_feature(enable = "avx512f")]
#[inline]
fn ch(e: V, f: V, g: V) -> V {
    _mm512_ternarylogic_epi32::<0xca>(e, f, g)
}

/// Maj(a, b, c): the majority of each bit (truth table 0xe8).
#[target_feature(enable = "avx512f")]
#[inline]
fn maj(a: V, b: V, c: V) -> V {
    _mm512_ternarylogic_epi32::<0xe8>(a, b, c)
}

/// Bytes `16 * chunk .. 16 * chunk + 16` of one header, as four big-endian words.
#[target_feature(enable = "avx512f,avx512bw")]
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
#[target_feature(enable = "avx512f")]
#[inline]
fn transpose4([r0, r1, r2, r3]: [V; 4]) -> [V; 4] {
    let t0 = _mm512_unpacklo_epi32(r0, r1);
    let t1 = _mm512_unpacklo_epi32(r2, r3);
    let t2 = _mm512_unpackhi_epi32(r0, r1);
    let t3 = _mm512_unpackhi_epi32(r2, r3);
    [
        _mm512_unpacklo_epi64(t0, t1),
        _mm512_unpackhi_epi64(t0, t1),
        _mm512_unpacklo_epi64(t2, t3),
        _mm512_unpackhi_epi64(t2, t3),
    ]
}

/// Message words `4 * chunk .. 4 * chunk + 4` of every header: vector `j`,
/// lane `l` is word `4 * chunk + j` of header `l`.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn load4(headers: &[&[u8; 80]; 16], chunk: usize) -> [V; 4] {
    // Row k holds headers k, 4 + k, 8 + k, 12 + k in its four 128-bit blocks.
    let row = |k: usize| {
        let v = _mm512_castsi128_si512(chunk_words(headers[k], chunk));
        let v = _mm512_inserti32x4::<1>(v, chunk_words(headers[4 + k], chunk));
        let v = _mm512_inserti32x4::<2>(v, chunk_words(headers[8 + k], chunk));
        _mm512_inserti32x4::<3>(v, chunk_words(headers[12 + k], chunk))
    };
    transpose4([row(0), row(1), row(2), row(3)])
}

/// Writes digest words `4 * half .. 4 * half + 4` (vector `j`, lane `l` is
/// word `4 * half + j` of digest `l`) big-endian into every digest.
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn store4(out: &mut [[u8; 32]; 16], half: usize, words: [V; 4]) {
    let mask = _mm512_broadcast_i32x4(_mm_set_epi64x(0x0c0d_0e0f_0809_0a0b, 0x0405_0607_0001_0203));
    let rows = transpose4(words).map(|r| _mm512_shuffle_epi8(r, mask));
    for (k, row) in rows.iter().enumerate() {
        let blocks = [
            _mm512_extracti32x4_epi32::<0>(*row),
            _mm512_extracti32x4_epi32::<1>(*row),
            _mm512_extracti32x4_epi32::<2>(*row),
            _mm512_extracti32x4_epi32::<3>(*row),
        ];
        for (p, block) in blocks.into_iter().enumerate() {
            let dst: &mut [u8; 16] =
                (&mut out[4 * p + k][16 * half..16 * half + 16]).try_into().expect("16 bytes");
            // SAFETY: `dst` is an exclusive reference to 16 bytes, exactly what
            // `_mm_storeu_si128` writes; it has no alignment requirement.
            unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), block) };
        }
    }
}

super::lanes::sha256d_lanes!("avx512f,avx512bw", 16);
