//! Byte-level decoding and encoding shared by headers, transactions and blocks: a bounds-checked
//! reader, little-endian integers and Bitcoin's CompactSize. Every failure is a [`DecodeError`],
//! never a panic.

use thiserror::Error;

/// The largest CompactSize fluxd accepts when reading a length (`MAX_SIZE`, 32 MiB).
///
/// # Consensus
/// fluxd `src/serialize.h` (`MAX_SIZE = 0x02000000`, `ReadCompactSize`), inherited from Bitcoin.
pub const MAX_COMPACT_SIZE: u64 = 0x0200_0000;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a field did.
    #[error("unexpected end of data at byte {offset}: need {needed} more bytes, {remaining} left")]
    UnexpectedEnd {
        /// Where the field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A CompactSize used a longer encoding than its value needs.
    #[error("non-canonical compactsize {value} at byte {offset}")]
    NonCanonicalCompactSize {
        /// The decoded value.
        value: u64,
        /// Where it starts.
        offset: usize,
    },
    /// A CompactSize length is larger than any valid object.
    #[error("compactsize {value} at byte {offset} exceeds the limit {max}")]
    OversizedCompactSize {
        /// The decoded value.
        value: u64,
        /// The limit it broke.
        max: u64,
        /// Where it starts.
        offset: usize,
    },
    /// Bytes were left after the object ended.
    #[error("{count} trailing bytes after the end of the {what}")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
        /// What was decoded.
        what: &'static str,
    },
    /// The input is not valid hex.
    #[error("invalid hex: {0}")]
    InvalidHex(String),
    /// A transaction format this implementation does not know.
    #[error("unknown transaction format: version {version}, group id {group_id:#010x}")]
    UnknownTransactionFormat {
        /// The 31-bit version.
        version: u32,
        /// The version group id (0 when not overwintered).
        group_id: u32,
    },
    /// A FluxNode transaction of a type this implementation does not know.
    #[error("unknown fluxnode transaction type {tx_type} (version {version})")]
    UnknownFluxnodeType {
        /// The transaction version (5 or 6).
        version: u32,
        /// The type byte.
        tx_type: u8,
    },
    /// A block with no transactions.
    #[error("block has no transactions")]
    NoTransactions,
}

/// A bounds-checked cursor over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// The offset of the next byte.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The bytes between two offsets already read (for hashing a serialized range).
    pub fn slice(&self, start: usize, end: usize) -> &'a [u8] {
        &self.bytes[start..end]
    }

    /// Reads `n` bytes.
    pub fn read_bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.pos,
                needed: n,
                remaining: self.remaining(),
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.read_bytes(n).map(|_| ())
    }

    /// Reads a fixed-size array.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_bytes(N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// Reads a little-endian `u32`.
    pub fn read_u32_le(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.read_array()?))
    }

    /// Reads a little-endian `i32`.
    pub fn read_i32_le(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.read_array()?))
    }

    /// Reads a little-endian `i64`.
    pub fn read_i64_le(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.read_array()?))
    }

    /// Reads a canonical CompactSize no larger than [`MAX_COMPACT_SIZE`].
    pub fn read_compact_size(&mut self) -> Result<u64, DecodeError> {
        let offset = self.pos;
        let first = self.read_u8()?;
        let (value, min) = match first {
            0xfd => (u64::from(u16::from_le_bytes(self.read_array()?)), 0xfd),
            0xfe => (u64::from(self.read_u32_le()?), 0x1_0000),
            0xff => (u64::from_le_bytes(self.read_array()?), 0x1_0000_0000),
            b => (u64::from(b), 0),
        };
        if value < min {
            return Err(DecodeError::NonCanonicalCompactSize { value, offset });
        }
        if value > MAX_COMPACT_SIZE {
            return Err(DecodeError::OversizedCompactSize {
                value,
                max: MAX_COMPACT_SIZE,
                offset,
            });
        }
        Ok(value)
    }

    /// Reads a CompactSize used as a count or length, checking it against what is left
    /// (each element takes at least `min_element_size` bytes), so a hostile length cannot make
    /// the caller allocate.
    pub fn read_length(&mut self, min_element_size: usize) -> Result<usize, DecodeError> {
        let offset = self.pos;
        let n = self.read_compact_size()? as usize;
        let needed = n.saturating_mul(min_element_size.max(1));
        if needed > self.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                offset,
                needed,
                remaining: self.remaining(),
            });
        }
        Ok(n)
    }

    /// Reads CompactSize(len) ‖ bytes.
    pub fn read_var_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.read_length(1)?;
        self.read_bytes(n)
    }

    /// Fails unless every byte was read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count, what }),
        }
    }
}

/// Appends a canonical CompactSize.
pub fn write_compact_size(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// Decodes hex (whitespace around it is ignored), with a [`DecodeError::InvalidHex`] on failure.
pub fn decode_hex(s: &str) -> Result<Vec<u8>, DecodeError> {
    hex::decode(s.trim()).map_err(|e| DecodeError::InvalidHex(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size_round_trips_at_every_width() {
        for n in [0u64, 0xfc, 0xfd, 0xffff, 0x1_0000, MAX_COMPACT_SIZE] {
            let mut v = Vec::new();
            write_compact_size(&mut v, n);
            assert_eq!(Reader::new(&v).read_compact_size(), Ok(n));
        }
    }

    #[test]
    fn compact_size_rejects_non_canonical_and_oversized() {
        let r = Reader::new(&[0xfd, 0x10, 0x00]).read_compact_size();
        assert!(matches!(
            r,
            Err(DecodeError::NonCanonicalCompactSize { value: 0x10, .. })
        ));
        let r = Reader::new(&[0xfe, 0x01, 0x00, 0x00, 0x02]).read_compact_size();
        assert!(matches!(r, Err(DecodeError::OversizedCompactSize { .. })));
        let r = Reader::new(&[0xff, 0, 0, 0, 0, 1, 0, 0, 0]).read_compact_size();
        assert!(matches!(r, Err(DecodeError::OversizedCompactSize { .. })));
    }

    #[test]
    fn truncated_reads_fail_cleanly() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert!(matches!(
            r.read_u32_le(),
            Err(DecodeError::UnexpectedEnd {
                needed: 4,
                remaining: 3,
                ..
            })
        ));
        let mut r = Reader::new(&[0x05, 1, 2]);
        assert!(r.read_var_bytes().is_err());
    }
}
