//! The five Bitcoin networks bitwire speaks, and the per-network constants
//! the wire layer needs (magic, default port).
//!
//! Consensus parameters (proof-of-work limit, retarget rules, genesis) live in
//! [`crate::chain::params`]; this module only names the network.

use core::fmt;
use core::str::FromStr;

/// A Bitcoin network.
///
/// Names follow Bitcoin Core's `-chain=` values, except that `main` is also
/// accepted as `mainnet` and `testnet3` as `testnet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Network {
    /// Bitcoin mainnet.
    Main,
    /// The third testnet (BIP "testnet3", 2012).
    Testnet3,
    /// The fourth testnet (BIP94, 2024).
    Testnet4,
    /// The default signet (BIP325).
    Signet,
    /// Local regression-test network.
    Regtest,
}

/// The four bytes that open every message on a network ("message start" in
/// Bitcoin Core, `pchMessageStart` in src/kernel/chainparams.cpp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Magic(pub [u8; 4]);

impl Magic {
    /// Mainnet: f9 be b4 d9.
    pub const MAIN: Magic = Magic([0xf9, 0xbe, 0xb4, 0xd9]);
    /// testnet3: 0b 11 09 07.
    pub const TESTNET3: Magic = Magic([0x0b, 0x11, 0x09, 0x07]);
    /// testnet4: 1c 16 3f 28 (BIP94).
    pub const TESTNET4: Magic = Magic([0x1c, 0x16, 0x3f, 0x28]);
    /// Default signet: 0a 03 cf 40 (first four bytes of sha256d of the challenge script).
    pub const SIGNET: Magic = Magic([0x0a, 0x03, 0xcf, 0x40]);
    /// regtest: fa bf b5 da.
    pub const REGTEST: Magic = Magic([0xfa, 0xbf, 0xb5, 0xda]);

    /// The magic as bytes, in wire order.
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0
    }
}

impl fmt::Display for Magic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Network {
    /// Every network, in a stable order.
    pub const ALL: [Network; 5] =
        [Network::Main, Network::Testnet3, Network::Testnet4, Network::Signet, Network::Regtest];

    /// The network's message-start bytes (src/kernel/chainparams.cpp).
    pub const fn magic(self) -> Magic {
        match self {
            Network::Main => Magic::MAIN,
            Network::Testnet3 => Magic::TESTNET3,
            Network::Testnet4 => Magic::TESTNET4,
            Network::Signet => Magic::SIGNET,
            Network::Regtest => Magic::REGTEST,
        }
    }

    /// The default P2P port (src/kernel/chainparams.cpp `nDefaultPort`).
    pub const fn default_port(self) -> u16 {
        match self {
            Network::Main => 8333,
            Network::Testnet3 => 18333,
            Network::Testnet4 => 48333,
            Network::Signet => 38333,
            Network::Regtest => 18444,
        }
    }

    /// The canonical name used on the command line and in JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            Network::Main => "main",
            Network::Testnet3 => "testnet3",
            Network::Testnet4 => "testnet4",
            Network::Signet => "signet",
            Network::Regtest => "regtest",
        }
    }

    /// The network whose magic this is, if any.
    pub fn from_magic(magic: Magic) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.magic() == magic)
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a network name that is not one of bitwire's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownNetworkError(pub String);

impl fmt::Display for UnknownNetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown network {:?}: expected one of main, testnet3, testnet4, signet, regtest",
            self.0
        )
    }
}

impl std::error::Error for UnknownNetworkError {}

impl FromStr for Network {
    type Err = UnknownNetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "main" | "mainnet" | "bitcoin" => Ok(Network::Main),
            "testnet3" | "testnet" | "test" => Ok(Network::Testnet3),
            "testnet4" => Ok(Network::Testnet4),
            "signet" => Ok(Network::Signet),
            "regtest" => Ok(Network::Regtest),
            other => Err(UnknownNetworkError(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in Network::ALL {
            assert_eq!(n.name().parse::<Network>().unwrap(), n);
            assert_eq!(Network::from_magic(n.magic()), Some(n));
        }
        assert!("litecoin".parse::<Network>().is_err());
    }

    #[test]
    fn magics_match_core() {
        assert_eq!(Magic::MAIN.to_string(), "f9beb4d9");
        assert_eq!(Magic::TESTNET3.to_string(), "0b110907");
        assert_eq!(Magic::TESTNET4.to_string(), "1c163f28");
        assert_eq!(Magic::SIGNET.to_string(), "0a03cf40");
        assert_eq!(Magic::REGTEST.to_string(), "fabfb5da");
    }
}
