//! Per-network consensus parameters, as data.
//!
//! Every value follows Bitcoin Core's src/kernel/chainparams.cpp (`CMainParams`,
//! `CTestNetParams`, `CTestNet4Params`, `SigNetParams` with the default signet
//! challenge, `CRegTestParams` with default options) and src/consensus/params.h.

use crate::network::Network;
use crate::pow::{CompactTarget, U256};
use crate::wire::{BlockHash, BlockHeader, HEADER_SIZE};

/// Seconds between blocks the retarget aims for: 10 minutes
/// (chainparams.cpp `nPowTargetSpacing`, every network).
pub const POW_TARGET_SPACING: i64 = 10 * 60;

/// Seconds a retarget period should take: two weeks
/// (chainparams.cpp `nPowTargetTimespan`, every network).
pub const POW_TARGET_TIMESPAN: i64 = 14 * 24 * 60 * 60;

/// How far in the future a header's time may be, against the caller's clock
/// (src/chain.h `MAX_FUTURE_BLOCK_TIME`).
pub const MAX_FUTURE_BLOCK_TIME: i64 = 2 * 60 * 60;

/// BIP94: how far the first block of a period may be earlier than the block
/// before it (src/consensus/consensus.h `MAX_TIMEWARP`).
pub const MAX_TIMEWARP: i64 = 600;

/// How many previous blocks the median time past is taken over
/// (src/chain.h `CBlockIndex::nMedianTimeSpan`).
pub const MEDIAN_TIME_SPAN: usize = 11;

/// The consensus parameters bitwire needs to validate headers on one network.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Params {
    /// The network these parameters are for.
    pub network: Network,
    /// The genesis header, 80 bytes as serialized.
    pub genesis_header: [u8; HEADER_SIZE],
    /// The genesis block hash (`consensus.hashGenesisBlock`).
    pub genesis_hash: BlockHash,
    /// The easiest allowed target (`consensus.powLimit`).
    pub pow_limit: U256,
    /// Target seconds between blocks (`consensus.nPowTargetSpacing`).
    pub pow_target_spacing: i64,
    /// Target seconds per retarget period (`consensus.nPowTargetTimespan`).
    pub pow_target_timespan: i64,
    /// testnet's 20-minute minimum-difficulty rule
    /// (`consensus.fPowAllowMinDifficultyBlocks`).
    pub allow_min_difficulty_blocks: bool,
    /// No retargeting at period boundaries (`consensus.fPowNoRetargeting`).
    pub no_retargeting: bool,
    /// BIP94: retarget base is the period's first block, and the timewarp
    /// check (`consensus.enforce_BIP94`).
    pub enforce_bip94: bool,
    /// First height where version >= 2 is required (`consensus.BIP34Height`).
    pub bip34_height: u32,
    /// First height where version >= 4 is required (`consensus.BIP65Height`).
    pub bip65_height: u32,
    /// First height where version >= 3 is required (`consensus.BIP66Height`).
    pub bip66_height: u32,
}

/// `00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff`:
/// main, testnet3 and testnet4 `powLimit`.
const LIMIT_MAIN: U256 = U256([u64::MAX, u64::MAX, u64::MAX, 0x0000_0000_ffff_ffff]);
/// `00000377ae000000000000000000000000000000000000000000000000000000`: signet `powLimit`.
const LIMIT_SIGNET: U256 = U256([0, 0, 0, 0x0000_0377_ae00_0000]);
/// `7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff`: regtest `powLimit`.
const LIMIT_REGTEST: U256 = U256([u64::MAX, u64::MAX, u64::MAX, 0x7fff_ffff_ffff_ffff]);

/// The mainnet genesis merkle root (wire order); testnet3, signet and regtest share it.
const MERKLE_SATOSHI: &str = "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a";
/// The testnet4 genesis merkle root (wire order), from its own coinbase message.
const MERKLE_TESTNET4: &str = "4e7b2b9128fe0291db0693af2ae418b767e657cd407e80cb1434221eaea7a07a";

const fn hex_nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("bad hex in a constant"),
    }
}

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = hex_nibble(b[2 * i]) << 4 | hex_nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// Builds a genesis header from its fields (Core's `CreateGenesisBlock`).
const fn genesis(merkle_hex: &str, time: u32, bits: u32, nonce: u32) -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    h[0] = 1; // nVersion 1
    let m = hex32(merkle_hex);
    let mut i = 0;
    while i < 32 {
        h[36 + i] = m[i];
        i += 1;
    }
    let t = time.to_le_bytes();
    let b = bits.to_le_bytes();
    let n = nonce.to_le_bytes();
    let mut j = 0;
    while j < 4 {
        h[68 + j] = t[j];
        h[72 + j] = b[j];
        h[76 + j] = n[j];
        j += 1;
    }
    h
}

/// A block hash written as Core displays it (reversed hex).
const fn display_hash(s: &str) -> BlockHash {
    let mut b = hex32(s);
    let mut i = 0;
    while i < 16 {
        let t = b[i];
        b[i] = b[31 - i];
        b[31 - i] = t;
        i += 1;
    }
    BlockHash(b)
}

static MAIN: Params = Params {
    network: Network::Main,
    genesis_header: genesis(MERKLE_SATOSHI, 1231006505, 0x1d00ffff, 2083236893),
    genesis_hash: display_hash("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"),
    pow_limit: LIMIT_MAIN,
    pow_target_spacing: POW_TARGET_SPACING,
    pow_target_timespan: POW_TARGET_TIMESPAN,
    allow_min_difficulty_blocks: false,
    no_retargeting: false,
    enforce_bip94: false,
    bip34_height: 227931,
    bip65_height: 388381,
    bip66_height: 363725,
};

