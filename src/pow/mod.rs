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

pub use compact::{CompactTarget, ExpandedCompact};
pub use sha256::Kernel;
pub use target::{check_proof_of_work, derive_target, work_from_bits, work_from_target, PowError};
pub use u256::U256;

use std::num::NonZeroUsize;
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
/// Starting and joining a scoped thread costs a few tens of microseconds; 4096
/// headers are about half a millisecond of hashing with the best kernel, so
/// the start-up cost stays under a tenth of the work it takes over. Smaller
/// batches (a single 2000-header `headers` message included) are hashed on the
/// calling thread.
pub const PAR_MIN_HEADERS_PER_THREAD: usize = 4096;

/// Hashes a batch of headers on every available core, appending one hash per
/// header to `out`, in order.
///
/// The batch is cut into one contiguous share per thread (at most
/// [`std::thread::available_parallelism`] threads, each with at least
/// [`PAR_MIN_HEADERS_PER_THREAD`] headers); the calling thread hashes the first
/// share itself. If the operating system refuses a thread, that share is
/// hashed on the calling thread instead. The result is identical to
/// [`hash_headers`].
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
    // Whole groups of lanes per share, so only the last share has a tail.
    let share = headers.len().div_ceil(threads).next_multiple_of(kernel.lanes());
    // Each share sits in a slot that the thread hashing it empties; a share
    // whose thread could not be started is still in its slot afterwards.
    let slots: Vec<Mutex<Option<Share<'_>>>> =
        headers.chunks(share).zip(dst.chunks_mut(share)).map(|s| Mutex::new(Some(s))).collect();
    let run = |slot: &Mutex<Option<Share<'_>>>| {
        let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some((h, o)) = taken {
            kernel.hash_into(h, o);
        }
    };
    std::thread::scope(|scope| {
        for slot in &slots[1..] {
            let builder = std::thread::Builder::new().name("bitwire-hash".into());
            // On error the share stays in its slot and is hashed below.
            let _ = builder.spawn_scoped(scope, move || run(slot));
        }
        slots.iter().for_each(run);
    });
}

/// A share of [`par_hash_headers`]'s work: headers and where their hashes go.
type Share<'a> = (&'a [BlockHeader], &'a mut [BlockHash]);

/// The number of cores to use, read once (it costs system calls on Linux).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}
