// One collision round (or the final round), in two passes over the input layer, one invocation
// per input slot (x: slot in bucket, y: bucket); no workgroup barriers.
//
// link:  each record pushes itself onto the chain of its rest bits in a per-bucket table of heads
//        in global memory (one atomic exchange on 2^R addresses per bucket: little contention).
// pairs: each record walks the chain below itself; every pair with equal rest bits is met exactly
//        once. A collision round XORs the pair, drops the collided digit and appends the result
//        to the bucket of its next digit, keeping the back-pointer fields of layer r-2 that live
//        in the low bits of the output slot (tromp's in-slot layout); the final round emits the
//        pairs whose remaining bits are all zero as candidates.

fn load_hash(b: u32, s: u32) -> array<u32, SW> {
    var x = hin_slot(b, s);
    for (var w = 0u; w < SW; w++) {
        x[w] = x[w] & IN_MASK[w];
    }
    return x;
}

fn bucket_fill(layer: u32, b: u32) -> u32 {
    return min(atomicLoad(&cn[layer * NB + b]), CAP);
}

@compute @workgroup_size(WG)
fn link(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.y;
    let s = gid.x;
    if (s >= bucket_fill(LAYER_IN, b)) {
        return;
    }
    let rest = hin_ld(b, s * UPS).x >> (32u - R);
    let old = hd_xchg(b, rest, s + 1u);
    nx_st(b, s, old);
}

fn emit_pair(b: u32, a: u32, s: u32, x: ptr<function, array<u32, SW>>) {
    if (FINAL) {
        var z = 0u;
        for (var w = 0u; w < SW; w++) {
            z = z | (*x)[w];
        }
        if (z == 0u) {
            let c = atomicAdd(&st[ST_CANDS], 1u);
            if (c < MAX_CANDS) {
                cd[3u * c] = b;
                cd[3u * c + 1u] = a;
                cd[3u * c + 2u] = s;
            }
        }
        return;
    }
    let nb = slot_bits(x, R, B);
    var v: array<u32, SW>;
    var z = 0u;
    for (var w = 0u; w < SW; w++) {
        var lo = 0u;
        if (w + 1u < SW) {
            lo = (*x)[w + 1u] >> (32u - C);
        }
        v[w] = ((*x)[w] << C) | lo;
        z = z | v[w];
    }
    if (PRUNE && z == 0u) {
        atomicAdd(&st[ST_PRUNED], 1u);
        return;
    }
    let pos = atomicAdd(&cn[LAYER_OUT * NB + nb], 1u);
    if (pos >= CAP) {
        return;
    }
    if (OUT_FIELD_AT > 0u) {
        let old = hout_slot(nb, pos);
        for (var w = 0u; w < SW; w++) {
            v[w] = v[w] | (old[w] & KEEP_MASK[w]);
        }
    }
    set_field(&v, OUT_FIELD_AT, SB, s);
    set_field(&v, OUT_FIELD_AT + SB, SB, a);
    set_field(&v, OUT_FIELD_AT + 2u * SB, B, b);
    hout_put(nb, pos, &v);
}

@compute @workgroup_size(WG)
fn pairs(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.y;
    let s = gid.x;
    if (s >= bucket_fill(LAYER_IN, b)) {
        return;
    }
    let me = load_hash(b, s);
    var j = nx_ld(b, s);
    loop {
        if (j == 0u) {
            break;
        }
        let a = j - 1u;
        var x = load_hash(b, a);
        for (var w = 0u; w < SW; w++) {
            x[w] = x[w] ^ me[w];
        }
        emit_pair(b, a, s, &x);
        j = nx_ld(b, a);
    }
}
