// node-redis 4.x and 5.x, the seeds' API spellings: createClient with a
// reconnectStrategy, setEx cache-aside, zAdd / zRangeWithScores {REV} /
// zRevRank leaderboards, the sliding-window limiter in multi().exec(),
// hSet with an object / hGetAll, mSet / mGet, scanIterator, duplicate(),
// subscribe(channel, listener) (issue 6), blPop (issue 5); the connect
// handshake (CLIENT SETINFO, SETNAME, SELECT, AUTH/HELLO) and RESP3 (v5).
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as redis4 from 'redis4';
import * as redis5 from 'redis5';
import { ioredis, prefix, cleanup, closeAll, needs, track, REDIS_URL, waitFor, sleep, spawnServer, SERVER_BIN, versionAtLeast, withTimeout } from '../lib/common.mjs';

const P = prefix('nr');
const inspect = ioredis();
const SETINFO = await versionAtLeast(7, 2);
const PRIVATE = SERVER_BIN ? {} : { skip: 'COMPAT_SERVER_BIN not set: cannot start a private server' };
after(async () => {
  await cleanup(P);
  await cleanup(P, 2);
  await closeAll();
});

const variants = [
  { name: 'node-redis 4', lib: redis4, version: (await import('redis4/package.json', { with: { type: 'json' } })).default.version, resp: 2 },
  { name: 'node-redis 5', lib: redis5, version: (await import('redis5/package.json', { with: { type: 'json' } })).default.version, resp: 2 },
  { name: 'node-redis 5 RESP3', lib: redis5, version: (await import('redis5/package.json', { with: { type: 'json' } })).default.version, resp: 3 },
];

async function flatKeys(iter) {
  const out = [];
  for await (const k of iter) {
    if (Array.isArray(k)) out.push(...k); // v5 yields batches
    else out.push(k); // v4 yields keys
  }
  return out;
}

