//! WGSL source of every kernel: the templates in `shaders/` behind a generated prelude that holds
//! the constants of the plan, the chunked bindings with their accessors, and the fully unrolled
//! BLAKE2b final-block compression.

use std::fmt::Write as _;

use super::plan::{self, MAX_SOLS, Plan, WG, WG_GEN};
use crate::equihash::blake::{IV, SIGMA};

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const GENERATE: &str = include_str!("../../../shaders/generate.wgsl");
const COLLIDE: &str = include_str!("../../../shaders/collide.wgsl");
const RECOVER: &str = include_str!("../../../shaders/recover.wgsl");

/// How the generation kernel computes the ZelHash prefix sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwistScan {
    /// Each invocation adds its predecessors' words from workgroup memory (any device).
    Workgroup,
    /// `subgroupInclusiveAdd`, corrected across 16-counter groups for any subgroup size
    /// (needs the `SUBGROUP` feature).
    Subgroup,
    /// One invocation per 16-counter group, the prefix sum in registers: no barrier, no
    /// workgroup memory, no subgroups (entry point `generate_serial`; twisted parameters only).
    Serial,
}

impl TwistScan {
    /// The entry point of the generation kernel for this variant.
    pub fn entry(self) -> &'static str {
        match self {
            TwistScan::Serial => "generate_serial",
            _ => "generate",
        }
    }
}

/// Which kernel module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Round 0 (entry point `generate`).
    Generate(TwistScan),
    /// Collision round `r` (1..k−1) or the final round `r = k` (entry points `link`, `pairs`).
    Round(u32),
    /// Recovery (entry point `recover`).
    Recover,
}

/// The names of the chunked tables, in binding order after the fixed bindings.
pub const TABLES: [&str; 5] = ["hin", "hout", "nx", "hd", "tl"];

/// Binding numbers: 0 uniform, 1 counts, 2 stats, 3 candidates, 4 solutions, then the chunks of
/// each table of [`TABLES`] in order.
pub fn table_chunks(plan: &Plan) -> [u32; 5] {
    [
        plan.heap.chunks(),
        plan.heap.chunks(),
        plan.next.chunks(),
        plan.heads.chunks(),
        plan.tails.chunks(),
    ]
}

/// First binding number of the chunks of table `t`.
pub fn table_binding(plan: &Plan, t: usize) -> u32 {
    1 + plan::FIXED_STORAGE_BINDINGS + table_chunks(plan)[..t].iter().sum::<u32>()
}

/// The complete WGSL of `kernel` for `plan`.
pub fn source(plan: &Plan, kernel: Kernel) -> String {
    let mut s = prelude(plan);
    round_constants(plan, kernel, &mut s);
    s.push_str(COMMON);
    match kernel {
        Kernel::Generate(scan) => {
            s.push_str(&blake_final(plan));
            let (args, code) = twist_code(plan, scan);
            s.push_str(
                &GENERATE
                    .replace("/*SUBGROUP_ARGS*/", args)
                    .replace("/*TWIST_CODE*/", &code),
            );
        }
        Kernel::Round(_) => s.push_str(COLLIDE),
        Kernel::Recover => s.push_str(RECOVER),
    }
    s
}

