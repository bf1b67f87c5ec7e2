//! TEMPORARY SHIM on branch `consensus`: the interface of main's `crate::equihash` (parameter
//! sets, `from_solution_len`, `is_valid_solution`), with a small unoptimised verifier, so the
//! consensus code can be tested before main's module lands. Replaced by main's module at merge.

use std::fmt;

/// One Equihash parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Params {
    n: u32,
    k: u32,
    personalization: [u8; 8],
    twist: bool,
}

impl Params {
    /// ZelHash 125,4 (`ZelProof`, twist).
    pub const ZELHASH: Params = Params::from_parts(125, 4, *b"ZelProof", true);
    /// 144,5 (`ZelProof`).
    pub const EH144_5: Params = Params::from_parts(144, 5, *b"ZelProof", false);
    /// 200,9 (`ZcashPoW`).
    pub const EH200_9: Params = Params::from_parts(200, 9, *b"ZcashPoW", false);
    /// 96,5 (`ZcashPoW`).
    pub const EH96_5: Params = Params::from_parts(96, 5, *b"ZcashPoW", false);
    /// 48,5 (`ZcashPoW`).
    pub const EH48_5: Params = Params::from_parts(48, 5, *b"ZcashPoW", false);

    const fn from_parts(n: u32, k: u32, personalization: [u8; 8], twist: bool) -> Params {
        Params {
            n,
            k,
            personalization,
            twist,
        }
    }

    /// fluxd `CheckEquihashSolution` size mapping.
    pub fn from_solution_len(len: usize) -> Option<Params> {
        match len {
            1344 => Some(Params::EH200_9),
            100 => Some(Params::EH144_5),
            68 => Some(Params::EH96_5),
            52 => Some(Params::ZELHASH),
            36 => Some(Params::EH48_5),
            _ => None,
        }
    }

    /// Hash width in bits.
    pub fn n(&self) -> u32 {
        self.n
    }

    /// Rounds.
    pub fn k(&self) -> u32 {
        self.k
    }

    fn collision_bits(&self) -> u32 {
        self.n / (self.k + 1)
    }

    /// Minimal-encoded solution length in bytes.
    pub fn solution_len(&self) -> usize {
        ((1usize << self.k) * (self.collision_bits() as usize + 1)) / 8
    }
}

/// Why a solution is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Wrong input or solution length.
    Length,
    /// Two sibling subtrees do not collide.
    Collision,
    /// Sibling subtrees out of order.
    Ordering,
    /// An index appears twice.
    Duplicate,
    /// The final XOR is not zero.
    NonZero,
}

/// A failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
}

impl Error {
    /// What failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid equihash solution: {:?}", self.kind)
    }
}

impl std::error::Error for Error {}

fn err(kind: ErrorKind) -> Error {
    Error { kind }
}

fn bits_at(bytes: &[u8], start: usize, len: usize) -> u64 {
    let mut v = 0u64;
    for i in start..start + len {
        v = (v << 1) | u64::from((bytes[i / 8] >> (7 - i % 8)) & 1);
    }
    v
}

fn digest(p: &Params, input: &[u8], g: u32) -> Vec<u8> {
    let per = 512 / p.n as usize;
    let len = per * p.n.div_ceil(8) as usize;
    let mut person = [0u8; 16];
    person[..8].copy_from_slice(&p.personalization);
    person[8..12].copy_from_slice(&p.n.to_le_bytes());
    person[12..].copy_from_slice(&p.k.to_le_bytes());
    let mut st = blake2b_simd::Params::new()
        .hash_length(len)
        .personal(&person)
        .to_state();
    st.update(input);
    st.update(&g.to_le_bytes());
    st.finalize().as_bytes().to_vec()
}

fn leaf(p: &Params, input: &[u8], index: u32) -> Vec<u8> {
    let per = 512 / p.n;
    let g = index / per;
    let s = (index % per) as usize;
    let d = if p.twist {
        let mut acc = [0u32; 16];
        for j in (g & !15)..=g {
            let b = digest(p, input, j);
            for (w, a) in acc.iter_mut().enumerate() {
                let x = u32::from_le_bytes(b[4 * w..4 * w + 4].try_into().expect("4 bytes"));
                *a = a.wrapping_add(x);
            }
        }
        acc.iter().flat_map(|w| w.to_le_bytes()).collect()
    } else {
        digest(p, input, g)
    };
    let slice = p.n.div_ceil(8) as usize;
    let mut v = d[s * slice..(s + 1) * slice].to_vec();
    let extra = slice * 8 - p.n as usize;
    if extra > 0 {
        let last = v.len() - 1;
        v[last] &= 0xffu8 << extra;
    }
    v
}

/// Verifies `solution` (minimal encoding, no length prefix) for the 140-byte `input`.
pub fn is_valid_solution(params: &Params, input: &[u8], solution: &[u8]) -> Result<(), Error> {
    if input.len() != 140 || solution.len() != params.solution_len() {
        return Err(err(ErrorKind::Length));
    }
    let c = params.collision_bits() as usize;
    let count = 1usize << params.k;
    let mut nodes: Vec<(Vec<u8>, Vec<u32>)> = (0..count)
        .map(|i| {
            let idx = bits_at(solution, i * (c + 1), c + 1) as u32;
            (leaf(params, input, idx), vec![idx])
        })
        .collect();
    for r in 1..=params.k as usize {
        let mut next = Vec::with_capacity(nodes.len() / 2);
        for pair in nodes.chunks(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if bits_at(&a.0, (r - 1) * c, c) != bits_at(&b.0, (r - 1) * c, c) {
                return Err(err(ErrorKind::Collision));
            }
            if a.1[0] >= b.1[0] {
                return Err(err(ErrorKind::Ordering));
            }
            if a.1.iter().any(|x| b.1.contains(x)) {
                return Err(err(ErrorKind::Duplicate));
            }
            let v = a.0.iter().zip(&b.0).map(|(x, y)| x ^ y).collect();
            let mut idx = a.1.clone();
            idx.extend_from_slice(&b.1);
            next.push((v, idx));
        }
        nodes = next;
    }
    if nodes[0].0.iter().any(|&b| b != 0) {
        return Err(err(ErrorKind::NonZero));
    }
    Ok(())
}
