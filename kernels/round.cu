// `emit` of a collision round (CUDA port of shaders/round.wgsl): the pair's XOR less the collided
// digit goes to the region of its next digit in the output layer, with a back-pointer at the
// bottom of the record: one store, no read-modify-write. Pairs whose remaining bits are all zero
// are pruned (PRUNE), as the CPU solver does: they are almost always the same leaves combined
// twice.

// The rank of `a` among the other records of `s`'s chain with the same digit, by slot.
__device__ __forceinline__ u32 rank_of(u32 s, u32 a) {
    u32 r = 0;
    u32 t = shead[key_of(s)];
    while (t != 0u) {
        const u32 m = t - 1u;
        if (m != s && m < a && rest_eq(m, s)) {
            r++;
        }
        t = link_of(m);
    }
    return r;
}

__device__ __forceinline__ void emit(Ctx& c, u32 region, u32 s, u32 a) {
    const Rec x = xor_of(s, a);
    if (PRUNE) {
        u32 z = 0;
#pragma unroll
        for (u32 w = 0; w < IN_HW; w++) {
            z |= x.w[w];
        }
        if (z == 0u) {
            sm_add(c, ST_PRUNED + LAYER_IN, 1u);
            return;
        }
    }
    const u32 nb = bits_at(x, IN_R, OUT_B);
    Rec o = shl(x, IN_R + OUT_B);
    if (OUT_RANK) {
        const u32 rank = rank_of(s, a);
        if (rank >= (1u << RANK_BITS)) {
            sm_add(c, ST_RANK_LOST + LAYER_IN, 1u);
            return;
        }
        set_field(o, OUT_W, 0u, RANK_BITS, rank);
        set_field(o, OUT_W, RANK_BITS, IN_SB, s);
        set_field(o, OUT_W, RANK_BITS + IN_SB, IN_B, region);
    } else {
        set_field(o, OUT_W, 0u, IN_SB, a);
        set_field(o, OUT_W, IN_SB, IN_SB, s);
        set_field(o, OUT_W, 2u * IN_SB, IN_B, region);
    }
    const u32 pos = sm_add(c, CNT_OUT + nb, 1u);
    if (pos < OUT_CAP) {
        hout_put(c, nb, pos, o);
    } else {
        sm_add(c, ST_OVERFLOW + LAYER_OUT, 1u);
    }
}
