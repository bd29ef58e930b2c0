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

/// A long chain for benchmarks: `count` headers extending `parent` (whose
/// hash is `parent_hash`), at the network's minimum difficulty and version 4
/// (valid on regtest, where that is the only difficulty), with realistic
/// timestamps: each `spacing` seconds after its parent on average, spread
/// uniformly from `spacing / 2` before the parent to `5 * spacing / 2` after
/// it, so about a sixth of the blocks are older than their parent (mainnet
/// has such blocks too), yet each is after the median time past of its 11
/// predecessors (Core's `time-too-old` rule; the generator knows only
/// `parent` of the chain before it, so from a parent other than genesis the
/// first blocks may break that rule). `seed` varies the times and
/// merkle roots. Keep `count * spacing` within the time since the parent, or
/// the chain ends in the future (`time-too-new`): a million regtest headers
/// at 400 seconds end in 2023.
///
/// Generating is cheap: each header is hashed once per nonce tried (about
/// two at regtest's `powLimit`), and the hash found is the next header's
/// previous-block hash, so a million headers take well under a second.
pub fn generate_chain(
    params: &Params,
    parent: &BlockHeader,
    parent_hash: BlockHash,
    count: usize,
    spacing: u32,
    seed: u64,
) -> Vec<BlockHeader> {
    let mut out: Vec<BlockHeader> = Vec::with_capacity(count);
    let bits = U32::new(params.pow_limit_bits().to_consensus());
    // The last (up to) 11 times, oldest first, for the median time past.
    let mut recent: Vec<u32> = Vec::with_capacity(12);
    recent.push(parent.time());
    let mut sorted = Vec::with_capacity(11);
    let mut prev_hash = parent_hash;
    let mut prev_time = parent.time();
    // xorshift64*: reproducible and fast; quality is not a concern here.
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let span = u64::from(spacing) * 3 + 1;
    let back = i64::from(spacing / 2);
    for i in 0..count {
        let r = next();
        sorted.clear();
        sorted.extend_from_slice(&recent);
        sorted.sort_unstable();
        // Core's GetMedianTimePast: the upper median of fewer than 11.
        let mtp = sorted[sorted.len() / 2];
        // prev + uniform(-spacing/2 ..= 5*spacing/2), kept above the MTP.
        let t = (i64::from(prev_time) - back + (r % span) as i64).max(i64::from(mtp) + 1);
        let time = u32::try_from(t).unwrap_or(u32::MAX);
        let mut merkle_root = [0u8; 32];
        merkle_root[..8].copy_from_slice(&(i as u64).to_le_bytes());
        merkle_root[8..16].copy_from_slice(&r.to_le_bytes());
        merkle_root[16..24].copy_from_slice(&seed.to_le_bytes());
        let mut h = BlockHeader {
            version: I32::new(4),
            prev_blockhash: prev_hash,
            merkle_root,
            time: U32::new(time),
            bits,
            nonce: U32::new(0),
        };
        match mine(&mut h, u32::MAX) {
            Some(hash) => prev_hash = hash,
            None => break,
        }
        if recent.len() == 11 {
            recent.remove(0);
        }
        recent.push(time);
        prev_time = time;
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::HeaderTree;
    use crate::Network;

    #[test]
    fn generated_chain_is_valid_on_regtest_and_reproducible() {
        let p = Params::for_network(Network::Regtest);
        let chain = generate_chain(p, &p.genesis(), p.genesis_hash, 3000, 400, 7);
        assert_eq!(chain.len(), 3000);
        assert_eq!(chain, generate_chain(p, &p.genesis(), p.genesis_hash, 3000, 400, 7));
        assert_ne!(chain, generate_chain(p, &p.genesis(), p.genesis_hash, 3000, 400, 8));
        // Some blocks are older than their parent, as on mainnet.
        let older = chain.windows(2).filter(|w| w[1].time() < w[0].time()).count();
        assert!(older > 100, "{older} of 3000 older than their parent");
        let mut tree = HeaderTree::new(p);
        let acc = tree.accept(&chain, 2_000_000_000).expect("every rule holds");
        assert_eq!((acc.new, tree.tip().height), (3000, 3000));
        let mean = (chain[2999].time() - p.genesis().time()) / 3000;
        assert!((350..=450).contains(&mean), "mean spacing {mean}");
    }
}
