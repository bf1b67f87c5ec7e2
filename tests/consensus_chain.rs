//! Long generated chains (test network, 48,5) validate in sequence across every difficulty
//! algorithm and the PoN switch; editing any one header makes validation fail there with the
//! right error.

mod consensus_support;

use consensus_support::chaingen::{
    self, CHAIN_LEN, EMERGENCY_HEIGHT, PON_HEIGHT, chain, test_params, validate_at,
};
use fluxminer::consensus::chain::{ChainWindow, Clock};

#[test]
fn generated_chain_validates_in_sequence() {
    let p = test_params();
    let c = chain();
    assert_eq!(c.headers.len(), CHAIN_LEN as usize);
    let mut w = ChainWindow::new(p);
    let mut clock = Clock {
        adjusted_time: i64::from(chaingen::GENESIS_TIME),
        tip_height: fluxminer::consensus::Height(0),
    };
    for (h, header) in c.headers.iter().enumerate() {
        if h > 0 {
            clock = chaingen::clock_for(&w);
        }
        w.accept(p, header, &clock)
            .unwrap_or_else(|e| panic!("height {h}: {e}"));
    }
    let tip = w.tip().unwrap();
    assert_eq!(tip.height.0, CHAIN_LEN - 1);
    assert!(c.headers[PON_HEIGHT as usize].is_pon());
    assert!(!c.headers[PON_HEIGHT as usize - 1].is_pon());
    assert!(fluxminer::consensus::pon::is_emergency_block(
        p,
        &c.headers[EMERGENCY_HEIGHT as usize]
    ));
}
