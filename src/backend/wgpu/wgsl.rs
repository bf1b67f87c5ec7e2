//! WGSL source of every kernel: the templates in `shaders/` behind a generated prelude that holds
//! the constants of the plan and of the kernel's layers, the bindings it uses (split into chunks
//! no larger than the adapter allows) with their accessors, and the fully unrolled BLAKE2b
//! final-block compression (two-word or 64-bit).

use std::fmt::Write as _;

use crate::backend::codegen::{self, blake_rounds};
use crate::backend::plan::{Plan, Stage, View};
use crate::equihash::blake::IV;

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const GENERATE: &str = include_str!("../../../shaders/generate.wgsl");
const COLLIDE: &str = include_str!("../../../shaders/collide.wgsl");
const ROUND: &str = include_str!("../../../shaders/round.wgsl");
const FINAL: &str = include_str!("../../../shaders/final.wgsl");
const RECOVER: &str = include_str!("../../../shaders/recover.wgsl");

/// Binding of the midstate uniform (generation only).
pub const UNIFORM_BINDING: u32 = 0;
/// Binding of the small buffer (stats, region counters, candidates, solutions).
pub const SMALL_BINDING: u32 = 1;
/// First binding of a kernel's chunked tables.
pub const FIRST_VIEW_BINDING: u32 = 2;

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
    /// Round 0 with a twist scan, BLAKE2b on 64-bit integers (`int64`) or on word pairs.
    Generate {
        /// The twist scan.
        scan: TwistScan,
        /// BLAKE2b on `u64` (needs `SHADER_INT64`).
        int64: bool,
    },
    /// Collision round `r` (1..k−1) or the final round `r = k` (entry point `collide`).
    Round(u32),
    /// Recovery (entry point `recover`).
    Recover,
}

impl Kernel {
    /// The stage this kernel runs.
    pub fn stage(self, plan: &Plan) -> Stage {
        match self {
            Kernel::Generate { .. } => Stage::Generate,
            Kernel::Round(r) if r == plan.params.k() => Stage::Final,
            Kernel::Round(r) => Stage::Round(r),
            Kernel::Recover => Stage::Recover,
        }
    }

    /// The entry point.
    pub fn entry(self) -> &'static str {
        match self {
            Kernel::Generate { scan, .. } => scan.entry(),
            Kernel::Round(_) => "collide",
            Kernel::Recover => "recover",
        }
    }
}

/// The complete WGSL of `kernel` for `plan`; `profile` compiles in the traffic counters.
pub fn source(plan: &Plan, kernel: Kernel, profile: bool) -> String {
    let mut s = prelude(plan, kernel, profile);
    let mut binding = FIRST_VIEW_BINDING;
    for v in plan.views(kernel.stage(plan)) {
        view_code(&v, binding, &mut s);
        binding += v.table.chunks();
    }
    s.push_str(COMMON);
    match kernel {
        Kernel::Generate { scan, int64 } => {
            s.push_str(&if int64 {
                blake_final_u64()
            } else {
                blake_final_u32()
            });
            let (args, code) = twist_code(plan, scan);
            s.push_str(
                &GENERATE
                    .replace("/*SUBGROUP_ARGS*/", args)
                    .replace("/*TWIST_CODE*/", &code),
            );
        }
        Kernel::Round(r) => {
            s.push_str(if r == plan.params.k() { FINAL } else { ROUND });
            s.push_str(COLLIDE);
        }
        Kernel::Recover => {
            recover_helpers(plan, &mut s);
            s.push_str(RECOVER);
        }
    }
    s
}

fn constant(s: &mut String, name: &str, v: impl std::fmt::Display) {
    let _ = writeln!(s, "const {name}: u32 = {v}u;");
}

fn flag(s: &mut String, name: &str, v: bool) {
    let _ = writeln!(s, "const {name}: bool = {v};");
}

fn u32_array(values: impl IntoIterator<Item = u64>) -> String {
    let items: Vec<String> = values.into_iter().map(|v| format!("{v}u")).collect();
    format!("array<u32, {}>({})", items.len(), items.join(", "))
}

