// One collision round r (layer r−1 → layer r) or the final round, one workgroup per region of the
// input layer, entirely in workgroup memory:
//  load:  every record of the region is read from global memory once; its hash words go to
//         workgroup memory (one plane per word) and it is pushed on the chain of its key (an
//         atomic exchange on a head in workgroup memory; links are 16 bits, two per word).
//  pairs: every record walks the chain below itself, so each pair with equal rest bits is met
//         exactly once, and `emit` handles it (generated in front: `round` or `final`).
// No global head table, no clear pass, one dispatch per round.

var<workgroup> srec: array<u32, SREC_WORDS>;
var<workgroup> shead: array<atomic<u32>, NKEYS>;
var<workgroup> slink: array<u32, LINK_WORDS>;

fn link_of(s: u32) -> u32 {
    return (slink[s >> 1u] >> ((s & 1u) << 4u)) & 0xffffu;
}

fn key_of(s: u32) -> u32 {
    return srec[s] >> (32u - KEY_BITS);
}

// Whether records `a` and `b` of the region have the same rest bits (the digit being collided).
fn rest_eq(a: u32, b: u32) -> bool {
    return KEY_BITS == IN_R || ((srec[a] ^ srec[b]) >> (32u - IN_R)) == 0u;
}

// The XOR of the hash words of records `s` and `a`.
fn xor_of(s: u32, a: u32) -> Rec {
    var x: Rec;
    for (var w = 0u; w < IN_HW; w++) {
        x[w] = srec[w * IN_CAP + s] ^ srec[w * IN_CAP + a];
    }
    return x;
}

fn load_region(lid: u32, region: u32, fill: u32) {
    for (var u = lid; 2u * u < fill; u += WG) {
        var packed = 0u;
        for (var h = 0u; h < 2u; h++) {
            let s = 2u * u + h;
            if (s < fill) {
                var x = hin_rec(region, s);
                for (var w = 0u; w < IN_HW; w++) {
                    srec[w * IN_CAP + s] = x[w] & IN_MASK[w];
                }
                let old = atomicExchange(&shead[x[0] >> (32u - KEY_BITS)], s + 1u);
                packed = packed | (old << (h * 16u));
            }
        }
        slink[u] = packed;
    }
}

fn pairs(lid: u32, region: u32, fill: u32) {
    for (var s = lid; s < fill; s += WG) {
        var j = link_of(s);
        loop {
            if (j == 0u) {
                break;
            }
            let a = j - 1u;
            if (rest_eq(s, a)) {
                emit(region, s, a);
            }
            j = link_of(a);
        }
    }
}

@compute @workgroup_size(WG)
fn collide(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    profile_begin(lid);
    let region = wid.y * nwg.x + wid.x;
    for (var h = lid; h < NKEYS; h += WG) {
        atomicStore(&shead[h], 0u);
    }
    let fill = min(atomicLoad(&sm[CNT_IN + region]), IN_CAP);
    if (lid == 0u) {
        atomicAdd(&sm[ST_RECORDS + LAYER_IN], fill);
    }
    zero_words(ZERO_AT, ZERO_WORDS, region * WG + lid, nwg.x * nwg.y * WG);
    workgroupBarrier();
    load_region(lid, region, fill);
    workgroupBarrier();
    pairs(lid, region, fill);
    profile_end(lid, region == 0u);
}
