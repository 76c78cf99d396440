#!/usr/bin/env python3
"""Ferrokey vs redis-server, side by side in one run.

Each server is pinned to core 0 (Ferrokey with one worker thread) and
redis-benchmark to core 1. Throughput rows alternate A/B/A/B over several
rounds and report medians. Memory rows fill each server with the same data
through a pipelined loader and read INFO memory. A scaling row runs Ferrokey
with 1 and 2 worker threads. Writes bench/RESULTS.md.

Eviction rows run `redis-cli --lru-test` under allkeys-lru and allkeys-lfu
and a write flood per type, with the same maxmemory on both servers.

Usage: bench/bench.py [--rounds N] [--requests N] [--quick] [--memory-only]
                      [--eviction-only] [--out FILE]
"""

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERROKEY = os.path.join(ROOT, "target", "release", "ferrokey-server")

# Pipelined runs send this many times the requests of unpipelined ones, so
# that both last a second or more: a run of a fraction of a second moved by
# up to 30% from one run to the next on a shared machine.
PIPELINED_SCALE = 4

THROUGHPUT_TESTS = [
    "set", "get", "incr", "mset", "lpush", "rpop", "sadd", "spop",
    "hset", "zadd", "zpopmin", "lrange_100",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ping(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    """A server process pinned to a core, stopped on exit."""

    def __init__(self, kind, threads=1, cpus="0", extra=()):
        self.kind = kind
        self.port = free_port()
        common = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no"] + list(extra)
        if kind == "ferrokey":
            cmd = [FERROKEY] + common + ["--threads", str(threads)]
        else:
            cmd = ["redis-server"] + common + ["--daemonize", "no"]
        self.proc = subprocess.Popen(["taskset", "-c", cpus] + cmd,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not ping(self.port):
            self.stop()
            raise RuntimeError(f"{kind} did not start")

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                             capture_output=True, text=True, timeout=600)
        return out.stdout

    def info(self, section):
        fields = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v.strip()
        return fields

    def cpu_seconds(self):
        """User plus system CPU time of the server process, all threads."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # utime and stime are the 14th and 15th fields; the remainder after
        # the command name starts at the 3rd.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def benchmark(srv, test, size, pipeline, requests, extra=None):
    """One redis-benchmark run on core 1 against `srv`: (rps, p50 ms, p99 ms,
    server CPU microseconds per request) or None."""
    cmd = ["taskset", "-c", "1", "redis-benchmark", "-p", str(srv.port), "-c", "50",
           "-n", str(requests), "-r", "100000", "-d", str(size),
           "-P", str(pipeline), "--csv"]
    if extra:
        cmd += extra
    else:
        cmd += ["-t", test]
    cpu_before = srv.cpu_seconds()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    cpu_us = (srv.cpu_seconds() - cpu_before) * 1e6 / requests
    # The last row is the test's: LRANGE_100 is preceded by the LPUSH run
    # that fills its list (whose CPU time the figure above includes).
    rows = [[c.strip('"') for c in line.split(",")] for line in out.stdout.splitlines()]
    rows = [cols for cols in rows if len(cols) >= 7 and cols[0] != "test"]
    if not rows:
        return None
    try:
        return float(rows[-1][1]), float(rows[-1][4]), float(rows[-1][6]), cpu_us
    except ValueError:
        return None


def median_row(samples):
    samples = [s for s in samples if s]
    if not samples:
        return None
    return tuple(statistics.median(x[i] for x in samples) for i in range(len(samples[0])))


def throughput(rounds, requests):
    rows = []
    fk, rd = Server("ferrokey"), Server("redis")
    try:
        # EVALSHA of a small script, where the server supports scripting.
        script = "return redis.call('incr', KEYS[1])"
        shas = {}
        for name, srv in (("ferrokey", fk), ("redis", rd)):
            sha = srv.cli("SCRIPT", "LOAD", script).strip()
            shas[name] = sha if len(sha) == 40 else None
        tests = [(t, None) for t in THROUGHPUT_TESTS] + [("evalsha", "script"),
                                                         ("xadd", "stream")]
        for size in (16, 512):
            for pipeline in (1, 16):
                for test, kind in tests:
                    if kind == "stream" and size != 16:
                        # XADD's fields are fixed: one row per pipeline.
                        continue
                    res = {"ferrokey": [], "redis": []}
                    for rnd in range(rounds):
                        # Who runs first alternates, so that a host that
                        # slows down or speeds up over a row's rounds
                        # favours neither server.
                        order = (("ferrokey", fk), ("redis", rd))
                        for name, srv in (order if rnd % 2 == 0 else order[::-1]):
                            extra = None
                            if kind == "script":
                                if not shas[name]:
                                    continue
                                extra = ["EVALSHA", shas[name], "1", "key:__rand_int__"]
                            if kind == "stream":
                                # An activity feed: one capped stream.
                                extra = ["XADD", "events", "MAXLEN", "~", "10000", "*",
                                         "user", "__rand_int__", "action", "click"]
                            srv.cli("FLUSHALL")
                            # MSET writes ten keys a request: its pipelined
                            # runs are long enough unscaled.
                            scaled = pipeline > 1 and test != "mset"
                            n = requests * (PIPELINED_SCALE if scaled else 1)
                            res[name].append(
                                benchmark(srv, test, size, pipeline, n, extra))
                    # Each round runs the two servers back to back, so the
                    # ratio within a round is spared the host's slower spells
                    # that a ratio of medians taken across rounds is not.
                    paired = [f[0] / r[0] for f, r in zip(res["ferrokey"], res["redis"])
                              if f and r and r[0]]
                    rows.append((test, size, pipeline,
                                 median_row(res["ferrokey"]), median_row(res["redis"]),
                                 paired))
                    print(f"  {test} d={size} P={pipeline}: {rows[-1][3]} vs {rows[-1][4]}",
                          flush=True)
    finally:
        fk.stop()
        rd.stop()
    return rows


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def load(port, gen):
    """Streams the commands from `gen` through redis-cli --pipe."""
    p = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    buf = []
    for cmd in gen:
        buf.append(cmd)
        if len(buf) >= 10000:
            p.stdin.write(b"".join(buf))
            buf = []
    p.stdin.write(b"".join(buf))
    p.stdin.close()
    p.wait(timeout=900)


DATASETS = [
    ("1,000,000 strings (16-byte values)", 1_000_000,
     lambda: (resp("SET", f"key:{i:07d}", "v" * 16) for i in range(1_000_000))),
    ("1,000,000 strings with TTL", 1_000_000,
     lambda: (resp("SET", f"key:{i:07d}", "v" * 16, "EX", 100000) for i in range(1_000_000))),
    ("100,000 hashes x 10 fields", 100_000,
     lambda: (resp("HSET", f"h:{i:06d}", *sum(([f"f{j}", f"val{j}"] for j in range(10)), []))
              for i in range(100_000))),
    ("100,000 sorted sets x 10", 100_000,
     lambda: (resp("ZADD", f"z:{i:06d}", *sum(([j, f"m{j}"] for j in range(10)), []))
              for i in range(100_000))),
    ("1 stream of 1,000,000 entries, 3 fields (per entry)", 1_000_000,
     lambda: (resp("XADD", "events", "*", "user", f"user:{i % 1000}", "action", "click",
                   "page", f"/p/{i % 50}") for i in range(1_000_000))),
    ("1 list of 1,000,000", 1,
     lambda: (resp("RPUSH", "biglist", *[f"e{j}" for j in range(i, i + 1000)])
              for i in range(0, 1_000_000, 1000))),
]


def memory():
    rows = []
    for label, keys, gen in DATASETS:
        res = {}
        for name in ("ferrokey", "redis"):
            srv = Server(name)
            try:
                base = int(srv.info("memory").get("used_memory", "0"))
                load(srv.port, gen())
                got = int(srv.cli("DBSIZE").strip() or 0)
                mem = srv.info("memory")
                used = int(mem.get("used_memory", "0"))
                rss = int(mem.get("used_memory_rss", "0"))
                res[name] = (used, rss, (used - base) / max(keys, 1), got)
            finally:
                srv.stop()
        rows.append((label, res["ferrokey"], res["redis"]))
        print(f"  {label}: {res}", flush=True)
    return rows


LRU_TEST_SECONDS = 30
EVICTION_MAXMEMORY = "32mb"

# Write floods, one per type: every key a fresh random one among 100,000,
# so collections grow while eviction removes whole keys.
FLOODS = [
    ("string", ["SET", "s:__rand_int__", "x" * 1000]),
    ("hash", ["HSET", "h:__rand_int__", "f__rand_int__", "x" * 50]),
    ("list", ["RPUSH", "l:__rand_int__", "x" * 50]),
    ("set", ["SADD", "t:__rand_int__", "m__rand_int__"]),
    ("zset", ["ZADD", "z:__rand_int__", "__rand_int__", "m__rand_int__"]),
    ("stream", ["XADD", "x:__rand_int__", "*", "f", "x" * 50]),
]


def lru_test(policy):
    """`redis-cli --lru-test` against each server under `policy`: the mean
    hit ratio (%) over the second half of the run, and the keys held at
    the end."""
    res = {}
    for name in ("ferrokey", "redis"):
        srv = Server(name, extra=["--maxmemory", EVICTION_MAXMEMORY,
                                  "--maxmemory-policy", policy])
        try:
            out = subprocess.run(
                # Line-buffered: the counts of a run cut short by timeout
                # would otherwise stay in redis-cli's buffer.
                ["timeout", str(LRU_TEST_SECONDS), "taskset", "-c", "1", "stdbuf", "-oL",
                 "redis-cli",
                 "-p", str(srv.port), "--lru-test", "1000000"],
                capture_output=True, text=True).stdout
            hits = []
            for line in out.splitlines():
                # "N Gets/sec | Hits: N (P%) | Misses: N (P%)"
                if "Hits:" in line:
                    hits.append(float(line.split("(")[1].split("%")[0]))
            half = hits[len(hits) // 2:]
            keys = int(srv.cli("DBSIZE").strip() or 0)
            res[name] = (statistics.mean(half) if half else None, keys)
        finally:
            srv.stop()
    return res


class Sampler:
    """Reads INFO used_memory over one connection as fast as it answers,
    keeping the peak, until stopped."""

    def __init__(self, port):
        import threading
        self.port, self.peak, self.samples = port, 0, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            f = s.makefile("rb")
            while not self.done.is_set():
                s.sendall(b"INFO memory\r\n")
                n = int(f.readline()[1:])
                body = f.read(n + 2).decode()
                for line in body.splitlines():
                    if line.startswith("used_memory:"):
                        self.peak = max(self.peak, int(line.split(":")[1]))
                        self.samples += 1
                time.sleep(0.01)

    def stop(self):
        self.done.set()
        self.thread.join(timeout=10)
        return self.peak


def flood(cmd, requests):
    """A write flood under allkeys-lru: the peak used_memory seen and
    maxmemory, per server."""
    res = {}
    for name in ("ferrokey", "redis"):
        srv = Server(name, extra=["--maxmemory", EVICTION_MAXMEMORY,
                                  "--maxmemory-policy", "allkeys-lru"])
        try:
            maxmemory = int(srv.info("memory")["maxmemory"])
            sampler = Sampler(srv.port)
            subprocess.run(["taskset", "-c", "1", "redis-benchmark", "-p", str(srv.port),
                            "-c", "50", "-n", str(requests), "-r", "100000", "-P", "16",
                            "-q"] + cmd, capture_output=True, timeout=900)
            peak = sampler.stop()
            mem = srv.info("memory")
            res[name] = (peak, int(mem["used_memory"]), maxmemory,
                         int(srv.info("stats").get("evicted_keys", 0)))
        finally:
            srv.stop()
    return res


def eviction(requests):
    lru = []
    for policy in ("allkeys-lru", "allkeys-lfu"):
        lru.append((policy, lru_test(policy)))
        print(f"  lru-test {policy}: {lru[-1][1]}", flush=True)
    floods = []
    for label, cmd in FLOODS:
        floods.append((label, flood(cmd, requests)))
        print(f"  flood {label}: {floods[-1][1]}", flush=True)
    return lru, floods


def report_eviction(ev):
    lru, floods = ev
    o = [f"\n## Eviction (maxmemory {EVICTION_MAXMEMORY})\n"]
    o.append(f"`redis-cli --lru-test 1000000` for {LRU_TEST_SECONDS} s per server (a "
             "power-law key pattern; misses SET the key): mean hit ratio over the second "
             "half of the run; each server holds as many keys as fit its memory.\n")
    o.append("| policy | Ferrokey hits % | Redis hits % | Ferrokey keys held | "
             "Redis keys held |")
    o.append("|---|---|---|---|---|")
    pct = lambda v: "n/a" if v is None else f"{v:.2f}"
    for policy, r in lru:
        f, d = r["ferrokey"], r["redis"]
        o.append(f"| {policy} | {pct(f[0])} | {pct(d[0])} | {f[1]} | {d[1]} |")
    o.append("\nWrite floods under allkeys-lru (redis-benchmark, 50 clients, pipeline 16, "
             "random keys among 100,000): the peak `used_memory` sampled during the flood, "
             "over maxmemory.\n")
    o.append("| type | Ferrokey peak / maxmemory | Redis peak / maxmemory | "
             "Ferrokey evicted keys | Redis evicted keys |")
    o.append("|---|---|---|---|---|")
    for label, r in floods:
        f, d = r["ferrokey"], r["redis"]
        o.append(f"| {label} | {f[0] / f[2]:.3f} | {d[0] / d[2]:.3f} | {f[3]} | {d[3]} |")
    return "\n".join(o)


def scaling(requests):
    rows = []
    for threads, cpus in ((1, "0"), (2, "0,1")):
        srv = Server("ferrokey", threads=threads, cpus=cpus)
        try:
            r = benchmark(srv, "get", 16, 16, requests * PIPELINED_SCALE)
            s = benchmark(srv, "set", 16, 16, requests * PIPELINED_SCALE)
            rows.append((threads, r, s))
        finally:
            srv.stop()
    return rows


def fmt_ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def report_memory(mem):
    o = ["\n## Memory\n"]
    o.append("| dataset | Ferrokey used_memory | Redis used_memory | ratio | Ferrokey RSS | "
             "Redis RSS | Ferrokey bytes/key | Redis bytes/key |")
    o.append("|---|---|---|---|---|---|---|---|")
    for label, f, r in mem:
        o.append(f"| {label} | {f[0]} | {r[0]} | {fmt_ratio(f[0], r[0])} | {f[1]} | {r[1]} | "
                 f"{f[2]:.1f} | {r[2]:.1f} |")
    return "\n".join(o)


def report_behind(tp):
    """The rows where Ferrokey is behind Redis on throughput or p99, with
    what each server spent per request and how busy it kept its core."""
    o = ["\n### Rows behind Redis\n"]
    o.append("Core busy is CPU per request times requests per second: under 100% the "
             "server waited for the client part of the run, so the client (or the "
             "host) set the pace. CPU difference is Ferrokey's CPU per request "
             "against Redis's.\n")
    o.append("| test | value bytes | pipeline | behind on | ratio (range) | Ferrokey p99 ms | "
             "Redis p99 ms | CPU difference | Ferrokey core busy | Redis core busy |")
    o.append("|---|---|---|---|---|---|---|---|---|---|")
    count = 0
    for test, size, pipe, f, r, paired in tp:
        if not (f and r and paired):
            continue
        ratio = statistics.median(paired)
        behind = [what for what, yes in (("throughput", round(ratio, 2) < 1.00),
                                         ("p99", f[2] > r[2])) if yes]
        if not behind:
            continue
        count += 1
        diff = (f[3] / r[3] - 1) * 100 if r[3] else 0
        busy = lambda row: f"{row[0] * row[3] / 1e4:.0f}%"
        o.append(f"| {test} | {size} | {pipe} | {' and '.join(behind)} | {ratio:.2f} "
                 f"({min(paired):.2f}-{max(paired):.2f}) | {f[2]:.3f} | {r[2]:.3f} | "
                 f"{diff:+.0f}% | {busy(f)} | {busy(r)} |")
    if not count:
        o.append("| none | | | | | | | | | |")
    return "\n".join(o)


def report(args, tp, mem, ev, sc):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    redis_ver = subprocess.run(["redis-server", "--version"], capture_output=True,
                               text=True).stdout.strip()
    o = []
    o.append("# Ferrokey vs redis-server: benchmark results\n")
    o.append(f"- commit: `{commit}`; {redis_ver}")
    o.append(f"- machine: {cpu}, {os.cpu_count()} cores, kernel {platform.release()}")
    o.append(f"- servers pinned to core 0 (Ferrokey with 1 worker thread), redis-benchmark "
             f"pinned to core 1; 50 clients, -r 100000, {args.requests} requests per run "
             f"at pipeline 1 and {args.requests * PIPELINED_SCALE} at pipeline 16 (MSET: "
             f"{args.requests}), "
             f"medians of {args.rounds} alternating rounds; no persistence, no maxmemory.\n")
    o.append("## Throughput and latency\n")
    o.append("Server CPU is the server process's user and system time over the run, "
             "divided by the requests: what each server spent per request, whatever "
             "bounded the run. At pipeline 1 redis-benchmark is mostly the bound: it keeps "
             "its own core nearly busy while either server idles about a quarter of the "
             "time, so most of those ratios sit within the machine's run-to-run noise "
             "of 1.00. "
             "LRANGE_100's CPU figure includes redis-benchmark's LPUSH run that "
             "fills the list before it. "
             "The ratio is the median of the rounds' own ratios: each round runs the "
             "two servers back to back, so a slow spell of the host weighs on both "
             "sides of it; the range is the lowest and the highest of those ratios.\n")
    o.append("| test | value bytes | pipeline | Ferrokey ops/s | Redis ops/s | ratio | "
             "ratio range | Ferrokey p50 ms | Redis p50 ms | Ferrokey p99 ms | Redis p99 ms | "
             "Ferrokey CPU us/req | Redis CPU us/req |")
    o.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for test, size, pipe, f, r, paired in tp:
        fr = f or (None, None, None, None)
        rr = r or (None, None, None, None)
        cell = lambda v: "n/a" if v is None else (f"{v:.0f}" if v > 100 else f"{v:.3f}")
        cpu = lambda v: "n/a" if v is None else f"{v:.2f}"
        ratio = f"{statistics.median(paired):.2f}" if paired else "n/a"
        spread = f"{min(paired):.2f}-{max(paired):.2f}" if paired else "n/a"
        o.append(f"| {test} | {size} | {pipe} | {cell(fr[0])} | {cell(rr[0])} | "
                 f"{ratio} | {spread} | {cell(fr[1])} | {cell(rr[1])} | "
                 f"{cell(fr[2])} | {cell(rr[2])} | {cpu(fr[3])} | {cpu(rr[3])} |")
    o.append(report_behind(tp))
    o.append(report_memory(mem))
    if ev:
        o.append(report_eviction(ev))
    o.append("\n## Scaling (Ferrokey, pipeline 16, 16-byte values)\n")
    o.append("The benchmark client shares the second core with the second worker thread.\n")
    o.append("| worker threads | GET ops/s | SET ops/s |")
    o.append("|---|---|---|")
    for threads, g, s in sc:
        o.append(f"| {threads} | {g[0] if g else 'n/a'} | {s[0] if s else 'n/a'} |")
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--quick", action="store_true", help="1 round, fewer requests, no memory rows")
    ap.add_argument("--memory-only", action="store_true",
                    help="print the memory rows only (RESULTS.md untouched)")
    ap.add_argument("--eviction-only", action="store_true",
                    help="print the eviction rows only (RESULTS.md untouched)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = ap.parse_args()
    if args.memory_only:
        rows = memory()
        print(report_memory(rows))
        return 0
    if args.eviction_only:
        print(report_eviction(eviction(args.requests * 10)))
        return 0
    if args.quick:
        args.rounds, args.requests = 1, 50000
    print("throughput...", flush=True)
    tp = throughput(args.rounds, args.requests)
    mem = [] if args.quick else (print("memory...", flush=True) or memory())
    ev = None if args.quick else (print("eviction...", flush=True) or eviction(args.requests * 10))
    print("scaling...", flush=True)
    sc = scaling(args.requests)
    text = report(args, tp, mem, ev, sc)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
