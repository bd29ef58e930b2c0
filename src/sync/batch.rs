//! The `headers` batch being validated, and the thread that hashes it early.
//!
//! A full `headers` message is 2,000 headers: hashing them takes about as
//! long as the message's envelope checksum, and both are needed before the
//! tree sees the batch. The peer layer shows a large frame to the engine
//! before it checks the checksum ([`Handler::prepare`](crate::peer::Handler::prepare));
//! [`Batch::prepare`] copies the headers out and starts a
//! [`HashWorker`] on them, and the frame, once its checksum holds, reaches
//! [`Batch::fill`], which takes the worker's copy instead of copying again.
//! The hashes are collected when they are needed, usually after the next
//! request went out. Nothing is acted on before the checksum is checked:
//! a frame that fails it is dropped, and its copy in the worker with it.

use crate::net::PeerId;
use crate::peer::{Conn, DisconnectReason};
use crate::pow::{block_hash, hash_headers, HashWorker};
use crate::wire::{BlockHash, BlockHeader};

/// One batch of received headers and their hashes, reused for every batch.
#[derive(Debug, Default)]
pub(super) struct Batch {
    /// The headers, copied out of their message (81 bytes apart there).
    /// Stale while the worker holds the batch: see [`Batch::collect`].
    pub(super) headers: Vec<BlockHeader>,
    /// `hashes[i]` is the block hash of `headers[i]` once
    /// [`Batch::hash_and_check_links`] ran.
    pub(super) hashes: Vec<BlockHash>,
    /// `hashes` belongs to `headers`.
    hashed: bool,
    /// The parent of the batch's first header and its last header, known
    /// even while the worker holds the batch.
    first_prev: Option<BlockHash>,
    last: Option<BlockHeader>,
    worker: HashWorker,
    /// The frame (peer, frame number) whose headers the worker was given by
    /// [`Batch::prepare`] and not yet claimed by [`Batch::fill`].
    prepared: Option<(PeerId, u64)>,
    /// The worker holds this batch: `headers` and `hashes` come back at
    /// [`Batch::collect`].
    in_worker: bool,
}

impl Batch {
    /// Starts hashing the headers of frame number `frame` from `peer`, whose
    /// checksum is not checked yet, on the worker thread. A batch the worker
    /// still holds for this engine is collected first.
    pub(super) fn prepare<'a, I>(&mut self, peer: PeerId, frame: u64, headers: I)
    where
        I: IntoIterator<Item = &'a BlockHeader>,
    {
        self.collect();
        self.worker.start(headers);
        self.prepared = Some((peer, frame));
    }

    /// Makes `headers`, the message `conn` is handling now, the batch: the
    /// worker's copy when this frame was prepared, else a copy made here.
    pub(super) fn fill<'a, I>(&mut self, conn: &Conn, mut headers: I)
    where
        I: Iterator<Item = &'a BlockHeader>,
    {
        self.collect();
        self.hashed = false;
        if self.prepared.take() == Some((conn.id(), conn.frames_received())) {
            self.in_worker = true;
            let first = headers.next();
            self.first_prev = first.map(BlockHeader::prev_hash);
            self.last = headers.last().or(first).copied();
        } else {
            self.headers.clear();
            self.headers.extend(headers);
            self.first_prev = self.headers.first().map(BlockHeader::prev_hash);
            self.last = self.headers.last().copied();
        }
    }

    /// The parent of the batch's first header, without waiting for the
    /// worker (`None` for an empty batch).
    pub(super) fn first_prev(&self) -> Option<BlockHash> {
        self.first_prev
    }

    /// Brings the batch home from the worker, if it is there (waiting for
    /// its hashes). `headers` and `hashes` are current after this.
    pub(super) fn collect(&mut self) {
        if self.in_worker {
            self.in_worker = false;
            self.hashed = self.worker.finish(&mut self.headers, &mut self.hashes);
            debug_assert!(self.hashed, "the worker held the batch");
        }
    }

    /// Collects the batch, makes sure `hashes` holds its block hashes, and
    /// checks that each header links to the one before it (Core's
    /// `CheckHeadersAreContinuous`, the first check of a `headers` message).
    pub(super) fn hash_and_check_links(&mut self) -> Result<(), DisconnectReason> {
        self.collect();
        if !self.hashed {
            self.hashes.clear();
            hash_headers(&self.headers, &mut self.hashes);
            self.hashed = true;
        }
        let (headers, hashes) = (&self.headers, &self.hashes);
        match (1..headers.len()).find(|&i| headers[i].prev_hash() != hashes[i - 1]) {
            Some(index) => Err(DisconnectReason::NonContinuousHeaders { index }),
            None => Ok(()),
        }
    }

    /// The block hash of the batch's last header, without waiting for the
    /// worker (`None` for an empty batch).
    pub(super) fn last_hash(&self) -> Option<BlockHash> {
        self.last.as_ref().map(block_hash)
    }
}
