// Runs s-nomp's stratum library (node-stratum-pool) for ZelCash/Flux the way s-nomp's
// libs/poolWorker.js does, without Redis or the web portal: coin = s-nomp's coins/zel.json,
// port settings from pool_configs/examples/zel.json (diff and optional varDiff), worker names
// checked with the daemon's validateaddress (validateWorkerUsername: true), and every share
// event logged as one line. Node 8 (node-stratum-pool's .nvmrc is v8.11).
//
// usage: node snomp_pool.js CONFIG.json
//   CONFIG: { "nsp": "<node-stratum-pool dir>", "port": 3411, "diff": 0.05, "varDiff": null|{...},
//             "daemonPort": 16124, "address": "t1...", "duration": seconds,
//             "jobRebroadcastTimeout": 55 (s-nomp's default) }
'use strict';
var fs = require('fs');
var cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
var Stratum = require(cfg.nsp + '/lib/index.js');

function log(what) {
    console.log(new Date().toISOString() + ' ' + what);
}

var coin = {
    name: 'zelcash',
    symbol: 'zel',
    algorithm: 'equihash',
    parameters: { N: 125, K: 4, personalization: 'ZelProof' },
    requireShielding: true,
    txfee: 0.0001,
    peerMagic: '24e92764',
    sapling: true,
    payZelNodes: 1550952000
};

var port = {};
port[String(cfg.port)] = { diff: cfg.diff, tls: false };
if (cfg.varDiff) port[String(cfg.port)].varDiff = cfg.varDiff;

var options = {
    coin: coin,
    address: cfg.address,
    rewardRecipients: {},
    blockRefreshInterval: 500,
    jobRebroadcastTimeout: cfg.jobRebroadcastTimeout || 55,
    connectionTimeout: 600,
    emitInvalidBlockHashes: false,
    validateWorkerUsername: true,
    tcpProxyProtocol: false,
    banning: { enabled: true, time: 600, invalidPercent: 50, checkThreshold: 500, purgeInterval: 300 },
    ports: port,
    daemons: [{ host: '127.0.0.1', port: cfg.daemonPort, user: 'rpcuser', password: 'rpcpassword' }],
    p2p: { enabled: false },
    tlsOptions: { enabled: false }
};

var counts = { valid: 0, invalid: 0, blocks: 0, sumDiff: 0, byError: {} };
var firstShare = null;
var lastShare = null;
var pool;

var authorizeFn = function (ip, p, workerName, password, callback) {
    pool.daemon.cmd('validateaddress', [String(workerName).split('.')[0]], function (results) {
        var ok = results.filter(function (r) { return r.response && r.response.isvalid; }).length > 0;
        log('authorize ' + workerName + ':' + password + ' [' + ip + '] -> ' + ok);
        callback({ error: null, authorized: ok, disconnect: false });
    });
};

pool = Stratum.createPool(options, authorizeFn);
pool.on('share', function (isValidShare, isValidBlock, data) {
    var now = Date.now() / 1000;
    if (isValidShare) {
        counts.valid++;
        counts.sumDiff += data.difficulty;
        if (firstShare === null) firstShare = now;
        lastShare = now;
    } else {
        counts.invalid++;
        counts.byError[data.error] = (counts.byError[data.error] || 0) + 1;
    }
    if (isValidBlock) counts.blocks++;
    log('share ' + (isValidShare ? 'VALID' : 'INVALID') + (isValidBlock ? ' BLOCK' : '') + ' ' + JSON.stringify(data));
}).on('difficultyUpdate', function (workerName, diff) {
    log('difficultyUpdate ' + workerName + ' ' + diff);
}).on('log', function (severity, text) {
    log(severity + ' ' + text);
});
pool.start();

function report(final) {
    var s = (final ? 'FINAL ' : '') + 'shares valid ' + counts.valid + ', invalid ' + counts.invalid +
        ' ' + JSON.stringify(counts.byError) + ', blocks ' + counts.blocks + ', sum of difficulty ' + counts.sumDiff.toFixed(6);
    log(s);
}
setInterval(function () { report(false); }, 60000);
if (cfg.duration) {
    setTimeout(function () { report(true); process.exit(0); }, cfg.duration * 1000);
}
process.on('SIGTERM', function () { report(true); process.exit(0); });
process.on('SIGINT', function () { report(true); process.exit(0); });
