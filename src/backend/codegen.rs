//! Source generation shared by the GPU backends' kernel generators (WGSL and CUDA): the
//! constants every kernel of a plan is generated with (each language writes them its own way),
//! and the BLAKE2b round schedule.

use crate::backend::plan::{
    self, MAX_CANDS, MAX_MATCHES, MAX_SOLS, Plan, Pointer, RANK_BITS, RECOVER_GROUPS, Stage, WG_GEN,
};
use crate::equihash::blake::SIGMA;

/// Words a kernel's working records need: the widest layer it touches (and the leaf for
/// generation).
pub fn record_words(plan: &Plan, stage: Stage) -> u32 {
    let w = |r: usize| plan.layers[r].words;
    let k = plan.layers.len();
    match stage {
        Stage::Generate => w(0).max(plan.params.n().div_ceil(32)),
        Stage::Final => w(k - 1),
        Stage::Round(r) => w(r as usize - 1).max(w(r as usize)),
        Stage::Recover => (1..k).map(w).max().unwrap_or(1),
    }
}

/// Word `w` (0 = most significant) of a mask of the top `bits` bits.
pub fn top_mask(bits: u32, w: u32) -> u32 {
    match bits.saturating_sub(32 * w) {
        0 => 0,
        n if n >= 32 => u32::MAX,
        n => !(u32::MAX >> n),
    }
}

