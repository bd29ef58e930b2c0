//! A bounds-checked cursor over a borrowed payload (rustls' `Reader`): every
//! read either returns a sub-slice of the input or a typed error; nothing
//! indexes past the end and nothing allocates.

use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

use crate::wire::compact;
use crate::wire::PayloadError;

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], PayloadError> {
        if self.buf.len() < n {
            return Err(PayloadError::Truncated { field, needed: n, available: self.buf.len() });
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], PayloadError> {
        let b = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, PayloadError> {
        Ok(self.array::<1>(field)?[0])
    }

    pub(crate) fn u32_le(&mut self, field: &'static str) -> Result<u32, PayloadError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    pub(crate) fn i32_le(&mut self, field: &'static str) -> Result<i32, PayloadError> {
        Ok(i32::from_le_bytes(self.array(field)?))
    }

    pub(crate) fn u64_le(&mut self, field: &'static str) -> Result<u64, PayloadError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// A CompactSize, canonical and (when `range_check`) at most MAX_SIZE,
    /// as Core's `ReadCompactSize(s, range_check)`.
    pub(crate) fn compact_size(
        &mut self,
        field: &'static str,
        range_check: bool,
    ) -> Result<u64, PayloadError> {
        let (value, used) = compact::read(self.buf, field, range_check)?;
        self.buf = &self.buf[used..];
        Ok(value)
    }

    /// A zero-copy view of one fixed-layout record.
    pub(crate) fn record<T>(&mut self, field: &'static str) -> Result<&'a T, PayloadError>
    where
        T: FromBytes + KnownLayout + Immutable + Unaligned,
    {
        let bytes = self.take(core::mem::size_of::<T>(), field)?;
        Ok(T::ref_from_bytes(bytes).expect("length checked by take; T is unaligned"))
    }

    /// A zero-copy view of `count` fixed-layout records. `count` must already
    /// be bounded by a protocol limit, so `count * size` cannot overflow.
    pub(crate) fn records<T>(
        &mut self,
        count: usize,
        field: &'static str,
    ) -> Result<&'a [T], PayloadError>
    where
        T: FromBytes + Immutable + Unaligned,
        [T]: KnownLayout<PointerMetadata = usize>,
    {
        let bytes = self.take(count * core::mem::size_of::<T>(), field)?;
        Ok(<[T]>::ref_from_bytes_with_elems(bytes, count)
            .expect("length checked by take; T is unaligned"))
    }

    /// Ends the read: the payload must be used up.
    pub(crate) fn finish(self) -> Result<(), PayloadError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(PayloadError::TrailingBytes { count: self.buf.len() })
        }
    }
}
