// Caching patterns from the seeds, through ioredis: cache-aside with TTL and
// jitter, write-through, write-behind, invalidation (DEL, KEYS, SCAN MATCH,
// event-driven, pub/sub broadcast), stampede protection with SET NX EX, and
// an express response-cache middleware driven over HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import express from 'express';
import { ioredis, ready, prefix, cleanup, closeAll, needs, sleep, waitFor, listen, httpClient, withTimeout } from '../lib/common.mjs';

const P = prefix('cache');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

// A fake database that counts its queries.
function fakeDb() {
  const rows = new Map([
    ['1', { id: '1', name: 'Alice', email: 'alice@example.com' }],
    ['2', { id: '2', name: 'Bob', email: 'bob@example.com' }],
  ]);
  const db = {
    queries: 0,
    async find(id) {
      db.queries++;
      await sleep(5);
      return rows.has(id) ? { ...rows.get(id) } : null;
    },
    async update(id, data) {
      db.queries++;
      rows.set(id, { ...rows.get(id), ...data });
      return { ...rows.get(id) };
    },
  };
  return db;
}

function ttlWithJitter(baseTtl) {
  const jitter = Math.floor(Math.random() * baseTtl * 0.1);
  return baseTtl + jitter;
}

test('cache-aside: miss loads and stores with TTL, hit does not touch the db', { timeout: 10000 }, async () => {
  const db = fakeDb();
  async function getUser(userId) {
    const cacheKey = `${P}user:${userId}`;
    const cached = await redis.get(cacheKey);
    if (cached) return JSON.parse(cached);
    const user = await db.find(userId);
    if (!user) return null;
    await redis.set(cacheKey, JSON.stringify(user), 'EX', 3600);
    return user;
  }
  assert.deepEqual(await getUser('1'), { id: '1', name: 'Alice', email: 'alice@example.com' });
  assert.equal(db.queries, 1);
  for (let i = 0; i < 5; i++) assert.equal((await getUser('1')).name, 'Alice');
  assert.equal(db.queries, 1, 'hits served from the cache');
  const ttl = await redis.ttl(`${P}user:1`);
  assert.ok(ttl > 3590 && ttl <= 3600, `ttl ${ttl}`);
  assert.equal(await getUser('404'), null);
  assert.equal(await redis.exists(`${P}user:404`), 0, 'misses of absent rows are not cached');
});

test('cache-aside with SETEX and TTL jitter (withCache / smartCacheGet)', { timeout: 10000 }, async () => {
  const db = fakeDb();
  async function smartCacheGet(key, ttl, loader) {
    const cached = await redis.get(key);
    if (cached) return JSON.parse(cached);
    const data = await loader();
    const jitter = Math.random() * 0.1 * ttl;
    await redis.setex(key, Math.floor(ttl + jitter), JSON.stringify(data));
    return data;
  }
  const base = 300;
  const ttls = [];
  for (let i = 0; i < 20; i++) {
    const key = `${P}product:${i}`;
    await smartCacheGet(key, base, () => db.find('2'));
    await redis.set(`${P}jit:${i}`, 'data', 'EX', ttlWithJitter(base));
    ttls.push(await redis.ttl(key), await redis.ttl(`${P}jit:${i}`));
  }
  for (const t of ttls) assert.ok(t >= base - 2 && t <= base * 1.1, `ttl ${t} outside [${base}, ${base * 1.1}]`);
  assert.equal(db.queries, 20);
  await smartCacheGet(`${P}product:0`, base, () => db.find('2'));
  assert.equal(db.queries, 20);
});

test('cached values really expire (short TTL, then a miss reloads)', { timeout: 10000 }, async () => {
  const db = fakeDb();
  const key = `${P}live:scores`;
  const get = async () => {
    const hit = await redis.get(key);
    if (hit) return JSON.parse(hit);
    const v = await db.find('1');
    await redis.set(key, JSON.stringify(v), 'PX', 300);
    return v;
  };
  await get();
  await get();
  assert.equal(db.queries, 1);
  const pttl = await redis.pttl(key);
  assert.ok(pttl > 0 && pttl <= 300, `pttl ${pttl}`);
  await waitFor(async () => (await redis.exists(key)) === 0, 3000, 'key expiry');
  assert.equal(await redis.ttl(key), -2);
  await get();
  assert.equal(db.queries, 2);
});

