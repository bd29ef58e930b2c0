//! [`HashWorker`]: a batch of headers hashed on a thread of its own while
//! the caller does something else.
//!
//! The sync engine's case: a `headers` message of 2,000 headers arrives,
//! and before anything may act on it its envelope checksum (sha256d of the
//! whole 162 KB payload) must be checked. That checksum is one long
//! dependency chain and cannot be split, but the headers' own hashes do not
//! depend on it: the worker hashes them on the other core meanwhile, so the
//! syncing thread pays for one of the two instead of both.
//!
//! Handing work to a sleeping thread costs about 40 µs on the VM these
//! figures come from (BENCHMARKS.md), as long as hashing 1,000 headers, so
//! the worker only pays off for large batches, started well before their
//! hashes are needed. The worker sleeps when idle; collecting a result spins
//! for a short while before sleeping, since the result is usually close.
//!
//! No `unsafe`: the batch is copied into buffers the worker owns (two pairs
//! of buffers exchanged between caller and worker, so nothing is allocated
//! once they have grown), and the thread is started on the first job.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::hash_headers;
use crate::wire::{BlockHash, BlockHeader};

/// How long [`HashWorker::finish`] spins on an unfinished job before it
/// sleeps: a little more than the worst hand-over latency measured here, so
/// a job about to end is collected without a wake-up of its own.
const SPIN: Duration = Duration::from_micros(200);

/// Hashes batches of headers on a thread of its own, one batch at a time.
///
/// [`HashWorker::start`] copies a batch in and returns at once;
/// [`HashWorker::finish`] waits for its hashes and exchanges buffers with the
/// caller. Where no thread can be started, `start` hashes on the caller's
/// thread instead: the results are the same either way.
pub struct HashWorker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// A job was started and not yet collected.
    busy: bool,
}

struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
    /// The job in `slot` is hashed (read without the lock while spinning).
    done: AtomicBool,
}

#[derive(Default)]
struct Slot {
    headers: Vec<BlockHeader>,
    hashes: Vec<BlockHash>,
    /// A job waits for the worker.
    queued: bool,
    stop: bool,
}

impl Default for HashWorker {
    fn default() -> HashWorker {
        HashWorker::new()
    }
}

impl core::fmt::Debug for HashWorker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HashWorker")
            .field("thread", &self.thread.is_some())
            .field("busy", &self.busy)
            .finish()
    }
}

impl HashWorker {
    /// A worker with no thread yet (the first [`HashWorker::start`] starts it).
    pub fn new() -> HashWorker {
        HashWorker {
            shared: Arc::new(Shared {
                slot: Mutex::new(Slot::default()),
                wake: Condvar::new(),
                done: AtomicBool::new(false),
            }),
            thread: None,
            busy: false,
        }
    }

    /// Starts hashing `headers` (copied). A job started before and not
    /// collected is waited for and dropped.
    pub fn start<'a, I>(&mut self, headers: I)
    where
        I: IntoIterator<Item = &'a BlockHeader>,
    {
        if self.busy {
            drop(self.wait());
        }
        if self.thread.is_none() {
            self.spawn();
        }
        let mut slot = self.shared.lock();
        slot.headers.clear();
        slot.headers.extend(headers);
        self.busy = true;
        if self.thread.is_none() {
            // No thread: hash here.
            let Slot { headers, hashes, .. } = &mut *slot;
            hashes.clear();
            hash_headers(headers.iter(), hashes);
            self.shared.done.store(true, Ordering::Release);
            return;
        }
        self.shared.done.store(false, Ordering::Relaxed);
        slot.queued = true;
        drop(slot);
        self.shared.wake.notify_all();
    }

    /// True when a job was started and not collected yet.
    pub fn is_busy(&self) -> bool {
        self.busy
    }

