//! The engine: peers, the sync schedule, serving, and the [`Service`] seam.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;

use crate::chain::store::HeaderStore;
use crate::chain::{HeaderError, HeaderRejection, HeaderTree};
use crate::net::{Closed, Io, Link, PeerId, Service, Time};
use crate::peer::{self, Conn, DisconnectReason, Handler, HandshakeState, Local, Peer, Remote};
use crate::wire::msg::{GetHeaders, Headers, Inv, Message, NotFound};
use crate::wire::{BlockHash, BlockHeader, Command, InvEntry, InvType, PayloadError, WireError};

use super::batch::Batch;
use super::presync::{Flow, Presync};
use super::{Config, Event, MAX_BLOCKS_TO_ANNOUNCE, MAX_HEADERS_RESULTS, MAX_LOCATOR_SZ};

/// A snapshot of one connection, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    /// The connection.
    pub id: PeerId,
    /// Remote address.
    pub addr: SocketAddr,
    /// Who dialled.
    pub link: Link,
    /// Handshake progress.
    pub state: HandshakeState,
    /// The peer's `version`, once received.
    pub remote: Option<Remote>,
    /// Headers we accepted from this peer.
    pub headers_received: u64,
    /// Headers we served to this peer.
    pub headers_served: u64,
}

/// The sync bookkeeping of one peer.
#[derive(Debug, Default)]
pub(super) struct PeerSync {
    /// When our unanswered `getheaders` went out.
    in_flight: Option<Time>,
    /// The request was sent ahead, from the last header of a batch still
    /// being validated: if that batch is rejected, the answer is moot.
    speculative_base: Option<BlockHash>,
    /// Sequence number of our last request to this peer (round robin; the
    /// clock does not do, several requests can share a millisecond).
    last_asked: u64,
    /// The peer answered a request with fewer than 2000 headers: it has
    /// nothing beyond what we hold (until it announces something).
    pub(super) exhausted: bool,
    /// Low-work chain protection state (see [`super::presync`]).
    pub(super) presync: Option<Box<Presync>>,
    received: u64,
    served: u64,
}

struct Slot {
    peer: Peer,
    sync: PeerSync,
    /// This peer's share of [`Engine::buffered_total`] as last counted.
    accounted: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dial {
    /// Waiting until the time to dial.
    Idle(Time),
    /// `Io::Connect` issued, no answer yet.
    Connecting,
    /// Connected as this peer.
    Connected(PeerId),
    /// Not dialled again (misbehaved, or out of attempts).
    Done,
}

#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    dial: Dial,
    failures: u32,
}

/// A full `headers` answer held in [`Core::batch`], not validated yet: the
/// request asked ahead from it goes out first (see [`Engine::finish_pending`]).
#[derive(Clone, Copy, Debug)]
struct Pending {
    peer: PeerId,
    count: usize,
    /// When the request it answers went out.
    asked: Option<Time>,
    /// When it arrived: the clock its headers are validated against.
    now: Time,
}

/// Everything except the peers, so a peer and the rest can be borrowed
/// mutably at once.
pub(super) struct Core {
    pub(super) config: Config,
    pub(super) tree: HeaderTree,
    store: Option<HeaderStore>,
    io: VecDeque<Io>,
    events: VecDeque<Event>,
    events_dropped: u64,
    /// Nonces of our outbound `version`s, for self-connection detection.
    own_nonces: HashMap<u64, SocketAddr>,
    nonce_counter: u64,
    targets: Vec<Target>,
    synced: bool,
    stopped: bool,
    /// `getheaders` sent so far.
    requests: u64,
    /// Scratch for locators, reused.
    locator: Vec<BlockHash>,
    /// The received batch and its hashes (hashed early on another thread
    /// when large: see `batch.rs`), reused.
    pub(super) batch: Batch,
    /// The batch in `batch` waits to be validated (pipelining).
    pending: Option<Pending>,
    /// Scratch for headers on their way to the store, and for the headers
    /// of a `getheaders` answer, reused.
    persist_buf: Vec<BlockHeader>,
    /// Peers other than the one being handled that were sent something
    /// (their buffers changed): recounted against the memory budget.
    touched: Vec<PeerId>,
}

/// The header-sync and header-serving engine. See the [module docs](super).
///
/// ```no_run
/// use bitwire::chain::{params, HeaderTree};
/// use bitwire::sync::{Config, Engine};
/// use bitwire::Network;
///
/// let mut config = Config::new(Network::Main);
/// config.connect.push("127.0.0.1:8333".parse().unwrap());
/// config.stop_when_synced = true;
/// let tree = HeaderTree::new(params::Params::for_network(Network::Main));
/// let engine = Engine::new(config, tree, None);
/// // hand `engine` to bitwire::net's reactor, or drive it yourself.
/// # let _ = engine;
/// ```
pub struct Engine {
    peers: HashMap<PeerId, Slot>,
    local: Local,
    core: Core,
    /// Sum of every slot's `accounted`: the peers' buffers, kept up to date
    /// after each call so the overall budget costs O(1) per call.
    buffered_total: usize,
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("peers", &self.peers.len())
            .field("height", &self.core.tree.tip().height)
            .field("synced", &self.core.synced)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over `tree` (already loaded, e.g. from `store`). Headers
    /// accepted later are appended to `store` when there is one. The
    /// addresses in [`Config::connect`] are dialled on the first
    /// [`Service::tick`] (or at once: the first [`Service::next_io`] asks).
    pub fn new(config: Config, tree: HeaderTree, store: Option<HeaderStore>) -> Engine {
        let local = config.local();
        let targets = config
            .connect
            .iter()
            .map(|&addr| Target { addr, dial: Dial::Idle(Time(0)), failures: 0 })
            .collect();
        let mut core = Core {
            tree,
            store,
            io: VecDeque::new(),
            events: VecDeque::new(),
            events_dropped: 0,
            own_nonces: HashMap::new(),
            nonce_counter: 0,
            targets,
            synced: false,
            stopped: false,
            requests: 0,
            locator: Vec::new(),
            batch: Batch::default(),
            pending: None,
            persist_buf: Vec::new(),
            touched: Vec::new(),
            config,
        };
        core.dial(Time(0));
        Engine { peers: HashMap::new(), local, core, buffered_total: 0 }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.core.events.pop_front()
    }