fn prelude(plan: &Plan) -> String {
    let l = &plan.layout;
    let p = &l.params;
    let lw = p.n().div_ceil(32);
    let lwp = lw.max((l.bucket_bits + 32 * plan.slot_words) / 32 + 1) + 1;
    let mut s = String::from("// Generated prelude: constants of the plan.\n");
    let consts: [(&str, u64); 26] = [
        ("N_BITS", p.n().into()),
        ("K", p.k().into()),
        ("C", p.collision_bits().into()),
        ("B", l.bucket_bits.into()),
        ("R", l.rest_bits.into()),
        ("NB", l.buckets() as u64),
        ("CAP", l.lane_slots as u64),
        ("SW", plan.slot_words.into()),
        ("SB", l.slot_bits.into()),
        ("DROP", l.dropped_bits.into()),
        ("LEAVES", p.leaf_count()),
        ("HASHES", p.hash_count()),
        ("PER", p.leaves_per_hash().into()),
        ("SLICE", p.slice_len() as u64),
        ("LW", lw.into()),
        ("LWP", lwp.into()),
        ("INDEX_BITS", p.index_bits().into()),
        ("NI", p.solution_indices() as u64),
        ("WG", WG.into()),
        ("WG_GEN", WG_GEN.into()),
        ("UNIT", plan.heap.unit_words.into()),
        ("UPS", (plan.slot_words / plan.heap.unit_words).into()),
        ("MAX_CANDS", plan.max_cands.into()),
        ("MAX_SOLS", MAX_SOLS.into()),
        ("L0_FIELD_AT", l.layers[0].field_at.into()),
        ("ST_CANDS", plan::ST_CANDS.into()),
    ];
    for (name, v) in consts {
        let _ = writeln!(s, "const {name}: u32 = {v}u;");
    }
    for (name, v) in [
        ("ST_SOLS", plan::ST_SOLS),
        ("ST_DUPS", plan::ST_DUPS),
        ("ST_FALSE", plan::ST_FALSE),
        ("ST_PRUNED", plan::ST_PRUNED),
    ] {
        let _ = writeln!(s, "const {name}: u32 = {v}u;");
    }
    let _ = writeln!(
        s,
        "const L0_MASK = {};",
        mask_array(plan, top_mask(plan, l.layers[0].hash_bits))
    );
    let ats: Vec<String> = l
        .layers
        .iter()
        .map(|x| format!("{}u", x.field_at))
        .collect();
    let _ = writeln!(
        s,
        "const LAYER_AT = array<u32, {}>({});",
        ats.len(),
        ats.join(", ")
    );
    s.push_str(
        "struct Mid { h: array<vec4<u32>, 4>, m: array<vec4<u32>, 8>, t: vec4<u32> }\n\
         @group(0) @binding(0) var<uniform> mid: Mid;\n\
         @group(0) @binding(1) var<storage, read_write> cn: array<atomic<u32>>;\n\
         @group(0) @binding(2) var<storage, read_write> st: array<atomic<u32>>;\n\
         @group(0) @binding(3) var<storage, read_write> cd: array<u32>;\n\
         @group(0) @binding(4) var<storage, read_write> so: array<u32>;\n",
    );
    let unit = if plan.heap.unit_words == 4 {
        "vec4<u32>"
    } else {
        "vec2<u32>"
    };
    let _ = writeln!(s, "alias Unit = {unit};");
    for (t, name) in TABLES.iter().enumerate() {
        bindings(plan, t, name, &mut s);
    }
    s
}

/// Declares the chunks of table `t` and its accessors, addressed by (row, unit in row):
/// `NAME_ld`, `NAME_st`, or `hd_xchg` for the atomic heads.
fn bindings(plan: &Plan, t: usize, name: &str, s: &mut String) {
    let table = [plan.heap, plan.heap, plan.next, plan.heads, plan.tails][t];
    let chunks = table_chunks(plan)[t];
    let first = table_binding(plan, t);
    let atomic = name == "hd";
    let unit = match table.unit_words {
        1 => "u32",
        2 => "vec2<u32>",
        _ => "vec4<u32>",
    };
    let ty = if atomic { "atomic<u32>" } else { unit };
    for c in 0..chunks {
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, read_write> {name}_{c}: array<{ty}>;",
            first + c
        );
    }
    let (rpc, ru) = (table.rows_per_chunk, table.row_units);
    let arms = |body: &dyn Fn(u32) -> String| -> String {
        (0..chunks)
            .map(|c| format!("        case {c}u: {{ {} }}\n", body(c)))
            .collect()
    };
    let head = format!(
        "    let c = row / {rpc}u;\n    let j = (row - c * {rpc}u) * {ru}u + u;\n    switch (c) {{\n"
    );
    if atomic {
        let _ = write!(
            s,
            "fn {name}_xchg(row: u32, u: u32, v: u32) -> u32 {{\n{head}{}        default: {{ return 0u; }}\n    }}\n}}\n",
            arms(&|c| format!("return atomicExchange(&{name}_{c}[j], v);"))
        );
    } else {
        let _ = write!(
            s,
            "fn {name}_ld(row: u32, u: u32) -> {unit} {{\n{head}{}        default: {{ return {unit}(); }}\n    }}\n}}\n",
            arms(&|c| format!("return {name}_{c}[j];"))
        );
        let _ = write!(
            s,
            "fn {name}_st(row: u32, u: u32, v: {unit}) {{\n{head}{}        default: {{ }}\n    }}\n}}\n",
            arms(&|c| format!("{name}_{c}[j] = v;"))
        );
    }
}

