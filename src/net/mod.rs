//! The only code that touches sockets: the mio reactor and bounded buffers.
//!
//! [`Service`] is the seam: the reactor moves bytes, the service decides.
//! [`Reactor`] is the event loop: one thread owns every socket, hands bytes
//! and the time to the service and carries out its [`Io`] instructions. It
//! keeps no buffer per connection (reads land in one shared buffer, writes
//! go straight from [`Service::pending_output`]), so idle peers are cheap;
//! the service bounds what it buffers.
//!
//! Syncing headers with the engine from [`crate::sync`], stopping cleanly on
//! Ctrl-C:
//!
//! ```no_run
//! use bitwire::chain::{params::Params, HeaderTree};
//! use bitwire::net::{self, Reactor};
//! use bitwire::sync::{Config, Engine};
//! use bitwire::Network;
//!
//! # fn main() -> std::io::Result<()> {
//! let mut config = Config::new(Network::Main);
//! config.connect.push("127.0.0.1:8333".parse().unwrap());
//! config.stop_when_synced = true;
//! let tree = HeaderTree::new(Params::for_network(Network::Main));
//! let mut engine = Engine::new(config, tree, None);
//!
//! let reactor = Reactor::new(net::Config::default())?;
//! net::stop_on_ctrl_c(reactor.handle()).expect("one Ctrl-C handler per process");
//! let (exit, stats) = reactor.run(&mut engine)?;
//! println!("{exit:?}: height {}, {} bytes read", engine.height(), stats.bytes_read);
//! # Ok(()) }
//! ```
//!
//! A server listens first ([`Reactor::listen`]) and may run on its own
//! thread ([`Reactor::spawn`]). Each connection is a file descriptor: the
//! process limit (`ulimit -n`) must exceed [`Config::max_connections`] in use.

mod reactor;
mod seeds;
mod service;

pub use reactor::{
    stop_on_ctrl_c, Config, Exit, Handle, Reactor, Running, Stats, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_READ_BUDGET, DEFAULT_READ_BUFFER,
};
pub use seeds::{dns_seeds, resolve_seeds, Resolved};
pub use service::{Closed, Io, Link, PeerId, Service, Time};
