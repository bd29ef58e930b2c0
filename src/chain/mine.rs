//! Mining at easy targets, for tests, fuzzing and simulations: regtest's
//! `powLimit` (`7fffff…`) is met by about every second hash, so a chain of
//! thousands of valid headers is mined in milliseconds.

use zerocopy::little_endian::{I32, U32};

use super::params::Params;
use crate::pow::{block_hash, check_proof_of_work, CompactTarget, U256};
use crate::wire::{BlockHash, BlockHeader};

/// Increments `header`'s nonce, at most `max_tries` times, until its hash
/// meets its own `nBits` (checked as [`check_proof_of_work`] does, against no
/// limit) and returns the hash; `None` if no try works or the target is invalid.
pub fn mine(header: &mut BlockHeader, max_tries: u32) -> Option<BlockHash> {
    for _ in 0..max_tries {
        let hash = block_hash(header);
        match check_proof_of_work(&hash, header.bits(), &U256::MAX) {
            Ok(()) => return Some(hash),
            Err(crate::pow::PowError::HashAboveTarget { .. }) => {
                header.nonce = U32::new(header.nonce().wrapping_add(1));
            }
            Err(_) => return None,
        }
    }
    None
}

/// A new header on top of `parent`: `version`, time `parent.time + spacing`,
/// `bits`, nonce searched from 0 by [`mine`] (up to 2^20 tries). `merkle_root` lets callers make
/// sibling headers differ.
pub fn mine_child(
    parent: &BlockHeader,
    version: i32,
    spacing: u32,
    bits: CompactTarget,
    merkle_root: [u8; 32],
) -> Option<BlockHeader> {
    let mut h = BlockHeader {
        version: I32::new(version),
        prev_blockhash: block_hash(parent),
        merkle_root,
        time: U32::new(parent.time().wrapping_add(spacing)),
        bits: U32::new(bits.to_consensus()),
        nonce: U32::new(0),
    };
    mine(&mut h, 1 << 20)?;
    Some(h)
}

/// `count` headers extending `parent`, each `spacing` seconds after the one
/// before, at the network's minimum difficulty and version 4 (valid on
/// regtest, where that is the only difficulty). `tag` goes into the merkle
/// root so that chains mined from the same parent differ.
pub fn mine_chain(
    params: &Params,
    parent: &BlockHeader,
    count: usize,
    spacing: u32,
    tag: u8,
) -> Vec<BlockHeader> {
    let mut out: Vec<BlockHeader> = Vec::with_capacity(count);
    let bits = params.pow_limit_bits();
    for i in 0..count {
        let prev = out.last().unwrap_or(parent);
        let mut root = [0u8; 32];
        root[0] = tag;
        root[1..9].copy_from_slice(&(i as u64).to_le_bytes());
        match mine_child(prev, 4, spacing, bits, root) {
            Some(h) => out.push(h),
            None => break,
        }
    }
    out
}
