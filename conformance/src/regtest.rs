//! Headers mined in the test at regtest difficulty: `powLimit` is
//! `7fffff…` (src/kernel/chainparams.cpp, `CRegTestParams`), so about every
//! second nonce meets it and a chain of thousands of headers takes
//! milliseconds. Times start at the regtest genesis (2011), so generated
//! chains stay in the past, as the kernel's clock demands.

use std::collections::HashMap;

use bitwire::chain::mine::mine;
use bitwire::chain::Params;
use bitwire::pow::{check_proof_of_work, U256};
use bitwire::wire::{BlockHash, BlockHeader};
use bitwire::Network;

/// Regtest `powLimit` in compact form (`UintToArith256(powLimit).GetCompact()`).
pub const REGTEST_LIMIT_BITS: u32 = 0x207f_ffff;

/// The fields of a header to build; the nonce is searched by [`Spec::mined`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// `nVersion`.
    pub version: i32,
    /// `hashPrevBlock`.
    pub prev: BlockHash,
    /// `hashMerkleRoot`: any value; it makes siblings differ.
    pub merkle_root: [u8; 32],
    /// `nTime`.
    pub time: u32,
    /// `nBits`.
    pub bits: u32,
}

impl Spec {
    /// A version-4 child of `parent` at regtest difficulty, `spacing`
    /// seconds after it, tagged `tag` in the merkle root.
    pub fn child(parent: &BlockHeader, spacing: i64, tag: u64) -> Spec {
        let time = (i64::from(parent.time()) + spacing).clamp(0, i64::from(u32::MAX)) as u32;
        let mut merkle_root = [0u8; 32];
        merkle_root[..8].copy_from_slice(&tag.to_le_bytes());
        Spec { version: 4, prev: parent.block_hash(), merkle_root, time, bits: REGTEST_LIMIT_BITS }
    }

    /// The header with nonce 0.
    pub fn header(&self) -> BlockHeader {
        let mut h = BlockHeader::from_array(&[0u8; 80]);
        h.version = self.version.into();
        h.prev_blockhash = self.prev;
        h.merkle_root = self.merkle_root;
        h.time = self.time.into();
        h.bits = self.bits.into();
        h
    }

    /// The header with the first nonce whose hash meets its own `nBits`;
    /// when `nBits` is not a valid target (negative, zero, overflowing) or
    /// no nonce in 2^16 tries works, nonce 0.
    pub fn mined(&self) -> BlockHeader {
        let mut h = self.header();
        if mine(&mut h, 1 << 16).is_none() {
            h.nonce = 0u32.into();
        }
        h
    }

    /// The header with the first nonce whose hash does *not* meet its
    /// `nBits` (a `high-hash` header for any valid target).
    pub fn unmined(&self) -> BlockHeader {
        let mut h = self.header();
        for nonce in 0..u32::MAX {
            h.nonce = nonce.into();
            if !meets_own_target(&h) {
                break;
            }
        }
        h
    }
}

/// Whether `h`'s hash meets its own `nBits` (no `powLimit` bound).
pub fn meets_own_target(h: &BlockHeader) -> bool {
    check_proof_of_work(&h.block_hash(), h.bits(), &U256::MAX).is_ok()
}

/// Every header built so far by hash, for walking ancestors independently
/// of either engine (the tests aim at rule edges computed here).
#[derive(Clone, Debug)]
pub struct Ancestry {
    by_hash: HashMap<BlockHash, (BlockHeader, u32)>,
}

impl Ancestry {
    /// Knows only the genesis header of `network`.
    pub fn new(network: Network) -> Ancestry {
        let g = Params::for_network(network).genesis();
        let mut by_hash = HashMap::new();
        by_hash.insert(g.block_hash(), (g, 0));
        Ancestry { by_hash }
    }

    /// Records `h` (its parent must be known); returns its height, or `None`
    /// when the parent is unknown.
    pub fn add(&mut self, h: &BlockHeader) -> Option<u32> {
        let height = self.by_hash.get(&h.prev_hash())?.1 + 1;
        self.by_hash.insert(h.block_hash(), (*h, height));
        Some(height)
    }

    /// The header with `hash` and its height.
    pub fn get(&self, hash: &BlockHash) -> Option<(BlockHeader, u32)> {
        self.by_hash.get(hash).copied()
    }

    /// Number of headers known.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Never empty: genesis is always known.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Core's `GetMedianTimePast` of `hash`: the median time of it and up to
    /// ten ancestors (src/chain.h).
    pub fn median_time_past(&self, hash: &BlockHash) -> Option<u32> {
        let mut times = Vec::with_capacity(11);
        let mut cur = self.by_hash.get(hash);
        while let Some((h, height)) = cur {
            times.push(h.time());
            if times.len() == 11 || *height == 0 {
                break;
            }
            cur = self.by_hash.get(&h.prev_hash());
        }
        if times.is_empty() {
            return None;
        }
        times.sort_unstable();
        Some(times[times.len() / 2])
    }
}

/// `count` valid regtest headers on `parent`, with times that wander: every
/// third header is `back` seconds earlier than its parent (still above the
/// median time past), so the median differs from the parent's time, as it
/// must for the median-time edges to mean something.
pub fn wandering_chain(
    anc: &mut Ancestry,
    parent: &BlockHeader,
    count: usize,
    back: u32,
    tag: u64,
) -> Vec<BlockHeader> {
    let mut out = Vec::with_capacity(count);
    let mut prev = *parent;
    for i in 0..count {
        let mtp = anc.median_time_past(&prev.block_hash()).unwrap_or(0);
        let spacing = if i % 3 == 2 { -i64::from(back) } else { 600 };
        let mut spec = Spec::child(&prev, spacing, (tag << 32) | i as u64);
        spec.time = spec.time.max(mtp + 1);
        let h = spec.mined();
        anc.add(&h);
        out.push(h);
        prev = h;
    }
    out
}
