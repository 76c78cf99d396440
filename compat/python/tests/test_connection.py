"""redis-py's own surface: protocol negotiation (RESP2 / HELLO 3), CLIENT
SETINFO lib-name/lib-ver, client_name, db selection, URLs, RESP3 reply
types, asyncio client, requirepass and reconnect after a restart on a
private server."""

import asyncio
import json

import pytest
import redis
import redis.asyncio as aioredis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from conftest import HOST, PASSWORD, PORT, new_client, server_version, wait_for


def test_protocol_and_client_info(r, protocol, clients, pfx):
    name = f"{pfx.replace(':', '-')}svc"
    c = clients(client_name=name)
    info = c.client_info()
    assert info["name"] == name
    assert str(info["resp"]) == str(protocol)
    assert c.client_getname() == name
    assert isinstance(c.client_id(), int)
    if server_version() >= (7, 2):
        assert info["lib-name"] == "redis-py"
        assert info["lib-ver"] == redis.__version__
    me = [x for x in r.client_list() if x.get("name") == name]
    assert len(me) == 1


def test_hello_reply(r, protocol):
    hello = r.execute_command("HELLO", protocol)
    if isinstance(hello, list):  # RESP2 flat array
        hello = dict(zip(hello[::2], hello[1::2]))
    assert hello["server"] == "redis"
    assert int(hello["proto"]) == protocol
    assert hello["mode"] == "standalone"
    assert hello["role"] == "master"


def test_db_selection_and_urls(clients, pfx, protocol):
    c3 = clients(db=3)
    c3.set(f"{pfx}k", "three")
    c0 = clients()
    assert c0.get(f"{pfx}k") is None
    assert str(c3.client_info()["db"]) == "3"
    auth = f":{PASSWORD}@" if PASSWORD else ""
    u = redis.Redis.from_url(f"redis://{auth}{HOST}:{PORT}/3?protocol={protocol}", decode_responses=True)
    try:
        assert u.get(f"{pfx}k") == "three"
        assert str(u.client_info()["db"]) == "3"
    finally:
        u.close()
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        c0.execute_command("SELECT", 999)


def test_resp3_reply_types(r, pfx, protocol):
    r.hset(f"{pfx}h", mapping={"a": "1"})
    assert r.hgetall(f"{pfx}h") == {"a": "1"}
    r.sadd(f"{pfx}s", "x", "y")
    assert r.smembers(f"{pfx}s") == {"x", "y"}
    r.zadd(f"{pfx}z", {"m": 1.5})
    assert r.zscore(f"{pfx}z", "m") == 1.5
    assert r.zincrby(f"{pfx}z", 1, "m") == 2.5
    assert r.zrange(f"{pfx}z", 0, -1, withscores=True) in ([("m", 2.5)], [["m", 2.5]])
    assert isinstance(r.info(), dict)
    assert isinstance(r.config_get("maxmemory*"), dict)
    assert r.exists(f"{pfx}h", f"{pfx}s", f"{pfx}none") == 2
    assert r.get(f"{pfx}none") is None
    assert r.type(f"{pfx}z") == "zset"
    raw = new_client(protocol, decode_responses=False)
    try:
        blob = bytes(range(256))
        raw.set(f"{pfx}bin", blob)
        assert raw.get(f"{pfx}bin") == blob
    finally:
        raw.close()


def test_asyncio_cache_aside(pfx, protocol):
    async def main():
        c = aioredis.Redis(host=HOST, port=PORT, password=PASSWORD, protocol=protocol, decode_responses=True)
        try:
            loads = 0

            async def get_user(uid):
                nonlocal loads
                hit = await c.get(f"{pfx}user:{uid}")
                if hit:
                    return json.loads(hit)
                loads += 1
                u = {"id": uid}
                await c.set(f"{pfx}user:{uid}", json.dumps(u), ex=300)
                return u

            await get_user(1)
            res = await asyncio.gather(*(get_user(1) for _ in range(20)))
            assert all(x == {"id": 1} for x in res) and loads == 1
            async with c.pipeline(transaction=True) as p:
                p.incr(f"{pfx}n")
                p.expire(f"{pfx}n", 60)
                assert await p.execute() == [1, True]
            await c.delete(f"{pfx}user:1", f"{pfx}n")
        finally:
            await c.aclose()

    asyncio.run(main())


def test_requirepass_and_reconnect_after_restart(private_server, protocol):
    srv = private_server("--requirepass", "s3cret")
    fast = dict(retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 3), socket_timeout=5)
    good = redis.Redis(host="127.0.0.1", port=srv.port, password="s3cret", protocol=protocol, decode_responses=True, **fast)
    try:
        assert good.set("k", "v") is True
        u = redis.Redis.from_url(f"redis://default:s3cret@127.0.0.1:{srv.port}/0", protocol=protocol, decode_responses=True, **fast)
        assert u.get("k") == "v"
        u.close()
        anon = redis.Redis(host="127.0.0.1", port=srv.port, protocol=2, decode_responses=True, **fast)
        with pytest.raises(redis.AuthenticationError):
            anon.get("k")
        anon.close()
        wrong = redis.Redis(host="127.0.0.1", port=srv.port, password="nope", protocol=protocol, decode_responses=True, **fast)
        with pytest.raises(redis.AuthenticationError):
            wrong.ping()
        wrong.close()
        srv.restart()
        # the pooled connection is dead; redis-py reconnects (and re-authenticates) on retry
        wait_for(lambda: _try_ping(good), 10, "reconnect")
        assert good.get("k") is None
    finally:
        good.close()


def _try_ping(c):
    try:
        return c.ping()
    except redis.ConnectionError:
        return False
