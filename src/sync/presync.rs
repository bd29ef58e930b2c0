//! Low-work header spam protection, after Bitcoin Core's headers presync
//! (src/headerssync.cpp, `HeadersSyncState`): a peer's chain is not stored
//! until it has shown, at a fixed memory cost, that it carries at least
//! [`Config::min_chain_work`](super::Config::min_chain_work).
//!
//! - **Presync.** A batch whose chain (the work of the block it forks from,
//!   plus the work of its headers) stays below the minimum is not given to
//!   the tree. Its headers are checked for continuity and for proof of work
//!   against their own `nBits` (so the work counted is work really done),
//!   their work is added up, and the peer is asked for the continuation.
//!   Kept per peer: the fork point, the running work, the last hash, a count,
//!   and an 8-byte sample of the last hash of every batch.
//! - **Redownload.** Once the running work reaches the minimum, the same
//!   headers are asked for again from the fork point and now validated in
//!   full and stored. Each redownloaded batch must end on the sampled hash
//!   of the batch at the same position, so a peer cannot swap in a different
//!   (cheaper) chain the second time round.
//!
//! **Bound.** Per peer, at most [`Config::max_presync_headers`](super::Config::max_presync_headers)
//! headers are presynced: the samples then take at most 8 bytes per 2000
//! headers (24 KiB at the default of 6 million), and nothing else grows. A
//! peer past that bound is dropped ([`DisconnectReason::PresyncTooLong`]). An
//! endless chain of cheap headers therefore costs memory O(1) per peer and
//! nothing in the tree or the store. The argument, term by term:
//!
//! - the batch being checked lives in the engine's scratch (`Core::batch`,
//!   `Core::hashes`), reused and shared by all peers: at most 2,000 headers
//!   and 2,000 hashes, whoever sends them;
//! - the peer's `Presync` is a fixed-size struct plus the samples above;
//! - the peer's wire buffers are bounded by
//!   [`Config::peer_budget`](super::Config::peer_budget) (one `headers`
//!   message, 162 KB, in practice) and counted in
//!   [`Config::max_buffered_total`](super::Config::max_buffered_total);
//! - nothing reaches the [`HeaderTree`](crate::chain::HeaderTree) or the
//!   store until the redownload, which only follows a chain that has shown
//!   at least the minimum work.
//!
//! `tests/presync_memory.rs` measures it over loopback: 200,000 attacker
//! headers leave the node's resident memory flat.
//!
//! **Liveness.** A presync request follows the peer's own chain and does not
//! hold up the engine's one in-flight request from our best tip: the honest
//! sync goes on from the other peers while an attacker is presynced, and
//! `Synced` is declared without waiting for a presyncing peer once our own
//! chain has the minimum work. The `nBits` transitions are checked
//! only in the redownload (Core also checks permitted transitions during
//! presync); a presync chain that claims difficulties it may not have still
//! had to do the work it claims.

use crate::chain::HeaderError;
use crate::net::Time;
use crate::peer::{Conn, DisconnectReason};
use crate::pow::{check_proof_of_work, work_from_bits, U256};
use crate::wire::BlockHash;

use super::engine::{Core, PeerSync};
use super::MAX_HEADERS_RESULTS;

/// One peer's presync progress.
#[derive(Debug)]
pub(crate) struct Presync {
    /// The tree block the peer's chain leaves from.
    fork: BlockHash,
    fork_height: u32,
    /// Chainwork at `last`.
    work: U256,
    /// Hash of the last presynced header.
    last: BlockHash,
    /// Headers presynced.
    count: u64,
    /// First 8 bytes of the last hash of each presync batch.
    samples: Vec<[u8; 8]>,
    /// In redownload: the index of the next sample to match.
    redownload: Option<usize>,
}

impl Presync {
    /// The fork point, while in redownload.
    pub(crate) fn redownload_fork(&self) -> Option<BlockHash> {
        self.redownload.map(|_| self.fork)
    }
}

fn sample(hash: &BlockHash) -> [u8; 8] {
    let mut s = [0u8; 8];
    s.copy_from_slice(&hash.0[..8]);
    s
}

