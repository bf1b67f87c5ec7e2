// Round 0 (CUDA port of `generate_serial` in shaders/generate.wgsl): one thread per aligned group
// of 16 BLAKE2b counters hashes them in turn from the host's midstate (`blake_final`, generated,
// on 64-bit integers), keeps the ZelHash twist's running prefix sum in registers (no shuffle, no
// barrier: 2^20 threads for ZelHash still fill any card), and sends each of a counter's PER leaves
// to the region of its first OUT_B bits in layer 0: its other bits as one record, its index into
// the index table at the same slot. Every launch also zeroes the region counters of layers
// 1..k-1 for this nonce's rounds.

__device__ __forceinline__ u32 digest_byte(const u32 (&d)[16], u32 j) {
    return j >= 64u ? 0u : (d[j >> 2] >> ((j & 3u) * 8u)) & 0xffu;
}

__device__ __forceinline__ u32 bswap32(u32 x) {
    return __byte_perm(x, 0u, 0x0123u);
}

__device__ __forceinline__ void emit_leaf(Ctx& c, const u32 (&d)[16], u32 s, u32 i) {
    Rec l;
    const u32 start = s * SLICE;
#pragma unroll
    for (u32 q = 0; q < RW; q++) {
        u32 w = 0;
        if (q < LW) {
            if (SLICE % 4u == 0u) {
                if (4u * q < SLICE) {
                    w = bswap32(d[start / 4u + q]);
                }
            } else {
                for (u32 j = 0; j < 4u; j++) {
                    const u32 at = 4u * q + j;
                    w = (w << 8) | (at < SLICE ? digest_byte(d, start + at) : 0u);
                }
            }
            // Zero every bit at or past N_BITS.
            const u32 first = 32u * q;
            if (first >= N_BITS) {
                w = 0;
            } else if (N_BITS - first < 32u) {
                w &= ~(0xffffffffu >> (N_BITS - first));
            }
        }
        l.w[q] = w;
    }
    const u32 region = l.w[0] >> (32u - OUT_B);
    const Rec rec = shl(l, OUT_B);
    const u32 pos = sm_add(c, CNT_OUT + region, 1u);
    if (pos < OUT_CAP) {
        hout_put(c, region, pos, rec);
        ix_st(c, region, pos, i);
    } else {
        sm_add(c, ST_OVERFLOW, 1u);
    }
}

__device__ __forceinline__ void generate(const Args& a) {
    Ctx c(a);
    const u32 lid = threadIdx.x;
    profile_begin(lid);
    const u32 block = blockIdx.y * gridDim.x + blockIdx.x;
    const u32 group = block * WG_GEN + lid;
    zero_words(c, ZERO_AT, ZERO_WORDS, group, gridDim.x * gridDim.y * WG_GEN);
    u32 acc[16];
#pragma unroll
    for (u32 w = 0; w < 16u; w++) {
        acc[w] = 0u;
    }
    for (u32 j = 0; j < 16u; j++) {
        const u32 g = group * 16u + j;
        if (g >= HASHES) {
            break;
        }
        u32 d[16];
        blake_final(a, g, d);
        if (TWIST) {
#pragma unroll
            for (u32 w = 0; w < 16u; w++) {
                acc[w] += d[w];
                d[w] = acc[w];
            }
            d[3] &= 0xf8ffffffu;
            d[7] &= 0xf8ffffffu;
            d[11] &= 0xf8ffffffu;
            d[15] &= 0xf8ffffffu;
        }
        for (u32 s = 0; s < PER; s++) {
            const u32 i = g * PER + s;
            if (i < LEAVES) {
                emit_leaf(c, d, s, i);
            }
        }
    }
    profile_end(c, lid, block == 0u);
}