    /// Waits for the job [`HashWorker::start`] started and swaps its headers
    /// and their hashes (`hashes[i]` is the block hash of `headers[i]`) into
    /// the caller's buffers, taking the caller's old buffers in exchange.
    /// Returns false, changing nothing, when no job is waiting.
    pub fn finish(&mut self, headers: &mut Vec<BlockHeader>, hashes: &mut Vec<BlockHash>) -> bool {
        if !self.busy {
            return false;
        }
        let mut slot = self.wait();
        std::mem::swap(headers, &mut slot.headers);
        std::mem::swap(hashes, &mut slot.hashes);
        true
    }

    /// Waits until the current job is hashed; the worker is idle after.
    fn wait(&mut self) -> MutexGuard<'_, Slot> {
        let spin_until = Instant::now() + SPIN;
        while !self.shared.done.load(Ordering::Acquire) && Instant::now() < spin_until {
            std::hint::spin_loop();
        }
        let mut slot = self.shared.lock();
        while slot.queued || !self.shared.done.load(Ordering::Acquire) {
            slot = self.shared.wake.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
        self.busy = false;
        slot
    }

    fn spawn(&mut self) {
        let shared = Arc::clone(&self.shared);
        let builder = std::thread::Builder::new().name("bitwire-hash".into());
        // A thread the system refuses leaves the work to the caller's thread.
        self.thread = builder.spawn(move || shared.run()).ok();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The worker thread: hash each job queued, until told to stop.
    fn run(&self) {
        let mut slot = self.lock();
        loop {
            while !slot.queued && !slot.stop {
                slot = self.wake.wait(slot).unwrap_or_else(PoisonError::into_inner);
            }
            if slot.stop {
                return;
            }
            // Hash without the lock (the caller only looks at `done` meanwhile).
            let mut headers = std::mem::take(&mut slot.headers);
            let mut hashes = std::mem::take(&mut slot.hashes);
            drop(slot);
            hashes.clear();
            hash_headers(headers.iter(), &mut hashes);
            slot = self.lock();
            std::mem::swap(&mut slot.headers, &mut headers);
            std::mem::swap(&mut slot.hashes, &mut hashes);
            slot.queued = false;
            self.done.store(true, Ordering::Release);
            self.wake.notify_all();
        }
    }
}

impl Drop for HashWorker {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.lock().stop = true;
            self.shared.wake.notify_all();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::mine::generate_chain;
    use crate::chain::Params;
    use crate::Network;

    #[test]
    fn hashes_match_the_calling_thread_and_buffers_are_exchanged() {
        let p = Params::for_network(Network::Regtest);
        let chain = generate_chain(p, &p.genesis(), p.genesis_hash, 3000, 600, 1);
        let mut expected = Vec::new();
        hash_headers(&chain, &mut expected);
        let mut worker = HashWorker::new();
        let (mut headers, mut hashes) = (Vec::new(), Vec::new());
        assert!(!worker.finish(&mut headers, &mut hashes), "nothing started");
        for round in 0..4 {
            let part = &chain[round * 500..round * 500 + 1000];
            worker.start(part);
            assert!(worker.is_busy());
            assert!(worker.finish(&mut headers, &mut hashes));
            assert_eq!(headers, part);
            assert_eq!(hashes, &expected[round * 500..round * 500 + 1000]);
            assert!(!worker.finish(&mut headers, &mut hashes), "collected once");
        }
        // Steady state allocates nothing: two pairs of buffers go back and
        // forth, and once grown none is reallocated.
        let mut seen = std::collections::HashSet::new();
        for round in 0..10 {
            worker.start(&chain[round * 100..round * 100 + 2000]);
            assert!(worker.finish(&mut headers, &mut hashes));
            let at = (headers.as_ptr() as usize, hashes.as_ptr() as usize);
            if round >= 2 {
                assert!(seen.contains(&at), "round {round}: a buffer was reallocated");
            }
            seen.insert(at);
        }
        assert_eq!(seen.len(), 2);
        // A job never collected is replaced by the next one.
        worker.start(&chain[..10]);
        worker.start(&chain[10..20]);
        assert!(worker.finish(&mut headers, &mut hashes));
        assert_eq!(hashes, &expected[10..20]);
    }
}
