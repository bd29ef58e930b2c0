//! The on-disk header store: one append-only file, `headers.dat`, in a data
//! directory.
//!
//! ```text
//! file header  16 bytes: "bwheader" | format version u32 LE (1) | network magic [4]
//! record       count u32 LE (>= 1) | checksum [8] | count x 80-byte header
//! ```
//!
//! A record is one appended batch. Its checksum is the first 8 bytes of
//! sha256(count LE || headers). [`HeaderStore::append`] writes a record and
//! fsyncs before it returns, so a batch reported stored survives a crash. A
//! crash mid-append leaves a torn last record; [`HeaderStore::open`] detects
//! it (too short, or a checksum mismatch) and truncates the file at the end
//! of the last good record, so no earlier header is lost.
//!
//! Headers are stored in the order a [`HeaderTree`] added them (parents before
//! children, forks included). Reopening does not re-check proof of work or
//! any other rule: the records were validated before they were written and
//! the checksums prove they are the bytes written. [`load_tree`] only
//! re-hashes them (on every core) and re-links them.
//!
//! One writer at a time: [`HeaderStore::open`] takes an exclusive lock on the
//! file (`flock` on Unix; `LockFileEx` on Windows, where the lock also keeps
//! [`HeaderStore::snapshot`] out) and holds it until the store is dropped. A second opener (another process, or a second
//! `HeaderStore` in this one) gets [`StoreError::Locked`] instead of reading
//! a tail still being written, truncating it as torn, and losing headers the
//! first writer has reported stored. (Core takes a `.lock` file in its data
//! directory for the same reason: `LockDirectory` in src/util/fs_helpers.cpp.)

use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zerocopy::IntoBytes;

use super::{HeaderTree, Params};
use crate::network::{Magic, Network};
use crate::pow::par_hash_headers;
use crate::wire::{BlockHeader, HEADER_SIZE};

/// The store's file name inside the data directory.
pub const FILE_NAME: &str = "headers.dat";

/// First 8 bytes of the file.
const FILE_MAGIC: [u8; 8] = *b"bwheader";
/// The only format this code writes and reads.
const FORMAT_VERSION: u32 = 1;
/// Bytes of the file header.
const FILE_HEADER_LEN: u64 = 16;
/// Bytes before each record's headers: count and checksum.
const RECORD_HEADER_LEN: usize = 12;
/// Largest batch written as one record, so a record's size fits easily in
/// memory (more headers are split over several records).
const MAX_RECORD_HEADERS: usize = 100_000;

/// Why the store could not be opened or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O error on the data directory or the file.
    Io {
        /// What was being done.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The file does not start with the store's magic or a known version.
    NotAStore {
        /// The file.
        path: PathBuf,
    },
    /// The store belongs to another network.
    WrongNetwork {
        /// The network asked for.
        expected: Network,
        /// The magic found in the file.
        found: Magic,
    },
    /// Another open store (in this process or another) holds the file.
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// A stored header does not connect to the ones before it (the file was
    /// not written by a [`HeaderTree`]).
    Unlinked {
        /// Position of the header in the store.
        index: usize,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io { op, source } => write!(f, "header store: {op}: {source}"),
            StoreError::NotAStore { path } => {
                write!(
                    f,
                    "{} is not a bitwire header store (expected magic \"bwheader\" version 1)",
                    path.display()
                )
            }
            StoreError::WrongNetwork { expected, found } => write!(
                f,
                "header store is for magic {found}, expected {expected} (magic {})",
                expected.magic()
            ),
            StoreError::Locked { path } => write!(
                f,
                "{} is in use: another bitwire (or another open store) is writing it",
                path.display()
            ),
            StoreError::Unlinked { index } => {
                write!(f, "stored header {index} does not connect to an earlier one")
            }
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err(op: &'static str) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { op, source }
}

/// An open, append-only header file.
#[derive(Debug)]
pub struct HeaderStore {
    file: File,
    path: PathBuf,
    network: Network,
    /// File length up to the end of the last good record.
    end: u64,
    headers: u64,
    truncated_bytes: u64,
}

fn checksum(count: u32, payload: &[u8]) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(count.to_le_bytes());
    h.update(payload);
    let d = h.finalize();
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

/// Whether the record at `span` (record header included) has a good checksum.
fn record_ok(buf: &[u8], (start, end): (usize, usize)) -> bool {
    let count = u32::from_le_bytes([buf[start], buf[start + 1], buf[start + 2], buf[start + 3]]);
    buf[start + 4..start + RECORD_HEADER_LEN]
        == checksum(count, &buf[start + RECORD_HEADER_LEN..end])
}

/// The index of the first record whose checksum fails (`spans.len()` if none),
/// checked in parallel over the available cores.
fn first_bad_record(buf: &[u8], spans: &[(usize, usize)]) -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads == 1 || spans.len() < 64 {
        return spans.iter().position(|&s| !record_ok(buf, s)).unwrap_or(spans.len());
    }
    let per = spans.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = spans
            .chunks(per)
            .enumerate()
            .map(|(i, part)| {
                scope.spawn(move || {
                    part.iter().position(|&s| !record_ok(buf, s)).map(|p| i * per + p)
                })
            })
            .collect();
        // A thread that cannot be joined counts as "everything from its part is bad".
        let mut first = spans.len();
        for (i, h) in handles.into_iter().enumerate() {
            match h.join() {
                Ok(Some(p)) => first = first.min(p),
                Ok(None) => {}
                Err(_) => first = first.min(i * per),
            }
        }
        first
    })
}

