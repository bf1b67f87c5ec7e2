// `emit` of the final round, exact (CUDA port of shaders/final.wgsl): a pair is a candidate only
// when every remaining bit is equal (the last digit collides and the one after it is zero),
// compared in shared memory before any partner is loaded. A candidate keeps the region, both
// slots and both whole records (their back-pointers), so recovery need not read this layer.

__device__ __forceinline__ void emit(Ctx& c, u32 region, u32 s, u32 a) {
    const Rec x = xor_of(s, a);
    u32 z = 0;
#pragma unroll
    for (u32 w = 0; w < IN_HW; w++) {
        z |= x.w[w];
    }
    if (z != 0u) {
        return;
    }
    const u32 n = sm_add(c, ST_CANDS, 1u);
    if (n >= MAX_CANDS) {
        return;
    }
    const u32 at = CANDS_AT + n * CAND_WORDS;
    sm_put(c, at, region);
    sm_put(c, at + 1u, s);
    sm_put(c, at + 2u, a);
    sm_put(c, at + 3u, 0u);
    const Rec xs = hin_rec(c, region, s);
    const Rec xa = hin_rec(c, region, a);
    for (u32 w = 0; w < IN_W; w++) {
        sm_put(c, at + 4u + w, xs.w[w]);
        sm_put(c, at + 4u + IN_W + w, xa.w[w]);
    }
}
