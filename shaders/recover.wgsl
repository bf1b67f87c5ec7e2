// Candidate-only recovery: one invocation per final-round candidate walks the back-pointers down
// to its NI leaf indices, puts them in canonical order (at every merge the subtree with the
// smaller first index goes left), rejects repeated indices and, when the layout drops low bits,
// candidates whose dropped bits do not XOR to zero. Survivors go to the solution list, which
// the host re-verifies with equihash::is_valid_indices.

// The slot (b, s) of `layer`: even layers live in heap 0 (bound as hout), odd ones
// in heap 1 (bound as hin).
fn layer_slot(layer: u32, b: u32, s: u32) -> array<u32, SW> {
    if ((layer & 1u) == 0u) {
        return hout_slot(b, s);
    }
    return hin_slot(b, s);
}

@compute @workgroup_size(WG)
fn recover(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= min(atomicLoad(&st[ST_CANDS]), MAX_CANDS)) {
        return;
    }
    var idx: array<u32, NI>;
    for (var p = 0u; p < NI; p++) {
        var b = cd[3u * c];
        var sl = cd[3u * c + 1u];
        if (((p >> (K - 1u)) & 1u) == 1u) {
            sl = cd[3u * c + 2u];
        }
        for (var l = K - 1u; l > 0u; l--) {
            var x = layer_slot(l, b, sl);
            let at = LAYER_AT[l];
            let second = get_field(&x, at, SB);
            let first = get_field(&x, at + SB, SB);
            b = get_field(&x, at + 2u * SB, B);
            if (((p >> (l - 1u)) & 1u) == 1u) {
                sl = second;
            } else {
                sl = first;
            }
        }
        var x0 = layer_slot(0u, b, sl);
        idx[p] = get_field(&x0, LAYER_AT[0], INDEX_BITS);
    }
    // Canonical order, bottom-up: swap sibling blocks whose right one starts lower.
    for (var size = 1u; size < NI; size = size * 2u) {
        for (var o = 0u; o < NI; o = o + 2u * size) {
            if (idx[o + size] < idx[o]) {
                for (var q = 0u; q < size; q++) {
                    let t = idx[o + q];
                    idx[o + q] = idx[o + size + q];
                    idx[o + size + q] = t;
                }
            }
        }
    }
    for (var i = 0u; i < NI; i++) {
        for (var j = i + 1u; j < NI; j++) {
            if (idx[i] == idx[j]) {
                atomicAdd(&st[ST_DUPS], 1u);
                return;
            }
        }
    }
    if (DROP > 0u) {
        var t = 0u;
        for (var i = 0u; i < NI; i++) {
            t = t ^ tl_ld(idx[i], 0u);
        }
        if (t != 0u) {
            atomicAdd(&st[ST_FALSE], 1u);
            return;
        }
    }
    let n = atomicAdd(&st[ST_SOLS], 1u);
    if (n < MAX_SOLS) {
        for (var i = 0u; i < NI; i++) {
            so[n * NI + i] = idx[i];
        }
    }
}
