//! Validation on every core: [`HeaderTree::accept_par`] and
//! [`ChainWindow::extend_par`].
//!
//! The rules and the tree are one dependency chain (each header links to the
//! one before), but hashing is not, and hashing is most of the work. The
//! batch is cut into chunks; every thread (the caller's included) claims
//! chunks in order and hashes them, and the calling thread, whenever the
//! oldest chunk not yet validated is hashed, validates it instead of hashing
//! more. So hashing and validation overlap and no core waits for a phase to
//! end: with two cores, one hashes while the other validates and hashes
//! what validation leaves it time for.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::{Accepted, ChainWindow, HeaderRejection, HeaderTree};
use crate::pow::{Kernel, PAR_MIN_HEADERS_PER_THREAD};
use crate::wire::{BlockHash, BlockHeader};

/// Headers per chunk: large enough that claiming one (an atomic add and an
/// uncontended lock) is lost in the 2048 × ~40 ns of hashing it, small enough
/// that the last chunks leave the cores little imbalance.
pub const PAR_CHUNK_HEADERS: usize = 2048;

/// One chunk's hashes in [`pipeline`], filled by whichever thread claims it,
/// in a small buffer handed back for another chunk once validated: a few
/// buffers serve the whole batch, where one for a million hashes would be
/// 32 MB of fresh pages, each faulting on first write (and a buffer per
/// chunk, allocated on one thread and freed on another, measured 1-2% slower
/// on the 40,000 mainnet headers).
struct Chunk {
    hashes: Mutex<Vec<BlockHash>>,
    done: AtomicBool,
}

impl HeaderTree {
    /// [`HeaderTree::accept`] on every available core, for large batches (a
    /// file of headers, a store being checked): the same result, the same
    /// rules in the same order, the same rejection for the first invalid
    /// header. Batches under two [`PAR_MIN_HEADERS_PER_THREAD`] shares, and
    /// single-core machines, take the one-thread path.
    ///
    /// Allocates a few hash buffers of [`PAR_CHUNK_HEADERS`] and, as
    /// [`HeaderTree::accept`] does, tree room as it grows (call
    /// [`HeaderTree::reserve`] first when the size is known).
    pub fn accept_par(
        &mut self,
        headers: &[BlockHeader],
        now: u64,
    ) -> Result<Accepted, HeaderRejection> {
        self.accept_par_threads(headers, now, crate::pow::cores())
    }

    /// [`HeaderTree::accept_par`] with at most `threads` threads (the caller's
    /// included); 1 hashes a chunk, faults in the entries it will fill,
    /// validates it, and goes on.
    pub fn accept_par_threads(
        &mut self,
        headers: &[BlockHeader],
        now: u64,
        threads: usize,
    ) -> Result<Accepted, HeaderRejection> {
        // Room for every header now: the entries never move while pages
        // ahead of the validator are faulted in (`mem::Spare`).
        self.make_room(headers.len());
        let spare = self.spare_entries();
        let mut total = Accepted { new: 0, known: 0, best_tip_changed: false, reorg_height: None };
        // The entries a chunk will fill (at most one per header) are faulted
        // in by the thread that hashed it, rather than one page fault at a
        // time in the validator.
        let prefault = |range: Range<usize>| spare.populate(range);
        pipeline(headers, threads, &prefault, |start, batch, hashes| {
            match self.accept_hashed(batch, hashes, now) {
                Ok(acc) => {
                    merge(&mut total, &acc);
                    Ok(())
                }
                Err(rej) => Err(rebase(rej, &mut total, start)),
            }
        })?;
        Ok(total)
    }
}

impl ChainWindow {
    /// [`ChainWindow::extend`] on every available core, for long runs of
    /// headers (a file being checked): the same result, the same rules in
    /// the same order, the same rejection for the first invalid header.
    /// Memory stays fixed: a few hash buffers of [`PAR_CHUNK_HEADERS`].
    pub fn extend_par(
        &mut self,
        headers: &[BlockHeader],
        now: u64,
    ) -> Result<usize, HeaderRejection> {
        self.extend_par_threads(headers, now, crate::pow::cores())
    }

    /// [`ChainWindow::extend_par`] with at most `threads` threads (the
    /// caller's included); 1 hashes a chunk, validates it, and goes on.
    pub fn extend_par_threads(
        &mut self,
        headers: &[BlockHeader],
        now: u64,
        threads: usize,
    ) -> Result<usize, HeaderRejection> {
        let mut taken = 0;
        pipeline(headers, threads, &|_| {}, |start, batch, hashes| {
            match self.extend_hashed(batch, hashes, now) {
                Ok(n) => {
                    taken += n;
                    Ok(())
                }
                Err(mut rej) => {
                    rej.index += start;
                    rej.accepted.new += start;
                    rej.accepted.best_tip_changed = rej.accepted.new > 0;
                    Err(rej)
                }
            }
        })?;
        Ok(taken)
    }
}

