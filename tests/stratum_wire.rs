//! Golden wire tests: recorded messages of the pool dialects in `spec/stratum.md`
//! (tests/vectors/stratum/dialects.jsonl) parsed, interpreted by the client session, and
//! re-encoded; plus the client session's handling of each pool message.

use fluxminer::equihash::Params;
use fluxminer::stratum::client::{SUBMIT_TIMEOUT_MS, subscribe_result};
use fluxminer::stratum::difficulty::difficulty_of_target;
use fluxminer::stratum::pool::Submit;
use fluxminer::stratum::{
    ClientConfig, ClientSession, DifficultyScale, ErrorCode, Event, Message, Notify, SessionError,
    ShareOutcome,
};
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/stratum/dialects.jsonl");

fn vectors() -> Vec<Value> {
    VECTORS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn config(scale: DifficultyScale) -> ClientConfig {
    ClientConfig {
        user: "t1abc.rig1".into(),
        pass: "x".into(),
        agent: "fluxminer-test".into(),
        host: "pool.example".into(),
        port: 3333,
        params: Params::ZELHASH,
        scale,
        extranonce_subscribe: true,
        silence_timeout_ms: 60_000,
    }
}

/// A session that has subscribed with `nonce1` and been authorized.
fn ready_session(scale: DifficultyScale, nonce1: &str) -> ClientSession {
    let mut s = ClientSession::new(config(scale));
    s.start(0);
    let out = s.take_outgoing();
    assert_eq!(out.len(), 1);
    let ev = s.on_line(
        &format!(r#"{{"id":1,"result":[null,"{nonce1}"],"error":null}}"#),
        1,
    );
    assert!(matches!(&ev[..], [Event::Subscribed { .. }]), "{ev:?}");
    let out = s.take_outgoing();
    assert!(out[0].contains("mining.authorize") && out[1].contains("extranonce.subscribe"));
    let ev = s.on_line(r#"{"id":2,"result":true,"error":null}"#, 2);
    assert_eq!(ev, vec![Event::Authorized]);
    s
}

fn strip_jsonrpc(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("jsonrpc");
    v
}

#[test]
fn every_recorded_line_parses_and_reencodes() {
    let all = vectors();
    assert!(all.len() >= 30);
    for v in &all {
        let line = v["line"].as_str().unwrap();
        let m = Message::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let again = Message::parse(&m.to_line()).unwrap();
        assert_eq!(m, again, "re-encoding is stable for {line}");
        let original = strip_jsonrpc(serde_json::from_str(line).unwrap());
        if original.get("error").is_some_and(Value::is_object) {
            // miningcore's object-form error re-encodes in the ZIP 301 array form.
            assert_eq!(m.to_value()["error"][0], original["error"]["code"]);
        } else {
            assert_eq!(m.to_value(), original, "{line}");
        }
    }
}

#[test]
fn subscribe_result_shapes_give_nonce1() {
    for v in vectors().iter().filter(|v| v["kind"] == "subscribe_result") {
        let Message::Response(r) = Message::parse(v["line"].as_str().unwrap()).unwrap() else {
            panic!()
        };
        let (n1, session) = subscribe_result(&r.result).unwrap();
        assert_eq!(
            hex::encode(n1),
            v["nonce1"].as_str().unwrap(),
            "{}",
            v["dialect"]
        );
        assert_eq!(
            session.as_deref(),
            v["session"].as_str(),
            "{}",
            v["dialect"]
        );
    }
    // Neither element usable: a clear error.
    let bad = serde_json::json!([null, "zz"]);
    assert!(matches!(
        subscribe_result(&bad),
        Err(SessionError::BadSubscribe(_))
    ));
}

#[test]
fn pool_messages_drive_the_session() {
    for v in vectors().iter().filter(|v| v["from"] == "pool") {
        let kind = v["kind"].as_str().unwrap();
        let line = v["line"].as_str().unwrap();
        let scale = if kind == "set_difficulty_ccminer" {
            DifficultyScale::Ccminer
        } else {
            DifficultyScale::Pool
        };
        let mut s = ready_session(scale, "60000016");
        match kind {
            "set_target" | "set_difficulty" | "set_difficulty_ccminer" => {
                let ev = s.on_line(line, 3);
                let Event::Target { difficulty, .. } = ev[0] else {
                    panic!("{ev:?}")
                };
                let want = v["difficulty"].as_f64().unwrap();
                // ccminer 32 is 0x00ffff·2^224/32, 1.5e-5 above powLimit.
                assert!(
                    (difficulty - want).abs() < 1e-4 * want,
                    "{kind}: {difficulty}"
                );
            }
            "notify" => {
                let ev = s.on_line(line, 3);
                let Event::Job(job) = &ev[0] else {
                    panic!("{ev:?}")
                };
                assert_eq!(job.nonce1, hex::decode("60000016").unwrap());
                assert!(!job.target_from_pool, "no target yet: powLimit fallback");
                let Message::Request(r) = Message::parse(line).unwrap() else {
                    panic!()
                };
                assert_eq!(r.params.len() as u64, v["params"].as_u64().unwrap());
                let lower: Vec<Value> = r
                    .params
                    .iter()
                    .map(|p| {
                        p.as_str()
                            .map_or(p.clone(), |s| Value::from(s.to_lowercase()))
                    })
                    .collect();
                let lower: Vec<Value> = lower
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| if i == 9 { r.params[9].clone() } else { p })
                    .collect();
                assert_eq!(job.notify.to_params(), lower, "re-encoded lowercase");
            }
            "set_extranonce" => {
                let ev = s.on_line(line, 3);
                assert_eq!(
                    ev,
                    vec![Event::ExtranonceChanged {
                        nonce1: hex::decode(v["nonce1"].as_str().unwrap()).unwrap()
                    }]
                );
            }
            "reconnect" => {
                let ev = s.on_line(line, 3);
                assert!(matches!(ev[0], Event::Reconnect { .. }), "{ev:?}");
            }
            "error" => {
                let Message::Response(r) = Message::parse(line).unwrap() else {
                    panic!()
                };
                assert_eq!(r.error.unwrap().code.to_i64(), v["code"].as_i64().unwrap());
            }
            _ => {}
        }
    }
}

#[test]
fn submit_matches_the_recorded_submit_byte_for_byte() {
    let mut s = ready_session(DifficultyScale::Pool, "60000016");
    let notify = vectors()
        .into_iter()
        .find(|v| v["kind"] == "notify" && v["dialect"] == "s-nomp")
        .unwrap();
    let ev = s.on_line(notify["line"].as_str().unwrap(), 3);
    let Event::Job(job) = &ev[0] else { panic!() };
    let mut nonce = [0u8; 32];
    nonce[..4].copy_from_slice(&job.nonce1);
    nonce[28..].copy_from_slice(&hex::decode("9cfd1100").unwrap());
    let sol = hex::decode("0898985c54d7c66d04fbe9509445c19e664aca4b8d16a701f9f90eda443a556f37cc4627335201339b001ea2ed29eeeec7da199b").unwrap();
    let id = s.submit(job, &nonce, &sol, 4).unwrap();
    let out = s.take_outgoing();
    let Message::Request(sent) = Message::parse(&out[0]).unwrap() else {
        panic!()
    };
    let recorded = vectors()
        .into_iter()
        .find(|v| v["kind"] == "submit")
        .unwrap();
    let Message::Request(want) = Message::parse(recorded["line"].as_str().unwrap()).unwrap() else {
        panic!()
    };
    let got = Submit::from_params(&sent.params).unwrap();
    let want = Submit::from_params(&want.params).unwrap();
    assert_eq!(got.job_id, want.job_id);
    assert_eq!(got.time, want.time);
    assert_eq!(
        got.nonce2,
        want.nonce2[8..],
        "NONCE_2 excludes the 4-byte NONCE_1"
    );
    assert_eq!(got.nonce2.len(), 56);
    assert_eq!(got.solution, want.solution);
    assert_eq!(got.solution.len(), 106);
    // Each error code is told apart.
    for (code, want) in [
        (21, ErrorCode::JobNotFound),
        (22, ErrorCode::Duplicate),
        (23, ErrorCode::LowDifficulty),
        (20, ErrorCode::Other),
    ] {
        let id2 = s.submit(job, &nonce, &sol, 5).unwrap();
        let ev = s.on_line(
            &format!(r#"{{"id":{id2},"result":null,"error":[{code},"x",null]}}"#),
            6,
        );
        let Event::Share {
            outcome: ShareOutcome::Rejected(e),
            ..
        } = &ev[0]
        else {
            panic!()
        };
        assert_eq!(e.code, want);
    }
    let ev = s.on_line(&format!(r#"{{"id":{id},"result":true,"error":null}}"#), 7);
    assert!(matches!(
        &ev[0],
        Event::Share {
            outcome: ShareOutcome::Accepted,
            latency_ms: 3,
            ..
        }
    ));
    assert_eq!(s.pending_submits(), 0);
    // Interop fault 8: a submit the pool never answers is given up after SUBMIT_TIMEOUT_MS and
    // counted as rejected ("no answer"), not kept forever.
    let late = s.submit(job, &nonce, &sol, 100).unwrap();
    assert!(s.expire_submits(100 + SUBMIT_TIMEOUT_MS).is_empty());
    let ev = s.expire_submits(101 + SUBMIT_TIMEOUT_MS);
    assert!(
        matches!(&ev[..], [Event::Share { id, outcome: ShareOutcome::Rejected(e), .. }]
            if *id == late && e.message.contains("no answer")),
        "{ev:?}"
    );
    assert_eq!(s.pending_submits(), 0);
}

#[test]
fn target_is_kept_per_job_and_extranonce_applies_from_next_notify() {
    let mut s = ready_session(DifficultyScale::Pool, "60000016");
    let notify = |id: &str| Notify {
        job_id: id.into(),
        version: [4, 0, 0, 0],
        prev_hash: [1; 32],
        merkle_root: [2; 32],
        reserved: [3; 32],
        time: [4; 4],
        bits: [5; 4],
        clean: false,
        algo: Some("125_4".into()),
        personalization: Some("ZelProof".into()),
    };
    let line = |n: &Notify| Message::notification("mining.notify", n.to_params()).to_line();
    s.on_line(
        r#"{"id":null,"method":"mining.set_difficulty","params":[2]}"#,
        3,
    );
    let Event::Job(a) = s.on_line(&line(&notify("a")), 4).remove(0) else {
        panic!()
    };
    // Interop fault 4: a set_difficulty (or set_target) with no notify applies to the job being
    // mined at once, as the harder of its target and the new one; the job is re-sent, not
    // cleaned.
    let ev = s.on_line(
        r#"{"id":null,"method":"mining.set_difficulty","params":[8]}"#,
        5,
    );
    let Event::Job(a8) = &ev[1] else {
        panic!("{ev:?}")
    };
    assert_eq!(a8.notify.job_id, "a");
    assert!(!a8.notify.clean);
    assert!((a8.difficulty() - 8.0).abs() < 1e-9);
    s.on_line(
        r#"{"id":null,"method":"mining.set_extranonce","params":["0102",2]}"#,
        5,
    );
    assert!((difficulty_of_target(s.job("a").unwrap().target) - 8.0).abs() < 1e-9);
    // An easier target does not lower the job being mined until the next notify.
    let ev = s.on_line(
        r#"{"id":null,"method":"mining.set_difficulty","params":[4]}"#,
        5,
    );
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!((difficulty_of_target(s.job("a").unwrap().target) - 8.0).abs() < 1e-9);
    s.on_line(
        r#"{"id":null,"method":"mining.set_difficulty","params":[8]}"#,
        5,
    );
    let Event::Job(b) = s.on_line(&line(&notify("b")), 6).remove(0) else {
        panic!()
    };
    assert!(
        (a.difficulty() - 2.0).abs() < 1e-9,
        "a job handed out keeps the target it was handed out with"
    );
    assert!((b.difficulty() - 8.0).abs() < 1e-9);
    assert_eq!(a.nonce1, hex::decode("60000016").unwrap());
    assert_eq!(b.nonce1, vec![1, 2]);
    // Interop fault 8: a job of an unknown block version is ignored; the current job goes on.
    let mut pon = notify("v100");
    pon.version = [100, 0, 0, 0];
    let ev = s.on_line(&line(&pon), 7);
    assert!(
        matches!(&ev[..], [Event::Warning(w)] if w.contains("block version 100")),
        "{ev:?}"
    );
    assert!(s.job("v100").is_none());
    // yiimp's client.get_stats is answered.
    s.on_line(r#"{"id":77,"method":"client.get_stats","params":[]}"#, 7);
    let out = s.take_outgoing();
    assert!(
        out.iter()
            .any(|l| l.contains("\"id\":77") && l.contains("equihash 125/4")),
        "{out:?}"
    );
    // A job for other parameters is refused, clearly.
    let mut other = notify("c");
    other.algo = Some("144_5".into());
    let ev = s.on_line(&line(&other), 7);
    let Event::JobRefused { reason, .. } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert!(reason.contains("144_5") && reason.contains("--params"));
    // Silence.
    assert!(s.tick(60_000).is_none());
    assert!(matches!(
        s.tick(60_008),
        Some(Event::Fatal(SessionError::Silent(_)))
    ));
}

/// Interop fault 6: a very easy target (even ff…ff) is used, with a warning, never a disconnect.
#[test]
fn a_very_easy_target_is_used_with_a_warning() {
    let mut s = ready_session(DifficultyScale::Pool, "60000016");
    let ev = s.on_line(
        r#"{"id":null,"method":"mining.set_target","params":["ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"]}"#,
        3,
    );
    assert!(matches!(&ev[0], Event::Target { .. }), "{ev:?}");
    assert!(
        matches!(&ev[1], Event::Warning(w) if w.contains("very easy")),
        "{ev:?}"
    );
    assert!(!ev.iter().any(|e| matches!(e, Event::Fatal(_))));
}

#[test]
fn broken_pool_lines_are_fatal_with_a_named_reason() {
    let cases = [
        ("{not json", "malformed line"),
        (
            r#"{"id":null,"method":"mining.set_target","params":[7]}"#,
            "bad params",
        ),
        (
            r#"{"id":null,"method":"mining.set_target","params":["0000000000000000000000000000000000000000000000000000000000000000"]}"#,
            "target is zero",
        ),
        (
            r#"{"id":null,"method":"mining.set_difficulty","params":[0]}"#,
            "not a positive",
        ),
        (
            r#"{"id":null,"method":"mining.notify","params":["1","04000000","zz","00","00","00","00",true]}"#,
            "prevhash",
        ),
    ];
    for (line, want) in cases {
        let mut s = ready_session(DifficultyScale::Pool, "60000016");
        let ev = s.on_line(line, 3);
        let Event::Fatal(e) = &ev[0] else {
            panic!("{line}: {ev:?}")
        };
        assert!(e.to_string().contains(want), "{line}: {e}");
    }
}
