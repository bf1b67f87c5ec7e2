// `emit` of a collision round: the pair's XOR less the collided digit goes to the region of its
// next digit in the output layer, with a back-pointer at the bottom of the record: one store,
// no read-modify-write. Pairs whose remaining bits are all zero are pruned (PRUNE), as the CPU
// solver does: they are almost always the same leaves combined twice.

// The rank of `a` among the other records of `s`'s chain with the same digit, by slot.
fn rank_of(s: u32, a: u32) -> u32 {
    var r = 0u;
    var t = atomicLoad(&shead[key_of(s)]);
    loop {
        if (t == 0u) {
            break;
        }
        let m = t - 1u;
        if (m != s && m < a && rest_eq(m, s)) {
            r++;
        }
        t = link_of(m);
    }
    return r;
}

fn emit(region: u32, s: u32, a: u32) {
    var x = xor_of(s, a);
    if (PRUNE) {
        var z = 0u;
        for (var w = 0u; w < IN_HW; w++) {
            z = z | x[w];
        }
        if (z == 0u) {
            sm_add(ST_PRUNED + LAYER_IN, 1u);
            return;
        }
    }
    let nb = bits_at(&x, IN_R, OUT_B);
    var o = shl(&x, IN_R + OUT_B);
    if (OUT_RANK) {
        let rank = rank_of(s, a);
        if (rank >= (1u << RANK_BITS)) {
            sm_add(ST_RANK_LOST + LAYER_IN, 1u);
            return;
        }
        set_field(&o, OUT_W, 0u, RANK_BITS, rank);
        set_field(&o, OUT_W, RANK_BITS, IN_SB, s);
        set_field(&o, OUT_W, RANK_BITS + IN_SB, IN_B, region);
    } else {
        set_field(&o, OUT_W, 0u, IN_SB, a);
        set_field(&o, OUT_W, IN_SB, IN_SB, s);
        set_field(&o, OUT_W, 2u * IN_SB, IN_B, region);
    }
    let pos = sm_add(CNT_OUT + nb, 1u);
    if (pos < OUT_CAP) {
        hout_put(nb, pos, &o);
    } else {
        sm_add(ST_OVERFLOW + LAYER_OUT, 1u);
    }
}
