//! The engine's configuration: who to connect to, what to do, limits.

use core::time::Duration;
use std::net::SocketAddr;

use crate::peer::{self, Local};
use crate::pow::U256;
use crate::Network;

/// How long a `getheaders` may stay unanswered before the peer is called
/// stalled, dropped, and the request moved to another peer. Core gives its
/// single headers-sync peer 15 minutes plus 1 ms per expected header
/// (src/net_processing.cpp `HEADERS_DOWNLOAD_TIMEOUT_BASE`); with several
/// peers to choose from a much shorter wait costs nothing.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Time before an address whose connection failed or closed is dialled again.
pub const DEFAULT_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// Connection attempts per configured address before giving up on it.
pub const DEFAULT_MAX_CONNECT_ATTEMPTS: u32 = 3;

/// Most connections (inbound and outbound) held at once, by default (Core:
/// `DEFAULT_MAX_PEER_CONNECTIONS` is 125; a header server can hold more).
pub const DEFAULT_MAX_PEERS: usize = 10_000;

/// Events kept for [`Engine::poll_event`](crate::sync::Engine::poll_event)
/// before the oldest are dropped, so an embedder that never polls does not
/// make memory grow.
pub const DEFAULT_MAX_EVENTS: usize = 4096;

/// Most headers one peer may feed us below the minimum chain work: Core
/// bounds the same phase by time (at most 6 headers per second since the
/// chain started, src/headerssync.cpp); a fixed count gives a fixed memory
/// bound. Mainnet has under a million headers; a competing chain needs
/// several times that only at a fraction of the difficulty.
pub const DEFAULT_MAX_PRESYNC_HEADERS: u64 = 6_000_000;

/// The most heap all peers' buffers may hold together, by default: 512 MiB.
/// Each peer is bounded on its own ([`Config::peer_budget`], about 4 MiB at
/// the defaults); this bounds the sum however many peers push large
/// messages at once. Core has no such total (its per-peer
/// `-maxreceivebuffer` is 5 MB, src/net.h `DEFAULT_MAXRECEIVEBUFFER`).
pub const DEFAULT_MAX_BUFFERED_TOTAL: usize = 512 * 1024 * 1024;

/// What the engine does and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The network (magic, consensus rules).
    pub network: Network,
    /// Download headers from outbound peers.
    pub sync: bool,
    /// Answer other peers' `getheaders` (and `getdata` with `notfound`).
    pub serve: bool,
    /// Outbound peers to dial at start.
    pub connect: Vec<SocketAddr>,
    /// Emit [`Io::Stop`](crate::net::Io::Stop) once synced (a `bitwire sync`
    /// run); a server or a follower keeps running.
    pub stop_when_synced: bool,
    /// Most connections held at once; inbound connections beyond it are
    /// dropped with [`DisconnectReason::TooManyPeers`](crate::peer::DisconnectReason::TooManyPeers).
    pub max_peers: usize,
    /// Service bits we announce in `version`.
    pub services: u64,
    /// Our user agent (BIP14).
    pub user_agent: String,
    /// Seed for our `version` nonces (self-connection detection); any value,
    /// different per process (the CLI uses the clock and the process id).
    pub nonce_seed: u64,
    /// Version handshake deadline.
    pub handshake_timeout: Duration,
    /// Time between our pings.
    pub ping_interval: Duration,
    /// How long a ping may go unanswered.
    pub ping_timeout: Duration,
    /// How long a `getheaders` may go unanswered.
    pub stall_timeout: Duration,
    /// Wait before re-dialling an address.
    pub reconnect_delay: Duration,
    /// Attempts per address before giving up on it.
    pub max_connect_attempts: u32,
    /// Per-peer output budget in bytes: a peer that leaves more unread is
    /// dropped.
    pub max_output_per_peer: usize,
    /// Per-peer input budget: the largest message accepted, in bytes
    /// (envelope included). The input buffer never grows past it by more
    /// than one byte; a peer whose message needs more is dropped
    /// ([`DisconnectReason::MessageTooLarge`](crate::peer::DisconnectReason::MessageTooLarge)).
    /// See [`Config::peer_budget`] for the whole per-peer bound.
    pub max_message: usize,
    /// Overall budget: the most heap bytes all peers' buffers (input and
    /// output, [`Engine::buffered_bytes`](crate::sync::Engine::buffered_bytes))
    /// may hold together. When a peer's bytes take the total past it, the
    /// peer holding the most is dropped
    /// ([`DisconnectReason::MemoryBudget`](crate::peer::DisconnectReason::MemoryBudget)),
    /// then the next, until the total fits again. The total can pass the
    /// budget by at most what one call of the reactor adds (one read, at most
    /// [`Config::peer_budget`]) before that happens.
    pub max_buffered_total: usize,
    /// Events kept before the oldest are dropped.
    pub max_events: usize,
    /// Headers of a chain with less total work than this are not stored
    /// until the peer has shown, at a fixed memory cost, that its chain
    /// reaches it (Core's headers presync, see the `presync` module docs).
    /// `None` turns the protection off (the offline default syncs a short
    /// bundled chain far below any real minimum). For a real network, set
    /// Core's `nMinimumChainWork` (src/kernel/chainparams.cpp) of the release
    /// you trust.
    pub min_chain_work: Option<U256>,
    /// Most headers one peer may presync (memory: 8 bytes per 2000).
    pub max_presync_headers: u64,
}

impl Config {
    /// Defaults: sync and serve, no addresses, Core's timeouts.
    pub fn new(network: Network) -> Config {
        let local = Local::new(network.magic());
        Config {
            network,
            sync: true,
            serve: true,
            connect: Vec::new(),
            stop_when_synced: false,
            max_peers: DEFAULT_MAX_PEERS,
            services: local.services,
            user_agent: local.user_agent,
            nonce_seed: 0,
            handshake_timeout: peer::HANDSHAKE_TIMEOUT,
            ping_interval: peer::PING_INTERVAL,
            ping_timeout: peer::PING_TIMEOUT,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            reconnect_delay: DEFAULT_RECONNECT_DELAY,
            max_connect_attempts: DEFAULT_MAX_CONNECT_ATTEMPTS,
            max_output_per_peer: peer::DEFAULT_MAX_OUTPUT,
            max_message: peer::DEFAULT_MAX_MESSAGE,
            max_buffered_total: DEFAULT_MAX_BUFFERED_TOTAL,
            max_events: DEFAULT_MAX_EVENTS,
            min_chain_work: None,
            max_presync_headers: DEFAULT_MAX_PRESYNC_HEADERS,
        }
    }

    /// The most heap one peer's buffers can hold: its input buffer (at most
    /// `max_message + 1` bytes) and its output buffer (at most
    /// `max_output_per_peer` bytes queued, in an allocation at most twice
    /// that). Presync adds 8 bytes per 2,000 headers on top (see
    /// [`Config::max_presync_headers`]).
    pub fn peer_budget(&self) -> usize {
        self.max_message
            .saturating_add(1)
            .saturating_add(self.max_output_per_peer.saturating_mul(2))
    }

    /// The per-peer settings every [`Peer`](crate::peer::Peer) of the engine shares.
    pub(crate) fn local(&self) -> Local {
        let mut local = Local::new(self.network.magic());
        local.services = self.services;
        local.user_agent.clone_from(&self.user_agent);
        local.handshake_timeout = self.handshake_timeout;
        local.ping_interval = self.ping_interval;
        local.ping_timeout = self.ping_timeout;
        local.max_output = self.max_output_per_peer;
        local.max_message = self.max_message;
        local
    }
}
