//! The engine driven with fake time by a real [`ClientSession`] fed pool lines, and reports
//! carrying Flux block 400000's real ZelHash solutions (its nonce starts with the `NONCE_1`
//! the fake pool hands out).

use serde_json::json;

use super::*;
use crate::equihash::Params;
use crate::stratum::difficulty::{DifficultyScale, target_from_difficulty, target_to_be_hex};
use crate::stratum::job::{Notify, equihash_input, share_hash};
use crate::stratum::templates::{self, Template};
use crate::stratum::{ClientConfig, Message};

const USER: &str = "t1engine.w";

fn block() -> Template {
    templates::recorded().remove(0)
}

fn notify_line(id: &str, clean: bool) -> String {
    let n = Notify::from_header_prefix(id.into(), &block().prefix, &Params::ZELHASH, clean);
    Message::notification("mining.notify", n.to_params()).to_line()
}

/// A job on the next block: block 400000's header with another previous-block hash.
fn next_block_line(id: &str, clean: bool) -> String {
    let mut n = Notify::from_header_prefix(id.into(), &block().prefix, &Params::ZELHASH, clean);
    n.prev_hash[0] ^= 1;
    Message::notification("mining.notify", n.to_params()).to_line()
}

fn target_line(difficulty: f64) -> String {
    let t = target_from_difficulty(difficulty, DifficultyScale::Pool).unwrap();
    Message::notification("mining.set_target", vec![json!(target_to_be_hex(t))]).to_line()
}

