"""The seeds' patterns through redis-py, in RESP2 and RESP3 (every test runs
once per protocol): caching, invalidation, locks, sessions, JWT blacklist,
rate limiters, leaderboards, counters, queues, pipelines, INFO, MEMORY
USAGE, CONFIG SET, PING, QUIT."""

import json
import math
import random
import threading
import time

import pytest
import redis

from conftest import new_client, wait_for


def test_strings_ttl_exists_del_mset_mget(r, pfx):
    assert r.set(f"{pfx}greeting", "Hello, Redis!") is True
    assert r.get(f"{pfx}greeting") == "Hello, Redis!"
    assert r.set(f"{pfx}session:abc", json.dumps({"userId": 42}), ex=3600) is True
    assert 3590 < r.ttl(f"{pfx}session:abc") <= 3600
    assert r.setex(f"{pfx}otp:user123", 300, "123456") is True
    assert 290 < r.ttl(f"{pfx}otp:user123") <= 300
    assert r.exists(f"{pfx}greeting") == 1
    assert r.delete(f"{pfx}greeting") == 1
    assert r.exists(f"{pfx}greeting") == 0
    assert r.get(f"{pfx}greeting") is None
    assert r.mset({f"{pfx}k1": "v1", f"{pfx}k2": "v2"}) is True
    assert r.mget(f"{pfx}k1", f"{pfx}k2", f"{pfx}k3") == ["v1", "v2", None]
    assert r.ttl(f"{pfx}k1") == -1
    assert r.ttl(f"{pfx}none") == -2


def test_cache_aside_with_ttl_and_jitter(r, pfx):
    queries = []

    def db_find(uid):
        queries.append(uid)
        return {"id": uid, "name": f"user {uid}"}

    def get_user(uid, base_ttl=300):
        key = f"{pfx}user:{uid}"
        cached = r.get(key)
        if cached:
            return json.loads(cached)
        user = db_find(uid)
        ttl = base_ttl + int(random.random() * base_ttl * 0.1)
        r.set(key, json.dumps(user), ex=ttl)
        return user

    for uid in range(10):
        get_user(uid)
        get_user(uid)
    assert len(queries) == 10
    for uid in range(10):
        t = r.ttl(f"{pfx}user:{uid}")
        assert 298 <= t <= 330, t
    # short TTL really expires and the next read reloads
    r.set(f"{pfx}user:99", json.dumps({"id": 99}), px=200)
    wait_for(lambda: r.exists(f"{pfx}user:99") == 0, 3, "expiry")
    get_user(99)
    assert queries[-1] == 99


def test_write_through_and_capped_lists(r, pfx):
    def update_user(uid, data):
        user = {"id": uid, **data}
        r.setex(f"{pfx}user:{uid}", 3600, json.dumps(user))
        return user

    update_user(1, {"name": "Alice Cooper"})
    assert json.loads(r.get(f"{pfx}user:1"))["name"] == "Alice Cooper"
    for i in range(60):
        r.lpush(f"{pfx}user:1:posts", json.dumps({"title": f"post {i}"}))
        r.ltrim(f"{pfx}user:1:posts", 0, 49)
        r.hincrby(f"{pfx}user:1:stats", "postCount", 1)
        r.expire(f"{pfx}user:1:stats", 86400)
    assert r.llen(f"{pfx}user:1:posts") == 50
    assert json.loads(r.lindex(f"{pfx}user:1:posts", 0))["title"] == "post 59"
    assert r.hgetall(f"{pfx}user:1:stats") == {"postCount": "60"}


def test_invalidation_scan_match_and_delete(r, pfx):
    with r.pipeline(transaction=False) as p:
        for i in range(600):
            p.set(f"{pfx}user:7:item:{i}", i)
        for i in range(100):
            p.set(f"{pfx}user:8:item:{i}", i)
        p.execute()
    # explicit cursor loop, as in the seeds
    cursor, deleted, rounds = 0, 0, 0
    while True:
        cursor, keys = r.scan(cursor=cursor, match=f"{pfx}user:7:*", count=100)
        rounds += 1
        if keys:
            deleted += r.delete(*keys)
        if cursor == 0:
            break
    assert deleted == 600 and rounds > 1
    # scan_iter + KEYS. SCAN may return a key more than once while the
    # keyspace is being resized (Redis shrinks it after the deletes above),
    # so the check counts distinct keys.
    assert len(set(r.scan_iter(match=f"{pfx}user:8:*", count=50))) == 100
    assert len(r.keys(f"{pfx}user:8:*")) == 100
    assert r.delete(*r.keys(f"{pfx}user:8:*")) == 100
    assert r.keys(f"{pfx}user:*") == []
    r.set(f"{pfx}h", "x")
    r.hset(f"{pfx}hh", "a", "b")
    assert list(r.scan_iter(match=f"{pfx}*", _type="hash")) == [f"{pfx}hh"]


