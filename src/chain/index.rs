//! The header tree's hash index: block hash to entry number, 8 bytes a slot.
//!
//! Block hashes are already uniformly random (sha256d, and proof of work
//! makes them costly to choose), so no hash function runs over them: their
//! first 8 bytes, mixed with a per-index random seed so that a peer cannot
//! aim many hashes at one slot, place them. Each slot holds a 32-bit tag
//! (the top half of that mix) and the entry number; keys are compared in
//! the caller's entries only when tags match, so a lookup touches one cache
//! line of the index in the common case, and the index is 16 MB for a
//! million headers where a `HashMap<BlockHash, u32>` took 77 MB.
//!
//! Linear probing, at most half full. A slot's home is the top bits of its
//! tag, so growing never reads the keys, and sorting slots sorts them by
//! home: keys added with [`HashIndex::insert_later`] go in together in that
//! order ([`HashIndex::flush`]), so that a large table is walked page by
//! page instead of at random.

use crate::wire::BlockHash;

/// Empty slot marker (entry numbers are stored plus one).
const EMPTY: u64 = 0;

/// Fewest slots (a power of two).
const MIN_SLOTS: usize = 16;

/// Most address bits: the home slot is taken from the 32-bit tag. Past
/// 2^32 slots (2^31 headers, far beyond any chain) the table stops growing
/// and fills up beyond half.
const MAX_BITS: u32 = 32;

/// Keys [`HashIndex::insert_later`] holds back before it inserts them all
/// (at most 64 KB of slots).
const MAX_PENDING: usize = 4096;

/// Block hash to entry number. Invariant: every key was inserted once;
/// `len * 2 <= slots.len()` unless at [`MAX_BITS`]. Keys in `pending` are
/// not found until [`HashIndex::flush`].
#[derive(Clone)]
pub(super) struct HashIndex {
    slots: Vec<u64>,
    bits: u32,
    len: usize,
    seed: u64,
    /// Slots added with `insert_later`, not in `slots` yet.
    pending: Vec<u64>,
    /// Scratch for `flush`'s sort, reused.
    sorted: Vec<u64>,
}

impl HashIndex {
    pub(super) fn new(seed: u64) -> HashIndex {
        HashIndex {
            slots: vec![EMPTY; MIN_SLOTS],
            bits: MIN_SLOTS.trailing_zeros(),
            len: 0,
            seed,
            pending: Vec::new(),
            sorted: Vec::new(),
        }
    }