static TESTNET3: Params = Params {
    network: Network::Testnet3,
    genesis_header: genesis(MERKLE_SATOSHI, 1296688602, 0x1d00ffff, 414098458),
    genesis_hash: display_hash("000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943"),
    pow_limit: LIMIT_MAIN,
    pow_target_spacing: POW_TARGET_SPACING,
    pow_target_timespan: POW_TARGET_TIMESPAN,
    allow_min_difficulty_blocks: true,
    no_retargeting: false,
    enforce_bip94: false,
    bip34_height: 21111,
    bip65_height: 581885,
    bip66_height: 330776,
};

static TESTNET4: Params = Params {
    network: Network::Testnet4,
    genesis_header: genesis(MERKLE_TESTNET4, 1714777860, 0x1d00ffff, 393743547),
    genesis_hash: display_hash("00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043"),
    pow_limit: LIMIT_MAIN,
    pow_target_spacing: POW_TARGET_SPACING,
    pow_target_timespan: POW_TARGET_TIMESPAN,
    allow_min_difficulty_blocks: true,
    no_retargeting: false,
    enforce_bip94: true,
    bip34_height: 1,
    bip65_height: 1,
    bip66_height: 1,
};

static SIGNET: Params = Params {
    network: Network::Signet,
    genesis_header: genesis(MERKLE_SATOSHI, 1598918400, 0x1e0377ae, 52613770),
    genesis_hash: display_hash("00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6"),
    pow_limit: LIMIT_SIGNET,
    pow_target_spacing: POW_TARGET_SPACING,
    pow_target_timespan: POW_TARGET_TIMESPAN,
    allow_min_difficulty_blocks: false,
    no_retargeting: false,
    enforce_bip94: false,
    bip34_height: 1,
    bip65_height: 1,
    bip66_height: 1,
};

static REGTEST: Params = Params {
    network: Network::Regtest,
    genesis_header: genesis(MERKLE_SATOSHI, 1296688602, 0x207fffff, 2),
    genesis_hash: display_hash("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"),
    pow_limit: LIMIT_REGTEST,
    pow_target_spacing: POW_TARGET_SPACING,
    pow_target_timespan: POW_TARGET_TIMESPAN,
    allow_min_difficulty_blocks: true,
    no_retargeting: true,
    enforce_bip94: false,
    // "Always active unless overridden" in CRegTestParams.
    bip34_height: 1,
    bip65_height: 1,
    bip66_height: 1,
};

impl Params {
    /// The parameters of `network`.
    pub fn for_network(network: Network) -> &'static Params {
        match network {
            Network::Main => &MAIN,
            Network::Testnet3 => &TESTNET3,
            Network::Testnet4 => &TESTNET4,
            Network::Signet => &SIGNET,
            Network::Regtest => &REGTEST,
        }
    }

    /// The genesis header as a view.
    pub fn genesis(&self) -> BlockHeader {
        BlockHeader::from_array(&self.genesis_header)
    }

    /// Blocks per retarget period: 2016 (`DifficultyAdjustmentInterval()`).
    /// At least 1, whatever the (edited) timespan and spacing.
    pub const fn difficulty_adjustment_interval(&self) -> u32 {
        if self.pow_target_spacing <= 0 || self.pow_target_timespan < self.pow_target_spacing {
            return 1;
        }
        let n = self.pow_target_timespan / self.pow_target_spacing;
        if n > u32::MAX as i64 {
            u32::MAX
        } else {
            n as u32
        }
    }

    /// `powLimit` in compact form (`UintToArith256(powLimit).GetCompact()`).
    ///
    /// The rules ask for it once per header on networks with min-difficulty
    /// blocks, and the conversion normalises a 256-bit number, so the known
    /// networks' limits are converted at compile time.
    pub const fn pow_limit_bits(&self) -> CompactTarget {
        const KNOWN: [(U256, CompactTarget); 3] = [
            (LIMIT_MAIN, CompactTarget::from_target(&LIMIT_MAIN, false)),
            (LIMIT_SIGNET, CompactTarget::from_target(&LIMIT_SIGNET, false)),
            (LIMIT_REGTEST, CompactTarget::from_target(&LIMIT_REGTEST, false)),
        ];
        let mut i = 0;
        while i < KNOWN.len() {
            let (limit, bits) = &KNOWN[i];
            let (a, b) = (&limit.0, &self.pow_limit.0);
            if a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] {
                return *bits;
            }
            i += 1;
        }
        CompactTarget::from_target(&self.pow_limit, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_headers_hash_to_core_genesis_hashes() {
        for n in Network::ALL {
            let p = Params::for_network(n);
            assert_eq!(p.genesis().block_hash(), p.genesis_hash, "{n}");
            assert_eq!(p.network, n);
            assert_eq!(p.difficulty_adjustment_interval(), 2016);
        }
        assert_eq!(Params::for_network(Network::Main).pow_limit_bits(), CompactTarget(0x1d00ffff));
        assert_eq!(
            Params::for_network(Network::Signet).pow_limit_bits(),
            CompactTarget(0x1e0377ae)
        );
        assert_eq!(
            Params::for_network(Network::Regtest).pow_limit_bits(),
            CompactTarget(0x207fffff)
        );
        assert_eq!(
            Params::for_network(Network::Signet).pow_limit.to_hex(),
            format!("00000377ae{}", "0".repeat(54))
        );
    }
}
