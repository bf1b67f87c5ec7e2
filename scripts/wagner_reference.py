#!/usr/bin/env python3
# An independent Equihash Wagner solver in plain Python (hashlib.blake2b), used to check the
# yield figures in the README: `scripts/wagner_reference.py RUNS` prints the number of distinct
# solutions of 48,5 over RUNS inputs (nonce = run number in bytes 108..112, rest zero).
# Exhaustive lists with exact duplicate checks: slow, obviously correct, no shared code with
# the Rust solver. (No twist: not for 125,4.)
import hashlib, sys, struct
from collections import defaultdict
def solve(n,k,inp,pers=b'ZcashPoW'):
    c=n//(k+1); N=1<<(c+1); per=512//n; sl=(n+7)//8
    P=pers+struct.pack('<II',n,k)
    leaves=[]
    for g in range((N+per-1)//per):
        d=hashlib.blake2b(inp+struct.pack('<I',g),digest_size=per*sl,person=P).digest()
        for s in range(per):
            i=g*per+s
            if i>=N: break
            v=int.from_bytes(d[s*sl:(s+1)*sl],'big')>>(8*sl-n)
            leaves.append((v,(i,)))
    cur=leaves
    for r in range(1,k+1):
        sh=n-r*c
        buckets=defaultdict(list)
        for v,idx in cur: buckets[v>>sh].append((v,idx))
        nxt=[]
        for b in buckets.values():
            for x in range(len(b)):
                for y in range(x+1,len(b)):
                    v=b[x][0]^b[y][0]; ia,ib=b[x][1],b[y][1]
                    if set(ia)&set(ib): continue
                    if ia[0]>ib[0]: ia,ib=ib,ia
                    nxt.append((v & ((1<<sh)-1), ia+ib))
        cur=nxt
    sols=set(idx for v,idx in cur if v==0)
    return sorted(sols)
tot=0
runs=int(sys.argv[1])
for nonce in range(runs):
    inp=bytearray(140); inp[108:112]=struct.pack('<I',nonce)
    s=solve(48,5,bytes(inp)); tot+=len(s)
print(tot,runs,tot/runs)