/// The good records of a store file's bytes `buf`: their headers and the
/// offset where the good part ends (a torn or corrupt tail starts there).
/// `None` for a file shorter than its file header that agrees with it so far
/// (new, or torn while the file header was written: no record can exist).
fn parse(
    buf: &[u8],
    network: Network,
    path: &Path,
) -> Result<Option<(Vec<BlockHeader>, usize)>, StoreError> {
    if (buf.len() as u64) < FILE_HEADER_LEN {
        if buf.iter().zip(FILE_MAGIC.iter()).any(|(a, b)| a != b) {
            return Err(StoreError::NotAStore { path: path.to_path_buf() });
        }
        return Ok(None);
    }
    if buf[..8] != FILE_MAGIC || buf[8..12] != FORMAT_VERSION.to_le_bytes() {
        return Err(StoreError::NotAStore { path: path.to_path_buf() });
    }
    let found = Magic([buf[12], buf[13], buf[14], buf[15]]);
    if found != network.magic() {
        return Err(StoreError::WrongNetwork { expected: network, found });
    }

    // First pass: the records' spans, as far as their lengths are
    // consistent. Second pass: their checksums, on every core.
    let mut spans = Vec::new();
    let mut pos = FILE_HEADER_LEN as usize;
    while let Some(rec) = buf.get(pos..pos + RECORD_HEADER_LEN) {
        let count = u32::from_le_bytes([rec[0], rec[1], rec[2], rec[3]]);
        let start = pos + RECORD_HEADER_LEN;
        let end = start.saturating_add(count as usize * HEADER_SIZE);
        if count == 0 || end > buf.len() {
            break;
        }
        spans.push((pos, end));
        pos = end;
    }
    let good = first_bad_record(buf, &spans);
    pos = spans.get(good).map_or(pos, |&(start, _)| start);
    let mut headers = Vec::with_capacity((pos - FILE_HEADER_LEN as usize) / HEADER_SIZE);
    for &(start, end) in &spans[..good] {
        headers.extend(
            buf[start + RECORD_HEADER_LEN..end]
                .chunks_exact(HEADER_SIZE)
                .map(|c| BlockHeader::from_array(c.try_into().expect("chunks of 80 bytes"))),
        );
    }
    Ok(Some((headers, pos)))
}

