// Candidates → solutions: each of RECOVER_GROUPS workgroups takes candidates in turn and walks one
// down from its two final-layer records to its NI leaf indices, a layer at a time. A Pair
// back-pointer names both records below; a Rank back-pointer names one record and the rank (by
// slot) of its partner among the other records of that region with the same digit, which the
// workgroup finds again by scanning the region. Then one invocation puts the indices in canonical
// order (at every merge the subtree with the smaller first index goes left), rejects repeated
// indices and writes the solution; the host re-verifies every one.
//
// Generated in front: `cand_ptr`, `node_ptr` and `rest_key` for this plan's layers.

var<workgroup> nreg: array<u32, NI>;
var<workgroup> nslot: array<u32, NI>;
var<workgroup> pr: array<u32, NIH>;
var<workgroup> pa: array<u32, NIH>;
var<workgroup> pb: array<u32, NIH>;
var<workgroup> pkey: array<u32, NIH>;
var<workgroup> pfill: array<u32, NIH>;
var<workgroup> mcount: array<atomic<u32>, NIH>;
var<workgroup> matches: array<u32, MATCH_WORDS>;
var<workgroup> leaf: array<u32, NI>;
var<workgroup> sbad: atomic<u32>;
var<workgroup> sn: u32;

fn fill_of(l: u32, region: u32) -> u32 {
    return min(atomicLoad(&sm[CNT_AT[l] + region]), L_CAP[l]);
}

// For each of the `m` nodes of layer `l` with a Rank pointer: the slot of the partner.
fn find_partners(lid: u32, l: u32, m: u32) {
    if (lid < m) {
        pkey[lid] = rest_key(l - 1u, pr[lid], pa[lid]);
        pfill[lid] = fill_of(l - 1u, pr[lid]);
        atomicStore(&mcount[lid], 0u);
    }
    workgroupBarrier();
    let cap = L_CAP[l - 1u];
    for (var q = lid; q < m * cap; q += WG) {
        let i = q / cap;
        let t = q - i * cap;
        if (t < pfill[i] && t != pa[i] && rest_key(l - 1u, pr[i], t) == pkey[i]) {
            let j = atomicAdd(&mcount[i], 1u);
            if (j < MAX_MATCHES) {
                matches[i * MAX_MATCHES + j] = t;
            }
        }
    }
    workgroupBarrier();
    if (lid < m) {
        let n = atomicLoad(&mcount[lid]);
        var found = false;
        if (n <= MAX_MATCHES) {
            for (var j = 0u; j < n; j++) {
                let t = matches[lid * MAX_MATCHES + j];
                var below = 0u;
                for (var q = 0u; q < n; q++) {
                    if (matches[lid * MAX_MATCHES + q] < t) {
                        below++;
                    }
                }
                if (below == pb[lid]) {
                    pb[lid] = t;
                    found = true;
                    break;
                }
            }
        }
        if (!found) {
            atomicStore(&sbad, 1u);
        }
    }
    workgroupBarrier();
}

// Canonical order, bottom-up (swap sibling blocks whose right one starts lower), then repeated
// indices; writes the solution.
fn finish(c: u32) {
    if (atomicLoad(&sbad) != 0u) {
        sm_add(ST_LOST, 1u);
        return;
    }
    var idx: array<u32, NI>;
    for (var i = 0u; i < NI; i++) {
        idx[i] = leaf[i];
    }
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
                sm_add(ST_DUPS, 1u);
                return;
            }
        }
    }
    let n = sm_add(ST_SOLS, 1u);
    if (n < MAX_SOLS) {
        for (var i = 0u; i < NI; i++) {
            sm_put(SOLS_AT + n * NI + i, idx[i]);
        }
    }
}

fn walk(lid: u32, c: u32) {
    let at = CANDS_AT + c * CAND_WORDS;
    if (lid == 0u) {
        atomicStore(&sbad, 0u);
    }
    if (lid < 2u) {
        let p = cand_ptr(at, lid);
        pr[lid] = p.x;
        pa[lid] = p.y;
        pb[lid] = p.z;
    }
    workgroupBarrier();
    for (var i = 1u; i < K; i++) {
        // The 2^i nodes of layer l have their pointers in pr/pa/pb.
        let l = K - i;
        let m = 1u << i;
        if (L_RANK[l]) {
            find_partners(lid, l, m);
        }
        if (lid < 2u * m) {
            let p = lid >> 1u;
            nreg[lid] = pr[p];
            nslot[lid] = select(pa[p], pb[p], (lid & 1u) == 1u);
        }
        workgroupBarrier();
        if (l > 1u && lid < 2u * m) {
            let q = node_ptr(l - 1u, nreg[lid], nslot[lid]);
            pr[lid] = q.x;
            pa[lid] = q.y;
            pb[lid] = q.z;
        }
        workgroupBarrier();
    }
    if (lid < NI) {
        leaf[lid] = ix_ld(nreg[lid], nslot[lid]);
    }
    workgroupBarrier();
    if (lid == 0u) {
        finish(c);
    }
    workgroupBarrier();
}

@compute @workgroup_size(WG)
fn recover(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    profile_begin(lid);
    if (lid == 0u) {
        sn = min(atomicLoad(&sm[ST_CANDS]), MAX_CANDS);
    }
    let n = workgroupUniformLoad(&sn);
    for (var c = wid.x; c < n; c += RECOVER_GROUPS) {
        walk(lid, c);
    }
    profile_end(lid, wid.x == 0u);
}
