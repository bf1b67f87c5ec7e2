// Helpers shared by every kernel (CUDA port of shaders/common.wgsl). The host pastes each kernel
// into its own namespace behind a generated prelude: the constants of the plan and of this
// kernel's layers, `Rec` (RW words), and the accessors of the tables it uses (NAME_ld / NAME_st
// per unit, NAME_rec / NAME_put per record, NAME_w0 for a record's first word), all taking the
// per-invocation context `Ctx`.
//
// A record is a `Rec`, word 0 most significant. Hash bits are numbered from the top (MSB first);
// the back-pointer fields sit at the bottom of the record's last word(s) (LSB first).

// `len` (1..=32) bits at MSB-first position `pos`; bits past the end of the record read as zero.
__device__ __forceinline__ u32 bits_at(const Rec& x, u32 pos, u32 len) {
    const u32 w = pos >> 5;
    const u32 off = pos & 31u;
    u32 v = 0;
    if (w < RW) {
        v = x.w[w] << off;
    }
    if (off > 0 && w + 1 < RW) {
        v |= x.w[w + 1] >> (32u - off);
    }
    return v >> (32u - len);
}

// The record shifted left by `s` bits, zeros shifted in.
__device__ __forceinline__ Rec shl(const Rec& x, u32 s) {
    Rec y;
#pragma unroll
    for (u32 w = 0; w < RW; w++) {
        y.w[w] = bits_at(x, s + 32u * w, 32u);
    }
    return y;
}

// ORs `v` (at most `len` <= 32 bits) into the field at LSB offset `at` of an `nw`-word record.
__device__ __forceinline__ void set_field(Rec& x, u32 nw, u32 at, u32 len, u32 v) {
    const u32 w = nw - 1u - (at >> 5);
    const u32 off = at & 31u;
    x.w[w] |= v << off;
    if (off > 0 && off + len > 32u) {
        x.w[w - 1] |= v >> (32u - off);
    }
}

// The `len` <= 32 bit field at LSB offset `at` of an `nw`-word record.
__device__ __forceinline__ u32 get_field(const Rec& x, u32 nw, u32 at, u32 len) {
    const u32 w = nw - 1u - (at >> 5);
    const u32 off = at & 31u;
    u32 v = x.w[w] >> off;
    if (off > 0 && off + len > 32u) {
        v |= x.w[w - 1] << (32u - off);
    }
    if (len < 32u) {
        v &= (1u << len) - 1u;
    }
    return v;
}

// Profile mode: every global load, store and counted atomic adds to the context's counters, and
// each block adds its totals to the stats once (`profile_end`). Without PROFILE they fold away.
__device__ __forceinline__ void count_read(Ctx& c, u32 words) {
    if (PROFILE) {
        c.rd += words;
    }
}

__device__ __forceinline__ void count_written(Ctx& c, u32 words) {
    if (PROFILE) {
        c.wr += words;
    }
}

// An atomic add on the small buffer that is counted as traffic (one per record or event).
__device__ __forceinline__ u32 sm_add(Ctx& c, u32 i, u32 v) {
    if (PROFILE) {
        c.at += 1;
    }
    return atomicAdd(&c.sm[i], v);
}

// Stores word `i` of the small buffer (counted).
__device__ __forceinline__ void sm_put(Ctx& c, u32 i, u32 v) {
    count_written(c, 1);
    c.sm[i] = v;
}

// Zeroes `n` words of the small buffer from `at`, spread over every thread of the grid (thread
// `gi` of `total`): a kernel clears the counters that a later stage needs at zero.
__device__ __forceinline__ void zero_words(Ctx& c, u32 at, u32 n, u32 gi, u32 total) {
    for (u32 z = gi; z < n; z += total) {
        sm_put(c, at + z, 0u);
    }
}

SHARED_ARRAY(u32, sprof, 3);

// Called by every thread of the block before any counting.
__device__ __forceinline__ void profile_begin(u32 lid) {
    if (PROFILE) {
        if (lid < 3u) {
            sprof[lid] = 0u;
        }
        __syncthreads();
    }
}

// Called by every thread at the end of every kernel: one global add per counter and block; the
// first block also counts the launch.
__device__ __forceinline__ void profile_end(Ctx& c, u32 lid, bool first) {
    if (PROFILE) {
        atomicAdd(&sprof[0], c.rd);
        atomicAdd(&sprof[1], c.wr);
        atomicAdd(&sprof[2], c.at);
        __syncthreads();
        if (lid == 0u) {
            const u32 at = ST_TRAFFIC + 3u * STAGE;
            atomicAdd(&c.sm[at], sprof[0]);
            atomicAdd(&c.sm[at + 1], sprof[1]);
            atomicAdd(&c.sm[at + 2], sprof[2]);
            if (first) {
                atomicAdd(&c.sm[ST_DISPATCHES], 1u);
            }
        }
    }
}