/// What the presync step did with a batch.
pub(crate) enum Flow {
    /// Consumed (presynced, or ignored): nothing for the tree.
    Handled,
    /// Not a presync matter: validate and store as usual.
    Normal,
}

impl Core {
    /// Runs before a batch (already in `self.batch`) reaches the tree.
    pub(crate) fn presync(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        min: U256,
        now: Time,
    ) -> Result<Flow, DisconnectReason> {
        self.batch.collect();
        let count = self.batch.headers.len();
        let first_prev = self.batch.headers[0].prev_hash();
        if let Some(ps) = sync.presync.as_mut() {
            if ps.redownload.is_some() {
                return Ok(Flow::Normal);
            }
            if first_prev != ps.last {
                // Not a continuation (an announcement, or the peer moved
                // on): start over from whatever this batch is.
                sync.presync = None;
            }
        }
        if sync.presync.is_none() {
            let Some(fork) = self.tree.get(&first_prev) else { return Ok(Flow::Normal) };
            let work = self
                .batch
                .headers
                .iter()
                .fold(fork.chainwork, |w, h| w.saturating_add(&work_from_bits(h.bits())));
            if work >= min {
                return Ok(Flow::Normal);
            }
            sync.presync = Some(Box::new(Presync {
                fork: first_prev,
                fork_height: fork.height,
                work: fork.chainwork,
                last: first_prev,
                count: 0,
                samples: Vec::new(),
                redownload: None,
            }));
        }
        self.batch.hash_and_check_links()?;
        let (headers, hashes) = (&self.batch.headers, &self.batch.hashes);
        let max = self.config.max_presync_headers;
        let pow_limit = self.tree.params().pow_limit;
        let ps = sync.presync.as_mut().expect("set above");
        for (i, (h, hash)) in headers.iter().zip(hashes).enumerate() {
            if let Err(e) = check_proof_of_work(hash, h.bits(), &pow_limit) {
                let height = ps.fork_height as u64 + ps.count + 1 + i as u64;
                return Err(DisconnectReason::InvalidHeader {
                    height: u32::try_from(height).unwrap_or(u32::MAX),
                    error: HeaderError::HighHash(e),
                });
            }
            ps.work = ps.work.saturating_add(&work_from_bits(h.bits()));
        }
        ps.count += count as u64;
        ps.last = hashes[count - 1];
        ps.samples.push(sample(&ps.last));
        if ps.count > max {
            return Err(DisconnectReason::PresyncTooLong { max });
        }
        if ps.work >= min {
            // Enough work shown: fetch the same chain again, for real.
            ps.redownload = Some(0);
            let fork = ps.fork;
            self.request_from(conn, sync, &[fork], now);
        } else if count == MAX_HEADERS_RESULTS {
            let (last, fork) = (ps.last, ps.fork);
            self.request_from(conn, sync, &[last, fork], now);
        } else {
            // The chain ends below the minimum: nothing to keep from it.
            sync.presync = None;
            sync.exhausted = true;
        }
        Ok(Flow::Handled)
    }

    /// In redownload, checks a batch (hashed, in `self.hashes`) against the
    /// presync sample at its position before the tree sees it.
    pub(crate) fn check_redownload(&mut self, sync: &mut PeerSync) -> Result<(), DisconnectReason> {
        let Some(ps) = sync.presync.as_mut() else { return Ok(()) };
        let Some(k) = ps.redownload else { return Ok(()) };
        let last = self.batch.hashes[self.batch.hashes.len() - 1];
        if ps.samples.get(k) != Some(&sample(&last)) {
            return Err(DisconnectReason::RedownloadMismatch { batch: k });
        }
        if k + 1 == ps.samples.len() {
            sync.presync = None;
        } else {
            ps.redownload = Some(k + 1);
        }
        Ok(())
    }

    /// True while this peer is in redownload (its batches must come from it,
    /// in order).
    pub(crate) fn in_redownload(sync: &PeerSync) -> bool {
        sync.presync.as_ref().is_some_and(|p| p.redownload.is_some())
    }
}