fn prelude(plan: &Plan, kernel: Kernel, profile: bool) -> String {
    let stage = kernel.stage(plan);
    let mut s = String::from("// Generated prelude: constants of the plan and of this kernel.\n");
    for (name, v) in codegen::plan_constants(plan, stage) {
        constant(&mut s, name, v);
    }
    flag(&mut s, "PROFILE", profile);
    let _ = writeln!(
        s,
        "alias Rec = array<u32, {}>;",
        codegen::record_words(plan, stage)
    );
    if let Kernel::Generate { .. } = kernel {
        s.push_str("struct Mid { h: array<vec4<u32>, 4>, m: array<vec4<u32>, 8>, t: vec4<u32> }\n");
        let _ = writeln!(
            s,
            "@group(0) @binding({UNIFORM_BINDING}) var<uniform> mid: Mid;"
        );
    }
    let _ = writeln!(
        s,
        "@group(0) @binding({SMALL_BINDING}) var<storage, read_write> sm: array<atomic<u32>>;"
    );
    kernel_constants(plan, kernel, &mut s);
    s
}

/// The constants of the layers a kernel reads and writes.
fn kernel_constants(plan: &Plan, kernel: Kernel, s: &mut String) {
    let stage = kernel.stage(plan);
    let (scalars, flags) = codegen::layer_constants(plan, stage);
    for (name, v) in scalars {
        constant(s, name, v);
    }
    for (name, v) in flags {
        flag(s, name, v);
    }
    match stage {
        Stage::Round(_) | Stage::Final => {
            let masks = codegen::in_mask(plan, stage).into_iter().map(u64::from);
            let _ = writeln!(s, "const IN_MASK = {};", u32_array(masks));
        }
        Stage::Recover => {
            let (cnt, cap, rank) = codegen::recover_tables(plan);
            let _ = writeln!(s, "const CNT_AT = {};", u32_array(cnt));
            let _ = writeln!(s, "const L_CAP = {};", u32_array(cap));
            let rank: Vec<String> = rank.iter().map(bool::to_string).collect();
            let _ = writeln!(
                s,
                "const L_RANK = array<bool, {}>({});",
                rank.len(),
                rank.join(", ")
            );
        }
        Stage::Generate => {}
    }
}

/// Declares the chunks of `v` and its accessors, addressed by (row, unit in row): `NAME_ld`,
/// `NAME_st` (unless read-only), and per record `NAME_rec` / `NAME_put`, each counting its words
/// in profile mode.
fn view_code(v: &View, first: u32, s: &mut String) {
    let t = &v.table;
    let name = v.name;
    let unit = match t.unit_words {
        1 => "u32",
        2 => "vec2<u32>",
        _ => "vec4<u32>",
    };
    let access = if v.read_only { "read" } else { "read_write" };
    for c in 0..t.chunks() {
        let _ = writeln!(
            s,
            "@group(0) @binding({}) var<storage, {access}> {name}_{c}: array<{unit}>;",
            first + c
        );
    }
    let cu = t.chunk_units;
    let arms = |body: &dyn Fn(u32) -> String| -> String {
        (0..t.chunks())
            .map(|c| format!("        case {c}u: {{ {} }}\n", body(c)))
            .collect()
    };
    // A table within one binding: no band arithmetic on each access.
    let head = if t.chunks() == 1 {
        format!("    let c = 0u;\n    let j = row * {cu}u + u;\n    switch (c) {{\n")
    } else {
        format!(
            "    let c = u / {cu}u;\n    let j = row * {cu}u + (u - c * {cu}u);\n    switch (c) {{\n"
        )
    };
    let uw = t.unit_words;
    let _ = write!(
        s,
        "fn {name}_ld(row: u32, u: u32) -> {unit} {{\n    count_read({uw}u);\n{head}{}        default: {{ return {unit}(); }}\n    }}\n}}\n",
        arms(&|c| format!("return {name}_{c}[j];"))
    );
    if !v.read_only {
        let _ = write!(
            s,
            "fn {name}_st(row: u32, u: u32, v: {unit}) {{\n    count_written({uw}u);\n{head}{}        default: {{ }}\n    }}\n}}\n",
            arms(&|c| format!("{name}_{c}[j] = v;"))
        );
    }
    let upr = v.record_words / uw;
    let comps = ["x", "y", "z", "w"];
    let mut rec = format!("fn {name}_rec(row: u32, slot: u32) -> Rec {{\n    var x: Rec;\n");
    let mut put = format!(
        "fn {name}_put(row: u32, slot: u32, x: ptr<function, Rec>) {{\n    let base = slot * {upr}u;\n"
    );
    let _ = writeln!(rec, "    let base = slot * {upr}u;");
    for q in 0..upr {
        if uw == 1 {
            let _ = writeln!(rec, "    x[{q}] = {name}_ld(row, base + {q}u);");
            let _ = writeln!(put, "    {name}_st(row, base + {q}u, (*x)[{q}]);");
        } else {
            let _ = writeln!(rec, "    let v{q} = {name}_ld(row, base + {q}u);");
            let words: Vec<String> = (0..uw)
                .map(|i| {
                    let _ = writeln!(rec, "    x[{}] = v{q}.{};", q * uw + i, comps[i as usize]);
                    format!("(*x)[{}]", q * uw + i)
                })
                .collect();
            let _ = writeln!(
                put,
                "    {name}_st(row, base + {q}u, {unit}({}));",
                words.join(", ")
            );
        }
    }
    rec.push_str("    return x;\n}\n");
    put.push_str("}\n");
    s.push_str(&rec);
    if !v.read_only {
        s.push_str(&put);
    }
    let first_word = if uw == 1 { "" } else { ".x" };
    let _ = writeln!(
        s,
        "fn {name}_w0(row: u32, slot: u32) -> u32 {{ return {name}_ld(row, slot * {upr}u){first_word}; }}"
    );
}

