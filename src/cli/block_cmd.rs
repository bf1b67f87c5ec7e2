//! `fluxminer block`: verify a full block's header and Merkle root and print its reward split.
