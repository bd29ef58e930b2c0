//! Proof of work: sha256d of headers (one at a time and in batches),
//! compact targets, 256-bit targets and chainwork.

mod compact;
mod target;
mod u256;

pub use compact::{CompactTarget, ExpandedCompact};
pub use target::{check_proof_of_work, derive_target, work_from_bits, work_from_target, PowError};
pub use u256::U256;

use sha2::{Digest, Sha256};

use crate::wire::{BlockHash, BlockHeader};

/// sha256(sha256(data)).
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    let first = Sha256::digest(data);
    Sha256::digest(first).into()
}

/// The block hash of one header.
pub fn block_hash(header: &BlockHeader) -> BlockHash {
    BlockHash(sha256d(header.bytes()))
}

/// Hashes a batch of headers, appending one hash per header to `out`, in order.
///
/// This is the entry point the validator uses for every `headers` message; it
/// is free to hash several headers at once. The result is always identical to
/// calling [`block_hash`] on each header in turn.
pub fn hash_headers<'a, I>(headers: I, out: &mut Vec<BlockHash>)
where
    I: IntoIterator<Item = &'a BlockHeader>,
{
    out.extend(headers.into_iter().map(block_hash));
}