for (const v of variants) {
  describe(v.name, () => {
    const K = `${P}${v.resp === 3 ? 'r3' : v.name.slice(-1)}:`;
    const make = (opts = {}) => {
      const c = v.lib.createClient({
        url: REDIS_URL,
        socket: { reconnectStrategy: (retries) => Math.min(retries * 50, 2000), connectTimeout: 5000 },
        ...(v.resp === 3 ? { RESP: 3 } : {}),
        ...opts,
      });
      c.on('error', () => {});
      return track(c);
    };
    let redis;

    test('createClient + connect; CLIENT SETINFO; name; RESP version', { timeout: 10000 }, async () => {
      redis = make();
      await redis.connect();
      assert.equal(redis.isReady, true);
      assert.equal(await redis.ping(), 'PONG');
      const named = make({ name: `${K.replace(/:/g, '-')}named` });
      await named.connect();
      const info = await named.sendCommand(['CLIENT', 'INFO']);
      assert.match(info, new RegExp(`name=${K.replace(/:/g, '-')}named `));
      assert.match(info, new RegExp(`resp=${v.resp}(\\s|$)`));
      if (SETINFO) {
        assert.match(info, /lib-name=node-redis(\s|$)/);
        assert.match(info, /lib-ver=\d+\.\d+\.\d+(\s|$)/);
      }
      assert.equal(await named.clientGetName(), `${K.replace(/:/g, '-')}named`);
    });

    test('cache-aside with get / setEx', { timeout: 10000 }, async () => {
      let queries = 0;
      async function getUser(id) {
        const key = `${K}user:${id}`;
        const hit = await redis.get(key);
        if (hit) return JSON.parse(hit);
        queries++;
        const user = { id, name: `user ${id}` };
        assert.equal(await redis.setEx(key, 300, JSON.stringify(user)), 'OK');
        return user;
      }
      await getUser('1');
      assert.deepEqual(await getUser('1'), { id: '1', name: 'user 1' });
      assert.equal(queries, 1);
      const ttl = await redis.ttl(`${K}user:1`);
      assert.ok(ttl > 290 && ttl <= 300);
      assert.equal(await redis.get(`${K}none`), null);
      assert.equal(await redis.set(`${K}nx`, 'a', { NX: true, EX: 10 }), 'OK');
      assert.equal(await redis.set(`${K}nx`, 'b', { NX: true, EX: 10 }), null);
      assert.equal(await redis.incr(`${K}count`), 1);
      assert.equal(await redis.incrBy(`${K}count`, 5), 6);
    });

    test('leaderboard: zAdd {score, value}, zRangeWithScores {REV: true}, zRevRank, zIncrBy', { timeout: 10000 }, async () => {
      const lb = `${K}leaderboard:monthly`;
      assert.equal(await redis.zAdd(lb, { score: 100, value: 'alice' }), 1);
      assert.equal(await redis.zAdd(lb, [{ score: 300, value: 'bob' }, { score: 200, value: 'carol' }]), 2);
      const leaders = await redis.zRangeWithScores(lb, 0, 9, { REV: true });
      assert.deepEqual(leaders, [
        { value: 'bob', score: 300 },
        { value: 'carol', score: 200 },
        { value: 'alice', score: 100 },
      ]);
      assert.equal(await redis.zRevRank(lb, 'alice'), 2);
      assert.equal(await redis.zRevRank(lb, 'nobody'), null);
      assert.equal(await redis.zIncrBy(lb, 250, 'alice'), 350);
      assert.deepEqual(await redis.zRange(lb, 0, 0, { REV: true }), ['alice']);
      assert.equal(await redis.zScore(lb, 'carol'), 200);
      assert.equal(await redis.zCard(lb), 3);
    });

    test('sliding-window limiter in multi().exec()', { timeout: 10000 }, async () => {
      async function rateLimit(userId, limit, windowMs) {
        const now = Date.now();
        const key = `${K}rl:${userId}`;
        const windowStart = now - windowMs;
        const pipeline = redis.multi();
        pipeline.zRemRangeByScore(key, 0, windowStart);
        pipeline.zAdd(key, { score: now, value: `${now}-${Math.random()}` });
        pipeline.zCard(key);
        pipeline.expire(key, Math.ceil(windowMs / 1000));
        const results = await pipeline.exec();
        assert.equal(results.length, 4);
        const count = results[2];
        return count <= limit;
      }
      const out = [];
      for (let i = 0; i < 6; i++) out.push(await rateLimit('u1', 4, 60000));
      assert.deepEqual(out, [true, true, true, true, false, false]);
      const ttl = await redis.ttl(`${K}rl:u1`);
      assert.ok(ttl > 55 && ttl <= 60);
      // chained form and execAsPipeline
      const r = await redis.multi().set(`${K}m`, '1').incr(`${K}m`).get(`${K}m`).exec();
      assert.deepEqual(r, ['OK', 2, '2']);
      const p = await redis.multi().incr(`${K}m`).get(`${K}m`).execAsPipeline();
      assert.deepEqual(p, [3, '3']);
    });

    test('hSet with an object, hGetAll back; mSet / mGet; scanIterator MATCH', { timeout: 10000 }, async () => {
      assert.equal(await redis.hSet(`${K}user:42`, { name: 'Ada', email: 'ada@example.com', role: 'admin' }), 3);
      const h = await redis.hGetAll(`${K}user:42`);
      assert.deepEqual({ ...h }, { name: 'Ada', email: 'ada@example.com', role: 'admin' });
      assert.equal(await redis.hGet(`${K}user:42`, 'name'), 'Ada');
      assert.deepEqual({ ...(await redis.hGetAll(`${K}user:none`)) }, {});
      assert.equal(await redis.mSet({ [`${K}a`]: '1', [`${K}b`]: '2' }), 'OK');
      assert.deepEqual(await redis.mGet([`${K}a`, `${K}b`, `${K}c`]), ['1', '2', null]);
      for (let i = 0; i < 120; i++) await redis.set(`${K}scan:${i}`, String(i));
      const keys = await flatKeys(redis.scanIterator({ MATCH: `${K}scan:*`, COUNT: 50 }));
      assert.equal(new Set(keys).size, 120);
    });

    test('database option selects a db; duplicate() keeps options', { timeout: 10000 }, async () => {
      const c = make({ database: 2 });
      await c.connect();
      await c.set(`${K}db2`, 'two');
      assert.equal(await redis.get(`${K}db2`), null);
      const d = track(c.duplicate());
      d.on('error', () => {});
      await d.connect();
      assert.equal(await d.get(`${K}db2`), 'two');
      assert.match(await d.sendCommand(['CLIENT', 'INFO']), / db=2 /);
    });

    test('subscribe(channel, listener) on a duplicate(); publish', { timeout: 15000 }, async () => {
      const subscriber = track(redis.duplicate());
      subscriber.on('error', () => {});
      await subscriber.connect();
      const got = [];
      await subscriber.subscribe(`${K}deployments`, (message) => got.push(JSON.parse(message)));
      const pgot = [];
      await subscriber.pSubscribe(`${K}deploy*`, (message, channel) => pgot.push(channel));
      assert.equal(await redis.publish(`${K}deployments`, JSON.stringify({ projectId: 1, status: 'deployed' })), 2);
      await waitFor(() => got.length === 1 && pgot.length === 1, 5000, 'messages');
      assert.deepEqual(got[0], { projectId: 1, status: 'deployed' });
      assert.equal(pgot[0], `${K}deployments`);
      await subscriber.unsubscribe(`${K}deployments`);
      await subscriber.pUnsubscribe();
    });

    test('blPop worker on an isolated connection', { timeout: 15000, ...needs(5) }, async () => {
      const worker = track(redis.duplicate());
      worker.on('error', () => {});
      await worker.connect();
      const p = worker.blPop(`${K}jobs`, 5);
      await sleep(100);
      await redis.rPush(`${K}jobs`, 'job-1');
      assert.deepEqual({ ...(await p) }, { key: `${K}jobs`, element: 'job-1' });
      assert.equal(await worker.blPop(`${K}jobs`, 0.2), null);
    });

    test('QUIT / close: the server forgets the client', { timeout: 10000 }, async () => {
      const name = `${K.replace(/:/g, '-')}bye`;
      const c = make({ name });
      await c.connect();
      assert.match(await inspect.client('LIST'), new RegExp(`name=${name} `));
      if (v.lib === redis4) assert.equal(await c.quit(), 'OK');
      else await c.close();
      assert.equal(c.isOpen, false);
      await waitFor(async () => !(await inspect.client('LIST')).includes(`name=${name} `), 5000, 'client gone');
    });

    describe('private server', () => {
      test('password in the URL (AUTH or HELLO AUTH), reconnect after restart', { timeout: 30000, ...PRIVATE }, async () => {
        const srv = await spawnServer(['--requirepass', 'pw']);
        const c = v.lib.createClient({
          url: `redis://default:pw@127.0.0.1:${srv.port}`,
          name: 'np',
          socket: { reconnectStrategy: (retries) => Math.min(retries * 50, 500) },
          ...(v.resp === 3 ? { RESP: 3 } : {}),
        });
        c.on('error', () => {});
        try {
          await withTimeout(c.connect(), 5000, 'connect');
          assert.equal(await c.set('k', 'v'), 'OK');
          assert.equal(await c.clientGetName(), 'np');
          const bad = v.lib.createClient({ url: `redis://default:nope@127.0.0.1:${srv.port}`, socket: { reconnectStrategy: false } });
          bad.on('error', () => {});
          await assert.rejects(withTimeout(bad.connect(), 5000, 'connect'), /WRONGPASS/);
          await srv.restart();
          await waitFor(async () => (await c.ping().catch(() => null)) === 'PONG', 10000, 'reconnect');
          assert.equal(await c.get('k'), null);
          assert.equal(await c.clientGetName(), 'np', 'name restored on reconnect');
        } finally {
          await c.disconnect().catch(() => {});
          await srv.cleanup();
        }
      });
    });
  });
}

