//! Multi-buffer sha256d of 80-byte block headers, and the choice of kernel.
//!
//! sha256d of a header is three SHA-256 compressions: the header's bytes
//! 0..64; its bytes 64..80 with the fixed padding of an 80-byte message; and
//! the 32-byte digest with the fixed padding of a 32-byte message. The three
//! are a dependency chain, but different headers are independent, so a
//! [`Kernel`] hashes several at once:
//!
//! - `sha-ni-x1`, `sha-ni-x2`, `sha-ni-x4` (x86_64 with SHA-NI): 1, 2 or 4
//!   headers interleaved through the SHA instructions;
//! - `avx2-x8`, `avx512-x16` (x86_64): 8 or 16 headers, one per SIMD lane,
//!   with plain integer SIMD;
//! - `sha2`: the `sha2` crate, one header at a time, everywhere.
//!
//! On a Sapphire Rapids Xeon (BENCHMARKS.md "Hashing") `avx512-x16` is about
//! 3x a `sha2` loop: sixteen lanes with one-instruction rotates and ternary
//! logic outrun the SHA unit, whose `sha256rnds2` here gains only 1.3x to 1.7x
//! from interleaving. Running SHA-NI steps between the AVX-512 rounds of the
//! same thread was tried and halved the throughput (the legacy-SSE SHA
//! instructions mixed with 512-bit code), so it is not offered.
//!
//! Every `unsafe` block of `pow` lives in this module and its children: the
//! calls into the kernels (each right after a run-time check of the kernel's
//! target features) and the unaligned SIMD loads and stores.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod consts;
#[cfg(target_arch = "x86_64")]
mod lanes;
#[cfg(target_arch = "x86_64")]
mod shani;

use std::fmt;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::wire::{BlockHash, BlockHeader};

/// One implementation of sha256d over 80-byte headers.
///
/// A `Kernel` can only be obtained from [`Kernel::available`],
/// [`Kernel::best`], [`Kernel::by_name`] or [`Kernel::sha2`], which return only
/// kernels the running CPU supports (each kernel also checks its target
/// features again before it runs: one cached load). Every kernel gives exactly
/// the hashes of the `sha2` crate, one header at a time.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kernel(Imp);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Imp {
    Sha2,
    #[cfg(target_arch = "x86_64")]
    ShaNi1,
    #[cfg(target_arch = "x86_64")]
    ShaNi2,
    #[cfg(target_arch = "x86_64")]
    ShaNi4,
    #[cfg(target_arch = "x86_64")]
    Avx2x8,
    #[cfg(target_arch = "x86_64")]
    Avx512x16,
}

/// Every kernel compiled in, in order of preference: fastest first as
/// measured on this project's Sapphire Rapids Xeon (BENCHMARKS.md "Hashing":
/// AVX-512 x16 about 3.0x a `sha2` loop, SHA-NI x4 1.7x, x2 1.5x, x1 1.3x,
/// AVX2 x8 1.0x).
const PREFERENCE: &[Imp] = &[
    #[cfg(target_arch = "x86_64")]
    Imp::Avx512x16,
    #[cfg(target_arch = "x86_64")]
    Imp::ShaNi4,
    #[cfg(target_arch = "x86_64")]
    Imp::ShaNi2,
    #[cfg(target_arch = "x86_64")]
    Imp::ShaNi1,
    #[cfg(target_arch = "x86_64")]
    Imp::Avx2x8,
    Imp::Sha2,
];

impl Imp {
    fn supported(self) -> bool {
        match self {
            Imp::Sha2 => true,
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi1 | Imp::ShaNi2 | Imp::ShaNi4 => {
                std::arch::is_x86_feature_detected!("sha")
                    && std::arch::is_x86_feature_detected!("sse2")
                    && std::arch::is_x86_feature_detected!("ssse3")
                    && std::arch::is_x86_feature_detected!("sse4.1")
            }
            #[cfg(target_arch = "x86_64")]
            Imp::Avx2x8 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Imp::Avx512x16 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
            }
        }
    }
}

impl Kernel {
    /// The `sha2` crate, one header at a time: available everywhere.
    pub const fn sha2() -> Kernel {
        Kernel(Imp::Sha2)
    }

    /// Every kernel the running CPU supports, fastest first; the last is
    /// always [`Kernel::sha2`].
    pub fn available() -> Vec<Kernel> {
        PREFERENCE.iter().copied().filter(|imp| imp.supported()).map(Kernel).collect()
    }