    /// Events waiting for [`Engine::poll_event`].
    pub fn queued_events(&self) -> usize {
        self.core.events.len()
    }

    /// Events dropped because nobody polled them (see
    /// [`Config::max_events`]).
    pub fn events_dropped(&self) -> u64 {
        self.core.events_dropped
    }

    /// The header tree.
    pub fn tree(&self) -> &HeaderTree {
        &self.core.tree
    }

    /// The header store, if any (to flush or close it at shutdown).
    pub fn store_mut(&mut self) -> Option<&mut HeaderStore> {
        self.core.store.as_mut()
    }

    /// Takes the tree and the store back (after the reactor stopped).
    pub fn into_parts(self) -> (HeaderTree, Option<HeaderStore>) {
        (self.core.tree, self.core.store)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// Best height of the tree.
    pub fn height(&self) -> u32 {
        self.core.tree.tip().height
    }

    /// Best tip of the tree.
    pub fn tip(&self) -> BlockHash {
        self.core.tree.tip().hash
    }

    /// True once the initial sync finished (see [`Event::Synced`]).
    pub fn is_synced(&self) -> bool {
        self.core.synced
    }

    /// True when the engine has nothing more to do: synced with
    /// [`Config::stop_when_synced`], or a sync that lost every peer and
    /// address.
    pub fn is_done(&self) -> bool {
        self.core.stopped
    }

    /// Open connections.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// Connections that finished the handshake.
    pub fn ready_count(&self) -> usize {
        self.peers.values().filter(|s| s.peer.conn().state() == HandshakeState::Ready).count()
    }

    /// One snapshot per connection.
    pub fn peers(&self) -> Vec<PeerInfo> {
        let mut ids: Vec<PeerId> = self.peers.keys().copied().collect();
        ids.sort();
        ids.iter()
            .map(|id| (id, &self.peers[id]))
            .map(|(&id, s)| PeerInfo {
                id,
                addr: s.peer.conn().addr(),
                link: s.peer.conn().link(),
                state: s.peer.conn().state(),
                remote: s.peer.conn().remote().cloned(),
                headers_received: s.sync.received,
                headers_served: s.sync.served,
            })
            .collect()
    }

    /// Heap bytes held in per-peer buffers, all peers together (counted
    /// afresh; what [`Config::max_buffered_total`] bounds).
    pub fn buffered_bytes(&self) -> usize {
        self.peers.values().map(|s| s.peer.buffered_bytes()).sum()
    }

    /// Heap bytes held in one peer's buffers (input and output), or `None`
    /// for an unknown peer. Bounded by [`Config::peer_budget`].
    pub fn peer_buffered_bytes(&self, id: PeerId) -> Option<usize> {
        self.peers.get(&id).map(|s| s.peer.buffered_bytes())
    }

    /// Brings one peer's share of the running total up to date.
    fn account(&mut self, id: PeerId) {
        if let Some(slot) = self.peers.get_mut(&id) {
            let held = slot.peer.buffered_bytes();
            self.buffered_total = self.buffered_total - slot.accounted + held;
            slot.accounted = held;
        }
    }

    /// Recounts the peers sent to while another was handled.
    fn account_touched(&mut self) {
        let mut touched = core::mem::take(&mut self.core.touched);
        for id in touched.drain(..) {
            self.account(id);
        }
        self.core.touched = touched;
    }

    /// Recounts every peer (after calls that touch them all).
    fn account_all(&mut self) {
        self.core.touched.clear();
        let mut total = 0;
        for slot in self.peers.values_mut() {
            slot.accounted = slot.peer.buffered_bytes();
            total += slot.accounted;
        }
        self.buffered_total = total;
    }

    /// Drops the peers holding the most until the total fits the overall
    /// budget again ([`Config::max_buffered_total`]).
    fn enforce_budget(&mut self, now: Time) {
        let budget = self.core.config.max_buffered_total;
        while self.buffered_total > budget {
            while self.buffered_total > budget {
                let Some((&id, slot)) = self.peers.iter().max_by_key(|(&id, s)| (s.accounted, id))
                else {
                    return;
                };
                let (total, held) = (self.buffered_total, slot.accounted);
                self.drop_peer(id, DisconnectReason::MemoryBudget { budget, total, held }, now);
            }
            // The dropped peer may have held the request in flight.
            self.after_peer_change(now);
        }
    }

    /// Adds headers from a local source (a file being served, a miner, a
    /// test), validated like a peer's against the clock `now`, appended to
    /// the store, and announced to every ready peer when the best tip moved:
    /// as a `headers` message to peers that asked for that with
    /// `sendheaders` (BIP130) when at most [`MAX_BLOCKS_TO_ANNOUNCE`] are
    /// new, as an `inv` of the new tip otherwise (Core's
    /// `SendMessages` announcement rule). Returns how many headers were new.
    pub fn add_headers(
        &mut self,
        headers: &[BlockHeader],
        now: Time,
    ) -> Result<usize, HeaderRejection> {
        self.finish_pending(now);
        let core = &mut self.core;
        let mark = core.tree.len();
        let old_tip = core.tree.tip();
        let result = core.tree.accept(headers, now.as_secs());
        let added = match &result {
            Ok(acc) => acc.new,
            Err(rej) => rej.accepted.new,
        };
        if added > 0 {
            core.persist(mark);
        }
        let tip = core.tree.tip();
        if tip.hash != old_tip.hash {
            let fork = core
                .tree
                .height_of(&old_tip.hash)
                .filter(|_| core.tree.hash_at(old_tip.height) == Some(old_tip.hash));
            // Headers from the old tip (or the fork point) to the new tip.
            let from = fork.map_or(tip.height, |h| h + 1);
            let count = (tip.height + 1 - from) as usize;
            let mut announce = std::mem::take(&mut core.persist_buf);
            announce.clear();
            if count <= MAX_BLOCKS_TO_ANNOUNCE {
                announce.extend((from..=tip.height).filter_map(|h| core.tree.header_at(h)));
            }
            let inv = [InvEntry::new(InvType::BLOCK, tip.hash)];
            for (&id, slot) in self.peers.iter_mut() {
                let conn = slot.peer.conn_mut();
                if conn.state() != HandshakeState::Ready {
                    continue;
                }
                if conn.prefers_headers && !announce.is_empty() {
                    conn.send(&Headers(&announce));
                } else {
                    conn.send(&Inv(&inv));
                }
                if conn.take_needs_write() {
                    core.io.push_back(Io::Write(id));
                }
            }
            core.persist_buf = announce;
            core.tip_event(None, added);
        }
        self.account_all();
        self.enforce_budget(now);
        result.map(|acc| acc.new)
    }

    /// Drops `peer` with `reason`: the reactor is told to close it and the
    /// reason is reported now (the reactor's later `disconnected` call is
    /// then only bookkeeping).
    fn drop_peer(&mut self, id: PeerId, reason: DisconnectReason, now: Time) {
        if let Some(slot) = self.peers.remove(&id) {
            self.buffered_total -= slot.accounted;
            self.core.forget(id, &slot, reason, now);
            self.core.io.push_back(Io::Disconnect(id));
        }
    }

    /// Validates the batch [`Core::on_headers`] set aside to let the request
    /// it asked ahead go out first (pipelining): called first thing by every
    /// [`Service`] call that can change the engine, so a batch is validated
    /// before anything that follows it, and due at once by
    /// [`Service::next_wakeup`].
    fn finish_pending(&mut self, now: Time) {
        let Some(p) = self.core.pending else { return };
        // Peers are only removed after this has run.
        let Some(mut slot) = self.peers.remove(&p.peer) else {
            self.core.pending = None;
            return;
        };
        let result = self.core.finish_pending_of(slot.peer.conn_mut(), &mut slot.sync);
        self.settle(p.peer, slot, result, now);
    }

    /// Puts a peer taken out of the map for a call back, or drops it with
    /// the reason the call gave, then recounts and reschedules.
    fn settle(
        &mut self,
        id: PeerId,
        mut slot: Slot,
        result: Result<(), DisconnectReason>,
        now: Time,
    ) {
        match result {
            Ok(()) => {
                if slot.peer.conn_mut().take_needs_write() {
                    self.core.io.push_back(Io::Write(id));
                }
                self.peers.insert(id, slot);
            }
            Err(reason) => {
                self.buffered_total -= slot.accounted;
                self.core.forget(id, &slot, reason, now);
                self.core.io.push_back(Io::Disconnect(id));
            }
        }
        self.after_peer_change(now);
        self.account(id);
        self.account_touched();
        self.enforce_budget(now);
    }

    fn after_peer_change(&mut self, now: Time) {
        self.core.schedule(&mut self.peers, now);
        self.account_touched();
    }
}

impl Core {
    fn event(&mut self, e: Event) {
        if self.events.len() >= self.config.max_events.max(1) {
            self.events.pop_front();
            self.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    fn next_nonce(&mut self) -> u64 {
        self.nonce_counter += 1;
        peer::splitmix64(self.config.nonce_seed ^ peer::splitmix64(self.nonce_counter))
    }

    /// Issues `Io::Connect` for every target whose time has come.
    fn dial(&mut self, now: Time) {
        if self.stopped {
            return;
        }
        for t in &mut self.targets {
            if let Dial::Idle(at) = t.dial {
                if now >= at {
                    t.dial = Dial::Connecting;
                    self.io.push_back(Io::Connect(t.addr));
                }
            }
        }
    }

    fn target_closed(&mut self, addr: SocketAddr, peer: Option<PeerId>, banned: bool, now: Time) {
        let delay = self.config.reconnect_delay;
        let max = self.config.max_connect_attempts;
        if let Some(t) = self.targets.iter_mut().find(|t| {
            t.addr == addr
                && match (t.dial, peer) {
                    (Dial::Connected(p), Some(q)) => p == q,
                    (Dial::Connecting, None) => true,
                    _ => false,
                }
        }) {
            t.failures += 1;
            t.dial = if banned || t.failures >= max { Dial::Done } else { Dial::Idle(now + delay) };
        }
    }

    /// Bookkeeping when a peer is gone, whoever noticed first.
    fn forget(&mut self, id: PeerId, slot: &Slot, reason: DisconnectReason, now: Time) {
        let conn = slot.peer.conn();
        self.own_nonces.remove(&conn.our_nonce());
        if conn.link() == Link::Outbound {
            self.target_closed(conn.addr(), Some(id), reason.is_misbehaviour(), now);
        }
        self.event(Event::Disconnected { peer: id, addr: conn.addr(), reason });
    }

    fn tip_event(&mut self, peer: Option<PeerId>, count: usize) {
        let height = self.tree.tip().height;
        let tip = self.tree.tip().hash;
        self.event(Event::Headers { peer, count, height, tip });
    }

    /// Sends `getheaders` from our best tip to `conn`.
    fn request_headers(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        stop: BlockHash,
        now: Time,
    ) {
        locator_into(&self.tree, &mut self.locator);
        sync.speculative_base = None;
        self.send_getheaders(conn, sync, stop, now);
    }

    /// Sends `getheaders` for what follows `base`, the last header of a full
    /// batch not validated yet: the peer prepares and sends the next batch
    /// while we validate this one (pipelining). The locator is `base`, then
    /// our best chain, so an honest peer answers from `base`.
    fn request_ahead(&mut self, conn: &mut Conn, sync: &mut PeerSync, base: BlockHash, now: Time) {
        locator_into(&self.tree, &mut self.locator);
        if self.locator.len() >= MAX_LOCATOR_SZ {
            self.locator.pop();
        }
        self.locator.insert(0, base);
        sync.speculative_base = Some(base);
        self.send_getheaders(conn, sync, BlockHash::ZERO, now);
    }

    /// Sends `getheaders` with an explicit locator (presync and redownload
    /// follow the peer's chain, not our best one).
    pub(super) fn request_from(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        locator: &[BlockHash],
        now: Time,
    ) {
        self.locator.clear();
        self.locator.extend_from_slice(locator);
        sync.speculative_base = None;
        self.send_getheaders(conn, sync, BlockHash::ZERO, now);
    }

    fn send_getheaders(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        stop: BlockHash,
        now: Time,
    ) {
        conn.send(&GetHeaders {
            version: peer::PROTOCOL_VERSION as u32,
            locator: &self.locator,
            stop_hash: stop,
        });
        self.touched.push(conn.id());
        sync.in_flight = Some(now);
        self.requests += 1;
        sync.last_asked = self.requests;
        if conn.take_needs_write() {
            self.io.push_back(Io::Write(conn.id()));
        }
    }

    /// Picks the next peer to ask, if no request is in flight; decides
    /// whether the initial sync is over.
    fn schedule(&mut self, peers: &mut HashMap<PeerId, Slot>, now: Time) {
        if !self.config.sync || self.synced {
            return;
        }
        // A request to a peer in presync follows that peer's own chain and
        // does not move our tip: it must not hold up the sync from the
        // others (an attacker streaming a cheap chain would otherwise keep
        // the one request slot to itself until its presync budget ran out).
        if peers.values().any(|s| s.sync.in_flight.is_some() && s.sync.presync.is_none()) {
            return;
        }
        if let Some(id) = next_to_ask(peers) {
            let slot = peers.get_mut(&id).expect("candidate is a live peer");
            self.request_headers(slot.peer.conn_mut(), &mut slot.sync, BlockHash::ZERO, now);
            return;
        }
        // A peer still presyncing may yet show a chain with enough work; while
        // ours has less than the minimum, wait for it. With enough work of
        // our own, a presyncing peer is like one that will announce later
        // (an attacker streaming a cheap chain cannot hold up the end).
        let presyncing = peers.values().any(|s| s.sync.in_flight.is_some());
        let enough = self.config.min_chain_work.is_none_or(|m| self.tree.tip().chainwork >= m);
        if presyncing && !enough {
            return;
        }
        // Nobody left to ask: every ready outbound peer told us it has
        // nothing beyond our tip. Outbound peers still connecting or in their
        // handshake hold this up (for at most the connect and handshake
        // timeouts): otherwise the first peer to finish its handshake and
        // answer "nothing" (an attacker, or a peer behind) would end the sync
        // on the wrong tip before the honest peers are even ready.
        let ready_outbound = peers
            .values()
            .filter(|s| s.peer.conn().link() == Link::Outbound)
            .filter(|s| s.peer.conn().state() == HandshakeState::Ready)
            .count();
        let handshaking = peers.values().any(|s| {
            s.peer.conn().link() == Link::Outbound && s.peer.conn().state() != HandshakeState::Ready
        });
        let dialling = self.targets.iter().any(|t| t.dial == Dial::Connecting);
        let pending_outbound = peers.values().any(|s| s.peer.conn().link() == Link::Outbound)
            || self.targets.iter().any(|t| matches!(t.dial, Dial::Connecting | Dial::Idle(_)));
        if ready_outbound > 0 && (handshaking || dialling) {
            return;
        }
        if ready_outbound > 0 {
            self.synced = true;
            let height = self.tree.tip().height;
            let tip = self.tree.tip().hash;
            self.event(Event::Synced { height, tip });
            if self.config.stop_when_synced {
                self.stop();
            }
        } else if ready_outbound == 0
            && !pending_outbound
            && self.targets.iter().all(|t| t.dial == Dial::Done)
            && self.config.stop_when_synced
        {
            // Every address is gone for good: nothing can make progress.
            self.stop();
        }
    }

    fn stop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            self.io.push_back(Io::Stop);
        }
    }