/// The recovery kernel's per-layer helpers: `cand_ptr` (a final-layer record of a candidate),
/// `node_ptr` (a record of layers 1..k−2) and `rest_key` (the digit of such a record), each
/// decoding the back-pointer as `(parent region, slot, slot or rank)`.
fn recover_helpers(plan: &Plan, s: &mut String) {
    let p = &plan.params;
    let k = plan.layers.len();
    for l in 1..k {
        decode_fn(plan, l, s);
    }
    let last = &plan.layers[k - 1];
    let _ = write!(
        s,
        "fn cand_ptr(at: u32, which: u32) -> vec3<u32> {{\n    var x: Rec;\n    \
         for (var w = 0u; w < {w}u; w++) {{ x[w] = atomicLoad(&sm[at + 4u + which * {w}u + w]); }}\n    \
         return decode_{l}(&x);\n}}\n",
        w = last.words,
        l = k - 1
    );
    let mut node =
        String::from("fn node_ptr(l: u32, row: u32, slot: u32) -> vec3<u32> {\n    switch (l) {\n");
    let mut key =
        String::from("fn rest_key(l: u32, row: u32, slot: u32) -> u32 {\n    switch (l) {\n");
    for l in 1..k.saturating_sub(1) {
        let _ = writeln!(
            node,
            "        case {l}u: {{ var x = hl{l}_rec(row, slot); return decode_{l}(&x); }}"
        );
        let rest = plan.layers[l].rest_bits(p);
        let _ = writeln!(
            key,
            "        case {l}u: {{ return hl{l}_w0(row, slot) >> {}u; }}",
            32 - rest
        );
    }
    node.push_str("        default: { return vec3<u32>(); }\n    }\n}\n");
    key.push_str("        default: { return 0u; }\n    }\n}\n");
    s.push_str(&node);
    s.push_str(&key);
}

/// `decode_L(x)`: layer L's back-pointer as `(parent region, slot, slot or rank)`.
fn decode_fn(plan: &Plan, l: usize, s: &mut String) {
    let w = plan.layers[l].words;
    let (b, sb, low) = codegen::pointer_fields(plan, l);
    let _ = write!(
        s,
        "fn decode_{l}(x: ptr<function, Rec>) -> vec3<u32> {{\n    \
         return vec3<u32>(get_field(x, {w}u, {}u, {b}u), get_field(x, {w}u, {low}u, {sb}u), \
         get_field(x, {w}u, 0u, {low}u));\n}}\n",
        low + sb
    );
}

