//! Header consensus: network parameters, Bitcoin Core's header rules, the
//! header tree with its best chain, and the on-disk header store.
//!
//! ```text
//!   params   per-network constants as data (src/kernel/chainparams.cpp)
//!   rules    CheckBlockHeader, ContextualCheckBlockHeader, GetNextWorkRequired
//!   tree     HeaderTree: every valid header, chainwork, best chain, locators
//!   store    HeaderStore: crash-safe append-only headers.dat
//!   window   ChainWindow: all rules over a fixed 2016-header window (bitwire
//!            validate of a chain, presync): nothing stored
//!   cache    what the tree and the window remember between consecutive headers
//!   par      accept_par / extend_par: hashing on every core, overlapped with validation
//! ```
//!
//! The sync engine's entry point is [`HeaderTree::accept`]: a batch of headers
//! and the time in, an [`Accepted`] summary or a [`HeaderRejection`] naming
//! Core's reject reason out. What the tree added goes to the store:
//!
//! ```
//! use bitwire::chain::{store, HeaderTree, Params};
//! use bitwire::chain::mine::mine_chain;
//! use bitwire::Network;
//!
//! let params = Params::for_network(Network::Regtest);
//! let dir = std::env::temp_dir().join(format!("bitwire-doc-{}", std::process::id()));
//! let (mut tree, mut store) = store::load_tree(&dir, params)?;
//!
//! // A `headers` message's worth, here mined at regtest difficulty.
//! let batch = mine_chain(params, &params.genesis(), 10, 600, 0);
//! let now = 2_000_000_000; // the caller's clock, seconds since the epoch
//! let mark = tree.len();
//! match tree.accept(&batch, now) {
//!     Ok(accepted) => assert_eq!((accepted.new, accepted.best_tip_changed), (10, true)),
//!     Err(rejection) => panic!("{}: disconnect the peer", rejection.error), // e.g. "high-hash"
//! }
//! store.append(&tree.inserted_since(mark).collect::<Vec<_>>())?; // durable on return
//!
//! // Serving getheaders, and asking a peer for more.
//! let served = tree.headers_after(&[params.genesis_hash], bitwire::wire::BlockHash::ZERO, 2000);
//! assert_eq!(served.len(), 10);
//! let _getheaders_locator = tree.locator();
//!
//! // Reopening rebuilds the same tree.
//! drop(store);
//! let (again, _) = store::load_tree(&dir, params)?;
//! assert_eq!(again.tip(), tree.tip());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), bitwire::chain::StoreError>(())
//! ```

mod cache;
mod error;
pub mod fuzzing;
mod index;
pub mod mine;
mod par;
pub mod params;
pub mod rules;
pub mod store;
mod tree;
pub mod window;

pub use error::HeaderError;
pub use par::PAR_CHUNK_HEADERS;
pub use params::Params;
pub use store::{HeaderStore, StoreError};
pub use tree::{Accepted, HeaderInfo, HeaderRejection, HeaderTree, Tip};
pub use window::ChainWindow;
