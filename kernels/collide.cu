// One collision round r (layer r-1 -> layer r) or the final round, one block per region of the
// input layer, entirely in shared memory (CUDA port of shaders/collide.wgsl):
//  load:  every record of the region is read from global memory once; its hash words go to
//         shared memory (one plane per word) and it is pushed on the chain of its key (an atomic
//         exchange on a head in shared memory; links are 16 bits, two per word).
//  pairs: every record walks the chain below itself, so each pair with equal rest bits is met
//         exactly once, and `emit` handles it (pasted in front: round.cu or final.cu).
// No global head table, no clear pass, one launch per round.

SHARED_ARRAY(u32, srec, SREC_WORDS);
SHARED_ARRAY(u32, shead, NKEYS);
SHARED_ARRAY(u32, slink, LINK_WORDS);

__device__ __forceinline__ u32 link_of(u32 s) {
    return (slink[s >> 1] >> ((s & 1u) << 4)) & 0xffffu;
}

__device__ __forceinline__ u32 key_of(u32 s) {
    return srec[s] >> (32u - KEY_BITS);
}

// Whether records `a` and `b` of the region have the same rest bits (the digit being collided).
__device__ __forceinline__ bool rest_eq(u32 a, u32 b) {
    return KEY_BITS == IN_R || ((srec[a] ^ srec[b]) >> (32u - IN_R)) == 0u;
}

// The XOR of the hash words of records `s` and `a`.
__device__ __forceinline__ Rec xor_of(u32 s, u32 a) {
    Rec x;
#pragma unroll
    for (u32 w = 0; w < RW; w++) {
        x.w[w] = w < IN_HW ? (srec[w * IN_CAP + s] ^ srec[w * IN_CAP + a]) : 0u;
    }
    return x;
}

/*EMIT*/

__device__ __forceinline__ void load_region(Ctx& c, u32 lid, u32 region, u32 fill) {
    for (u32 u = lid; 2u * u < fill; u += WG) {
        u32 packed = 0;
        for (u32 h = 0; h < 2u; h++) {
            const u32 s = 2u * u + h;
            if (s < fill) {
                const Rec x = hin_rec(c, region, s);
#pragma unroll
                for (u32 w = 0; w < IN_HW; w++) {
                    srec[w * IN_CAP + s] = x.w[w] & in_mask(w);
                }
                const u32 old = atomicExch(&shead[x.w[0] >> (32u - KEY_BITS)], s + 1u);
                packed |= old << (h * 16u);
            }
        }
        slink[u] = packed;
    }
}

__device__ __forceinline__ void pairs(Ctx& c, u32 lid, u32 region, u32 fill) {
    for (u32 s = lid; s < fill; s += WG) {
        u32 j = link_of(s);
        while (j != 0u) {
            const u32 a = j - 1u;
            if (rest_eq(s, a)) {
                emit(c, region, s, a);
            }
            j = link_of(a);
        }
    }
}

__device__ __forceinline__ void collide(const Args& a) {
    Ctx c(a);
    const u32 lid = threadIdx.x;
    profile_begin(lid);
    const u32 region = blockIdx.y * gridDim.x + blockIdx.x;
    for (u32 h = lid; h < NKEYS; h += WG) {
        shead[h] = 0u;
    }
    const u32 fill = min(a.sm[CNT_IN + region], IN_CAP);
    if (lid == 0u) {
        atomicAdd(&a.sm[ST_RECORDS + LAYER_IN], fill);
    }
    zero_words(c, ZERO_AT, ZERO_WORDS, region * WG + lid, gridDim.x * gridDim.y * WG);
    __syncthreads();
    load_region(c, lid, region, fill);
    __syncthreads();
    pairs(c, lid, region, fill);
    profile_end(c, lid, region == 0u);
}
