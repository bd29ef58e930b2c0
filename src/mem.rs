//! Faulting in memory ahead of its first write, off the critical path.
//!
//! A header tree of a million headers is about 140 MB of fresh memory, and
//! each 4 KiB page of it faults on its first write: on the 2-core VM these
//! figures come from, a fault costs about 1.2 µs, so filling a fresh tree
//! spends about as long in the kernel as hashing every header takes
//! (`perf stat` on `bitwire validate` of 1,000,000 generated headers:
//! 63,701 page faults and 133 ms of system time beside 145 ms of user time).
//! Linux (5.14 and later) can fault a range in ahead of use with
//! `madvise(MADV_POPULATE_WRITE)`, which changes no byte, so a helper thread
//! can do it for memory the main thread is about to fill: that is all this
//! module does, for the header tree (its entries ahead of
//! [`HeaderTree::accept_par`](crate::chain::HeaderTree::accept_par)'s
//! validator and of [`HeaderTree::prefault`](crate::chain::HeaderTree::prefault),
//! and its hash index's table when allocated). Elsewhere, or on an older
//! kernel, it does nothing.
//!
//! (Transparent huge pages were tried and dropped: on this VM the first
//! 2 MiB pages a process touches cost about 4 ms each, slower than the 4 KiB
//! faults they replace; see BENCHMARKS.md.)

use core::ops::Range;

/// Page size assumed for rounding (4 KiB; a larger real page only means a
/// few bytes at each end of a range are left to fault as usual).
const PAGE: usize = 4096;

/// The unused capacity of a `Vec<T>` as plain addresses: the elements
/// `len..capacity` it will hold next. Holds no reference, so it may be sent
/// to another thread; it only ever asks the kernel to fault pages in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spare {
    /// Address of element `len` (the first unused slot).
    first: usize,
    /// Address one past the last slot of the allocation.
    end: usize,
    /// Size of one element.
    size: usize,
}

impl Spare {
    /// The spare capacity of `v` as it is now.
    pub(crate) fn of<T>(v: &Vec<T>) -> Spare {
        Spare::from_element(v, v.len())
    }

    /// The whole allocation of `v`, as if it were empty: for a buffer
    /// allocated zeroed (`vec![0; n]`, which the allocator maps lazily) and
    /// about to be written all over.
    pub(crate) fn whole<T>(v: &Vec<T>) -> Spare {
        Spare::from_element(v, 0)
    }

    /// The allocation of `v` from element `first` to its capacity.
    fn from_element<T>(v: &Vec<T>, first: usize) -> Spare {
        let size = core::mem::size_of::<T>();
        let base = v.as_ptr() as usize;
        let first = base.saturating_add(first.saturating_mul(size));
        let end = base.saturating_add(v.capacity().saturating_mul(size));
        Spare { first, end, size }
    }

    /// Faults in the pages wholly inside the spare elements `elems` (counted
    /// from the first unused slot; clamped to the allocation).
    pub(crate) fn populate(&self, elems: Range<usize>) {
        let start = self.first.saturating_add(elems.start.saturating_mul(self.size));
        let stop = self.first.saturating_add(elems.end.saturating_mul(self.size)).min(self.end);
        let Some(start) = start.checked_next_multiple_of(PAGE) else { return };
        let stop = stop - stop % PAGE;
        if start < stop {
            populate_write(start, stop - start);
        }
    }
}

/// Fuzzing helper (the `chain_rules` target runs it on every input): a
/// buffer of an input-chosen size and fill, faulted in over input-chosen
/// ranges of its spare capacity and of the whole allocation, keeps every
/// byte, and its spare capacity still takes writes afterwards. The ranges
/// span whole pages, so the `madvise` call really runs.
pub(crate) fn check_populate(data: &[u8]) {
    let byte = |i: usize| usize::from(data.get(i).copied().unwrap_or(0));
    // Up to 16 pages of u64s, filled up to an input-chosen length.
    let capacity = (byte(0) % 16 + 1) * PAGE / 8;
    let len = (byte(1) * 131 + byte(2)) % (capacity + 1);
    let fill = |i: usize| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut v: Vec<u64> = Vec::with_capacity(capacity);
    v.extend((0..len).map(fill));
    let spare = Spare::of(&v);
    let (a, b) = (byte(3) * 64, byte(4) * 64 + byte(5));
    spare.populate(a.min(b)..a.max(b));
    spare.populate(0..usize::MAX);
    Spare::whole(&v).populate(byte(6)..capacity);
    assert!(v.iter().enumerate().all(|(i, &x)| x == fill(i)), "populate changed a byte");
    let room = v.capacity() - v.len();
    v.extend((len..len + room).map(fill));
    assert!(v.iter().enumerate().all(|(i, &x)| x == fill(i)));
}

#[cfg(target_os = "linux")]
fn populate_write(addr: usize, len: usize) {
    // SAFETY: madvise(MADV_POPULATE_WRITE) only faults the pages of the range
    // in, writable, as a first write would, "avoiding the actual memory
    // access": it reads and writes no byte, so it cannot change or race with
    // what any thread stores there, and it creates no Rust reference (plain
    // integers in, an integer out). `addr..addr + len` lies inside the
    // allocation of a Vec the caller keeps alive and does not reallocate
    // while this runs (`HeaderTree::accept_par` makes room first and pushes
    // at most one entry per header; the hash index populates a table it just
    // allocated); were that ever broken, the call would fault in
    // pages of whatever is mapped there, still without touching a byte, or
    // fail with ENOMEM. The result is ignored on purpose: EINVAL (a kernel
    // before 5.14) or ENOMEM only mean the pages fault later, as usual.
    unsafe {
        libc::madvise(addr as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn populate_write(_addr: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populating_changes_no_byte_and_stays_inside() {
        let mut v: Vec<u64> = Vec::with_capacity(3 * PAGE);
        v.extend(0..100);
        let spare = Spare::of(&v);
        spare.populate(0..usize::MAX);
        spare.populate(usize::MAX - 1..usize::MAX);
        #[allow(clippy::reversed_empty_ranges)]
        spare.populate(10..5);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
        v.extend(100..v.capacity() as u64);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));

        let mut table = vec![0u64; 3 * PAGE];
        table[5] = 5;
        Spare::whole(&table).populate(0..table.len());
        assert!(table.iter().enumerate().all(|(i, &x)| x == if i == 5 { 5 } else { 0 }));

        let empty: Vec<u32> = Vec::new();
        Spare::of(&empty).populate(0..10);
        Spare::whole(&empty).populate(0..10);
        let zst: Vec<()> = Vec::with_capacity(10);
        Spare::of(&zst).populate(0..10);
    }

    #[test]
    fn the_fuzz_check_holds_on_a_few_inputs() {
        for input in [&[][..], &[15, 255, 255, 1, 200, 7, 3], &[3, 0, 9, 64, 2, 255, 255]] {
            check_populate(input);
        }
    }
}
