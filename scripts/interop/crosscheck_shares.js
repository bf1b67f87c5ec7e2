// Re-checks every share in a lineproxy.py log with s-nomp's own verifier (equihashverify, the
// ZelHash twist) and SHA256d against the share target, independently of both miner and pool,
// and compares the verdict with the pool's answer.
//
// usage: NODE_PATH=<dir with equihashverify> node crosscheck_shares.js LINES.log
// Prints one line per submit and a total; exit 1 if a verdict disagrees with the pool's answer.
// Node 8 compatible (no BigInt): targets are compared as equal-length big-endian hex strings.
'use strict';
var fs = require('fs');
var crypto = require('crypto');
var ev = require('equihashverify');

function sha256d(b) {
    return crypto.createHash('sha256').update(crypto.createHash('sha256').update(b).digest()).digest();
}

var conns = {};
function conn(id) {
    if (!conns[id]) conns[id] = { nonce1: null, target: null, jobs: {}, pending: {} };
    return conns[id];
}

function push(c, id, what) {
    (c.pending[id] = c.pending[id] || []).push(what);
}

var total = 0, agree = 0, disagree = 0, valid = 0;
var lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
lines.forEach(function (line) {
    var m = /^(\S+) (\d+) (C>S|S>C) (\{.*)$/.exec(line);
    if (!m) return;
    var c = conn(m[2]);
    var msg;
    try { msg = JSON.parse(m[4]); } catch (e) { return; }
    if (m[3] === 'C>S') {
        if (msg.method === 'mining.subscribe') push(c, msg.id, { kind: 'subscribe' });
        if (msg.method === 'mining.submit') {
            var p = msg.params;
            var job = c.jobs[p[1]];
            var verdict, why;
            if (!job) {
                verdict = false; why = 'unknown job';
            } else {
                var header = Buffer.from(job.slice(1, 5).join('') + p[2] + job[6] + c.nonce1 + p[3], 'hex');
                var soln = Buffer.from(p[4], 'hex');
                if (header.length !== 140 || soln.length !== 53 || soln[0] !== 0x34) {
                    verdict = false; why = 'header ' + header.length + ' B, solution ' + soln.length + ' B';
                } else if (!ev.verify(header, soln.slice(1), 'ZelProof', 125, 4)) {
                    verdict = false; why = 'invalid Equihash solution';
                } else {
                    var h = Buffer.from(sha256d(Buffer.concat([header, soln]))).reverse().toString('hex');
                    verdict = h <= c.target;
                    why = 'hash ' + h.slice(0, 16) + '… ' + (verdict ? '<=' : '>') + ' target ' + c.target.slice(0, 16) + '…';
                }
            }
            push(c, msg.id, { kind: 'submit', verdict: verdict, why: why, job: p[1] });
        }
    } else {
        if (msg.method === 'mining.set_target') c.target = msg.params[0].toLowerCase();
        if (msg.method === 'mining.notify') c.jobs[msg.params[0]] = msg.params;
        if (msg.id !== null && msg.id !== undefined && c.pending[msg.id] && c.pending[msg.id].length) {
            // The reference miner sends every submit with id 4: answers are matched in order.
            var q = c.pending[msg.id].shift();
            if (q.kind === 'subscribe' && msg.result) c.nonce1 = String(msg.result[1]).toLowerCase();
            if (q.kind === 'submit') {
                total++;
                var accepted = msg.result === true && !msg.error;
                if (q.verdict) valid++;
                if (accepted === q.verdict) agree++; else disagree++;
                console.log('conn ' + m[2] + ' job ' + q.job + ': pool ' + (accepted ? 'accepted' : 'rejected ' + JSON.stringify(msg.error)) +
                    '; equihashverify + SHA256d: ' + (q.verdict ? 'valid' : 'invalid') + ' (' + q.why + ')' +
                    (accepted === q.verdict ? '' : '  <-- DISAGREE'));
            }
        }
    }
});
console.log('crosscheck: ' + total + ' answered submits, ' + valid + ' valid by equihashverify + target, ' +
    agree + ' verdicts agree with the pool, ' + disagree + ' disagree');
process.exit(disagree ? 1 : 0);
