"""Families that are still open on Ferrokey, through redis-py (RESP2 and
RESP3): pub/sub (issue 6), blocking pops (issue 5), scripting and redis-py's
Lock (issue 7), streams (issue 8). Against real Redis they all run."""

import threading
import time

import pytest
import redis

from conftest import new_client, wait_for


def _messages(p, n, timeout=5):
    got = []
    end = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < end:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m:
            got.append(m)
    return got


def test_pubsub_subscribe_psubscribe(r, pfx, protocol):
    sub = new_client(protocol)
    p = sub.pubsub()
    try:
        p.subscribe(f"{pfx}orders", f"{pfx}notifications")
        p.psubscribe(f"{pfx}orders.*")
        wait_for(lambda: r.pubsub_numsub(f"{pfx}orders")[0][1] == 1, 5, "subscription")
        assert r.publish(f"{pfx}orders", '{"id":1}') == 1
        assert r.publish(f"{pfx}orders.created", '{"id":2}') == 1
        assert r.publish(f"{pfx}nobody", "x") == 0
        got = _messages(p, 2)
        assert [(m["type"], m["channel"], m["data"]) for m in got] == [
            ("message", f"{pfx}orders", '{"id":1}'),
            ("pmessage", f"{pfx}orders.created", '{"id":2}'),
        ]
        assert got[1]["pattern"] == f"{pfx}orders.*"
    finally:
        p.close()
        sub.close()


def test_pubsub_cache_invalidation_broadcast(r, pfx, protocol):
    caches = [{"product:42": 1, "product:43": 2} for _ in range(2)]
    subs = [new_client(protocol).pubsub() for _ in caches]
    try:
        for s in subs:
            s.subscribe(f"{pfx}cache:invalidate")
        wait_for(lambda: r.pubsub_numsub(f"{pfx}cache:invalidate")[0][1] == 2, 5, "subscriptions")
        assert r.publish(f"{pfx}cache:invalidate", "product:42") == 2
        for s, cache in zip(subs, caches):
            for m in _messages(s, 1):
                cache.pop(m["data"], None)
        assert all("product:42" not in c and "product:43" in c for c in caches)
    finally:
        for s in subs:
            s.close()


@pytest.mark.needs(5)
def test_blpop_worker(r, pfx, protocol):
    worker = new_client(protocol, socket_timeout=15)
    got = []

    def run():
        while True:
            item = worker.blpop([f"{pfx}tasks"], timeout=5)
            if item is None or item[1] == "STOP":
                return
            got.append(item)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.1)
    r.rpush(f"{pfx}tasks", "send-email", "generate-report")
    r.rpush(f"{pfx}tasks", "STOP")
    t.join(10)
    worker.close()
    assert [tuple(x) for x in got] == [(f"{pfx}tasks", "send-email"), (f"{pfx}tasks", "generate-report")]
    t0 = time.monotonic()
    assert r.blpop([f"{pfx}empty"], timeout=1) is None
    assert time.monotonic() - t0 >= 0.9


@pytest.mark.needs(7)
def test_lock_released_by_eval(r, pfx):
    release = """
    if redis.call("get", KEYS[1]) == ARGV[1] then
      return redis.call("del", KEYS[1])
    else
      return 0
    end
    """
    assert r.set(f"{pfx}lock", "me", ex=10, nx=True) is True
    assert r.eval(release, 1, f"{pfx}lock", "you") == 0
    assert r.eval(release, 1, f"{pfx}lock", "me") == 1
    script = r.register_script(release)
    r.set(f"{pfx}lock", "me")
    assert script(keys=[f"{pfx}lock"], args=["me"]) == 1


@pytest.mark.needs(7)
def test_redis_py_lock(r, pfx):
    lock = r.lock(f"{pfx}resource", timeout=10, blocking_timeout=1)
    assert lock.acquire() is True
    other = r.lock(f"{pfx}resource", timeout=10, blocking_timeout=0.2)
    assert other.acquire() is False
    lock.extend(5)
    lock.release()
    assert other.acquire() is True
    other.release()


@pytest.mark.needs(8)
def test_activity_feed_stream(r, pfx):
    key = f"{pfx}feed:1"
    ids = [r.xadd(key, {"action": "like", "targetId": i, "timestamp": int(time.time() * 1000)}, maxlen=1000, approximate=True) for i in range(60)]
    entries = r.xrevrange(key, "+", "-", count=50)
    assert len(entries) == 50
    assert entries[0][0] == ids[-1]
    assert entries[0][1]["targetId"] == "59"
    first = r.xread({key: "0"}, count=10)
    stream = first[key] if isinstance(first, dict) else dict(first)[key]
    if isinstance(stream, list) and stream and isinstance(stream[0], list) and len(stream) == 1:
        stream = stream[0]
    assert len(stream) == 10
    for i in range(3000):
        r.xadd(f"{pfx}capped", {"n": i}, maxlen=1000, approximate=True)
    assert 1000 <= r.xlen(f"{pfx}capped") < 1200
