//! 32-byte hashes (block hash, txid, Merkle root, Sapling root) and SHA256d.
//!
//! Byte order is handled here and nowhere else: every hash type stores the **internal** order
//! (as serialized, a little-endian 256-bit number); RPC and explorers show the **display** order,
//! the byte-reverse. `from_display_hex`, `to_display_hex` and `Display` are the only conversions.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::encode::DecodeError;

/// SHA256(SHA256(data)), in internal byte order.
///
/// # Consensus
/// fluxd `src/hash.h:212` (`SerializeHash` / `CHash256`).
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    let first = Sha256::digest(data);
    Sha256::digest(first).into()
}

/// Parses display hex (64 characters, byte-reversed) into internal order.
fn internal_from_display_hex(s: &str) -> Result<[u8; 32], DecodeError> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(s, &mut bytes).map_err(|e| DecodeError::InvalidHex(e.to_string()))?;
    bytes.reverse();
    Ok(bytes)
}

/// Formats internal-order bytes as display hex.
fn display_hex_from_internal(bytes: &[u8; 32]) -> String {
    let mut rev = *bytes;
    rev.reverse();
    hex::encode(rev)
}

/// Parses 64 hex digits in display order at compile time (for parameter tables).
///
/// Panics (at compile time, in a `const`) on a malformed literal.
pub const fn internal_from_display_hex_const(s: &str) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("bad hex digit"),
        }
    }
    let b = s.as_bytes();
    assert!(b.len() == 64, "need 64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[31 - i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name([u8; 32]);

        impl $name {
            /// All zero bytes.
            pub const ZERO: $name = $name([0u8; 32]);

            /// From bytes in internal (serialized) order.
            pub const fn from_internal_bytes(bytes: [u8; 32]) -> Self {
                $name(bytes)
            }

            /// The bytes in internal (serialized) order.
            pub const fn to_internal_bytes(self) -> [u8; 32] {
                self.0
            }

            /// The bytes in internal (serialized) order, borrowed.
            pub const fn as_internal_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// From display hex (RPC/explorer order, byte-reversed).
            pub fn from_display_hex(s: &str) -> Result<Self, DecodeError> {
                internal_from_display_hex(s).map($name)
            }

            /// From a display-hex literal, at compile time.
            pub const fn from_display_hex_const(s: &str) -> Self {
                $name(internal_from_display_hex_const(s))
            }

            /// As display hex (RPC/explorer order).
            pub fn to_display_hex(&self) -> String {
                display_hex_from_internal(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_display_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_display_hex())
            }
        }

        impl FromStr for $name {
            type Err = DecodeError;
            fn from_str(s: &str) -> Result<Self, DecodeError> {
                Self::from_display_hex(s)
            }
        }
    };
}

hash_newtype!(
    /// A block hash: SHA256d of the serialized header (PoW) or of its first 144 bytes (PoN).
    BlockHash
);
hash_newtype!(
    /// A transaction id: SHA256d of the transaction's hash serialization.
    TxId
);
hash_newtype!(
    /// The root of a block's transaction Merkle tree.
    MerkleRoot
);
hash_newtype!(
    /// The `hashFinalSaplingRoot` header field (reserved, zero, before Acadia).
    SaplingRoot
);
hash_newtype!(
    /// The Proof-of-Node eligibility hash (§9.1).
    PonHash
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_order_is_the_reverse_of_internal_order() {
        // Block 400000 (spec §0): internal 6903daae…39000000, display 00000039…da0369.
        let h = BlockHash::from_display_hex(
            "000000390342f0e52443ad79b43e5d85b78bf519667aeb3aa980d76caeda0369",
        )
        .unwrap();
        assert_eq!(&h.to_internal_bytes()[..4], &[0x69, 0x03, 0xda, 0xae]);
        assert_eq!(&h.to_internal_bytes()[28..], &[0x39, 0, 0, 0]);
        assert_eq!(
            h,
            BlockHash::from_display_hex_const(
                "000000390342f0e52443ad79b43e5d85b78bf519667aeb3aa980d76caeda0369"
            )
        );
        assert_eq!(h.to_string(), h.to_display_hex());
    }

    #[test]
    fn malformed_hex_is_an_error() {
        assert!(BlockHash::from_display_hex("zz").is_err());
        assert!(BlockHash::from_display_hex("00").is_err());
    }
}
