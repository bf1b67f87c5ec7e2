//! fluxminer: a ZelHash (Equihash 125,4) miner and a validating Flux light client.
//!
//! # Architecture map
//!
//! The crate is a **pure core** wrapped in a **thin I/O shell**.
//!
//! | module | what it is for | may use |
//! |---|---|---|
//! | [`equihash`] | Equihash parameters, BLAKE2b leaf generation with the ZelHash twist, minimal encoding, the verifier | `blake2b_simd`, core/alloc only |
//! | [`consensus`] | Flux headers, compact targets, difficulty, Proof of Node, subsidy and reward split | [`equihash`] |
//! | [`backend`] | the [`backend::Solver`] trait and one folder per backend; [`backend::cpu`] is the reference solver and the oracle every GPU backend is tested against | [`equihash`], threads |
//! | [`stratum`] | stratum sessions sans I/O (miner and pool side), the byte-exact share check, vardiff, Sol/s from shares | [`equihash`], [`consensus`] |
//! | [`p2p`] | the Flux P2P protocol sans I/O: framing with its size and checksum limits, `version`, `getheaders`/`headers`, `inv`/`getdata`, `block`, block locators | [`consensus`] |
//! | [`net`] | the only sockets: the miner's driver (solver threads ↔ engine ↔ session ↔ TCP/TLS, as the failover decides) and the supervisor that carries out the watchdog's restarts ([`net::supervise`]), the miner's HTTP API and dashboard ([`net::api`]), the pool server | [`miner`], [`stratum`], tokio, rustls, axum |
//! | [`ledger`] | the FluxNode reward ledger, pure: a per-block record of every coinbase output (role, amount, payee), its versioned encoding, totals per role and per UTC day, a watched address's history and payment gaps | [`consensus`] |
//! | [`net::rpc`] | the fluxd JSON-RPC chain source: batched `getblockhash`/`getblockheader`/`getblock` over plain HTTP, every reply checked (size, ids, hex, hashes) | [`consensus`], reqwest |
//! | [`store`] | the light client's crash-safe store (redb): headers, chain work, the best chain by height, the reward ledger's records | [`consensus`], redb |
//! | [`chainstate`] | the light client's chain state: headers validated on their branch into the tree, blocks into the ledger, every change batched into the store; the caller passes the time | [`consensus`], [`store`], [`p2p`] (locators) |
//! | [`miner`] | the sans-I/O mining engine (job epochs, nonce ranges, submit rules, accounting), pool failover and the solver [`miner::watchdog`], driven with `now` passed in; [`miner::status`], the documents the API serves (rates over 10 s / 60 s / 15 min, lolMiner `/summary`, HiveOS stats, Prometheus text) built from the counters; solver threads that mine the engine's assignments and CPU re-check every solution | [`backend`], [`stratum`], `prometheus-client` (never [`net`]) |
//! | `backend::wgpu` | the WGSL solver (kernels in `shaders/`): generated kernel preludes, pipelined nonces; every candidate re-verified on the CPU | [`equihash`], [`backend::plan`], `wgpu` (feature `wgpu`, default) |
//! | [`backend::cuda`] | the CUDA solver (kernels in `kernels/`) over a runtime: NVIDIA cards through `cudarc` with embedded cubins (feature `cuda`, default), or the CPU through the checking shim `kernels/cuda_cpu.h` (feature `cuda-cpu`) | [`equihash`], [`backend::plan`] |
//! | [`backend::plan`], [`backend::factory`], [`backend::golden`] | the GPU memory plan both GPU backends share (regions, records, heaps, traffic model, read-back → report); building a solver from a configuration; the known answers every solver's `self_test` checks | [`equihash`] |
//! | [`telemetry`] | GPU sensors (temperature, power, fan) per card: NVML loaded at run time (feature `nvml`, default) for NVIDIA, hwmon in sysfs for AMD and Intel; a [`telemetry::Monitor`] found once and read every few seconds, each absent source or sensor saying why; cards named by [`telemetry::GpuId`] ([`backend::Solver::gpu_id`]) | `nvml-wrapper`, sysfs (nothing else of the crate) |
//! | [`fuzz`] | fuzz targets: every network-facing decoder as a function of bytes (run by `fuzz/` under cargo-fuzz, and over the seed corpus in CI) | [`p2p`], [`consensus`], [`stratum`] |
//! | [`cli`] | argument parsing (clap) and validated configuration, the subcommands | everything (wiring only) |
//!
//! The pure modules (`equihash`, `consensus`, `stratum`, `ledger`) do no I/O: no sockets, no clock, no threads of
//! their own, no GPU; nor do [`miner::Engine`], [`miner::Failover`], [`miner::watchdog`] and
//! [`miner::status`]. Time and storage come in as
//! parameters. Imports run one way: `cli` → `net` → `miner` → the core; [`telemetry`] is hardware
//! I/O beside the backends and imports none of the others. `scripts/check-layering.sh` enforces
//! all of this with greps in CI.
//!
//! # Life of a solve
//!
//! 1. The caller builds the 140-byte Equihash input (header bytes 0..108 ‖ 32-byte nonce).
//! 2. A [`backend::Solver`] runs Wagner's algorithm on it and returns candidate index sets.
//! 3. Every candidate is re-verified with [`equihash::is_valid_solution`] before anyone sees it,
//!    then encoded minimally ([`equihash::minimal_from_indices`]).
//! 4. The caller checks the block hash of `header ‖ CompactSize(len) ‖ solution` against the
//!    target it cares about (share or block).
//!
//! # Life of a header (light client)
//!
//! 1. Bytes become a [`consensus::Header`]: the PoN layout for every `nVersion` ≥ 100, PoW below,
//!    as fluxd reads them.
//! 2. [`consensus::rules`] is the one place that runs the header rules, in fluxd's order
//!    ([`consensus::rules::Rule::ORDER`]): the context-free ones (version, PoN signature size,
//!    Equihash, `nBits` within the limit, hash or ponHash ≤ target), the future-time limit
//!    (given a [`consensus::chain::Clock`]), then the contextual ones given the height and the
//!    previous headers (a [`consensus::chain::ChainView`]): parent link, era, the PoN limit at
//!    the height, the emergency multisig, the allowed solution size, the required `nBits`,
//!    `time-too-old`, checkpoints. [`consensus::validate::validate_header`] (and
//!    [`consensus::chain::ChainWindow::accept`]) stop at the first failure and return the new
//!    entry with its chain work; the `header` and `block` commands report every rule, those
//!    that lack their input as skipped; `verify` runs the context-free ones. Storage and sync
//!    plug in behind the two parameters.
//! 3. A PoN block's node signature needs the node's key from the FluxNode set, from outside
//!    ([`consensus::pon::check_pon_signature`]).
//! 4. A full block adds the Merkle root, the coinbase position and height (BIP34), the coinbase
//!    amount (when the fees are known) and the reward split ([`consensus::reward`]).

pub mod backend;
pub mod chainstate;
pub mod cli;
pub mod consensus;
pub mod equihash;
pub mod fuzz;
pub mod ledger;
pub mod miner;
pub mod net;
pub mod p2p;
pub mod store;
pub mod stratum;
pub mod telemetry;
