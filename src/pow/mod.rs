//! Proof of work: sha256d of headers (one at a time and in batches),
//! compact targets, 256-bit targets and chainwork.
//!
//! Hashing many headers is the cost that matters: [`hash_headers`] runs the
//! fastest [`Kernel`] of the machine on one core, [`par_hash_headers`] spreads
//! a large batch over every core.

mod compact;
mod sha256;
mod target;
mod u256;
mod worker;

pub use compact::{CompactTarget, ExpandedCompact};
pub use sha256::Kernel;
pub(crate) use target::meets_target;
pub use target::{check_proof_of_work, derive_target, work_from_bits, work_from_target, PowError};
pub use u256::U256;
pub use worker::HashWorker;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::wire::{BlockHash, BlockHeader};

/// sha256(sha256(data)), for a message of any length (the envelope checksum).
///
/// One long message is a single dependency chain, so this stays on the `sha2`
/// crate (which itself uses SHA-NI when the CPU has it).
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha256::sha2_sha256d(data)
}

/// The block hash of one header (with SHA-NI when the CPU has it).
pub fn block_hash(header: &BlockHeader) -> BlockHash {
    BlockHash(sha256::sha256d_one(header.bytes()))
}

/// Hashes a batch of headers, appending one hash per header to `out`, in order.
///
/// This is the entry point the validator uses for every `headers` message: it
/// runs [`Kernel::best`] on the current thread, several headers at once. The
/// result is always identical to calling [`block_hash`] on each header in turn.
pub fn hash_headers<'a, I>(headers: I, out: &mut Vec<BlockHash>)
where
    I: IntoIterator<Item = &'a BlockHeader>,
{
    Kernel::best().hash_headers(headers, out);
}

/// The fewest headers per thread for [`par_hash_headers`] to start another
/// thread.
///
/// Splitting costs about 25 µs of CPU per call here (thread start and join;
/// BENCHMARKS.md "Hashing": `par_hash_headers` spends 81% to 92% of one
/// core's CPU time per header on 8,192 headers, 95% on 40,000). 4096 headers
/// are about 160 µs of AVX-512 hashing (about 300 µs with SHA-NI), so with at
/// least that much per thread the split pays clearly (1.4x to 1.6x at 8,192
/// headers, 1.8x at 40,000 on two cores); a single 2000-header `headers`
/// message would gain little and is hashed on the calling thread.
pub const PAR_MIN_HEADERS_PER_THREAD: usize = 4096;

/// Hashes a batch of headers on every available core, appending one hash per
/// header to `out`, in order.
///
/// Uses at most [`std::thread::available_parallelism`] threads, each with at
/// least [`PAR_MIN_HEADERS_PER_THREAD`] headers, the calling thread among them.
/// The batch is cut into pieces of [`PAR_PIECE_HEADERS`] that every thread
/// takes in turn until none is left, so a thread that starts late (a busy
/// machine) or not at all (the operating system refused it) only shifts
/// pieces to the others. The result is identical to [`hash_headers`].
pub fn par_hash_headers(headers: &[BlockHeader], out: &mut Vec<BlockHash>) {
    let kernel = Kernel::best();
    let start = out.len();
    out.resize(start + headers.len(), BlockHash::ZERO);
    let dst = &mut out[start..];

    let threads = cores().min(headers.len() / PAR_MIN_HEADERS_PER_THREAD).max(1);
    if threads == 1 {
        kernel.hash_into(headers, dst);
        return;
    }
    // Each piece sits in a slot until a thread takes it out to hash it.
    let pieces: Vec<Mutex<Option<Piece<'_>>>> = headers
        .chunks(PAR_PIECE_HEADERS)
        .zip(dst.chunks_mut(PAR_PIECE_HEADERS))
        .map(|p| Mutex::new(Some(p)))
        .collect();
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(slot) = pieces.get(next.fetch_add(1, Ordering::Relaxed)) {
            let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some((h, o)) = taken {
                kernel.hash_into(h, o);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads {
            let builder = std::thread::Builder::new().name("bitwire-hash".into());
            // A refused thread leaves its pieces to the others.
            let _ = builder.spawn_scoped(scope, work);
        }
        work();
    });
}

/// The size of the pieces [`par_hash_headers`] hands out: a multiple of every
/// kernel's lane count, about 40 µs of hashing, so handing one out (an atomic
/// add and an uncontended lock) costs nothing beside it.
pub const PAR_PIECE_HEADERS: usize = 1024;

/// A piece of [`par_hash_headers`]'s work: headers and where their hashes go.
type Piece<'a> = (&'a [BlockHeader], &'a mut [BlockHash]);

/// The number of cores to use, read once (it costs system calls on Linux).
pub(crate) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}
