//! The header store: append and reopen, crashes simulated by truncating and
//! corrupting the tail, wrong files, and rebuilding the tree from the store.

use std::path::PathBuf;

use bitwire::chain::store::{load_tree, snapshot_tree, FILE_NAME};
use bitwire::chain::{HeaderStore, HeaderTree, Params, StoreError};
use bitwire::wire::BlockHeader;
use bitwire::Network;

fn real(name: &str) -> Vec<BlockHeader> {
    let path = format!("{}/corpus/vectors/headers/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(path).unwrap().chunks_exact(80).map(|c| *BlockHeader::view(c).unwrap()).collect()
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bitwire-store-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const NOW: u64 = 2_000_000_000;

/// Appends mainnet 1..=n in batches of `batch`, the way the sync engine
/// would: accept into the tree, then append what the tree added.
fn write_mainnet(dir: &std::path::Path, n: usize, batch: usize) -> Vec<BlockHeader> {
    let chain = real("mainnet_0_39999");
    let main = Params::for_network(Network::Main);
    let (mut tree, mut store) = load_tree(dir, main).unwrap();
    for b in chain[1..=n].chunks(batch) {
        let mark = tree.len();
        tree.accept(b, NOW).unwrap();
        let new: Vec<BlockHeader> = tree.inserted_since(mark).collect();
        store.append(&new).unwrap();
    }
    assert_eq!(store.len() as usize, n);
    chain[1..=n].to_vec()
}

#[test]
fn append_reopen_and_rebuild_the_tree() {
    let dir = tempdir("roundtrip");
    let written = write_mainnet(&dir, 5000, 2000);
    let (store, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
    assert_eq!(headers, written);
    assert_eq!(store.truncated_bytes(), 0);
    assert_eq!(store.network(), Network::Main);
    drop(store);
    let (tree, store) = load_tree(&dir, Params::for_network(Network::Main)).unwrap();
    assert_eq!(tree.tip().height, 5000);
    assert_eq!(tree.tip().hash, written[4999].block_hash());
    assert_eq!(store.len(), 5000);
    // The rebuilt tree has the same chainwork as one that validated.
    let mut fresh = HeaderTree::new(Params::for_network(Network::Main));
    fresh.accept(&written, NOW).unwrap();
    assert_eq!(fresh.tip(), tree.tip());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_tail_is_cut_at_every_length_without_losing_earlier_batches() {
    let dir = tempdir("torn");
    let written = write_mainnet(&dir, 300, 100); // three records of 100
    let path = dir.join(FILE_NAME);
    let full = std::fs::read(&path).unwrap();
    let record = 12 + 100 * 80;
    assert_eq!(full.len(), 16 + 3 * record);
    // Cut anywhere inside the last record: the first two survive.
    for cut in [1, 2, 11, 12, 13, 80, record - 1] {
        std::fs::write(&path, &full[..full.len() - cut]).unwrap();
        let (store, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
        assert_eq!(headers, written[..200], "cut {cut}");
        assert_eq!(store.truncated_bytes() as usize, record - cut);
        drop(store);
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, 16 + 2 * record);
    }
    // After recovery, appending continues where the good data ends.
    let (mut store, _) = HeaderStore::open(&dir, Network::Main).unwrap();
    store.append(&written[200..]).unwrap();
    drop(store);
    let (_, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
    assert_eq!(headers, written);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_tail_is_detected_by_its_checksum() {
    let dir = tempdir("corrupt");
    let written = write_mainnet(&dir, 300, 100);
    let path = dir.join(FILE_NAME);
    let full = std::fs::read(&path).unwrap();
    let record = 12 + 100 * 80;
    for at in [16 + 2 * record, 16 + 2 * record + 5, full.len() - 1, 16 + 2 * record + 12 + 4000] {
        let mut bad = full.clone();
        bad[at] ^= 0x40;
        std::fs::write(&path, &bad).unwrap();
        let (store, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
        assert_eq!(headers, written[..200], "flip at {at}");
        assert_eq!(store.truncated_bytes() as usize, record);
    }
    // Garbage appended after good records is cut too.
    let mut extra = full.clone();
    extra.extend_from_slice(&[0xff; 40]);
    std::fs::write(&path, &extra).unwrap();
    let (store, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
    assert_eq!((headers.len(), store.truncated_bytes()), (300, 40));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn forks_are_stored_and_come_back() {
    let dir = tempdir("forks");
    let t3 = Params::for_network(Network::Testnet3);
    let chain = real("testnet3_0_9999");
    let fork = real("testnet3_core_fork_1_2");
    {
        let (mut tree, mut store) = load_tree(&dir, t3).unwrap();
        for batch in [&chain[1..100], &fork[..], &chain[100..]] {
            let mark = tree.len();
            tree.accept(batch, NOW).unwrap();
            store.append(&tree.inserted_since(mark).collect::<Vec<_>>()).unwrap();
        }
    }
    let (tree, store) = load_tree(&dir, t3).unwrap();
    assert_eq!(store.len(), 10_001);
    assert_eq!(tree.tip().hash, chain[9999].block_hash());
    assert_eq!(tree.height_of(&fork[1].block_hash()), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_network_and_foreign_files_are_refused() {
    let dir = tempdir("foreign");
    write_mainnet(&dir, 10, 10);
    match HeaderStore::open(&dir, Network::Signet) {
        Err(e @ StoreError::WrongNetwork { expected: Network::Signet, .. }) => {
            assert!(e.to_string().contains("f9beb4d9"), "{e}");
        }
        other => panic!("expected WrongNetwork, got {other:?}"),
    }
    std::fs::write(dir.join(FILE_NAME), b"not a header store at all").unwrap();
    assert!(matches!(HeaderStore::open(&dir, Network::Main), Err(StoreError::NotAStore { .. })));
    // A file header torn before it was complete is rewritten (no record can exist).
    std::fs::write(dir.join(FILE_NAME), b"bwhe").unwrap();
    let (store, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
    assert!(headers.is_empty() && store.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corruption_in_a_middle_record_keeps_every_record_before_it() {
    // 150 records of 20 headers: enough for the parallel checksum pass.
    let dir = tempdir("middle");
    let written = write_mainnet(&dir, 3000, 20);
    let path = dir.join(FILE_NAME);
    let full = std::fs::read(&path).unwrap();
    let record = 12 + 20 * 80;
    assert_eq!(full.len(), 16 + 150 * record);
    for bad_record in [0usize, 1, 37, 75, 76, 149] {
        let mut bad = full.clone();
        bad[16 + bad_record * record + 12 + 33] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        let (store, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
        assert_eq!(headers, written[..bad_record * 20], "record {bad_record}");
        assert_eq!(store.truncated_bytes() as usize, (150 - bad_record) * record);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_store_in_use_is_refused_and_its_tail_left_alone() {
    let dir = tempdir("locked");
    let chain = write_mainnet(&dir, 30, 10);
    let (mut first, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
    assert_eq!(headers, chain);
    // The first writer is mid-append: its next record is only partly on disk.
    let path = dir.join(FILE_NAME);
    let mut partial = std::fs::read(&path).unwrap();
    let len_before = partial.len();
    partial.extend_from_slice(&[7u8; 50]);
    std::fs::write(&path, &partial).unwrap();

    // A second opener (another store here; another process the same way)
    // must not take those bytes for a torn tail and cut them off.
    match HeaderStore::open(&dir, Network::Main) {
        Err(e @ StoreError::Locked { .. }) => {
            assert!(e.to_string().contains("in use"), "{e}");
            assert!(e.to_string().contains(FILE_NAME), "{e}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    let main = Params::for_network(Network::Main);
    assert!(matches!(load_tree(&dir, main), Err(StoreError::Locked { .. })));
    // A reader takes what is finished, and cuts nothing.
    assert_eq!(HeaderStore::snapshot(&dir, Network::Main).unwrap(), chain);
    let tree = snapshot_tree(&dir, main).unwrap();
    assert_eq!(tree.tip().hash, chain[29].block_hash());
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, len_before + 50);

    // Once the first store is closed, the next open owns the file and cuts
    // the torn tail as usual, keeping every stored header.
    std::fs::write(&path, &partial[..len_before]).unwrap();
    first.append(&real("mainnet_0_39999")[31..=40]).unwrap();
    drop(first);
    let (second, headers) = HeaderStore::open(&dir, Network::Main).unwrap();
    assert_eq!(headers.len(), 40);
    assert_eq!(second.truncated_bytes(), 0);
    drop(second);
    let missing = dir.join("nothing-here");
    assert!(HeaderStore::snapshot(&missing, Network::Main).unwrap().is_empty());
    assert!(!missing.exists(), "a reader creates nothing");
    let _ = std::fs::remove_dir_all(&dir);
}