def test_stampede_lock_set_nx_ex(r, pfx):
    loads = []
    lock = threading.Lock()

    def get_with_lock(key, ttl):
        c = new_client(r.get_connection_kwargs().get("protocol", 2))
        try:
            while True:
                cached = c.get(key)
                if cached:
                    return json.loads(cached)
                if c.set(f"{pfx}lock:{key}", "1", ex=10, nx=True):
                    try:
                        with lock:
                            loads.append(1)
                        time.sleep(0.2)
                        data = {"v": 1}
                        c.set(key, json.dumps(data), ex=ttl)
                        return data
                    finally:
                        c.delete(f"{pfx}lock:{key}")
                time.sleep(0.05)
        finally:
            c.close()

    threads = [threading.Thread(target=get_with_lock, args=(f"{pfx}hot", 60)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(loads) == 1
    assert r.exists(f"{pfx}lock:{pfx}hot") == 0
    assert r.set(f"{pfx}lock:x", "a", ex=1, nx=True) is True
    assert r.set(f"{pfx}lock:x", "b", ex=1, nx=True) is None


def test_jwt_blacklist_setex(r, pfx):
    def revoke(token, expires_at):
        ttl = math.ceil(expires_at - time.time())
        if ttl > 0:
            r.setex(f"{pfx}blacklist:{token}", ttl, "true")

    def is_blacklisted(token):
        return r.get(f"{pfx}blacklist:{token}") is not None

    revoke("tok1", time.time() + 3600)
    assert is_blacklisted("tok1")
    assert 3590 < r.ttl(f"{pfx}blacklist:tok1") <= 3600
    revoke("tok2", time.time() + 0.9)
    assert is_blacklisted("tok2")
    wait_for(lambda: not is_blacklisted("tok2"), 4, "blacklist expiry")
    revoke("old", time.time() - 5)
    assert not is_blacklisted("old")


def test_fixed_window_rate_limiter_pipeline(r, pfx):
    def check(ident, window=60, limit=3):
        key = f"{pfx}ratelimit:{ident}"
        with r.pipeline(transaction=False) as p:
            p.incr(key)
            p.ttl(key)
            count, ttl = p.execute()
        if count == 1:
            r.expire(key, window)
            ttl = window
        return count <= limit, count, ttl

    out = [check("1.2.3.4") for _ in range(5)]
    assert [o[0] for o in out] == [True, True, True, False, False]
    assert out[0][1:] == (1, 60)
    assert all(55 < o[2] <= 60 for o in out[1:])
    # INCR + EXPIRE in one MULTI as well
    with r.pipeline() as p:
        p.incr(f"{pfx}rl:m")
        p.expire(f"{pfx}rl:m", 60)
        assert p.execute() == [1, True]


def test_sliding_window_in_multi(r, pfx):
    def allowed(uid, limit, window_ms):
        now = int(time.time() * 1000)
        key = f"{pfx}sw:{uid}"
        with r.pipeline(transaction=True) as p:
            p.zremrangebyscore(key, 0, now - window_ms)
            p.zadd(key, {f"{now}:{random.random()}": now})
            p.zcard(key)
            p.expire(key, math.ceil(window_ms / 1000))
            _, added, count, expired = p.execute()
        assert added == 1 and expired is True
        return count <= limit

    assert [allowed("u", 3, 60000) for _ in range(5)] == [True, True, True, False, False]
    r.zadd(f"{pfx}sw:v", {"old": int(time.time() * 1000) - 120000})
    assert allowed("v", 1, 60000) is True
    assert r.zcard(f"{pfx}sw:v") == 1


def test_leaderboard(r, pfx):
    lb = f"{pfx}leaderboard:weekly"
    assert r.zadd(lb, {"user:1": 1500, "user:2": 2300, "user:3": 1800}) == 3
    r.zadd(lb, {"user:alice": 1500})
    assert r.zincrby(lb, 100, "user:alice") == 1600.0
    top = [(m, float(s)) for m, s in r.zrevrange(lb, 0, 9, withscores=True)]
    assert top == [("user:2", 2300.0), ("user:3", 1800.0), ("user:alice", 1600.0), ("user:1", 1500.0)]
    assert r.zrevrank(lb, "user:alice") == 2
    assert r.zrevrank(lb, "nobody") is None
    assert r.zscore(lb, "user:3") == 1800.0
    r.zadd(lb, {f"bot:{i}": 1000 + i * 10 for i in range(50)})
    rank = r.zrevrank(lb, "bot:25")
    around = r.zrevrange(lb, max(0, rank - 2), rank + 2)
    assert around == ["bot:27", "bot:26", "bot:25", "bot:24", "bot:23"]
    with r.pipeline() as p:
        p.zrevrank(lb, "user:2")
        p.zscore(lb, "user:2")
        assert p.execute() == [0, 2300.0]
    assert r.zrange(lb, 0, 1, desc=True) == ["user:2", "user:3"]
    assert [m for m, _ in r.zrange(lb, 1500, 1600, byscore=True, withscores=True)] == ["user:1", "user:alice"]


def test_counters_and_page_views(r, pfx):
    r.set(f"{pfx}page:views", 0)
    assert r.incr(f"{pfx}page:views") == 1
    assert r.incrby(f"{pfx}page:views", 5) == 6
    assert r.decr(f"{pfx}page:views") == 5
    assert r.incrbyfloat(f"{pfx}page:views", 0.5) == 5.5
    flushes = sum(1 for _ in range(300) if r.incr(f"{pfx}page:home") % 100 == 0)
    assert flushes == 3
    assert int(r.get(f"{pfx}page:home")) == 300
    with pytest.raises(redis.ResponseError, match="value is not an integer or out of range"):
        r.set(f"{pfx}s", "abc")
        r.incr(f"{pfx}s")


def test_lists_as_queues_and_job_queue(r, pfx):
    q = f"{pfx}jobs:pending"
    for i in range(5):
        r.rpush(q, json.dumps({"id": i, "retries": 0, "maxRetries": 3}))
    assert r.llen(q) == 5
    done, failed = [], []
    while (raw := r.lpop(q)) is not None:
        job = json.loads(raw)
        if job["id"] == 3 and job["retries"] < 2:  # transient failure twice
            job["retries"] += 1
            r.rpush(q, json.dumps(job))
            continue
        if job["id"] == 4:  # permanent failure
            job["retries"] += 1
            if job["retries"] >= job["maxRetries"]:
                r.hset(f"{pfx}jobs:failed", str(job["id"]), json.dumps(job))
                failed.append(job["id"])
            else:
                r.rpush(q, json.dumps(job))
            continue
        r.hset(f"{pfx}jobs:completed", str(job["id"]), int(time.time() * 1000))
        done.append(job["id"])
    assert sorted(done) == [0, 1, 2, 3] and failed == [4]
    assert r.hlen(f"{pfx}jobs:completed") == 4
    assert r.lpop(q) is None
    r.rpush(q, "a", "b", "c")
    assert r.lpop(q, 2) == ["a", "b"]
    assert r.lmove(q, f"{pfx}processing", "LEFT", "RIGHT") == "c"


def test_hset_mapping_and_hgetall(r, pfx):
    key = f"{pfx}user:42"
    assert r.hset(key, mapping={"name": "Ada Lovelace", "email": "ada@example.com", "role": "admin"}) == 3
    assert r.hgetall(key) == {"name": "Ada Lovelace", "email": "ada@example.com", "role": "admin"}
    assert r.hget(key, "name") == "Ada Lovelace"
    assert r.hdel(key, "role") == 1
    assert r.hincrby(key, "login_count", 1) == 1
    assert r.hgetall(f"{pfx}none") == {}
    assert r.hmget(key, ["name", "nope"]) == ["Ada Lovelace", None]


def test_sets(r, pfx):
    assert r.sadd(f"{pfx}online", "user:1", "user:2", "user:3") == 3
    assert r.sismember(f"{pfx}online", "user:2") in (1, True)
    assert r.smembers(f"{pfx}online") == {"user:1", "user:2", "user:3"}
    assert r.srem(f"{pfx}online", "user:1") == 1
    assert r.scard(f"{pfx}online") == 2
    r.sadd(f"{pfx}a", "coding", "gaming", "music")
    r.sadd(f"{pfx}b", "coding", "sports", "music")
    assert r.sinter(f"{pfx}a", f"{pfx}b") == {"coding", "music"}


def test_pipeline_of_100_gets(r, pfx):
    with r.pipeline(transaction=False) as p:
        for i in range(100):
            if i % 3:
                p.set(f"{pfx}user:{i}", json.dumps({"id": i}))
        p.execute()
    with r.pipeline(transaction=False) as p:
        for i in range(100):
            p.get(f"{pfx}user:{i}")
        results = p.execute()
    assert len(results) == 100
    for i, v in enumerate(results):
        assert (v is None) if i % 3 == 0 else (json.loads(v) == {"id": i})


def test_pipeline_errors_per_command(r, pfx):
    r.set(f"{pfx}s", "text")
    with r.pipeline(transaction=False) as p:
        p.set(f"{pfx}a", 1)
        p.lpush(f"{pfx}s", "x")
        p.get(f"{pfx}a")
        res = p.execute(raise_on_error=False)
    assert res[0] is True
    assert isinstance(res[1], redis.ResponseError) and str(res[1]).startswith("WRONGTYPE")
    assert res[2] == "1"


def test_watch_transaction(r, pfx, clients):
    other = clients()
    r.set(f"{pfx}bal", 100)
    with r.pipeline() as p:
        p.watch(f"{pfx}bal")
        bal = int(p.get(f"{pfx}bal"))
        other.incrby(f"{pfx}bal", 5)
        p.multi()
        p.set(f"{pfx}bal", bal - 30)
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get(f"{pfx}bal") == "105"

    def debit(pipe):
        cur = int(pipe.get(f"{pfx}bal"))
        pipe.multi()
        pipe.set(f"{pfx}bal", cur - 30)

    assert r.transaction(debit, f"{pfx}bal") == [True]
    assert r.get(f"{pfx}bal") == "75"


def _hit_rate(hits, misses):
    total = hits + misses
    return "0%" if total == 0 else f"{hits / total * 100:.2f}%"


def test_info_parsed_like_the_seeds(r, pfx):
    r.set(f"{pfx}hit", "1")
    before = r.info()
    for _ in range(6):
        r.get(f"{pfx}hit")
    for i in range(2):
        r.get(f"{pfx}miss:{i}")
    after = r.info()
    assert after["keyspace_hits"] - before["keyspace_hits"] == 6
    assert after["keyspace_misses"] - before["keyspace_misses"] == 2
    assert _hit_rate(6, 2) == "75.00%"
    assert isinstance(after["used_memory"], int) and after["used_memory"] > 0
    assert isinstance(after["used_memory_human"], str) and after["used_memory_human"][-1] in "BKMG"
    assert after["connected_clients"] >= 1
    assert after["db0"]["keys"] == r.dbsize()
    assert after["redis_mode"] == "standalone"
    mem = r.info("memory")
    assert "maxmemory_policy" in mem and "used_memory_peak" in mem
    assert "keyspace_hits" in r.info("stats")


def test_memory_usage(r, pfx):
    r.set(f"{pfx}small", "x")
    r.set(f"{pfx}large", "x" * 10000)
    small = r.memory_usage(f"{pfx}small")
    large = r.memory_usage(f"{pfx}large")
    assert 0 < small < 200
    assert 10000 <= large < 20000
    assert r.memory_usage(f"{pfx}missing") is None


def test_config_set_maxmemory_policy(r):
    old = r.config_get("maxmemory-policy")
    old_max = r.config_get("maxmemory")
    assert set(old) == {"maxmemory-policy"}, old
    assert set(old_max) == {"maxmemory"}, old_max
    try:
        assert r.config_set("maxmemory-policy", "allkeys-lru") is True
        assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
        assert r.config_set("maxmemory", "256mb") is True
        assert r.config_get("maxmemory") == {"maxmemory": "268435456"}
        assert r.info("memory")["maxmemory_policy"] == "allkeys-lru"
        with pytest.raises(redis.ResponseError):
            r.config_set("maxmemory-policy", "bogus-policy")
    finally:
        try:
            r.config_set("maxmemory-policy", old["maxmemory-policy"])
            r.config_set("maxmemory", old_max["maxmemory"])
        except redis.ResponseError:
            pass


def test_ping_health_check(r):
    t0 = time.monotonic()
    assert r.ping() is True
    assert (time.monotonic() - t0) < 1
    assert r.echo("hello") == "hello"


def test_graceful_close_forgets_the_client(r, clients, pfx):
    name = f"{pfx.replace(':', '-')}bye"
    c = clients(client_name=name)
    c.ping()
    assert any(x.get("name") == name for x in r.client_list())
    c.close()
    wait_for(lambda: not any(x.get("name") == name for x in r.client_list()), 5, "client gone")
    # an explicit QUIT is answered OK
    conn = r.connection_pool.get_connection()
    try:
        conn.send_command("QUIT")
        assert conn.read_response() in ("OK", b"OK")
    finally:
        conn.disconnect()
        r.connection_pool.release(conn)