    /// Validates a batch of headers from `conn` and extends the tree.
    ///
    /// `others` are the other peers (for pipelining: during the initial sync
    /// the next request goes out, to the next peer in turn, before this
    /// batch is validated).
    fn on_headers<'h, I>(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        others: &mut HashMap<PeerId, Slot>,
        headers: I,
        now: Time,
    ) -> Result<(), DisconnectReason>
    where
        I: ExactSizeIterator<Item = &'h BlockHeader>,
    {
        let count = headers.len();
        if count > MAX_HEADERS_RESULTS {
            return Err(DisconnectReason::TooManyHeaders {
                max: MAX_HEADERS_RESULTS,
                found: count as u64,
            });
        }
        let asked = sync.in_flight.take();
        let solicited = asked.is_some();
        let base = if solicited { sync.speculative_base.take() } else { None };
        if base.is_some_and(|b| !self.tree.contains(&b)) {
            // Asked ahead from a batch that was then rejected: the answer
            // builds on it and is moot. Not this peer's fault; the
            // scheduler asks again from our real tip.
            return Ok(());
        }
        if count == 0 {
            if solicited {
                sync.exhausted = true;
            }
            return Ok(());
        }
        // Out of the message (headers sit 81 bytes apart there) into reused
        // scratch, or into the hash worker already (`Ctx::prepare`).
        self.batch.fill(conn, headers);
        if let Some(min) = self.config.min_chain_work {
            if let Flow::Handled = self.presync(conn, sync, min, now)? {
                return Ok(());
            }
        }
        let redownload = Core::in_redownload(sync);
        if solicited
            && count == MAX_HEADERS_RESULTS
            && self.config.sync
            && !self.synced
            && !redownload
            && self.batch.first_prev().is_some_and(|prev| self.tree.contains(&prev))
        {
            // Pipelining: ask for the next batch now, so the peer prepares
            // and sends it while we hash and validate this one. The request
            // only goes out when the reactor writes, after this call: so the
            // batch is validated on the engine's next call instead
            // (`Engine::finish_pending`), once the request is on its way.
            let ahead = self.batch.last_hash().expect("a full batch");
            match next_to_ask(others) {
                Some(id) => {
                    let slot = others.get_mut(&id).expect("a live peer");
                    self.request_ahead(slot.peer.conn_mut(), &mut slot.sync, ahead, now);
                }
                None => self.request_ahead(conn, sync, ahead, now),
            }
            self.pending = Some(Pending { peer: conn.id(), count, asked, now });
            return Ok(());
        }
        self.finish_headers(conn, sync, count, asked, redownload, now)
    }