    fn tag(&self, hash: &BlockHash) -> u32 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&hash.0[..8]);
        let m = (u64::from_le_bytes(w) ^ self.seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (m >> 32) as u32
    }

    fn home(&self, tag: u32) -> usize {
        (u64::from(tag) >> (MAX_BITS - self.bits)) as usize
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The entry number of `hash`; `key(i)` is entry `i`'s hash.
    #[inline]
    pub(super) fn get(&self, hash: &BlockHash, key: impl Fn(u32) -> BlockHash) -> Option<u32> {
        debug_assert!(self.pending.is_empty(), "a lookup before flush");
        let tag = self.tag(hash);
        let mask = self.mask();
        let mut pos = self.home(tag);
        loop {
            let slot = self.slots[pos];
            if slot == EMPTY {
                return None;
            }
            let i = (slot as u32).wrapping_sub(1);
            if (slot >> 32) as u32 == tag && key(i) == *hash {
                return Some(i);
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Adds `hash` (not in the index) as entry `i`.
    #[inline]
    pub(super) fn insert_new(&mut self, hash: &BlockHash, i: u32) {
        if (self.len + 1) * 2 > self.slots.len() && self.bits < MAX_BITS {
            self.resize(self.bits + 1);
        }
        self.place(self.slot(hash, i));
        self.len += 1;
    }

    /// The slot that holds `hash` as entry `i`: its tag, and the entry
    /// number plus one.
    #[inline]
    fn slot(&self, hash: &BlockHash, i: u32) -> u64 {
        (u64::from(self.tag(hash)) << 32) | u64::from(i.wrapping_add(1))
    }

    /// [`HashIndex::insert_new`], held back: the key is inserted with the
    /// others at the next [`HashIndex::flush`] (or when [`MAX_PENDING`] are
    /// waiting), and not found before.
    #[inline]
    pub(super) fn insert_later(&mut self, hash: &BlockHash, i: u32) {
        self.pending.push(self.slot(hash, i));
        if self.pending.len() >= MAX_PENDING {
            self.flush();
        }
    }

    /// Inserts the keys held back by [`HashIndex::insert_later`], in the
    /// order of their home slots.
    ///
    /// In a large table each insert is a cache miss, and a TLB miss too:
    /// at a million headers the table is 16 MB, beyond the TLB's reach, and
    /// a miss holds up everything behind it until the page walk ends. In
    /// home order, consecutive inserts fall in the same or the next pages,
    /// whose walks are cheap (their page-table entries share cache lines).
    /// An exact sort is not needed for that: one pass of a counting sort on
    /// the top bits of the home.
    pub(super) fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let (mut slots, mut sorted) =
            (std::mem::take(&mut self.pending), std::mem::take(&mut self.sorted));
        let want = self.len.saturating_add(slots.len());
        if want.saturating_mul(2) > self.slots.len() && self.bits < MAX_BITS {
            self.reserve(slots.len());
        }
        // Buckets of home slots: 2^BUCKET_BITS of them, each a run of pages.
        const BUCKET_BITS: u32 = 10;
        let shift = 32 - BUCKET_BITS.min(self.bits);
        let mut counts = [0u32; 1 << BUCKET_BITS];
        for &s in slots.iter() {
            counts[((s >> 32) as u32 >> shift) as usize] += 1;
        }
        let mut at = 0u32;
        for c in counts.iter_mut() {
            let n = *c;
            *c = at;
            at += n;
        }
        sorted.clear();
        sorted.resize(slots.len(), EMPTY);
        for &s in slots.iter() {
            let b = &mut counts[((s >> 32) as u32 >> shift) as usize];
            sorted[*b as usize] = s;
            *b += 1;
        }
        for &s in sorted.iter() {
            self.place(s);
        }
        self.len += slots.len();
        slots.clear();
        (self.pending, self.sorted) = (slots, sorted);
    }

    fn place(&mut self, slot: u64) {
        let mask = self.mask();
        let mut pos = self.home((slot >> 32) as u32);
        while self.slots[pos] != EMPTY {
            pos = (pos + 1) & mask;
        }
        self.slots[pos] = slot;
    }

    fn resize(&mut self, bits: u32) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; 1 << bits]);
        // The zeroed table is mapped lazily; inserts land all over it, and a
        // page first read (a lookup) then written faults twice.
        // Faulted in here in one call instead (16 MB at a million headers).
        crate::mem::Spare::whole(&self.slots).populate(0..self.slots.len());
        self.bits = bits;
        for slot in old.into_iter().filter(|&s| s != EMPTY) {
            self.place(slot);
        }
    }

    /// Makes room for `additional` more keys without growing.
    pub(super) fn reserve(&mut self, additional: usize) {
        let want = self.len.saturating_add(additional).saturating_mul(2).max(MIN_SLOTS);
        let bits = want.next_power_of_two().trailing_zeros().min(MAX_BITS);
        if bits > self.bits {
            self.resize(bits);
        }
    }

    /// Heap bytes held.
    pub(super) fn heap_bytes(&self) -> usize {
        (self.slots.capacity() + self.pending.capacity() + self.sorted.capacity())
            * core::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(n: u64) -> BlockHash {
        let mut b = [0u8; 32];
        // Adversarial for a weak index: keys that differ only in a few bits.
        b[..8].copy_from_slice(&n.to_le_bytes());
        b[31] = n as u8;
        BlockHash(b)
    }

    #[test]
    fn finds_every_key_and_no_other_through_growth() {
        for seed in [0, 1, u64::MAX] {
            let keys: Vec<BlockHash> = (0..5000u64).map(|n| hash(n * 7)).collect();
            let mut idx = HashIndex::new(seed);
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(idx.get(k, |j| keys[j as usize]), None);
                idx.insert_new(k, i as u32);
            }
            assert!(idx.slots.len() >= 2 * keys.len());
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(idx.get(k, |j| keys[j as usize]), Some(i as u32));
            }
            assert_eq!(idx.get(&hash(3), |j| keys[j as usize]), None);
            // Same first 8 bytes as a key (same tag and home), another key.
            let mut twin = keys[10];
            twin.0[20] ^= 1;
            assert_eq!(idx.get(&twin, |j| keys[j as usize]), None);
        }
    }

    #[test]
    fn batches_find_every_key_through_growth() {
        // Batches of every size, growing the table on the way, mixed with
        // single inserts: every key is found at its entry, no other key is.
        let keys: Vec<BlockHash> = (0..20_000u64).map(|n| hash(n * 13)).collect();
        let mut idx = HashIndex::new(5);
        let mut next = 0usize;
        for size in (0..200).map(|n| n * 7 % 301) {
            let end = (next + size).min(keys.len());
            for (i, k) in keys.iter().enumerate().take(end).skip(next) {
                idx.insert_later(k, i as u32);
            }
            next = end;
            idx.flush();
            assert!(idx.pending.is_empty());
            if next < keys.len() {
                idx.insert_new(&keys[next], next as u32);
                next += 1;
            }
            assert!(idx.len * 2 <= idx.slots.len());
        }
        for (i, k) in keys[..next].iter().enumerate() {
            assert_eq!(idx.get(k, |j| keys[j as usize]), Some(i as u32));
        }
        for k in &keys[next..] {
            assert_eq!(idx.get(k, |j| keys[j as usize]), None);
        }
    }

    #[test]
    fn reserve_sizes_once() {
        let mut idx = HashIndex::new(9);
        idx.reserve(1000);
        let slots = idx.slots.len();
        assert!(slots >= 2000);
        let keys: Vec<BlockHash> = (0..1000u64).map(hash).collect();
        for (i, k) in keys.iter().enumerate() {
            idx.insert_new(k, i as u32);
        }
        assert_eq!(idx.slots.len(), slots);
        assert_eq!(idx.heap_bytes(), slots * 8);
        assert_eq!(idx.get(&keys[999], |j| keys[j as usize]), Some(999));
    }
}
