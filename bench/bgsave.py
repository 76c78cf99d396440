#!/usr/bin/env python3
"""BGSAVE under load: Ferrokey (copy-on-write per value, no fork) next to
redis-server (fork), in one run.

Each server, pinned to core 0 (Ferrokey with one worker thread; Redis's
forked child inherits the pinning), holds 1,000,000 keys of 16 bytes
(DEBUG POPULATE). redis-benchmark on core 1 runs SET over the same random
keyspace, once alone (baseline) and once while BGSAVE runs back to back
for the whole run. Reports p50/p99 of both runs, the saves completed, and
the peak memory during the saves: the server's RSS plus, for Redis, the
private pages of its child (what the fork costs). Rounds alternate
Ferrokey/Redis; medians are reported.

Usage: bench/bgsave.py [--rounds N] [--requests N]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Server, benchmark  # noqa: E402


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def private_kb(pid):
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1])
    except OSError:
        pass
    return total


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]
    except OSError:
        return []


def server_pid(srv):
    # The process under taskset (taskset execs, so it is the same pid).
    return srv.proc.pid


def one(kind, requests):
    with tempfile.TemporaryDirectory() as d:
        srv = Server(kind, extra=["--dir", d, "--enable-debug-command", "yes"])
        try:
            srv.cli("DEBUG", "POPULATE", "1000000", "key", "16")
            pid = server_pid(srv)
            base_rss = rss_kb(pid)
            extra = ["-t", "set", "-r", "1000000"]
            alone = benchmark(srv, "set", 16, 1, requests, extra)
            peak = [base_rss]
            saves = [0]
            stop = threading.Event()

            def saver():
                while not stop.is_set():
                    srv.cli("BGSAVE")
                    while not stop.is_set():
                        info = srv.info("persistence")
                        if info.get("rdb_bgsave_in_progress") == "0":
                            break
                        time.sleep(0.01)
                    if info.get("rdb_bgsave_in_progress") == "0":
                        saves[0] += 1

            def sampler():
                while not stop.is_set():
                    total = rss_kb(pid) + sum(private_kb(c) for c in children(pid))
                    peak[0] = max(peak[0], total)
                    time.sleep(0.005)

            threads = [threading.Thread(target=saver), threading.Thread(target=sampler)]
            for t in threads:
                t.start()
            during = benchmark(srv, "set", 16, 1, requests, extra)
            stop.set()
            for t in threads:
                t.join()
            return {
                "alone": alone, "during": during, "saves": saves[0],
                "base_mb": base_rss / 1024, "peak_mb": peak[0] / 1024,
            }
        finally:
            srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=300000)
    args = ap.parse_args()
    res = {"ferrokey": [], "redis": []}
    for r in range(args.rounds):
        for kind in ("ferrokey", "redis"):
            x = one(kind, args.requests)
            print(f"round {r + 1} {kind}: {x}", flush=True)
            res[kind].append(x)

    def med(kind, f):
        return statistics.median(f(x) for x in res[kind])

    rows = [
        ("SET ops/s, alone", lambda x: x["alone"][0]),
        ("SET ops/s, during BGSAVE", lambda x: x["during"][0]),
        ("SET p50 ms, alone", lambda x: x["alone"][1]),
        ("SET p50 ms, during BGSAVE", lambda x: x["during"][1]),
        ("SET p99 ms, alone", lambda x: x["alone"][2]),
        ("SET p99 ms, during BGSAVE", lambda x: x["during"][2]),
        ("BGSAVEs completed during the run", lambda x: x["saves"]),
        ("RSS before, MB", lambda x: x["base_mb"]),
        ("peak RSS during BGSAVE (+ child private), MB", lambda x: x["peak_mb"]),
    ]
    print(f"\n| Measure (medians of {args.rounds}) | Ferrokey | redis-server | Ratio |")
    print("| --- | --- | --- | --- |")
    for name, f in rows:
        a, b = med("ferrokey", f), med("redis", f)
        ratio = f"{a / b:.2f}" if b else "n/a"
        print(f"| {name} | {a:,.2f} | {b:,.2f} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