    /// Validates the batch set aside (`pending`) if `conn`'s peer sent it
    /// (see [`Engine::finish_pending`]); `Ok` when there is none.
    fn finish_pending_of(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
    ) -> Result<(), DisconnectReason> {
        match self.pending {
            Some(p) if p.peer == conn.id() => {
                self.pending = None;
                self.finish_headers(conn, sync, p.count, p.asked, false, p.now)
            }
            _ => Ok(()),
        }
    }

    /// The rest of [`Core::on_headers`] for the `count` headers in `batch`:
    /// hash, check and add them, and decide what to ask next.
    fn finish_headers(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        count: usize,
        asked: Option<Time>,
        redownload: bool,
        now: Time,
    ) -> Result<(), DisconnectReason> {
        let solicited = asked.is_some();
        // The memory the batch will fill, faulted in while the hash worker
        // (if it has the batch) finishes.
        self.tree.prefault(count);
        // Hash the whole batch at once (or collect the worker's hashes), and
        // Core's CheckHeadersAreContinuous before anything else.
        self.batch.hash_and_check_links()?;
        if redownload {
            self.check_redownload(sync)?;
        }
        let first_prev = self.batch.headers[0].prev_hash();
        if !self.tree.contains(&first_prev) {
            // Core (`HandleUnconnectingHeaders`): headers that do not connect
            // may be an announcement following a block we missed, so they
            // are never a fault, whatever their number or count. They cannot
            // answer a request either: one that was out stays out (its stall
            // timer runs on, as Core's headers timeout does); otherwise we
            // ask for the gap from our best header (`MaybeSendGetHeaders`:
            // unless a request to this peer is already out).
            match asked {
                Some(sent) => {
                    sync.in_flight.get_or_insert(sent);
                }
                None if self.config.sync && sync.in_flight.is_none() => {
                    self.request_headers(conn, sync, BlockHash::ZERO, now);
                }
                None => {}
            }
            self.event(Event::HeadersUnconnected { peer: conn.id(), count, prev: first_prev });
            return Ok(());
        }
        let mark = self.tree.len();
        let before = self.tree.tip().height;
        let (added, rejected) =
            match self.tree.accept_hashed(&self.batch.headers, &self.batch.hashes, now.as_secs()) {
                Ok(acc) => (acc.new, None),
                Err(rej) => (rej.accepted.new, Some(rej)),
            };
        if added > 0 {
            sync.received += added as u64;
            self.persist(mark);
        }
        if let Some(rej) = rejected {
            if added > 0 {
                self.tip_event(Some(conn.id()), added);
            }
            let height = self
                .tree
                .height_of(&self.batch.headers[rej.index].prev_hash())
                .map_or(before.saturating_add(1), |h| h.saturating_add(1));
            if let HeaderError::TimeTooNew { .. } = rej.error {
                // Core does not punish a header from the future
                // (`MaybePunishNodeForBlock`, BLOCK_TIME_FUTURE: it may be
                // valid later): the rest of the message is dropped, the peer
                // stays, and it has nothing more for us now.
                self.event(Event::HeadersRejected { peer: conn.id(), height, error: rej.error });
                if solicited {
                    sync.exhausted = true;
                }
                return Ok(());
            }
            return Err(DisconnectReason::InvalidHeader { height, error: rej.error });
        }
        if added > 0 || solicited {
            self.tip_event(Some(conn.id()), added);
        }
        if let Some(fork) = sync.presync.as_ref().and_then(|p| p.redownload_fork()) {
            // Redownload goes on with this peer, along its chain.
            if count == MAX_HEADERS_RESULTS {
                let last = self.batch.hashes[count - 1];
                self.request_from(conn, sync, &[last, fork], now);
            } else {
                sync.presync = None;
                sync.exhausted = true;
            }
            return Ok(());
        }
        if count == MAX_HEADERS_RESULTS {
            // A full answer: the peer has more. During the initial sync the
            // scheduler picks who to ask next; afterwards ask this peer.
            sync.exhausted = false;
            if self.synced {
                self.request_headers(conn, sync, BlockHash::ZERO, now);
            }
        } else if solicited {
            sync.exhausted = true;
        } else if added > 0 {
            // An announcement: this peer has blocks again.
            sync.exhausted = false;
        }
        Ok(())
    }