test('write-through: update the db then the cache; counters and capped lists', { timeout: 10000 }, async () => {
  const db = fakeDb();
  const CACHE_TTL = 3600;
  async function updateUser(userId, data) {
    const user = await db.update(userId, data);
    await redis.setex(`${P}user:${userId}`, CACHE_TTL, JSON.stringify(user));
    return user;
  }
  await updateUser('1', { name: 'Alice Cooper' });
  assert.equal(JSON.parse(await redis.get(`${P}user:1`)).name, 'Alice Cooper');
  assert.ok((await redis.ttl(`${P}user:1`)) > 3590);

  // createPost(): lpush + ltrim 50, hincrby + expire on a stats hash
  async function createPost(userId, title) {
    const post = { id: crypto.randomUUID(), userId, title };
    const userPostsKey = `${P}user:${userId}:posts`;
    await redis.lpush(userPostsKey, JSON.stringify(post));
    await redis.ltrim(userPostsKey, 0, 49);
    const userStatsKey = `${P}user:${userId}:stats`;
    await redis.hincrby(userStatsKey, 'postCount', 1);
    await redis.expire(userStatsKey, 86400);
    return post;
  }
  for (let i = 0; i < 60; i++) await createPost(7, `post ${i}`);
  assert.equal(await redis.llen(`${P}user:7:posts`), 50);
  assert.equal(JSON.parse(await redis.lindex(`${P}user:7:posts`, 0)).title, 'post 59');
  assert.deepEqual(await redis.hgetall(`${P}user:7:stats`), { postCount: '60' });
  const ttl = await redis.ttl(`${P}user:7:stats`);
  assert.ok(ttl > 86390 && ttl <= 86400, `ttl ${ttl}`);
});

test('write-behind: update the cache, queue the db sync, drain the queue (non-blocking part)', { timeout: 10000 }, async () => {
  const q = `${P}queue:db-sync`;
  async function updateUserAsync(userId, data) {
    const cacheKey = `${P}wb:user:${userId}`;
    const current = await redis.get(cacheKey);
    const updated = { ...JSON.parse(current || '{}'), ...data };
    await redis.setex(cacheKey, 3600, JSON.stringify(updated));
    await redis.rpush(q, JSON.stringify({ operation: 'UPDATE_USER', userId, data, timestamp: Date.now() }));
  }
  await updateUserAsync('5', { name: 'Eve' });
  await updateUserAsync('5', { email: 'eve@example.com' });
  assert.deepEqual(JSON.parse(await redis.get(`${P}wb:user:5`)), { name: 'Eve', email: 'eve@example.com' });
  const synced = [];
  for (let job; (job = await redis.lpop(q)); ) synced.push(JSON.parse(job).data);
  assert.deepEqual(synced, [{ name: 'Eve' }, { email: 'eve@example.com' }]);
});

test('write-behind worker with BLPOP queue:db-sync 0', { timeout: 15000, ...needs(5) }, async () => {
  const q = `${P}queue:db-sync-blpop`;
  const worker = ioredis();
  const db = fakeDb();
  const processed = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const job = await worker.blpop(q, 0);
      if (job) {
        assert.equal(job[0], q);
        const { operation, userId, data } = JSON.parse(job[1]);
        if (operation === 'STOP') break;
        if (operation === 'UPDATE_USER') processed.push(await db.update(userId, data));
      }
    }
  })();
  await sleep(100); // the worker is parked in BLPOP now
  await redis.rpush(q, JSON.stringify({ operation: 'UPDATE_USER', userId: '1', data: { name: 'A1' } }));
  await redis.rpush(q, JSON.stringify({ operation: 'UPDATE_USER', userId: '2', data: { name: 'B2' } }));
  await waitFor(() => processed.length === 2, 5000, 'worker to process 2 jobs');
  stop = true;
  await redis.rpush(q, JSON.stringify({ operation: 'STOP' }));
  await withTimeout(loop, 5000, 'worker stop');
  assert.deepEqual(processed.map((u) => u.name), ['A1', 'B2']);
});

test('invalidation: DEL of one and several keys', { timeout: 10000 }, async () => {
  await redis.mset(`${P}user:9`, 'a', `${P}users:all`, 'b', `${P}users:admin`, 'c');
  assert.equal(await redis.del(`${P}user:9`), 1);
  assert.equal(await redis.del(`${P}users:all`, `${P}users:admin`, `${P}users:none`), 2);
  assert.equal(await redis.exists(`${P}user:9`, `${P}users:all`, `${P}users:admin`), 0);
});