/// Named integer constants of a kernel.
pub type Constants = Vec<(&'static str, u64)>;
/// Named boolean constants of a kernel.
pub type Flags = Vec<(&'static str, bool)>;

/// The plan-wide constants of `stage`'s kernel, by name.
pub fn plan_constants(plan: &Plan, stage: Stage) -> Constants {
    let p = &plan.params;
    let ni = p.solution_indices() as u64;
    vec![
        ("N_BITS", u64::from(p.n())),
        ("K", p.k().into()),
        ("C", p.collision_bits().into()),
        ("LEAVES", p.leaf_count()),
        ("HASHES", p.hash_count()),
        ("PER", p.leaves_per_hash().into()),
        ("SLICE", p.slice_len() as u64),
        ("LW", p.n().div_ceil(32).into()),
        ("NI", ni),
        ("NIH", ni / 2),
        ("WG", plan.wg.into()),
        ("WG_GEN", WG_GEN.into()),
        ("RW", record_words(plan, stage).into()),
        ("MAX_CANDS", MAX_CANDS.into()),
        ("MAX_SOLS", MAX_SOLS.into()),
        ("MAX_MATCHES", MAX_MATCHES.into()),
        ("MATCH_WORDS", (ni / 2) * u64::from(MAX_MATCHES)),
        ("RECOVER_GROUPS", RECOVER_GROUPS.into()),
        ("RANK_BITS", RANK_BITS.into()),
        ("CAND_WORDS", plan.cand_words().into()),
        ("CANDS_AT", plan.cands_at()),
        ("SOLS_AT", plan.sols_at()),
        ("STAGE", stage.index(p.k()).into()),
        ("ST_CANDS", plan::ST_CANDS.into()),
        ("ST_SOLS", plan::ST_SOLS.into()),
        ("ST_DUPS", plan::ST_DUPS.into()),
        ("ST_LOST", plan::ST_LOST.into()),
        ("ST_PRUNED", plan::ST_PRUNED.into()),
        ("ST_DISPATCHES", plan::ST_DISPATCHES.into()),
        ("ST_OVERFLOW", plan::ST_OVERFLOW.into()),
        ("ST_RECORDS", plan::ST_RECORDS.into()),
        ("ST_RANK_LOST", plan::ST_RANK_LOST.into()),
        ("ST_TRAFFIC", plan::ST_TRAFFIC.into()),
    ]
}

/// The scalar constants and flags of the layers `stage`'s kernel reads and writes (recovery
/// has none: its per-layer values are tables, see [`recover_tables`]).
pub fn layer_constants(plan: &Plan, stage: Stage) -> (Constants, Flags) {
    let p = &plan.params;
    let k = plan.layers.len();
    let out = |r: usize| {
        let l = &plan.layers[r];
        [
            ("LAYER_OUT", r as u64),
            ("OUT_B", l.region_bits.into()),
            ("OUT_CAP", l.cap.into()),
            ("OUT_W", l.words.into()),
            ("CNT_OUT", plan.counts_at(r)),
        ]
    };
    let mut c = Vec::new();
    let mut f = Vec::new();
    let r = match stage {
        Stage::Generate => {
            c.extend(out(0));
            c.push(("ZERO_AT", plan.counts_at(1)));
            c.push(("ZERO_WORDS", plan.counts_at(k) - plan.counts_at(1)));
            return (c, f);
        }
        Stage::Recover => return (c, f),
        Stage::Round(r) => r as usize,
        Stage::Final => k,
    };
    let inl = &plan.layers[r - 1];
    c.extend([
        ("LAYER_IN", (r - 1) as u64),
        ("IN_B", inl.region_bits.into()),
        ("IN_R", inl.rest_bits(p).into()),
        ("KEY_BITS", inl.key_bits(p).into()),
        ("NKEYS", 1u64 << inl.key_bits(p)),
        ("IN_CAP", inl.cap.into()),
        ("IN_HW", inl.hash_words().into()),
        ("IN_W", inl.words.into()),
        ("IN_SB", inl.slot_bits.into()),
        ("CNT_IN", plan.counts_at(r - 1)),
        ("SREC_WORDS", u64::from(inl.hash_words() * inl.cap)),
        ("LINK_WORDS", inl.cap.div_ceil(2).into()),
    ]);
    if r == k {
        c.push(("ZERO_AT", plan.counts_at(0)));
        c.push(("ZERO_WORDS", plan.layers[0].regions()));
    } else {
        c.extend(out(r));
        c.push(("ZERO_AT", 0));
        c.push(("ZERO_WORDS", 0));
        f.push(("OUT_RANK", plan.layers[r].pointer == Pointer::Rank));
        f.push(("PRUNE", plan.prune[r - 1]));
    }
    (c, f)
}

/// The per-word hash mask of the layer a round reads (`IN_MASK`), most significant word first.
pub fn in_mask(plan: &Plan, stage: Stage) -> Vec<u32> {
    let r = match stage {
        Stage::Round(r) => r as usize,
        _ => plan.layers.len(),
    };
    let bits = plan.layers[r - 1].hash_bits;
    (0..record_words(plan, stage))
        .map(|w| top_mask(bits, w))
        .collect()
}

/// Recovery's per-layer tables: region-counter offsets (`CNT_AT`), capacities (`L_CAP`) and
/// whether each layer's pointer is a rank (`L_RANK`).
pub fn recover_tables(plan: &Plan) -> (Vec<u64>, Vec<u64>, Vec<bool>) {
    let k = plan.layers.len();
    (
        (0..k).map(|r| plan.counts_at(r)).collect(),
        plan.layers.iter().map(|l| u64::from(l.cap)).collect(),
        plan.layers
            .iter()
            .map(|l| l.pointer == Pointer::Rank)
            .collect(),
    )
}

/// `(region bits, slot bits, low bits)` of layer `l`'s back-pointer: from the top, the parent
/// region and one slot; at the bottom, the other slot or the partner's rank.
pub fn pointer_fields(plan: &Plan, l: usize) -> (u32, u32, u32) {
    let layer = &plan.layers[l];
    let below = &plan.layers[l - 1];
    let low = if layer.pointer == Pointer::Rank {
        RANK_BITS
    } else {
        below.slot_bits
    };
    (below.region_bits, below.slot_bits, low)
}

/// One G step of BLAKE2b as source: `(a, b, c, d, x, y)` → statements.
pub type GStep<'a> = &'a dyn Fn(usize, usize, usize, usize, &str, &str) -> String;

/// The G rounds of the final block as statements, through `step`.
pub fn blake_rounds(step: GStep) -> String {
    let msg = |j: usize| match j {
        0 => "m0",
        1 => "m1",
        _ => "z",
    };
    let mut s = String::new();
    for sg in SIGMA {
        for (i, (a, b, c, d)) in [
            (0, 4, 8, 12),
            (1, 5, 9, 13),
            (2, 6, 10, 14),
            (3, 7, 11, 15),
            (0, 5, 10, 15),
            (1, 6, 11, 12),
            (2, 7, 8, 13),
            (3, 4, 9, 14),
        ]
        .into_iter()
        .enumerate()
        {
            s.push_str(&step(a, b, c, d, msg(sg[2 * i]), msg(sg[2 * i + 1])));
        }
    }
    s
}
