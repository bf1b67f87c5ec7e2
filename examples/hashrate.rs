//! Development probe (not part of the product): hash throughput.
use fluxminer::equihash::{Params, blake::HashInput, leaves::digest_group};
fn main() {
    let p = Params::ZELHASH;
    let hi = HashInput::new(&p, &[7u8; 140]);
    let n = 1u32 << 20;
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    for base in (0..n).step_by(16) {
        let g = digest_group(&p, &hi, base);
        acc ^= g[3][2];
    }
    let e = t.elapsed();
    println!(
        "lanes+twist: {:.2} M hashes/s ({acc})",
        n as f64 / e.as_secs_f64() / 1e6
    );
    let t = std::time::Instant::now();
    for g in 0..n / 4 {
        acc ^= hi.hash(g).as_bytes()[5] as u64;
    }
    println!(
        "scalar simd: {:.2} M hashes/s ({acc})",
        (n / 4) as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}