/// Hashes `headers` a chunk of [`PAR_CHUNK_HEADERS`] at a time on up to
/// `threads` threads (the caller's included), calls `prefault` with each
/// chunk's range once it is hashed (on the thread that hashed it), and
/// hands the chunks in order, with their hashes, to `validate` on the
/// calling thread, which gets each chunk's offset in `headers`. Stops at
/// the first error `validate` returns. The other threads are [`Helpers`]
/// (one fewer than the cores, shared by concurrent calls). With one thread
/// (or a batch under two [`PAR_MIN_HEADERS_PER_THREAD`] shares, or no free
/// helper): hash a chunk, validate it, next, in one small buffer that stays
/// in cache.
fn pipeline<E>(
    headers: &[BlockHeader],
    threads: usize,
    prefault: &(dyn Fn(Range<usize>) + Sync),
    mut validate: impl FnMut(usize, &[BlockHeader], &[BlockHash]) -> Result<(), E>,
) -> Result<(), E> {
    let kernel = Kernel::best();
    let threads = threads.min(headers.len() / PAR_MIN_HEADERS_PER_THREAD).max(1);
    let helpers = if threads > 1 { Helpers::get() } else { None };
    let claimed = helpers.map_or(0, |h| h.claim(threads - 1));
    let (Some(helpers), 1..) = (helpers, claimed) else {
        // One buffer for a million hashes would be 32 MB of fresh pages,
        // each faulting on first write; this one is reused.
        let mut hashes = [BlockHash::ZERO; PAR_CHUNK_HEADERS];
        for (i, batch) in headers.chunks(PAR_CHUNK_HEADERS).enumerate() {
            let start = i * PAR_CHUNK_HEADERS;
            let out = &mut hashes[..batch.len()];
            kernel.hash_into(batch, out);
            prefault(start..start + batch.len());
            validate(start, batch, out)?;
        }
        return Ok(());
    };
    let chunks: Vec<Chunk> = (0..headers.len().div_ceil(PAR_CHUNK_HEADERS))
        .map(|_| Chunk { hashes: Mutex::new(Vec::new()), done: AtomicBool::new(false) })
        .collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Hash buffers the validator is done with, for the hashing threads.
    let spare: Mutex<Vec<Vec<BlockHash>>> = Mutex::new(Vec::new());
    // Claims the next unhashed chunk and hashes it; false when none is left.
    let hash_one = || {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(chunk) = chunks.get(i) else { return false };
        let start = i * PAR_CHUNK_HEADERS;
        let batch = &headers[start..(start + PAR_CHUNK_HEADERS).min(headers.len())];
        let mut out =
            spare.lock().unwrap_or_else(PoisonError::into_inner).pop().unwrap_or_default();
        out.resize(batch.len(), BlockHash::ZERO);
        kernel.hash_into(batch, &mut out);
        prefault(start..start + batch.len());
        *chunk.hashes.lock().unwrap_or_else(PoisonError::into_inner) = out;
        chunk.done.store(true, Ordering::Release);
        true
    };
    // The calling thread validates (and hashes); it waits at the end of the
    // scope for its helpers, which stop once no chunk is left or the
    // validator stopped.
    helpers.pool.in_place_scope(|scope| {
        for _ in 0..claimed {
            scope.spawn(|_| {
                // Each call hashes a whole chunk: not a busy wait.
                while !stop.load(Ordering::Relaxed) {
                    if !hash_one() {
                        break;
                    }
                }
                helpers.release();
            });
        }
        let result = (|| {
            for (i, chunk) in chunks.iter().enumerate() {
                // Hash ahead while the chunk to validate is not ready.
                while !chunk.done.load(Ordering::Acquire) {
                    if !hash_one() {
                        std::thread::yield_now();
                    }
                }
                let start = i * PAR_CHUNK_HEADERS;
                let out = std::mem::take(
                    &mut *chunk.hashes.lock().unwrap_or_else(PoisonError::into_inner),
                );
                validate(start, &headers[start..start + out.len()], &out)?;
                spare.lock().unwrap_or_else(PoisonError::into_inner).push(out);
            }
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        result
    })
}

/// The helper threads of [`pipeline`], one fewer than the cores (the caller
/// is the other), started on first use and kept: starting a thread took
/// 35-50 µs here, 4-5% of validating the 40,000 mainnet headers on two
/// cores. A pool of bitwire's own, so an application's rayon pool is left as
/// it configured it.
///
/// Concurrent calls share it: each claims the helpers that are free, and a
/// call that finds none validates on its own thread, rather than wait for a
/// helper behind another call's whole batch.
struct Helpers {
    pool: rayon::ThreadPool,
    /// Helpers claimed by running calls (at most the pool's threads).
    busy: AtomicUsize,
}

impl Helpers {
    /// The helpers; `None` if the system refused the threads (validation
    /// then runs on the calling thread alone).
    fn get() -> Option<&'static Helpers> {
        static HELPERS: OnceLock<Option<Helpers>> = OnceLock::new();
        HELPERS
            .get_or_init(|| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(crate::pow::cores().saturating_sub(1).max(1))
                    .thread_name(|i| format!("bitwire-validate-{i}"))
                    .build()
                    .ok()?;
                Some(Helpers { pool, busy: AtomicUsize::new(0) })
            })
            .as_ref()
    }

    /// Claims up to `want` free helpers; returns how many it got. Each is
    /// handed back with [`Helpers::release`] when its job ends.
    fn claim(&self, want: usize) -> usize {
        let size = self.pool.current_num_threads();
        let mut busy = self.busy.load(Ordering::Relaxed);
        loop {
            let take = want.min(size.saturating_sub(busy));
            if take == 0 {
                return 0;
            }
            match self.busy.compare_exchange_weak(
                busy,
                busy + take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take,
                Err(now) => busy = now,
            }
        }
    }

    fn release(&self) {
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A chunk's rejection as one of the whole batch: its index counted from the
/// batch's start and `accepted` covering every chunk before it.
fn rebase(mut rej: HeaderRejection, total: &mut Accepted, start: usize) -> HeaderRejection {
    merge(total, &rej.accepted);
    rej.index += start;
    rej.accepted = *total;
    rej
}

fn merge(total: &mut Accepted, acc: &Accepted) {
    total.new += acc.new;
    total.known += acc.known;
    total.best_tip_changed |= acc.best_tip_changed;
    total.reorg_height = match (total.reorg_height, acc.reorg_height) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
}