test('invalidation by pattern: KEYS + DEL', { timeout: 10000 }, async () => {
  for (let i = 0; i < 20; i++) await redis.set(`${P}kp:user:123:f${i}`, i);
  await redis.set(`${P}kp:user:1234:keep`, 'x');
  async function invalidatePattern(pattern) {
    const keys = await redis.keys(pattern);
    if (keys.length > 0) await redis.del(...keys);
    return keys.length;
  }
  assert.equal(await invalidatePattern(`${P}kp:user:123:*`), 20);
  assert.deepEqual(await redis.keys(`${P}kp:*`), [`${P}kp:user:1234:keep`]);
});

test('invalidation by pattern: SCAN MATCH COUNT 100 cursor loop + DEL', { timeout: 20000 }, async () => {
  const pipe = redis.pipeline();
  for (let i = 0; i < 1000; i++) pipe.set(`${P}sc:user:77:item:${i}`, i, 'EX', 600);
  for (let i = 0; i < 300; i++) pipe.set(`${P}sc:user:78:item:${i}`, i);
  await pipe.exec();
  async function invalidatePatternSafe(pattern) {
    let cursor = '0';
    let deletedCount = 0;
    let rounds = 0;
    do {
      const [newCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 100);
      assert.equal(typeof newCursor, 'string');
      cursor = newCursor;
      rounds++;
      if (keys.length > 0) deletedCount += await redis.del(...keys);
    } while (cursor !== '0');
    return { deletedCount, rounds };
  }
  const { deletedCount, rounds } = await invalidatePatternSafe(`${P}sc:user:77:*`);
  assert.equal(deletedCount, 1000);
  assert.ok(rounds > 1, 'SCAN iterated in several rounds');
  assert.equal((await redis.keys(`${P}sc:user:77:*`)).length, 0);
  assert.equal((await redis.keys(`${P}sc:user:78:*`)).length, 300);
});

test('event-driven invalidation (EventEmitter -> DEL / SCAN)', { timeout: 10000 }, async () => {
  const events = new EventEmitter();
  const done = [];
  events.on('user:updated', async (userId) => {
    await redis.del(`${P}ev:user:${userId}`);
    await redis.del(`${P}ev:user:${userId}:profile`);
    await redis.del(`${P}ev:user:${userId}:settings`);
    done.push('updated');
  });
  await redis.mset(`${P}ev:user:3`, 1, `${P}ev:user:3:profile`, 2, `${P}ev:user:3:settings`, 3, `${P}ev:user:4`, 4);
  events.emit('user:updated', '3');
  await waitFor(() => done.length === 1, 3000, 'handler');
  assert.equal(await redis.exists(`${P}ev:user:3`, `${P}ev:user:3:profile`, `${P}ev:user:3:settings`), 0);
  assert.equal(await redis.exists(`${P}ev:user:4`), 1);
});

test('invalidation broadcast over pub/sub to other instances', { timeout: 15000 }, async () => {
  const publisher = ioredis();
  const instances = await Promise.all([ioredis(), ioredis()].map(ready));
  const localCaches = instances.map(() => new Map([['product:42', { price: 1 }], ['product:43', { price: 2 }]]));
  await Promise.all(instances.map((s) => s.subscribe(`${P}cache:invalidate`)));
  instances.forEach((s, i) =>
    s.on('message', (channel, message) => {
      if (channel !== `${P}cache:invalidate`) return;
      const { pattern } = JSON.parse(message);
      localCaches[i].delete(pattern);
    }),
  );
  const receivers = await publisher.publish(`${P}cache:invalidate`, JSON.stringify({ pattern: 'product:42' }));
  assert.equal(receivers, 2);
  await waitFor(() => localCaches.every((c) => !c.has('product:42')), 5000, 'both instances invalidated');
  assert.ok(localCaches.every((c) => c.has('product:43')));
});

