#!/usr/bin/env python3
"""Writes the fuzz seed corpus (fuzz/corpus/<target>/) from the real data in tests/vectors/.

Run from the repository root: python3 scripts/fuzz-seeds.py. The files are committed; rerun
after adding vectors. Sources are named in tests/vectors/README.md.
"""
import hashlib
import json
import os
import struct

V = "tests/vectors"
OUT = "fuzz/corpus"


def load(name):
    with open(os.path.join(V, name)) as f:
        return json.load(f)


def compact(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    return b"\xfe" + struct.pack("<I", n)


def frame(command, payload, magic=bytes.fromhex("24e92764")):
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    cmd = command.encode().ljust(12, b"\0")
    return magic + cmd + struct.pack("<I", len(payload)) + check + payload


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


headers = []
for file in ["fluxd_genesis_headers.json", "magicpool_flux_mainnet_1134187_1134309.json"]:
    for h in load(file)["headers"]:
        raw = bytes.fromhex(h["header_hex"])
        headers.append(raw)
        write("header", f"{h['network']}-{h['height']}", raw)
        if h.get("raw_block_hex"):
            write("block", f"{h['network']}-{h['height']}", bytes.fromhex(h["raw_block_hex"]))
write("header", "mainnet-400000", bytes.fromhex(load("mainnet_block_400000_zelhash.json")["serialized_header_193_hex"]))
write("transaction", "genesis-coinbase", bytes.fromhex(load("genesis_coinbase_tx.json")["tx_hex"]))

headers_payload = compact(len(headers)) + b"".join(h + b"\0" for h in headers)
agent = b"/MagicBean:9.0.6/"
addr = struct.pack("<Q", 1) + bytes(10) + b"\xff\xff" + bytes([127, 0, 0, 1]) + struct.pack(">H", 16125)
version = (struct.pack("<iQq", 170020, 0, 1764547200) + addr + addr + struct.pack("<Q", 7)
           + compact(len(agent)) + agent + struct.pack("<i", 2020000) + b"\0")
getheaders = struct.pack("<i", 170020) + compact(2) + hashlib.sha256(b"a").digest() + bytes(32) + bytes(32)
inv = compact(1) + struct.pack("<I", 2) + hashlib.sha256(b"b").digest()
messages = [("version", version), ("verack", b""), ("ping", struct.pack("<Q", 9)),
            ("getheaders", getheaders), ("headers", headers_payload), ("inv", inv), ("getdata", inv)]
commands = ["version", "verack", "ping", "pong", "getheaders", "headers", "inv", "getdata", "block"]
for command, payload in messages:
    write("p2p_stream", command, frame(command, payload))
    write("p2p_payload", command, bytes([commands.index(command)]) + payload)
write("p2p_stream", "handshake-and-headers", b"".join(frame(c, p) for c, p in messages))

with open(os.path.join(V, "stratum", "dialects.jsonl")) as f:
    for i, row in enumerate(json.loads(l) for l in f if l.strip()):
        if row["from"] == "pool":
            write("stratum_line", f"{i:02}-{row['dialect']}-{row['kind']}", row["line"].encode())
