// Bit helpers shared by every kernel. The host prepends a generated prelude: the constants of the
// parameter set and layout (N_BITS, C, B, R, NB, CAP, SW, SB, ...), the bindings split into
// chunks no larger than the adapter allows, and their accessors (hin_ld, hout_st, nx_ld, ...).
//
// A slot is SW u32 words, word 0 most significant. Hash bits are numbered from the top (MSB
// first), back-pointer fields from the bottom (LSB first), as in the CPU solver's layout.

// `len` (1..=32) bits at MSB-first position `pos` of a big-endian word array.
fn leaf_bits(l: ptr<function, array<u32, LWP>>, pos: u32, len: u32) -> u32 {
    let w = pos >> 5u;
    let off = pos & 31u;
    var v = (*l)[w] << off;
    if (off > 0u) {
        v = v | ((*l)[w + 1u] >> (32u - off));
    }
    return v >> (32u - len);
}

// `len` (1..=32) bits at MSB-first position `pos` of a slot.
fn slot_bits(x: ptr<function, array<u32, SW>>, pos: u32, len: u32) -> u32 {
    let w = pos >> 5u;
    let off = pos & 31u;
    var v = (*x)[w] << off;
    if (off > 0u && w + 1u < SW) {
        v = v | ((*x)[w + 1u] >> (32u - off));
    }
    return v >> (32u - len);
}

// ORs `v` (at most `len` ≤ 32 bits) into the field at LSB offset `at`.
fn set_field(x: ptr<function, array<u32, SW>>, at: u32, len: u32, v: u32) {
    let w = SW - 1u - (at >> 5u);
    let off = at & 31u;
    (*x)[w] = (*x)[w] | (v << off);
    if (off > 0u && off + len > 32u) {
        (*x)[w - 1u] = (*x)[w - 1u] | (v >> (32u - off));
    }
}

// Reads the `len` ≤ 32 bit field at LSB offset `at`.
fn get_field(x: ptr<function, array<u32, SW>>, at: u32, len: u32) -> u32 {
    let w = SW - 1u - (at >> 5u);
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

// Slot (b, s) of the input heap, as words.
fn hin_slot(b: u32, s: u32) -> array<u32, SW> {
    var x: array<u32, SW>;
    for (var q = 0u; q < UPS; q++) {
        let v = hin_ld(b, s * UPS + q);
        for (var i = 0u; i < UNIT; i++) {
            x[q * UNIT + i] = v[i];
        }
    }
    return x;
}

// Slot (b, s) of the output heap, as words.
fn hout_slot(b: u32, s: u32) -> array<u32, SW> {
    var x: array<u32, SW>;
    for (var q = 0u; q < UPS; q++) {
        let v = hout_ld(b, s * UPS + q);
        for (var i = 0u; i < UNIT; i++) {
            x[q * UNIT + i] = v[i];
        }
    }
    return x;
}

// Writes slot (b, s) of the output heap.
fn hout_put(b: u32, s: u32, x: ptr<function, array<u32, SW>>) {
    for (var q = 0u; q < UPS; q++) {
        var v: Unit;
        for (var i = 0u; i < UNIT; i++) {
            v[i] = (*x)[q * UNIT + i];
        }
        hout_st(b, s * UPS + q, v);
    }
}
