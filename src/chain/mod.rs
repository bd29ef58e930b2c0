//! Header consensus: network parameters, Bitcoin Core's header rules, the
//! header tree with its best chain, and the on-disk header store.