describe('node-redis 5 RESP3 reply shapes', () => {
  test('HELLO 3 map replies: hGetAll object, CONFIG GET object, doubles', { timeout: 10000 }, async () => {
    const c = track(redis5.createClient({ url: REDIS_URL, RESP: 3 }));
    c.on('error', () => {});
    await c.connect();
    const hello = await c.hello(3);
    const h = hello instanceof Map ? Object.fromEntries(hello) : hello;
    assert.equal(h.proto, 3);
    assert.equal(h.server, 'redis');
    assert.match(String(h.version), /^\d+\.\d+\.\d+$/);
    await c.hSet(`${P}r3h`, { a: '1', b: '2' });
    assert.deepEqual({ ...(await c.hGetAll(`${P}r3h`)) }, { a: '1', b: '2' });
    const cfg = await c.configGet('maxmemory-policy');
    assert.ok(cfg['maxmemory-policy'] !== undefined, JSON.stringify(cfg));
    await c.zAdd(`${P}r3z`, { score: 1.5, value: 'x' });
    assert.equal(await c.zScore(`${P}r3z`, 'x'), 1.5);
    assert.equal(await c.zIncrBy(`${P}r3z`, 1, 'x'), 2.5);
    assert.deepEqual(await c.zRangeWithScores(`${P}r3z`, 0, -1), [{ value: 'x', score: 2.5 }]);
    assert.deepEqual(await c.sMembers(`${P}r3none`), []);
  });
});