/// A session subscribed with `nonce1`, authorized, at `difficulty`, before any job.
fn session(nonce1: &[u8]) -> ClientSession {
    let mut s = ClientSession::new(ClientConfig {
        user: USER.into(),
        pass: "x".into(),
        agent: "test".into(),
        host: "pool".into(),
        port: 1,
        params: Params::ZELHASH,
        scale: DifficultyScale::Pool,
        extranonce_subscribe: false,
        silence_timeout_ms: 1_000,
    });
    s.start(0);
    let sub = format!(
        r#"{{"id":1,"result":[null,"{}"],"error":null}}"#,
        hex::encode(nonce1)
    );
    assert!(matches!(s.on_line(&sub, 0)[0], Event::Subscribed { .. }));
    assert_eq!(
        s.on_line(r#"{"id":2,"result":true,"error":null}"#, 0),
        [Event::Authorized]
    );
    s.take_outgoing();
    s
}

/// The engine and a session at `difficulty` mining job `id`, with the work it published.
fn mining(id: &str, difficulty: f64) -> (Engine, ClientSession, Assignment) {
    let mut e = Engine::new(&["cpu".to_string()], 7);
    let mut s = session(&block().solutions[0].0[..4]);
    e.on_events(s.on_line(&target_line(difficulty), 0));
    let out = e.on_events(s.on_line(&notify_line(id, true), 0));
    let [Output::Work(Some(a))] = &out[..] else {
        panic!("{out:?}")
    };
    (e, s, a.clone())
}

/// Block 400000's solution `which` as a worker would report it for `a`.
fn report(a: &Assignment, which: usize) -> Report {
    let tpl = block();
    let (nonce, solution) = tpl.solutions[which].clone();
    let hash = share_hash(&equihash_input(&tpl.prefix, &nonce), &solution);
    Report::Nonce(NonceDone {
        worker: 0,
        epoch: a.epoch,
        job: a.job.clone(),
        nonce,
        solutions: 1,
        compute_errors: 0,
        shares: vec![FoundShare { solution, hash }],
    })
}

fn submit_line(job_id: &str, which: usize, id: u64) -> String {
    let tpl = block();
    let (nonce, solution) = &tpl.solutions[which];
    Message::request(
        json!(id),
        "mining.submit",
        vec![
            json!(USER),
            json!(job_id),
            json!(hex::encode(&tpl.prefix[100..104])),
            json!(hex::encode(&nonce[4..])),
            json!(format!("34{}", hex::encode(solution))),
        ],
    )
    .to_line()
}

fn work(out: &[Output]) -> Option<Assignment> {
    match out {
        [Output::Work(w)] => w.clone(),
        other => panic!("expected one work output: {other:?}"),
    }
}

#[test]
fn a_share_is_submitted_once_with_the_exact_line() {
    let (mut e, mut s, a) = mining("1a", 0.0005);
    e.on_report(report(&a, 0), Some(&mut s), 10);
    assert_eq!(s.take_outgoing(), [submit_line("1a", 0, 3)]);
    e.on_report(report(&a, 0), Some(&mut s), 20);
    assert!(s.take_outgoing().is_empty(), "the same share went twice");
    e.on_report(report(&a, 1), Some(&mut s), 30);
    assert_eq!(
        s.take_outgoing(),
        [submit_line("1a", 1, 4)],
        "another solution of the same nonce is another share"
    );
    let acc = e.accounting();
    assert_eq!(
        (
            acc.nonces,
            acc.candidates,
            acc.submitted,
            acc.duplicate_local
        ),
        (3, 3, 2, 1)
    );
    assert_eq!(acc.devices[0].nonces, 3);
}

/// Interop fault 1: miningcore re-sends the job being mined after each vardiff change; the
/// epoch and the start counter stay, so the workers' counters go on. A new id for the same
/// header (a vardiff re-issue) is a new epoch starting elsewhere.
#[test]
fn a_resent_notify_keeps_the_epoch_and_a_new_id_does_not() {
    let (mut e, mut s, a) = mining("1", 1.0);
    let kept = |w: Option<Assignment>| w.map(|w| (w.epoch, w.start));
    let again = work(&e.on_events(s.on_line(&notify_line("1", false), 5)));
    assert_eq!(kept(again), Some((a.epoch, a.start)));
    let again_clean = work(&e.on_events(s.on_line(&notify_line("1", true), 6)));
    assert_eq!(kept(again_clean), Some((a.epoch, a.start)));
    e.on_report(report(&a, 0), Some(&mut s), 7);
    assert_eq!(e.accounting().submitted, 1, "a re-sent job flushes nothing");
    let next = work(&e.on_events(s.on_line(&notify_line("2", false), 7))).unwrap();
    assert_eq!(next.epoch, a.epoch + 1);
    assert_ne!(
        next.start, a.start,
        "a new job starts at a new random counter"
    );
}

/// Interop fault 4: a raised target applies to the job at once (the session re-issues it in the
/// same epoch); a share found under the old target and not meeting the new one is not sent.
#[test]
fn a_raised_target_applies_at_once() {
    let (mut e, mut s, a) = mining("1", 0.0005);
    let out = e.on_events(s.on_line(&target_line(1e6), 5));
    let raised = work(&out).unwrap();
    assert_eq!((raised.epoch, raised.start), (a.epoch, a.start));
    assert_ne!(raised.job.target, a.job.target);
    e.on_report(report(&a, 0), Some(&mut s), 10);
    assert!(s.take_outgoing().is_empty());
    assert_eq!(e.accounting().below_target_local, 1);
    assert_eq!(e.accounting().submitted, 0);
}

/// Flushes: a clean job drops older epochs' shares; a non-clean one keeps them submittable;
/// with no connection, or a job the session knows only under another `NONCE_1`, shares are
/// stale.
#[test]
fn stale_shares_are_dropped_not_submitted() {
    let (mut e, mut s, a) = mining("1", 0.0005);
    e.on_events(s.on_line(&notify_line("2", false), 1));
    e.on_report(report(&a, 0), Some(&mut s), 2);
    assert_eq!(
        s.take_outgoing(),
        [submit_line("1", 0, 3)],
        "not clean: still live"
    );
    e.on_events(s.on_line(&next_block_line("3", true), 3));
    e.on_report(report(&a, 1), Some(&mut s), 4);
    assert!(s.take_outgoing().is_empty(), "a new block flushed epoch 1");
    assert_eq!(
        (e.accounting().stale_local, e.accounting().submitted),
        (1, 1)
    );

    let (mut e, _, a) = mining("1", 0.0005);
    e.on_report(report(&a, 0), None, 5);
    assert_eq!(e.accounting().stale_local, 1, "no connection");

    let (mut e, mut s, a) = mining("1", 0.0005);
    let line = r#"{"id":null,"method":"mining.set_extranonce","params":["0a0b0c0d",28]}"#;
    e.on_events(s.on_line(line, 6));
    let renewed = work(&e.on_events(s.on_line(&notify_line("1", false), 7))).unwrap();
    assert_eq!(renewed.epoch, a.epoch + 1, "a new NONCE_1 is new work");
    e.on_report(report(&a, 0), Some(&mut s), 8);
    assert!(s.take_outgoing().is_empty());
    assert_eq!(e.accounting().stale_local, 1, "old NONCE_1");
}

/// Interop finding (s-nomp): every template refresh comes as a clean job for the same block,
/// while the pool keeps the block's earlier jobs valid. A share of the earlier job found after
/// the refresh is submitted, not dropped; a clean job on a new block still flushes.
#[test]
fn a_clean_refresh_of_the_same_block_keeps_earlier_shares() {
    let (mut e, mut s, a) = mining("ccd0", 0.0005);
    let refresh = work(&e.on_events(s.on_line(&notify_line("ccd1", true), 55_000))).unwrap();
    assert_eq!(
        refresh.epoch,
        a.epoch + 1,
        "the workers move to the refresh"
    );
    e.on_report(report(&a, 0), Some(&mut s), 55_010);
    assert_eq!(s.take_outgoing(), [submit_line("ccd0", 0, 3)]);
    e.on_events(s.on_line(&next_block_line("ccd2", true), 120_000));
    e.on_report(report(&a, 1), Some(&mut s), 120_010);
    assert!(s.take_outgoing().is_empty(), "the old block's share");
    assert_eq!(
        (e.accounting().submitted, e.accounting().stale_local),
        (1, 1)
    );
}

#[test]
fn a_disconnect_stops_work_flushes_and_counts_lost_submits() {
    let (mut e, mut s, a) = mining("1", 0.0005);
    e.connected("stratum+tcp://pool:3333".into());
    e.on_report(report(&a, 0), Some(&mut s), 1);
    assert_eq!(
        e.disconnected("pool closed".into(), s.pending_submits()),
        [Output::Work(None)]
    );
    assert_eq!(e.assignment(), None);
    let acc = e.accounting();
    assert_eq!((acc.connections, acc.lost_at_disconnect), (1, 1), "{acc:?}");
    assert_eq!(acc.disconnects, ["pool closed"]);
    let mut s2 = session(&block().solutions[0].0[..4]);
    e.on_events(s2.on_line(&notify_line("1", true), 2));
    e.on_report(report(&a, 1), Some(&mut s2), 3);
    assert!(
        s2.take_outgoing().is_empty(),
        "a share from before the disconnect"
    );
}

#[test]
fn pool_answers_are_counted_by_kind() {
    let (mut e, mut s, a) = mining("1", 0.0005);
    e.on_report(report(&a, 0), Some(&mut s), 1);
    e.on_report(report(&a, 1), Some(&mut s), 1);
    e.on_events(s.on_line(r#"{"id":3,"result":true,"error":null}"#, 40));
    e.on_events(s.on_line(
        r#"{"id":4,"result":null,"error":[22,"Duplicate share",null]}"#,
        41,
    ));
    let acc = e.accounting();
    assert_eq!((acc.accepted, acc.duplicate, acc.rejected()), (1, 1, 1));
    assert!((acc.accepted_difficulty - a.job.difficulty()).abs() < 1e-12);
    let d = &acc.devices[0];
    assert_eq!((d.accepted, d.stale, d.duplicate), (1, 0, 1), "per device");
    assert_eq!(
        acc.difficulty,
        Some(0.0005),
        "the pool's difficulty is shown"
    );
}

#[test]
fn reconnects_and_faults_end_the_connection() {
    let (mut e, mut s, _) = mining("1", 1.0);
    let line = r#"{"id":null,"method":"client.reconnect","params":["backup",3334,2]}"#;
    assert_eq!(
        e.on_events(s.on_line(line, 1)),
        [Output::End(End::Redirect {
            host: Some("backup".into()),
            port: Some(3334),
            wait_ms: 2_000
        })]
    );
    let out = e.on_events(s.tick(5_000).into_iter().collect());
    assert_eq!(
        out,
        [Output::End(End::Failed("pool silent for 4999 ms".into()))]
    );
}

/// A job the miner cannot mine stops work and flushes.
#[test]
fn a_refused_job_stops_work() {
    let (mut e, mut s, _) = mining("1", 1.0);
    let line = notify_line("2", false).replace("125_4", "144_5");
    let out = e.on_events(s.on_line(&line, 1));
    assert_eq!(out, [Output::Work(None)]);
    assert_eq!(e.assignment(), None);
}

#[test]
fn solver_failures_are_compute_errors_of_their_device() {
    let mut e = Engine::new(&["gpu0".to_string(), "gpu1".to_string()], 1);
    e.on_report(
        Report::Failed {
            worker: 1,
            error: "device lost".into(),
        },
        None,
        0,
    );
    let acc = e.accounting();
    assert_eq!(acc.compute_errors, 1);
    assert_eq!(
        (acc.devices[0].compute_errors, acc.devices[1].compute_errors),
        (0, 1)
    );
}

#[test]
fn start_counters_differ_between_engines_and_jobs() {
    let starts = |seed| {
        let mut e = Engine::new(&[], seed);
        let mut s = session(&[1, 2, 3, 4]);
        (1..=3)
            .map(|i| {
                work(&e.on_events(s.on_line(&notify_line(&i.to_string(), true), 0)))
                    .unwrap()
                    .start
            })
            .collect::<Vec<_>>()
    };
    let a = starts(1);
    assert_eq!(a, starts(1), "the seed decides");
    assert_ne!(a, starts(2));
    assert!(a[0] != a[1] && a[1] != a[2]);
}
