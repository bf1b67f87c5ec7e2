// Helpers shared by every kernel. The host prepends a generated prelude: the constants of the
// plan and of this kernel's layers, `Rec` (an array of RW u32 words), the small buffer `sm`
// (stats, region counters, candidates, solutions) and the chunked tables this kernel binds with
// their accessors: NAME_ld / NAME_st per unit, NAME_rec / NAME_put per record.
//
// A record is a `Rec`, word 0 most significant. Hash bits are numbered from the top (MSB first);
// the back-pointer fields sit at the bottom of the record's last word(s) (LSB first).

// `len` (1..=32) bits at MSB-first position `pos`; bits past the end of the record read as zero.
fn bits_at(x: ptr<function, Rec>, pos: u32, len: u32) -> u32 {
    let w = pos >> 5u;
    let off = pos & 31u;
    var v = 0u;
    if (w < RW) {
        v = (*x)[w] << off;
    }
    if (off > 0u && w + 1u < RW) {
        v = v | ((*x)[w + 1u] >> (32u - off));
    }
    return v >> (32u - len);
}

// The record shifted left by `s` bits, zeros shifted in.
fn shl(x: ptr<function, Rec>, s: u32) -> Rec {
    var y: Rec;
    for (var w = 0u; w < RW; w++) {
        y[w] = bits_at(x, s + 32u * w, 32u);
    }
    return y;
}

// ORs `v` (at most `len` ≤ 32 bits) into the field at LSB offset `at` of an `nw`-word record.
fn set_field(x: ptr<function, Rec>, nw: u32, at: u32, len: u32, v: u32) {
    let w = nw - 1u - (at >> 5u);
    let off = at & 31u;
    (*x)[w] = (*x)[w] | (v << off);
    if (off > 0u && off + len > 32u) {
        (*x)[w - 1u] = (*x)[w - 1u] | (v >> (32u - off));
    }
}

// The `len` ≤ 32 bit field at LSB offset `at` of an `nw`-word record.
fn get_field(x: ptr<function, Rec>, nw: u32, at: u32, len: u32) -> u32 {
    let w = nw - 1u - (at >> 5u);
    let off = at & 31u;
    var v = (*x)[w] >> off;
    if (off > 0u && off + len > 32u) {
        v = v | ((*x)[w - 1u] << (32u - off));
    }
    if (len < 32u) {
        v = v & ((1u << len) - 1u);
    }
    return v;
}

// Profile mode: every global load, store and counted atomic adds to these, and each workgroup
// adds its totals to the stats once (`profile_end`). Without PROFILE they compile to nothing.
var<private> p_read: u32;
var<private> p_written: u32;
var<private> p_atomics: u32;
var<workgroup> sprof: array<atomic<u32>, 3>;

fn count_read(words: u32) {
    if (PROFILE) {
        p_read += words;
    }
}

fn count_written(words: u32) {
    if (PROFILE) {
        p_written += words;
    }
}

// An atomic add on the small buffer that is counted as traffic (one per record or event).
fn sm_add(i: u32, v: u32) -> u32 {
    if (PROFILE) {
        p_atomics += 1u;
    }
    return atomicAdd(&sm[i], v);
}

// Stores word `i` of the small buffer (counted).
fn sm_put(i: u32, v: u32) {
    count_written(1u);
    atomicStore(&sm[i], v);
}

// Zeroes `n` words of the small buffer from `at`, spread over every invocation of the dispatch
// (invocation `gi` of `total`): a kernel clears the counters that a later stage needs at zero.
fn zero_words(at: u32, n: u32, gi: u32, total: u32) {
    for (var z = gi; z < n; z += total) {
        sm_put(at + z, 0u);
    }
}

// Called in uniform control flow before any counting.
fn profile_begin(lid: u32) {
    if (PROFILE) {
        if (lid < 3u) {
            atomicStore(&sprof[lid], 0u);
        }
        workgroupBarrier();
    }
}

// Called in uniform control flow at the end of every kernel: one global add per counter and
// workgroup; the first workgroup also counts the dispatch.
fn profile_end(lid: u32, first: bool) {
    if (PROFILE) {
        atomicAdd(&sprof[0], p_read);
        atomicAdd(&sprof[1], p_written);
        atomicAdd(&sprof[2], p_atomics);
        workgroupBarrier();
        if (lid == 0u) {
            let at = ST_TRAFFIC + 3u * STAGE;
            atomicAdd(&sm[at], atomicLoad(&sprof[0]));
            atomicAdd(&sm[at + 1u], atomicLoad(&sprof[1]));
            atomicAdd(&sm[at + 2u], atomicLoad(&sprof[2]));
            if (first) {
                atomicAdd(&sm[ST_DISPATCHES], 1u);
            }
        }
    }
}