    /// The fastest kernel the running CPU supports (detected once, then cached).
    pub fn best() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| Kernel::available()[0])
    }

    /// The kernel called `name` (see [`Kernel::name`]), if the running CPU
    /// supports it.
    pub fn by_name(name: &str) -> Option<Kernel> {
        Kernel::available().into_iter().find(|k| k.name() == name)
    }

    /// The kernel's name: `sha2`, `sha-ni-x1`, `sha-ni-x2`, `sha-ni-x4`,
    /// `avx2-x8` or `avx512-x16`.
    pub const fn name(self) -> &'static str {
        match self.0 {
            Imp::Sha2 => "sha2",
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi1 => "sha-ni-x1",
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi2 => "sha-ni-x2",
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi4 => "sha-ni-x4",
            #[cfg(target_arch = "x86_64")]
            Imp::Avx2x8 => "avx2-x8",
            #[cfg(target_arch = "x86_64")]
            Imp::Avx512x16 => "avx512-x16",
        }
    }

    /// How many headers the kernel hashes at once. A batch whose length is
    /// not a multiple of it ends with a shorter group (see
    /// [`Kernel::hash_headers`]).
    pub const fn lanes(self) -> usize {
        match self.0 {
            Imp::Sha2 => 1,
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi1 => 1,
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi2 => 2,
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi4 => 4,
            #[cfg(target_arch = "x86_64")]
            Imp::Avx2x8 => 8,
            #[cfg(target_arch = "x86_64")]
            Imp::Avx512x16 => 16,
        }
    }

    /// Hashes `headers` with this kernel, appending one hash per header to
    /// `out`, in order.
    ///
    /// The last group of a batch, shorter than [`Kernel::lanes`], is hashed
    /// one header at a time with SHA-NI when it is short (or the kernel is a
    /// SHA-NI one), else as a full group whose spare lanes repeat its last
    /// header: at most one extra group's work per batch.
    pub fn hash_headers<'a, I>(self, headers: I, out: &mut Vec<BlockHash>)
    where
        I: IntoIterator<Item = &'a BlockHeader>,
    {
        let headers = headers.into_iter();
        out.reserve(headers.size_hint().0);
        self.run(headers, |hash| out.push(hash));
    }

    /// Hashes `headers` into `out`, which has the same length.
    pub(crate) fn hash_into(self, headers: &[BlockHeader], out: &mut [BlockHash]) {
        debug_assert_eq!(headers.len(), out.len());
        let mut slots = out.iter_mut();
        self.run(headers.iter(), |hash| {
            if let Some(slot) = slots.next() {
                *slot = hash;
            }
        });
    }

    fn run<'a>(self, headers: impl Iterator<Item = &'a BlockHeader>, sink: impl FnMut(BlockHash)) {
        // Tails of the lane kernels: one header with SHA-NI costs about 1/7 of
        // a 16-lane AVX-512 group and 1/10 of an 8-lane AVX2 group here, so
        // shorter tails go one at a time; without SHA-NI, tails of at least
        // half a group are padded.
        #[cfg(target_arch = "x86_64")]
        let sha_ni = Imp::ShaNi1.supported();
        #[cfg(target_arch = "x86_64")]
        let one: OneFn = if sha_ni { shani1 } else { sha2_one };
        match self.0 {
            Imp::Sha2 => headers.map(|h| BlockHash(sha2_sha256d(h.bytes()))).for_each(sink),
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi1 => groups::<1>(headers, sink, shani1, shani1, 2),
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi2 => groups::<2>(headers, sink, shani2, shani1, 3),
            #[cfg(target_arch = "x86_64")]
            Imp::ShaNi4 => groups::<4>(headers, sink, shani4, shani1, 5),
            #[cfg(target_arch = "x86_64")]
            Imp::Avx2x8 => groups::<8>(headers, sink, avx2_x8, one, if sha_ni { 8 } else { 4 }),
            #[cfg(target_arch = "x86_64")]
            Imp::Avx512x16 => {
                groups::<16>(headers, sink, avx512_x16, one, if sha_ni { 7 } else { 8 })
            }
        }
    }
}

/// A kernel for a single header.
#[cfg(target_arch = "x86_64")]
type OneFn = fn(&[&[u8; 80]; 1]) -> [[u8; 32]; 1];