    /// Appends the headers inserted since `mark` to the store.
    fn persist(&mut self, mark: usize) {
        let Some(store) = self.store.as_mut() else { return };
        self.persist_buf.clear();
        self.persist_buf.extend(self.tree.inserted_since(mark));
        if let Err(e) = store.append(&self.persist_buf) {
            self.event(Event::StoreFailed { error: e.to_string() });
        }
    }

    fn on_getheaders(
        &mut self,
        conn: &mut Conn,
        sync: &mut PeerSync,
        locator: &[BlockHash],
        stop: BlockHash,
    ) -> Result<(), DisconnectReason> {
        if locator.len() > MAX_LOCATOR_SZ {
            return Err(DisconnectReason::LocatorTooLarge {
                max: MAX_LOCATOR_SZ,
                found: locator.len() as u64,
            });
        }
        if !self.config.serve {
            return Ok(());
        }
        // The persist buffer is free here (it is only used within `persist`):
        // reused, so serving allocates nothing once it has held 2000 headers.
        let mut headers = std::mem::take(&mut self.persist_buf);
        self.tree.headers_after_into(locator, stop, MAX_HEADERS_RESULTS, &mut headers);
        conn.send(&Headers(&headers));
        let count = headers.len();
        self.persist_buf = headers;
        sync.served += count as u64;
        let total = sync.served;
        self.event(Event::Served { peer: conn.id(), count, total });
        Ok(())
    }
}

