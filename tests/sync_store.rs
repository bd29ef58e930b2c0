//! A sync writes what it accepts to the header store, and a second run
//! resumes from it, asking only for what is missing.

use core::time::Duration;

use bitwire::chain::store::load_tree;
use bitwire::chain::{params::Params, HeaderTree};
use bitwire::sync::sim::{Sim, START};
use bitwire::sync::{Config, Engine, Event};
use bitwire::wire::BlockHeader;
use bitwire::Network;

mod support;
use support::{bundled_headers, served};

fn server(headers: &[BlockHeader], tip: usize) -> Engine {
    let mut tree = HeaderTree::new(Params::for_network(Network::Main));
    for c in headers[1..=tip].chunks(2000) {
        tree.accept(c, START.as_secs()).unwrap();
    }
    let mut config = Config::new(Network::Main);
    config.sync = false;
    Engine::new(config, tree, None)
}

#[test]
fn sync_persists_and_resumes() {
    let headers = bundled_headers();
    let dir = std::env::temp_dir().join(format!("bitwire-sync-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let params = Params::for_network(Network::Main);

    // First run: the server has 25,000 headers.
    {
        let (tree, store) = load_tree(&dir, params).unwrap();
        assert_eq!(tree.tip().height, 0);
        let mut sim = Sim::new();
        let s = sim.add_engine(server(&headers, 25_000));
        let mut config = Config::new(Network::Main);
        config.connect = vec![Sim::addr_of(s)];
        config.stop_when_synced = true;
        let c = sim.add_engine(Engine::new(config, tree, Some(store)));
        assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_done()));
        assert_eq!(sim.engine(c).height(), 25_000);
        assert!(!sim.nodes[c].events.iter().any(|e| matches!(e, Event::StoreFailed { .. })));
    }
    // Second run: the tree comes back from disk; only the rest is fetched.
    let (tree, store) = load_tree(&dir, params).unwrap();
    assert_eq!(tree.tip().height, 25_000);
    assert_eq!(tree.tip().hash, headers[25_000].block_hash());
    let mut sim = Sim::new();
    let s = sim.add_engine(server(&headers, 39_999));
    let mut config = Config::new(Network::Main);
    config.connect = vec![Sim::addr_of(s)];
    config.stop_when_synced = true;
    let c = sim.add_engine(Engine::new(config, tree, Some(store)));
    assert!(sim.run_until(Duration::from_secs(60), |sim| sim.engine(c).is_done()));
    assert_eq!(sim.engine(c).height(), 39_999);
    assert_eq!(served(&sim, s), 39_999 - 25_000);
    drop(sim);
    let (tree, store) = load_tree(&dir, params).unwrap();
    assert_eq!(tree.tip().height, 39_999);
    assert_eq!(store.len(), 39_999);
    std::fs::remove_dir_all(&dir).unwrap();
}