fn round_constants(plan: &Plan, kernel: Kernel, s: &mut String) {
    let l = &plan.layout;
    let k = l.layers.len() as u32;
    let r = match kernel {
        Kernel::Round(r) => r,
        _ => 1,
    };
    let inl = l.layers[(r - 1) as usize];
    let outl = l.layers[(r as usize).min(l.layers.len() - 1)];
    let _ = writeln!(s, "const LAYER_IN: u32 = {}u;", r - 1);
    let _ = writeln!(s, "const LAYER_OUT: u32 = {}u;", r.min(k - 1));
    let _ = writeln!(s, "const FINAL: bool = {};", r == k);
    let _ = writeln!(
        s,
        "const PRUNE: bool = {};",
        r < k && l.prunes_zero(r as usize)
    );
    let _ = writeln!(s, "const OUT_FIELD_AT: u32 = {}u;", outl.field_at);
    let _ = writeln!(
        s,
        "const IN_MASK = {};",
        mask_array(plan, top_mask(plan, inl.hash_bits))
    );
    let keep: Vec<u32> = top_mask(plan, 32 * plan.slot_words - outl.field_at)
        .iter()
        .map(|w| !w)
        .collect();
    let _ = writeln!(s, "const KEEP_MASK = {};", mask_array(plan, keep));
}

/// The top `bits` bits of a slot set, as u32 words (word 0 most significant).
fn top_mask(plan: &Plan, bits: u32) -> Vec<u32> {
    (0..plan.slot_words)
        .map(|i| match bits.saturating_sub(32 * i) {
            0 => 0,
            n if n >= 32 => u32::MAX,
            n => !(u32::MAX >> n),
        })
        .collect()
}

fn mask_array(plan: &Plan, words: Vec<u32>) -> String {
    let items: Vec<String> = words.iter().map(|w| format!("0x{w:08x}u")).collect();
    format!("array<u32, {}>({})", plan.slot_words, items.join(", "))
}

/// The generation kernel's extra builtins and its twist code.
fn twist_code(plan: &Plan, scan: TwistScan) -> (&'static str, String) {
    if !plan.layout.params.twist() || scan == TwistScan::Serial {
        return ("", String::new());
    }
    let mask = "    d[3] = d[3] & 0xf8ffffffu;\n    d[7] = d[7] & 0xf8ffffffu;\n    \
                d[11] = d[11] & 0xf8ffffffu;\n    d[15] = d[15] & 0xf8ffffffu;\n";
    match scan {
        TwistScan::Serial => unreachable!("handled above"),
        TwistScan::Workgroup => (
            "",
            format!(
                "for (var w = 0u; w < 16u; w++) {{ tw[lid][w] = d[w]; }}
    workgroupBarrier();
    let seg = lid & ~15u;
    for (var w = 0u; w < 16u; w++) {{
        var acc = 0u;
        for (var j = seg; j < lid; j++) {{ acc += tw[j][w]; }}
        d[w] += acc;
    }}
{mask}"
            ),
        ),
        TwistScan::Subgroup => (
            "@builtin(subgroup_size) sgs: u32, @builtin(subgroup_invocation_id) sgi: u32",
            format!(
                "for (var w = 0u; w < 16u; w++) {{ d[w] = subgroupInclusiveAdd(d[w]); tw[lid][w] = d[w]; }}
    workgroupBarrier();
    let seg = lid & ~15u;
    let sub = lid - sgi;
    if (sgs >= 16u) {{
        if (seg > sub) {{
            for (var w = 0u; w < 16u; w++) {{ d[w] -= tw[seg - 1u][w]; }}
        }}
    }} else {{
        var q = sub;
        while (q > seg) {{
            q -= sgs;
            for (var w = 0u; w < 16u; w++) {{ d[w] += tw[q + sgs - 1u][w]; }}
        }}
    }}
{mask}"
            ),
        ),
    }
}