test('stampede protection: getWithLock (SET lock NX EX 10), one rebuild for 20 callers', { timeout: 20000 }, async () => {
  const db = fakeDb();
  let loads = 0;
  const fetchFn = async () => {
    loads++;
    await sleep(200);
    return db.find('1');
  };
  async function getWithLock(key, ttl) {
    const cached = await redis.get(key);
    if (cached) return JSON.parse(cached);
    const lockKey = `${P}lock:${key}`;
    const acquired = await redis.set(lockKey, '1', 'EX', 10, 'NX');
    if (acquired) {
      assert.equal(acquired, 'OK');
      try {
        const data = await fetchFn();
        await redis.set(key, JSON.stringify(data), 'EX', ttl);
        return data;
      } finally {
        await redis.del(lockKey);
      }
    }
    await sleep(100);
    return getWithLock(key, ttl);
  }
  const results = await Promise.all(Array.from({ length: 20 }, () => getWithLock(`${P}hot`, 60)));
  assert.equal(loads, 1, 'only the lock winner rebuilt the cache');
  assert.ok(results.every((r) => r.name === 'Alice'));
  assert.equal(await redis.exists(`${P}lock:${P}hot`), 0, 'lock released');
});

test('SET NX on a held lock returns null; the lock expires by itself', { timeout: 10000 }, async () => {
  const lockKey = `${P}lock:cron`;
  assert.equal(await redis.set(lockKey, 'a', 'EX', 1, 'NX'), 'OK');
  assert.equal(await redis.set(lockKey, 'b', 'EX', 1, 'NX'), null);
  assert.equal(await redis.get(lockKey), 'a');
  await waitFor(async () => (await redis.set(lockKey, 'b', 'EX', 10, 'NX')) === 'OK', 4000, 'lock expiry');
  assert.equal(await redis.get(lockKey), 'b');
});

test('single-flight in process plus cache-aside', { timeout: 10000 }, async () => {
  const db = fakeDb();
  const inflight = new Map();
  async function cachedFetch(key, loader) {
    if (inflight.has(key)) return inflight.get(key);
    const promise = (async () => {
      const hit = await redis.get(key);
      if (hit) return JSON.parse(hit);
      const v = await loader();
      await redis.setex(key, 300, JSON.stringify(v));
      return v;
    })().finally(() => inflight.delete(key));
    inflight.set(key, promise);
    return promise;
  }
  const r = await Promise.all(Array.from({ length: 10 }, () => cachedFetch(`${P}sf:user:2`, () => db.find('2'))));
  assert.equal(db.queries, 1);
  assert.ok(r.every((u) => u.name === 'Bob'));
});

test('express response cache middleware (X-Cache MISS then HIT, md5 keys, setex)', { timeout: 15000 }, async () => {
  let handlerCalls = 0;
  function cacheMiddleware(options) {
    return async (req, res, next) => {
      if (req.method !== 'GET') return next();
      const keyData = `${req.originalUrl}:${JSON.stringify(req.query)}`;
      const cacheKey = `${options.keyPrefix || `${P}api`}:${crypto.createHash('md5').update(keyData).digest('hex')}`;
      const cached = await redis.get(cacheKey);
      if (cached) {
        res.setHeader('X-Cache', 'HIT');
        return res.json(JSON.parse(cached));
      }
      const originalJson = res.json.bind(res);
      res.json = (body) => {
        redis.setex(cacheKey, options.ttl, JSON.stringify(body)).catch(() => {});
        res.setHeader('X-Cache', 'MISS');
        return originalJson(body);
      };
      next();
    };
  }
  const app = express();
  app.get('/api/products', cacheMiddleware({ ttl: 300 }), (req, res) => {
    handlerCalls++;
    res.json([{ id: 1, name: 'Widget', page: req.query.page ?? '1' }]);
  });
  const srv = await listen(app);
  try {
    const http = httpClient(srv.base);
    const a = await http.get('/api/products');
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('x-cache'), 'MISS');
    await waitFor(async () => (await redis.keys(`${P}api:*`)).length === 1, 3000, 'cache write');
    const b = await http.get('/api/products');
    assert.equal(b.headers.get('x-cache'), 'HIT');
    assert.deepEqual(b.json, a.json);
    const c = await http.get('/api/products?page=2');
    assert.equal(c.headers.get('x-cache'), 'MISS');
    assert.equal(c.json[0].page, '2');
    assert.equal(handlerCalls, 2);
    const [k] = await redis.keys(`${P}api:*`);
    assert.match(k, /:[0-9a-f]{32}$/);
    assert.ok((await redis.ttl(k)) > 290);
  } finally {
    await srv.close();
  }
});