impl HeaderStore {
    /// Opens (or creates) the store in `dir` for `network` and returns it with
    /// every stored header, in stored order. A torn or corrupt tail is cut
    /// off (see [`HeaderStore::truncated_bytes`]). The file stays locked
    /// until the store is dropped: [`StoreError::Locked`] while another store
    /// has it open.
    pub fn open(
        dir: &Path,
        network: Network,
    ) -> Result<(HeaderStore, Vec<BlockHeader>), StoreError> {
        std::fs::create_dir_all(dir).map_err(io_err("create the data directory"))?;
        let path = dir.join(FILE_NAME);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open headers.dat"))?;
        // Before reading: the tail of a file another writer holds is not torn.
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err("lock headers.dat")(e)),
        }
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).map_err(io_err("read headers.dat"))?;

        let mut store = HeaderStore {
            file,
            path,
            network,
            end: FILE_HEADER_LEN,
            headers: 0,
            truncated_bytes: 0,
        };
        let Some((headers, end)) = parse(&buf, network, &store.path)? else {
            // New, or a crash while the file header was being written: no
            // record can exist yet.
            store.write_file_header()?;
            return Ok((store, Vec::new()));
        };
        store.end = end as u64;
        store.headers = headers.len() as u64;
        if store.end < buf.len() as u64 {
            store.truncated_bytes = buf.len() as u64 - store.end;
            store.file.set_len(store.end).map_err(io_err("truncate a torn tail"))?;
            store.file.sync_all().map_err(io_err("fsync after truncation"))?;
        }
        Ok((store, headers))
    }

    /// The headers stored in `dir` for `network` as they are now, without
    /// opening the store for writing: no lock is taken and nothing is cut, so
    /// it may run while a [`HeaderStore`] (in this process or another)
    /// appends. Records the writer has not finished are not returned (their
    /// checksums fail or they are short), nor is anything after them.
    /// `Ok(empty)` when there is no store yet.
    pub fn snapshot(dir: &Path, network: Network) -> Result<Vec<BlockHeader>, StoreError> {
        let path = dir.join(FILE_NAME);
        let buf = match std::fs::read(&path) {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read headers.dat")(e)),
        };
        Ok(parse(&buf, network, &path)?.map(|(headers, _)| headers).unwrap_or_default())
    }

    fn write_file_header(&mut self) -> Result<(), StoreError> {
        let mut h = [0u8; FILE_HEADER_LEN as usize];
        h[..8].copy_from_slice(&FILE_MAGIC);
        h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&self.network.magic().to_bytes());
        self.file.set_len(0).map_err(io_err("reset headers.dat"))?;
        self.file.seek(SeekFrom::Start(0)).map_err(io_err("seek headers.dat"))?;
        self.file.write_all(&h).map_err(io_err("write the file header"))?;
        self.file.sync_all().map_err(io_err("fsync headers.dat"))?;
        // Make the new directory entry durable too.
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.end = FILE_HEADER_LEN;
        Ok(())
    }

    /// Appends `headers` as one or more records and fsyncs. When this returns
    /// `Ok`, the headers survive a crash. On error the file is cut back to
    /// its previous end (best effort; [`HeaderStore::open`] would do it anyway).
    pub fn append(&mut self, headers: &[BlockHeader]) -> Result<(), StoreError> {
        if headers.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(
            headers.len() * HEADER_SIZE
                + headers.len().div_ceil(MAX_RECORD_HEADERS) * RECORD_HEADER_LEN,
        );
        for chunk in headers.chunks(MAX_RECORD_HEADERS) {
            let count = chunk.len() as u32;
            let payload = chunk.as_bytes();
            buf.extend_from_slice(&count.to_le_bytes());
            buf.extend_from_slice(&checksum(count, payload));
            buf.extend_from_slice(payload);
        }
        let res = self
            .file
            .seek(SeekFrom::Start(self.end))
            .and_then(|_| self.file.write_all(&buf))
            .and_then(|_| self.file.sync_data());
        if let Err(source) = res {
            let _ = self.file.set_len(self.end);
            return Err(StoreError::Io { op: "append to headers.dat", source });
        }
        self.end += buf.len() as u64;
        self.headers += headers.len() as u64;
        Ok(())
    }

    /// Number of headers stored.
    pub fn len(&self) -> u64 {
        self.headers
    }

    /// Whether no header is stored yet.
    pub fn is_empty(&self) -> bool {
        self.headers == 0
    }

    /// Bytes cut off a torn or corrupt tail when the store was opened.
    pub fn truncated_bytes(&self) -> u64 {
        self.truncated_bytes
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The network the store is for.
    pub fn network(&self) -> Network {
        self.network
    }
}

/// Opens the store in `dir` for `params.network` and rebuilds its
/// [`HeaderTree`] (rooted at genesis) from the stored headers: hashed in one
/// batch, linked and given chainwork, not re-validated (see the module docs).
pub fn load_tree(dir: &Path, params: &Params) -> Result<(HeaderTree, HeaderStore), StoreError> {
    let (store, headers) = HeaderStore::open(dir, params.network)?;
    Ok((tree_of(params, &headers)?, store))
}

/// [`load_tree`] from a [`HeaderStore::snapshot`]: the tree of what is stored
/// now, without the store, for a reader (`bitwire serve --datadir`) beside a
/// writer that may be appending.
pub fn snapshot_tree(dir: &Path, params: &Params) -> Result<HeaderTree, StoreError> {
    tree_of(params, &HeaderStore::snapshot(dir, params.network)?)
}

fn tree_of(params: &Params, headers: &[BlockHeader]) -> Result<HeaderTree, StoreError> {
    let mut tree = HeaderTree::new(params);
    tree.reserve(headers.len());
    let mut hashes = Vec::with_capacity(headers.len());
    par_hash_headers(headers, &mut hashes);
    tree.extend_trusted(headers, &hashes).map_err(|r| StoreError::Unlinked { index: r.index })?;
    Ok(tree)
}