/// `blake_final(g)`: the 16 little-endian output words of the final BLAKE2b block for counter
/// `g`, fully unrolled, on `vec2<u32>` (x low, y high) so no 64-bit support is needed. The block
/// holds input bytes 128..140 (message words 0 and 1, from the uniform) and the counter in the
/// high half of word 1; every other message word is zero, which the compiler folds.
fn blake_final(_plan: &Plan) -> String {
    let mut s = String::from(
        "fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn rotr24(a: vec2<u32>) -> vec2<u32> { return vec2<u32>((a.x >> 24u) | (a.y << 8u), (a.y >> 24u) | (a.x << 8u)); }
fn rotr16(a: vec2<u32>) -> vec2<u32> { return vec2<u32>((a.x >> 16u) | (a.y << 16u), (a.y >> 16u) | (a.x << 16u)); }
fn rotr63(a: vec2<u32>) -> vec2<u32> { return vec2<u32>((a.x << 1u) | (a.y >> 31u), (a.y << 1u) | (a.x >> 31u)); }
fn blake_final(g: u32) -> array<u32, 16> {
",
    );
    for i in 0..8 {
        let half = if i % 2 == 0 { "xy" } else { "zw" };
        let _ = writeln!(s, "    let h{i} = mid.h[{}].{half};", i / 2);
        let _ = writeln!(s, "    var v{i} = h{i};");
    }
    for (i, iv) in IV.iter().enumerate() {
        let _ = writeln!(
            s,
            "    var v{} = vec2<u32>(0x{:08x}u, 0x{:08x}u);",
            i + 8,
            *iv as u32,
            (iv >> 32) as u32
        );
    }
    s.push_str("    v12 = v12 ^ mid.t.xy;\n    v14 = ~v14;\n");
    s.push_str("    let m0 = mid.m[0].xy;\n    let m1 = vec2<u32>(mid.m[0].z, g);\n");
    s.push_str("    let z = vec2<u32>(0u, 0u);\n");
    let msg = |j: usize| match j {
        0 => "m0".to_string(),
        1 => "m1".to_string(),
        _ => "z".to_string(),
    };
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
            let (x, y) = (msg(sg[2 * i]), msg(sg[2 * i + 1]));
            let _ = write!(
                s,
                "    v{a} = add64(add64(v{a}, v{b}), {x}); v{d} = (v{d} ^ v{a}).yx; \
                 v{c} = add64(v{c}, v{d}); v{b} = rotr24(v{b} ^ v{c});\n    \
                 v{a} = add64(add64(v{a}, v{b}), {y}); v{d} = rotr16(v{d} ^ v{a}); \
                 v{c} = add64(v{c}, v{d}); v{b} = rotr63(v{b} ^ v{c});\n"
            );
        }
    }
    s.push_str("    var out: array<u32, 16>;\n");
    for i in 0..8 {
        let _ = writeln!(s, "    let o{i} = h{i} ^ v{i} ^ v{};", i + 8);
        let _ = writeln!(
            s,
            "    out[{}] = o{i}.x;\n    out[{}] = o{i}.y;",
            2 * i,
            2 * i + 1
        );
    }
    s.push_str("    return out;\n}\n");
    s
}

/// Every kernel module of `plan`, with a name, for validation and pipeline creation.
pub fn all_kernels(plan: &Plan, subgroups: bool) -> Vec<(String, Kernel)> {
    let mut v = vec![(
        "generate".to_string(),
        Kernel::Generate(TwistScan::Workgroup),
    )];
    v.push((
        "generate_serial".to_string(),
        Kernel::Generate(TwistScan::Serial),
    ));
    if subgroups {
        v.push((
            "generate_subgroup".to_string(),
            Kernel::Generate(TwistScan::Subgroup),
        ));
    }
    for r in 1..=plan.layout.layers.len() as u32 {
        v.push((format!("round{r}"), Kernel::Round(r)));
    }
    v.push(("recover".to_string(), Kernel::Recover));
    v
}