impl fmt::Debug for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kernel({})", self.name())
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// sha256(sha256(data)) with the `sha2` crate.
pub(crate) fn sha2_sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// Feeds `headers` to `full` in groups of `L`. A shorter last group of `n`
/// headers goes to `full` padded with copies of its last header when
/// `n >= pad_from`, else to `one` header by header.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn groups<'a, const L: usize>(
    mut headers: impl Iterator<Item = &'a BlockHeader>,
    mut sink: impl FnMut(BlockHash),
    full: fn(&[&[u8; 80]; L]) -> [[u8; 32]; L],
    one: fn(&[&[u8; 80]; 1]) -> [[u8; 32]; 1],
    pad_from: usize,
) {
    let Some(first) = headers.next() else { return };
    let mut group = [first.bytes(); L];
    let mut n = 1;
    loop {
        while n < L {
            match headers.next() {
                Some(h) => {
                    group[n] = h.bytes();
                    n += 1;
                }
                None => break,
            }
        }
        if n == L {
            full(&group).into_iter().for_each(|d| sink(BlockHash(d)));
        } else if n >= pad_from {
            let last = group[n - 1];
            group[n..].fill(last);
            full(&group).into_iter().take(n).for_each(|d| sink(BlockHash(d)));
            return;
        } else {
            group[..n].iter().for_each(|h| sink(BlockHash(one(&[*h])[0])));
            return;
        }
        match headers.next() {
            Some(h) => {
                group[0] = h.bytes();
                n = 1;
            }
            None => return,
        }
    }
}

/// sha256d of one header with the `sha2` crate.
fn sha2_one(headers: &[&[u8; 80]; 1]) -> [[u8; 32]; 1] {
    [sha2_sha256d(headers[0])]
}

// Each safe wrapper below checks the target features of its kernel itself
// (`is_x86_feature_detected!` caches its answer: one atomic load), so its
// soundness does not rest on how the caller obtained its `Kernel`. A failed
// check cannot happen for a `Kernel` built by its constructors; it falls back
// to `sha2`.

#[cfg(target_arch = "x86_64")]
fn shani1(headers: &[&[u8; 80]; 1]) -> [[u8; 32]; 1] {
    if !Imp::ShaNi1.supported() {
        return sha2_one(headers);
    }
    // SAFETY: `Imp::ShaNi1.supported()` just saw sha, sse2, ssse3 and sse4.1,
    // the target features of `sha256d_x1`.
    unsafe { shani::sha256d_x1(headers) }
}

#[cfg(target_arch = "x86_64")]
fn shani2(headers: &[&[u8; 80]; 2]) -> [[u8; 32]; 2] {
    if !Imp::ShaNi2.supported() {
        return headers.map(|h| sha2_sha256d(h));
    }
    // SAFETY: `Imp::ShaNi2.supported()` just saw sha, sse2, ssse3 and sse4.1,
    // the target features of `sha256d_x2`.
    unsafe { shani::sha256d_x2(headers) }
}

#[cfg(target_arch = "x86_64")]
fn shani4(headers: &[&[u8; 80]; 4]) -> [[u8; 32]; 4] {
    if !Imp::ShaNi4.supported() {
        return headers.map(|h| sha2_sha256d(h));
    }
    // SAFETY: `Imp::ShaNi4.supported()` just saw sha, sse2, ssse3 and sse4.1,
    // the target features of `sha256d_x4`.
    unsafe { shani::sha256d_x4(headers) }
}

#[cfg(target_arch = "x86_64")]
fn avx2_x8(headers: &[&[u8; 80]; 8]) -> [[u8; 32]; 8] {
    if !Imp::Avx2x8.supported() {
        return headers.map(|h| sha2_sha256d(h));
    }
    // SAFETY: `Imp::Avx2x8.supported()` just saw avx2, the target feature of
    // `avx2::sha256d_headers`.
    unsafe { avx2::sha256d_headers(headers) }
}

#[cfg(target_arch = "x86_64")]
fn avx512_x16(headers: &[&[u8; 80]; 16]) -> [[u8; 32]; 16] {
    if !Imp::Avx512x16.supported() {
        return headers.map(|h| sha2_sha256d(h));
    }
    // SAFETY: `Imp::Avx512x16.supported()` just saw avx512f and avx512bw, the
    // target features of `avx512::sha256d_headers`.
    unsafe { avx512::sha256d_headers(headers) }
}

/// The fastest way to hash a single header: SHA-NI when the CPU has it
/// (no buffering or padding logic, unlike `sha2`), else `sha2`.
pub(crate) fn sha256d_one(header: &[u8; 80]) -> [u8; 32] {
    #[cfg(target_arch = "x86_64")]
    return shani1(&[header])[0];
    #[cfg(not(target_arch = "x86_64"))]
    return sha2_one(&[header])[0];
}
