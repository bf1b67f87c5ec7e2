#!/usr/bin/env python3
"""Tiny TCP proxy that logs every newline-terminated stratum line in both directions.

usage: lineproxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT LOGFILE

Each line is written as `<unix time> <conn#> <direction> <line>`, where direction is
`C>S` (miner to pool) or `S>C` (pool to miner). Bytes are forwarded unchanged.
"""
import asyncio
import sys
import time


async def pipe(reader, writer, log, conn, direction):
    buf = b""
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                log.write(f"{time.time():.3f} {conn} {direction} {line.decode(errors='replace')}\n")
                log.flush()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        if buf:
            log.write(f"{time.time():.3f} {conn} {direction} [no LF] {buf.decode(errors='replace')}\n")
        log.write(f"{time.time():.3f} {conn} {direction} [closed]\n")
        log.flush()
        try:
            writer.close()
        except Exception:
            pass


async def main():
    listen_port = int(sys.argv[1])
    host, port = sys.argv[2].rsplit(":", 1)
    log = open(sys.argv[3], "a", buffering=1)
    counter = 0

    async def handle(c_reader, c_writer):
        nonlocal counter
        counter += 1
        conn = counter
        log.write(f"{time.time():.3f} {conn} --- connect from {c_writer.get_extra_info('peername')}\n")
        s_reader, s_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(
            pipe(c_reader, s_writer, log, conn, "C>S"),
            pipe(s_reader, c_writer, log, conn, "S>C"),
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