/// The generation kernel's extra builtins and its twist code.
fn twist_code(plan: &Plan, scan: TwistScan) -> (&'static str, String) {
    if !plan.params.twist() || scan == TwistScan::Serial {
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

/// `blake_final(g)` on `vec2<u32>` (x low, y high), so no 64-bit support is needed: the 16
/// little-endian output words of the final BLAKE2b block for counter `g`. The block holds input
/// bytes 128..140 (message words 0 and 1, from the uniform) and the counter in the high half of
/// word 1; every other message word is zero, which the compiler folds.
fn blake_final_u32() -> String {
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
    s.push_str(&blake_rounds(&|a, b, c, d, x, y| {
        format!(
            "    v{a} = add64(add64(v{a}, v{b}), {x}); v{d} = (v{d} ^ v{a}).yx; \
             v{c} = add64(v{c}, v{d}); v{b} = rotr24(v{b} ^ v{c});\n    \
             v{a} = add64(add64(v{a}, v{b}), {y}); v{d} = rotr16(v{d} ^ v{a}); \
             v{c} = add64(v{c}, v{d}); v{b} = rotr63(v{b} ^ v{c});\n"
        )
    }));
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

/// `blake_final(g)` on `u64` (the adapter's `SHADER_INT64`): the same block, native 64-bit adds
/// and rotations.
fn blake_final_u64() -> String {
    let mut s = String::from(
        "fn w64(v: vec2<u32>) -> u64 { return u64(v.x) | (u64(v.y) << 32u); }
fn rotr(a: u64, n: u32) -> u64 { return (a >> n) | (a << (64u - n)); }
fn blake_final(g: u32) -> array<u32, 16> {
",
    );
    for i in 0..8 {
        let half = if i % 2 == 0 { "xy" } else { "zw" };
        let _ = writeln!(s, "    let h{i} = w64(mid.h[{}].{half});", i / 2);
        let _ = writeln!(s, "    var v{i} = h{i};");
    }
    for (i, iv) in IV.iter().enumerate() {
        let _ = writeln!(s, "    var v{} = {iv}lu;", i + 8);
    }
    s.push_str("    v12 = v12 ^ w64(mid.t.xy);\n    v14 = ~v14;\n");
    s.push_str(
        "    let m0 = w64(mid.m[0].xy);\n    let m1 = w64(vec2<u32>(mid.m[0].z, g));\n    \
         let z = 0lu;\n",
    );
    s.push_str(&blake_rounds(&|a, b, c, d, x, y| {
        format!(
            "    v{a} = v{a} + v{b} + {x}; v{d} = rotr(v{d} ^ v{a}, 32u); \
             v{c} = v{c} + v{d}; v{b} = rotr(v{b} ^ v{c}, 24u);\n    \
             v{a} = v{a} + v{b} + {y}; v{d} = rotr(v{d} ^ v{a}, 16u); \
             v{c} = v{c} + v{d}; v{b} = rotr(v{b} ^ v{c}, 63u);\n"
        )
    }));
    s.push_str("    var out: array<u32, 16>;\n");
    for i in 0..8 {
        let _ = writeln!(s, "    let o{i} = h{i} ^ v{i} ^ v{};", i + 8);
        let _ = writeln!(
            s,
            "    out[{}] = u32(o{i} & 0xfffffffflu);\n    out[{}] = u32(o{i} >> 32u);",
            2 * i,
            2 * i + 1
        );
    }
    s.push_str("    return out;\n}\n");
    s
}

/// Every kernel module of `plan`, with a name, for validation: each generation variant (with
/// `subgroups` and `int64` where asked for), every round, recovery.
pub fn all_kernels(plan: &Plan, subgroups: bool, int64: bool) -> Vec<(String, Kernel)> {
    let mut scans = vec![TwistScan::Workgroup, TwistScan::Serial];
    if subgroups {
        scans.push(TwistScan::Subgroup);
    }
    let mut v = Vec::new();
    for scan in scans {
        for wide in [false, true] {
            if wide && !int64 {
                continue;
            }
            v.push((
                format!("generate {scan:?}{}", if wide { " int64" } else { "" }),
                Kernel::Generate { scan, int64: wide },
            ));
        }
    }
    for r in 1..=plan.params.k() {
        v.push((format!("round{r}"), Kernel::Round(r)));
    }
    v.push(("recover".to_string(), Kernel::Recover));
    v
}