/// The [`Handler`] the peer layer calls: the core plus one peer's sync state.
struct Ctx<'a> {
    core: &'a mut Core,
    sync: &'a mut PeerSync,
    /// Every other peer (the current one is taken out of the map while it
    /// is handled).
    others: &'a mut HashMap<PeerId, Slot>,
}

impl Handler for Ctx<'_> {
    fn is_own_nonce(&mut self, nonce: u64) -> bool {
        let Some(addr) = self.core.own_nonces.get(&nonce).copied() else { return false };
        // The outbound side of this loop is one of our targets: never again.
        for t in self.core.targets.iter_mut().filter(|t| t.addr == addr) {
            t.dial = Dial::Done;
        }
        true
    }

    fn best_height(&self) -> i32 {
        self.core.tree.tip().height as i32
    }

    fn on_ready(&mut self, conn: &mut Conn, now: Time) {
        self.core.own_nonces.remove(&conn.our_nonce());
        let id = conn.id();
        // A completed handshake clears the address's failure count.
        for t in self.core.targets.iter_mut().filter(|t| t.dial == Dial::Connected(id)) {
            t.failures = 0;
        }
        if let Some(remote) = conn.remote().cloned() {
            self.core.event(Event::Ready { peer: conn.id(), remote });
        }
        // During the initial sync the scheduler decides; afterwards every new
        // outbound peer is asked what it has (Core sends getheaders to each
        // new peer).
        if self.core.synced && self.core.config.sync && conn.link() == Link::Outbound {
            self.core.request_headers(conn, self.sync, BlockHash::ZERO, now);
        }
    }

    fn on_message(
        &mut self,
        conn: &mut Conn,
        msg: Message<'_>,
        now: Time,
    ) -> Result<(), DisconnectReason> {
        // A batch this peer sent earlier in the same read comes first.
        self.core.finish_pending_of(conn, self.sync)?;
        match msg {
            Message::Headers(h) => {
                self.core.on_headers(conn, self.sync, self.others, h.iter(), now)
            }
            Message::GetHeaders(g) => {
                let locator = g.locator();
                self.core.on_getheaders(conn, self.sync, locator, g.stop_hash())
            }
            Message::Inv(inv) => {
                if !self.core.config.sync || self.sync.in_flight.is_some() {
                    return Ok(());
                }
                // Core: on an inv of a block we do not know, getheaders with
                // that block as the stop hash.
                let unknown = inv
                    .iter()
                    .filter(|e| is_block(e.inv_type()))
                    .map(|e| e.hash)
                    .find(|h| !self.core.tree.contains(h));
                if let Some(hash) = unknown {
                    self.sync.exhausted = false;
                    if self.core.synced {
                        self.core.request_headers(conn, self.sync, hash, now);
                    }
                }
                Ok(())
            }
            Message::GetData(gd) => {
                // We hold headers only, no block and no transaction: every
                // item is answered `notfound` rather than left hanging
                // (issue 4 item 5).
                if !gd.is_empty() {
                    conn.send(&NotFound(gd.entries()));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn on_bad_payload(
        &mut self,
        conn: &mut Conn,
        command: Command,
        error: PayloadError,
    ) -> Result<(), DisconnectReason> {
        self.core.finish_pending_of(conn, self.sync)?;
        // Core disconnects for an oversized headers message or locator; other
        // undecodable payloads it drops. We also drop the peer for any
        // undecodable headers / getheaders: the sync cannot use it.
        match (command, error) {
            (Command::HEADERS, PayloadError::TooMany { count, .. }) => {
                Err(DisconnectReason::TooManyHeaders { max: MAX_HEADERS_RESULTS, found: count })
            }
            (Command::GETHEADERS, PayloadError::TooMany { count, .. }) => {
                Err(DisconnectReason::LocatorTooLarge { max: MAX_LOCATOR_SZ, found: count })
            }
            (Command::HEADERS | Command::GETHEADERS, error) => {
                Err(DisconnectReason::Payload { command, error })
            }
            // Core: Misbehaving for an oversized inv, getdata, addr or
            // addrv2 ("inv message size = %u"), and a disconnect for a
            // getblocks locator over MAX_LOCATOR_SZ.
            (
                Command::INV
                | Command::GETDATA
                | Command::ADDR
                | Command::ADDRV2
                | Command::GETBLOCKS,
                PayloadError::TooMany { count, max, .. },
            ) => Err(DisconnectReason::TooManyEntries { command, max, found: count }),
            (command, error) => {
                self.core.event(Event::MessageDropped { peer: conn.id(), command, error });
                Ok(())
            }
        }
    }

    fn on_dropped(&mut self, conn: &mut Conn, error: WireError) {
        self.core.event(Event::FrameDropped { peer: conn.id(), error });
    }

    fn prepare(&mut self, conn: &Conn, command: Command, payload: &[u8]) {
        // Only a ready peer's headers reach `on_headers` (a count over the
        // limit is refused there, unhashed).
        if command != Command::HEADERS
            || conn.state() != HandshakeState::Ready
            || !self.core.config.sync
        {
            return;
        }
        if let Ok(Message::Headers(h)) = peer::decode_like_core(command, payload) {
            if h.len() <= MAX_HEADERS_RESULTS {
                self.core.batch.prepare(conn.id(), conn.frames_received(), h.iter());
            }
        }
    }
}

impl Service for Engine {
    fn connected(&mut self, id: PeerId, addr: SocketAddr, link: Link, now: Time) {
        self.finish_pending(now);
        let core = &mut self.core;
        if link == Link::Outbound {
            if let Some(t) =
                core.targets.iter_mut().find(|t| t.addr == addr && t.dial == Dial::Connecting)
            {
                t.dial = Dial::Connected(id);
            }
        }
        core.event(Event::Connected { peer: id, addr, link });
        let nonce = core.next_nonce();
        let peer =
            Peer::new(id, addr, link, &self.local, nonce, core.tree.tip().height as i32, now);
        let slot = Slot { peer, sync: PeerSync::default(), accounted: 0 };
        let full = self.peers.len() >= core.config.max_peers;
        if link == Link::Outbound {
            core.own_nonces.insert(nonce, addr);
        }
        self.peers.insert(id, slot);
        if full {
            let max = self.core.config.max_peers;
            self.drop_peer(id, DisconnectReason::TooManyPeers { max }, now);
            return;
        }
        if let Some(slot) = self.peers.get_mut(&id) {
            if slot.peer.conn_mut().take_needs_write() {
                self.core.io.push_back(Io::Write(id));
            }
        }
        self.account(id);
        self.enforce_budget(now);
    }

    fn connect_failed(&mut self, addr: SocketAddr, error: std::io::ErrorKind, now: Time) {
        self.finish_pending(now);
        self.core.event(Event::ConnectFailed { addr, error });
        self.core.target_closed(addr, None, false, now);
        self.after_peer_change(now);
        self.enforce_budget(now);
    }

    fn disconnected(&mut self, id: PeerId, why: Closed, now: Time) {
        // A batch this peer sent before the close still counts, and if it
        // was invalid, that is the reason reported (the reactor is told
        // nothing more: the connection is gone).
        let mut reason = DisconnectReason::Closed(why);
        if let Some(slot) = self.peers.get_mut(&id) {
            if let Err(fault) = self.core.finish_pending_of(slot.peer.conn_mut(), &mut slot.sync) {
                reason = fault;
            }
        }
        self.finish_pending(now);
        if let Some(slot) = self.peers.remove(&id) {
            self.buffered_total -= slot.accounted;
            self.core.forget(id, &slot, reason, now);
        }
        self.after_peer_change(now);
        self.enforce_budget(now);
    }

    fn received(&mut self, id: PeerId, bytes: &[u8], now: Time) {
        self.finish_pending(now);
        // Out of the map while handled, so the handler can reach the other
        // peers (a HashMap with spare capacity: no allocation).
        let Some(mut slot) = self.peers.remove(&id) else { return };
        let mut ctx = Ctx { core: &mut self.core, sync: &mut slot.sync, others: &mut self.peers };
        let mut result = slot.peer.receive(bytes, &self.local, &mut ctx, now);
        if result.is_err() {
            // The stream broke after a batch this peer sent: the batch came
            // first (Core processes it before the next message), so it is
            // validated, and its own fault, if any, is the reason.
            let batch = self.core.finish_pending_of(slot.peer.conn_mut(), &mut slot.sync);
            result = batch.and(result);
        }
        self.settle(id, slot, result, now);
    }

    fn pending_output(&self, id: PeerId) -> &[u8] {
        self.peers.get(&id).map_or(&[], |s| s.peer.pending_output())
    }

    fn written(&mut self, id: PeerId, n: usize) {
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.peer.written(n);
        }
        self.account(id);
    }

    fn tick(&mut self, now: Time) {
        if self.core.pending.is_some() {
            self.finish_pending(now);
            // Called for the batch only (`next_wakeup`): the peers' timers
            // are not due, and ticking them now would release the buffers
            // of peers in the middle of a sync.
            if self.timers().is_none_or(|t| t > now) {
                return;
            }
        }
        let mut dropped = Vec::new();
        let stall = self.core.config.stall_timeout;
        for (&id, slot) in self.peers.iter_mut() {
            if let Err(reason) = slot.peer.tick(&self.local, now) {
                dropped.push((id, reason));
                continue;
            }
            if let Some(sent) = slot.sync.in_flight {
                let waited = now.saturating_since(sent);
                if waited >= stall {
                    dropped.push((id, DisconnectReason::Stalled { waited }));
                    continue;
                }
            }
            if slot.peer.conn_mut().take_needs_write() {
                self.core.io.push_back(Io::Write(id));
            }
        }
        for (id, reason) in dropped {
            self.drop_peer(id, reason, now);
        }
        self.core.dial(now);
        self.after_peer_change(now);
        self.account_all();
        self.enforce_budget(now);
    }

    fn next_io(&mut self) -> Option<Io> {
        self.core.io.pop_front()
    }

    fn shutdown(&mut self, now: Time) {
        // A batch that arrived just before the stop is validated and stored.
        self.finish_pending(now);
    }

    fn next_wakeup(&self) -> Option<Time> {
        match self.core.pending {
            Some(p) => Some(p.now), // due now: see `finish_pending`
            None => self.timers(),
        }
    }
}

impl Engine {
    /// When a peer's timer (handshake, ping, stalled request) or a dial is
    /// next due.
    fn timers(&self) -> Option<Time> {
        let local = &self.local;
        let stall = self.core.config.stall_timeout;
        let peers = self.peers.values().map(|s| {
            let t = s.peer.next_wakeup(local);
            match s.sync.in_flight {
                Some(sent) => t.min(sent + stall),
                None => t,
            }
        });
        let dials = self.core.targets.iter().filter_map(|t| match t.dial {
            Dial::Idle(at) if !self.core.stopped => Some(at),
            _ => None,
        });
        peers.chain(dials).min()
    }
}

/// A block locator for the best tip into `out` (Core's `LocatorEntries`: the
/// tip, ten more one by one, then doubling steps back, ending at the root),
/// reusing `out`'s allocation.
fn locator_into(tree: &HeaderTree, out: &mut Vec<BlockHash>) {
    out.clear();
    let root = tree.root_height();
    let mut height = tree.tip().height;
    let mut step = 1u32;
    while let Some(hash) = tree.hash_at(height) {
        out.push(hash);
        if height <= root {
            break;
        }
        height = height.saturating_sub(step).max(root);
        if out.len() > 10 {
            step = step.saturating_mul(2);
        }
    }
}

/// Inventory types that name a block (src/protocol.h `GetDataMsg`: block,
/// filtered block, compact block, with or without the witness flag).
fn is_block(t: InvType) -> bool {
    matches!(t.0 & !InvType::WITNESS_FLAG, 2..=4)
}

/// The ready outbound peer asked least recently that may have more headers
/// and has no request in flight.
fn next_to_ask(peers: &HashMap<PeerId, Slot>) -> Option<PeerId> {
    peers
        .iter()
        .filter(|(_, s)| {
            s.peer.conn().link() == Link::Outbound
                && s.peer.conn().state() == HandshakeState::Ready
                && !s.sync.exhausted
                && s.sync.in_flight.is_none()
        })
        .min_by_key(|(&id, s)| (s.sync.last_asked, id))
        .map(|(&id, _)| id)
}
