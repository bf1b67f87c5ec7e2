#!/usr/bin/env python3
"""A fake fluxd (ZelCash-era zelcashd) JSON-RPC server, enough for node-stratum-pool (s-nomp).

usage: fake_fluxd.py PORT [--block-interval S] [--bits HEX] [--log FILE]

It serves a synthetic chain tip that moves every --block-interval seconds (new prevhash, height + 1),
with the fields the daemon returns and s-nomp reads:
  getblockcount, getblocksubsidy, getblocktemplate (version 4, finalsaplingroothash, bits/target,
  curtime = now, no transactions, the basic/super/bamf ZelNode payees of zelcashd v3/v4),
  validateaddress (base58check t1/t3 with Flux's 0x1cb8/0x1cbd prefixes), getdifficulty,
  getmininginfo, getblockchaininfo, getnetworkinfo, getinfo, getpeerinfo,
  submitblock (with no params: error code -1, which s-nomp uses to detect the method; with a block:
  logged, answered null = accepted, and the block becomes the tip), getblock.
JSON-RPC 1.0 over HTTP POST, single or batch requests; any credentials are accepted.
Every request and answer is logged (one line each) to --log (default stderr).
"""
import argparse
import hashlib
import http.server
import json
import sys
import threading
import time

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def sha256d(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def b58check_encode(payload):
    raw = payload + sha256d(payload)[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(raw) - len(raw.lstrip(b"\0"))
    return "1" * pad + out


def b58check_decode(s):
    n = 0
    for c in s:
        if c not in B58:
            return None
        n = n * 58 + B58.index(c)
    pad = len(s) - len(s.lstrip("1"))
    raw = b"\0" * pad + n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(raw) < 5 or sha256d(raw[:-4])[:4] != raw[-4:]:
        return None
    return raw[:-4]


def taddr(seed, prefix=b"\x1c\xb8"):
    return b58check_encode(prefix + hashlib.sha256(seed.encode()).digest()[:20])


def bits_to_target(bits):
    b = int(bits, 16)
    exp, mant = b >> 24, b & 0x7FFFFF
    return mant << (8 * (exp - 3))


POW_LIMIT = (1 << 243) - 1  # 0007ff..ff


class Chain:
    def __init__(self, interval, bits):
        self.lock = threading.Lock()
        self.interval = interval
        self.bits = bits
        self.height = 400000
        self.tip = hashlib.sha256(b"fake fluxd genesis").hexdigest()
        self.tip_time = time.time()
        self.blocks = {}

    def advance_if_due(self):
        with self.lock:
            while time.time() - self.tip_time >= self.interval:
                self.new_tip(hashlib.sha256(f"{self.tip}{self.height}".encode()).hexdigest())

    def new_tip(self, h):
        self.tip = h
        self.height += 1
        self.tip_time = time.time()


ADDR_BASIC = taddr("basic zelnode")
ADDR_SUPER = taddr("super zelnode")
ADDR_BAMF = taddr("bamf zelnode")


def handle(chain, method, params):
    chain.advance_if_due()
    target = bits_to_target(chain.bits)
    diff = POW_LIMIT / target
    if method == "getblockcount":
        return chain.height
    if method == "getblocksubsidy":
        return {"miner": 150.0, "founders": 0.0}
    if method == "getblocktemplate":
        now = int(time.time())
        return {
            "capabilities": ["proposal"],
            "version": 4,
            "previousblockhash": chain.tip,
            "finalsaplingroothash": hashlib.sha256(f"sapling{chain.height}".encode()).hexdigest(),
            "transactions": [],
            "coinbasetxn": {},
            "longpollid": f"{chain.tip}{chain.height}",
            "target": f"{target:064x}",
            "mintime": int(chain.tip_time) - 600,
            "mutable": ["time", "transactions", "prevblock"],
            "noncerange": "00000000ffffffff",
            "sigoplimit": 20000,
            "sizelimit": 2000000,
            "curtime": now,
            "bits": chain.bits,
            "height": chain.height + 1,
            "basic_zelnode_address": ADDR_BASIC,
            "basic_zelnode_payout": 1125000000,
            "super_zelnode_address": ADDR_SUPER,
            "super_zelnode_payout": 1875000000,
            "bamf_zelnode_address": ADDR_BAMF,
            "bamf_zelnode_payout": 4500000000,
        }
    if method == "validateaddress":
        a = str(params[0]) if params else ""
        raw = b58check_decode(a)
        ok = raw is not None and len(raw) == 22 and raw[:2] in (b"\x1c\xb8", b"\x1c\xbd")
        if not ok:
            return {"isvalid": False}
        script = ("76a914" + raw[2:].hex() + "88ac") if raw[:2] == b"\x1c\xb8" else ("a914" + raw[2:].hex() + "87")
        return {"isvalid": True, "address": a, "scriptPubKey": script, "ismine": False, "iswatchonly": False, "isscript": raw[:2] == b"\x1c\xbd"}
    if method == "getdifficulty":
        return diff
    if method == "getmininginfo":
        return {"blocks": chain.height, "difficulty": diff, "networkhashps": 1000000, "networksolps": 1000000, "chain": "main", "generate": False}
    if method == "getblockchaininfo":
        return {"chain": "main", "blocks": chain.height, "headers": chain.height, "bestblockhash": chain.tip, "difficulty": diff}
    if method == "getnetworkinfo":
        return {"version": 3030000, "subversion": "/MagicBean:3.3.0/", "protocolversion": 170016, "connections": 8}
    if method == "getinfo":
        return {"version": 3030000, "protocolversion": 170016, "blocks": chain.height, "connections": 8, "difficulty": diff, "testnet": False}
    if method == "getpeerinfo":
        return [{"id": 1, "addr": "127.0.0.2:16125", "synced_blocks": chain.height}]
    if method == "submitblock":
        if not params:
            raise RpcError(-1, "submitblock \"hexdata\" ( \"jsonparametersobject\" )")
        blk = bytes.fromhex(params[0])
        h = sha256d(blk[:140 + 1 + 52])[::-1].hex()
        with chain.lock:
            chain.blocks[h] = {"hash": h, "confirmations": 1, "height": chain.height + 1, "tx": ["00" * 32]}
            chain.new_tip(h)
        return None
    if method == "getblock":
        b = chain.blocks.get(str(params[0]) if params else "")
        if b is None:
            raise RpcError(-5, "Block not found")
        return b
    raise RpcError(-32601, "Method not found")


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def make_handler(chain, log):
    seen = set()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                req = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            batch = isinstance(req, list)
            out = []
            for r in (req if batch else [req]):
                quiet = r.get("method") in ("getblocktemplate", "getblocksubsidy", "getblockcount")
                try:
                    res = {"result": handle(chain, r.get("method"), r.get("params") or []), "error": None, "id": r.get("id")}
                except RpcError as e:
                    res = {"result": None, "error": {"code": e.code, "message": e.message}, "id": r.get("id")}
                out.append(res)
                p = json.dumps(r.get("params"))
                # s-nomp polls every 500 ms: log a template call only when the tip has moved.
                if quiet:
                    key = (r.get("method"), chain.height)
                    if key in seen:
                        continue
                    seen.add(key)
                log.write(f"{time.time():.3f} rpc {r.get('method')} {p[:300]} -> {json.dumps(res)[:300]}\n")
                log.flush()
            data = json.dumps(out if batch else out[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--block-interval", type=float, default=120.0)
    ap.add_argument("--bits", default="1d4228ce", help="compact network target (default: block 400000's)")
    ap.add_argument("--log")
    a = ap.parse_args()
    log = open(a.log, "a", buffering=1) if a.log else sys.stderr
    chain = Chain(a.block_interval, a.bits)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(chain, log))
    log.write(f"{time.time():.3f} fake fluxd on 127.0.0.1:{a.port}, bits {a.bits}, a new tip every {a.block_interval} s\n")
    srv.serve_forever()


if __name__ == "__main__":
    main()
