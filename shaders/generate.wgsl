// Round 0: one invocation per BLAKE2b counter g. The final block is hashed from the host's
// midstate (blake_final, generated), the ZelHash twist (generated: none, a
// workgroup-memory scan or a subgroup scan) turns B(g) into D(g), and each of the PER leaves is
// scattered into its bucket (an atomic per-bucket counter) with its leaf index in the slot's
// field and the dropped low bits of the last digit in the tails table.

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
    var l: array<u32, LWP>;
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
    let bucket = l[0] >> (32u - B);
    var slot: array<u32, SW>;
    for (var w = 0u; w < SW; w++) {
        slot[w] = leaf_bits(&l, B + 32u * w, 32u) & L0_MASK[w];
    }
    set_field(&slot, L0_FIELD_AT, INDEX_BITS, i);
    if (DROP > 0u) {
        tl_st(i, 0u, leaf_bits(&l, N_BITS - max(DROP, 1u), max(DROP, 1u)));
    }
    let pos = atomicAdd(&cn[bucket], 1u);
    if (pos < CAP) {
        hout_put(bucket, pos, &slot);
    }
}

@compute @workgroup_size(WG_GEN)
fn generate(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    /*SUBGROUP_ARGS*/
) {
    let g = (wid.y * nwg.x + wid.x) * WG_GEN + lid;
    var d = blake_final(g);
    /*TWIST_CODE*/
    if (g >= HASHES) {
        return;
    }
    for (var s = 0u; s < PER; s++) {
        let i = g * PER + s;
        if (i >= LEAVES) {
            break;
        }
        emit_leaf(&d, s, i);
    }
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
    let group = (wid.y * nwg.x + wid.x) * WG_GEN + lid;
    if (group * 16u >= HASHES) {
        return;
    }
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
            if (i >= LEAVES) {
                break;
            }
            emit_leaf(&d, s, i);
        }
    }
}
