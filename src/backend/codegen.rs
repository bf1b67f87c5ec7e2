//! Source generation shared by the GPU backends' kernel generators (WGSL and CUDA).

use crate::equihash::blake::SIGMA;

/// One G step of BLAKE2b as source: `(a, b, c, d, x, y)` → statements.
pub type GStep<'a> = &'a dyn Fn(usize, usize, usize, usize, &str, &str) -> String;

/// The G rounds of the final block as statements, through `step`.
pub fn blake_rounds(step: GStep) -> String {
    let msg = |j: usize| match j {
        0 => "m0",
        1 => "m1",
        _ => "z",
    };
    let mut s = String::new();
    for sg in SIGMA {
        for (i, (a, b, c, d)) in [
            (0, 4, 8, 12),
            (1, 5, 9, 13),
            (2, 6, 10, 14),
            (3, 7, 11, 15),
            (0, 5, 10, 15),
            (1, 6, 11, 12),
            (2, 7, 8, 13),
            (3, 4, 9, 14),
        ]
        .into_iter()
        .enumerate()
        {
            s.push_str(&step(a, b, c, d, msg(sg[2 * i]), msg(sg[2 * i + 1])));
        }
    }
    s
}
