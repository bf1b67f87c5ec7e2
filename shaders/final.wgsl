// `emit` of the final round, exact: a pair is a candidate only when every remaining bit is equal
// (the last digit collides and the one after it is zero), compared in workgroup memory before any
// partner is loaded. A candidate keeps the region, both slots and both whole records (their
// back-pointers), so recovery need not bind this layer.

fn emit(region: u32, s: u32, a: u32) {
    var x = xor_of(s, a);
    var z = 0u;
    for (var w = 0u; w < IN_HW; w++) {
        z = z | x[w];
    }
    if (z != 0u) {
        return;
    }
    let c = sm_add(ST_CANDS, 1u);
    if (c >= MAX_CANDS) {
        return;
    }
    let at = CANDS_AT + c * CAND_WORDS;
    sm_put(at, region);
    sm_put(at + 1u, s);
    sm_put(at + 2u, a);
    sm_put(at + 3u, 0u);
    var xs = hin_rec(region, s);
    var xa = hin_rec(region, a);
    for (var w = 0u; w < IN_W; w++) {
        sm_put(at + 4u + w, xs[w]);
        sm_put(at + 4u + IN_W + w, xa[w]);
    }
}
