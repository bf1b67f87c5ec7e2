// Round 0: one invocation per BLAKE2b counter g (`generate`), or per aligned group of 16 counters
// (`generate_serial`). The final block is hashed from the host's midstate (`blake_final`,
// generated: two-word or 64-bit arithmetic), the ZelHash twist (generated: none, a
// workgroup-memory scan or a subgroup scan) turns B(g) into D(g), and each of the PER leaves goes
// to the region of its first OUT_B bits in layer 0: its other bits as one record, its index
// into the index table at the same slot. Every kernel also zeroes the region counters of layers
// 1..k−1 for this nonce's rounds.

var<workgroup> tw: array<array<u32, 16>, WG_GEN>;

fn digest_byte(d: ptr<function, array<u32, 16>>, j: u32) -> u32 {
    if (j >= 64u) {
        return 0u;
    }
    return ((*d)[j >> 2u] >> ((j & 3u) * 8u)) & 0xffu;
}

fn bswap(x: u32) -> u32 {
    return (x >> 24u) | ((x >> 8u) & 0xff00u) | ((x << 8u) & 0xff0000u) | (x << 24u);
}

fn emit_leaf(d: ptr<function, array<u32, 16>>, s: u32, i: u32) {
    var l: Rec;
    let start = s * SLICE;
    for (var q = 0u; q < LW; q++) {
        if (SLICE % 4u == 0u) {
            if (4u * q < SLICE) {
                l[q] = bswap((*d)[start / 4u + q]);
            }
        } else {
            var w = 0u;
            for (var j = 0u; j < 4u; j++) {
                let at = 4u * q + j;
                var byte = 0u;
                if (at < SLICE) {
                    byte = digest_byte(d, start + at);
                }
                w = (w << 8u) | byte;
            }
            l[q] = w;
        }
        // Zero every bit at or past N_BITS.
        let first = 32u * q;
        if (first >= N_BITS) {
            l[q] = 0u;
        } else if (N_BITS - first < 32u) {
            l[q] = l[q] & ~(0xffffffffu >> (N_BITS - first));
        }
    }
    let region = l[0] >> (32u - OUT_B);
    var rec = shl(&l, OUT_B);
    let pos = sm_add(CNT_OUT + region, 1u);
    if (pos < OUT_CAP) {
        hout_put(region, pos, &rec);
        ix_st(region, pos, i);
    } else {
        sm_add(ST_OVERFLOW, 1u);
    }
}

@compute @workgroup_size(WG_GEN)
fn generate(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    /*SUBGROUP_ARGS*/
) {
    profile_begin(lid);
    let group = wid.y * nwg.x + wid.x;
    let g = group * WG_GEN + lid;
    zero_words(ZERO_AT, ZERO_WORDS, g, nwg.x * nwg.y * WG_GEN);
    var d = blake_final(g);
    /*TWIST_CODE*/
    if (g < HASHES) {
        for (var s = 0u; s < PER; s++) {
            let i = g * PER + s;
            if (i < LEAVES) {
                emit_leaf(&d, s, i);
            }
        }
    }
    profile_end(lid, group == 0u);
}

// The barrier-free variant: one invocation per aligned group of 16 counters hashes them in turn,
// keeps the running prefix sum in registers, and emits each counter's leaves as soon as its
// twisted digest is known. Fastest where barriers are expensive (lavapipe runs a workgroup with
// barriers as coroutines) and still 2^20 invocations for ZelHash on a GPU.
@compute @workgroup_size(WG_GEN)
fn generate_serial(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    profile_begin(lid);
    let wg = wid.y * nwg.x + wid.x;
    let group = wg * WG_GEN + lid;
    zero_words(ZERO_AT, ZERO_WORDS, group, nwg.x * nwg.y * WG_GEN);
    if (group * 16u < HASHES) {
        var acc: array<u32, 16>;
        for (var j = 0u; j < 16u; j++) {
            let g = group * 16u + j;
            let h = blake_final(g);
            for (var w = 0u; w < 16u; w++) {
                acc[w] += h[w];
            }
            var d = acc;
            d[3] = d[3] & 0xf8ffffffu;
            d[7] = d[7] & 0xf8ffffffu;
            d[11] = d[11] & 0xf8ffffffu;
            d[15] = d[15] & 0xf8ffffffu;
            for (var s = 0u; s < PER; s++) {
                let i = g * PER + s;
                if (i < LEAVES) {
                    emit_leaf(&d, s, i);
                }
            }
        }
    }
    profile_end(lid, wg == 0u);
}
