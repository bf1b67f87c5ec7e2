// Candidates -> solutions (CUDA port of shaders/recover.wgsl): each of RECOVER_GROUPS blocks takes
// candidates in turn and walks one down from its two final-layer records to its NI leaf indices,
// a layer at a time. A Pair back-pointer names both records below; a Rank back-pointer names one
// record and the rank (by slot) of its partner among the other records of that region with the
// same digit, which the block finds again by scanning the region. Then one thread puts the
// indices in canonical order (at every merge the subtree with the smaller first index goes left),
// rejects repeated indices and writes the solution; the host re-verifies every one.
//
// Generated in front: `cand_ptr`, `node_ptr`, `rest_key`, `cnt_at`, `l_cap`, `l_rank`.

SHARED_ARRAY(u32, nreg, NI);
SHARED_ARRAY(u32, nslot, NI);
SHARED_ARRAY(u32, pr, NIH);
SHARED_ARRAY(u32, pa, NIH);
SHARED_ARRAY(u32, pb, NIH);
SHARED_ARRAY(u32, pkey, NIH);
SHARED_ARRAY(u32, pfill, NIH);
SHARED_ARRAY(u32, mcount, NIH);
SHARED_ARRAY(u32, matches, MATCH_WORDS);
SHARED_ARRAY(u32, leaf, NI);
SHARED_ARRAY(u32, sbad, 1);
SHARED_ARRAY(u32, sn, 1);

__device__ __forceinline__ u32 fill_of(Ctx& c, u32 l, u32 region) {
    return min(c.sm[cnt_at(l) + region], l_cap(l));
}

// For each of the `m` nodes of layer `l` with a Rank pointer: the slot of the partner.
__device__ __forceinline__ void find_partners(Ctx& c, u32 lid, u32 l, u32 m) {
    if (lid < m) {
        pkey[lid] = rest_key(c, l - 1u, pr[lid], pa[lid]);
        pfill[lid] = fill_of(c, l - 1u, pr[lid]);
        mcount[lid] = 0u;
    }
    __syncthreads();
    const u32 cap = l_cap(l - 1u);
    for (u32 q = lid; q < m * cap; q += WG) {
        const u32 i = q / cap;
        const u32 t = q - i * cap;
        if (t < pfill[i] && t != pa[i] && rest_key(c, l - 1u, pr[i], t) == pkey[i]) {
            const u32 j = atomicAdd(&mcount[i], 1u);
            if (j < MAX_MATCHES) {
                matches[i * MAX_MATCHES + j] = t;
            }
        }
    }
    __syncthreads();
    if (lid < m) {
        const u32 n = mcount[lid];
        bool found = false;
        if (n <= MAX_MATCHES) {
            for (u32 j = 0; j < n; j++) {
                const u32 t = matches[lid * MAX_MATCHES + j];
                u32 below = 0;
                for (u32 q = 0; q < n; q++) {
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
            atomicExch(&sbad[0], 1u);
        }
    }
    __syncthreads();
}

// Canonical order, bottom-up (swap sibling blocks whose right one starts lower), then repeated
// indices; writes the solution. Thread 0 only, in place in `leaf` (shared memory: a local array of
// NI words indexed at run time would live in local memory and spill at k = 5).
__device__ __forceinline__ void finish(Ctx& c) {
    if (sbad[0] != 0u) {
        sm_add(c, ST_LOST, 1u);
        return;
    }
    for (u32 size = 1; size < NI; size *= 2u) {
        for (u32 o = 0; o < NI; o += 2u * size) {
            if (leaf[o + size] < leaf[o]) {
                for (u32 q = 0; q < size; q++) {
                    const u32 t = leaf[o + q];
                    leaf[o + q] = leaf[o + size + q];
                    leaf[o + size + q] = t;
                }
            }
        }
    }
    for (u32 i = 0; i < NI; i++) {
        for (u32 j = i + 1u; j < NI; j++) {
            if (leaf[i] == leaf[j]) {
                sm_add(c, ST_DUPS, 1u);
                return;
            }
        }
    }
    const u32 n = sm_add(c, ST_SOLS, 1u);
    if (n < MAX_SOLS) {
        for (u32 i = 0; i < NI; i++) {
            sm_put(c, SOLS_AT + n * NI + i, leaf[i]);
        }
    }
}

__device__ __forceinline__ void walk(Ctx& c, u32 lid, u32 cand) {
    const u32 at = CANDS_AT + cand * CAND_WORDS;
    if (lid == 0u) {
        sbad[0] = 0u;
    }
    if (lid < 2u) {
        const uint3 p = cand_ptr(c, at, lid);
        pr[lid] = p.x;
        pa[lid] = p.y;
        pb[lid] = p.z;
    }
    __syncthreads();
    for (u32 i = 1; i < K; i++) {
        // The 2^i nodes of layer l have their pointers in pr/pa/pb.
        const u32 l = K - i;
        const u32 m = 1u << i;
        if (l_rank(l)) {
            find_partners(c, lid, l, m);
        }
        if (lid < 2u * m) {
            const u32 p = lid >> 1;
            nreg[lid] = pr[p];
            nslot[lid] = (lid & 1u) == 1u ? pb[p] : pa[p];
        }
        __syncthreads();
        if (l > 1u && lid < 2u * m) {
            const uint3 q = node_ptr(c, l - 1u, nreg[lid], nslot[lid]);
            pr[lid] = q.x;
            pa[lid] = q.y;
            pb[lid] = q.z;
        }
        __syncthreads();
    }
    if (lid < NI) {
        leaf[lid] = ix_ld(c, nreg[lid], nslot[lid]);
    }
    __syncthreads();
    if (lid == 0u) {
        finish(c);
    }
    __syncthreads();
}

__device__ __forceinline__ void recover(const Args& a) {
    Ctx c(a);
    const u32 lid = threadIdx.x;
    profile_begin(lid);
    if (lid == 0u) {
        sn[0] = min(a.sm[ST_CANDS], MAX_CANDS);
    }
    __syncthreads();
    const u32 n = sn[0];
    for (u32 cand = blockIdx.x; cand < n; cand += RECOVER_GROUPS) {
        walk(c, lid, cand);
    }
    profile_end(c, lid, blockIdx.x == 0u);
}
