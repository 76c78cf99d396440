// Rate limiters from the seeds, through ioredis: fixed window (INCR + TTL in
// a pipeline, EXPIRE on the first hit), the express middleware over HTTP
// (429 + X-RateLimit-* headers), and the sliding window on a sorted set
// (ZREMRANGEBYSCORE / ZADD / ZCARD / EXPIRE) in a pipeline and in MULTI.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { ioredis, prefix, cleanup, closeAll, sleep, waitFor, listen, httpClient, needs } from '../lib/common.mjs';

const P = prefix('rl');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

// seed 000: pipeline incr + ttl, expire when count === 1
async function checkRateLimit(identifier, { windowSeconds, maxRequests }) {
  const key = `${P}ratelimit:${identifier}`;
  const now = Math.floor(Date.now() / 1000);
  const pipeline = redis.pipeline();
  pipeline.incr(key);
  pipeline.ttl(key);
  const results = await pipeline.exec();
  const count = results[0][1];
  let ttl = results[1][1];
  if (count === 1) {
    await redis.expire(key, windowSeconds);
    ttl = windowSeconds;
  }
  return { allowed: count <= maxRequests, remaining: Math.max(0, maxRequests - count), resetAt: now + ttl, count, ttl };
}

test('fixed window: pipeline INCR+TTL, EXPIRE on first request', { timeout: 10000 }, async () => {
  const first = await checkRateLimit('1.2.3.4', { windowSeconds: 60, maxRequests: 3 });
  assert.deepEqual([first.count, first.ttl, first.allowed, first.remaining], [1, 60, true, 2]);
  const second = await checkRateLimit('1.2.3.4', { windowSeconds: 60, maxRequests: 3 });
  assert.equal(second.count, 2);
  assert.ok(second.ttl > 55 && second.ttl <= 60, `ttl ${second.ttl}`);
  await checkRateLimit('1.2.3.4', { windowSeconds: 60, maxRequests: 3 });
  const fourth = await checkRateLimit('1.2.3.4', { windowSeconds: 60, maxRequests: 3 });
  assert.deepEqual([fourth.count, fourth.allowed, fourth.remaining], [4, false, 0]);
  // a fresh key has TTL -2 in the pipeline before INCR creates it; after INCR without EXPIRE it is -1
  const p = redis.pipeline();
  p.incr(`${P}ratelimit:fresh`);
  p.ttl(`${P}ratelimit:fresh`);
  assert.deepEqual(await p.exec(), [
    [null, 1],
    [null, -1],
  ]);
});

test('fixed window: the window resets after EXPIRE', { timeout: 10000 }, async () => {
  const opts = { windowSeconds: 1, maxRequests: 2 };
  for (let i = 0; i < 3; i++) await checkRateLimit('reset', opts);
  assert.equal((await checkRateLimit('reset', opts)).allowed, false);
  await waitFor(async () => (await redis.exists(`${P}ratelimit:reset`)) === 0, 4000, 'window expiry');
  const again = await checkRateLimit('reset', opts);
  assert.equal(again.count, 1);
  assert.equal(again.allowed, true);
});

test('fixed window: INCR then EXPIRE when current === 1, concurrent requests', { timeout: 10000 }, async () => {
  async function rateLimit(key, maxRequests, windowSeconds) {
    const current = await redis.incr(key);
    if (current === 1) await redis.expire(key, windowSeconds);
    if (current > maxRequests) return { allowed: false, retryAfter: await redis.ttl(key) };
    return { allowed: true, remaining: maxRequests - current };
  }
  const key = `${P}ratelimit:10.0.0.1:${Math.floor(Date.now() / 60000)}`;
  const results = await Promise.all(Array.from({ length: 150 }, () => rateLimit(key, 100, 60)));
  assert.equal(results.filter((r) => r.allowed).length, 100);
  const denied = results.filter((r) => !r.allowed);
  assert.equal(denied.length, 50);
  assert.ok(denied.every((r) => r.retryAfter > 0 && r.retryAfter <= 60));
  assert.equal(await redis.get(key), '150');
});

test('express rate-limit middleware over HTTP: headers, 429, separate keys per route', { timeout: 15000 }, async () => {
  // seed 003 flavour: expire when ttl === -1, fail open on errors
  function rateLimiter({ windowMs, maxRequests, keyPrefix = `${P}ratelimit` }) {
    const windowSec = Math.ceil(windowMs / 1000);
    return async (req, res, next) => {
      const identifier = req.ip || req.headers['x-forwarded-for'] || 'unknown';
      const key = `${keyPrefix}:${identifier}`;
      try {
        const pipeline = redis.pipeline();
        pipeline.incr(key);
        pipeline.ttl(key);
        const results = await pipeline.exec();
        const currentCount = results?.[0]?.[1];
        const ttl = results?.[1]?.[1];
        if (ttl === -1) await redis.expire(key, windowSec);
        res.setHeader('X-RateLimit-Limit', maxRequests);
        res.setHeader('X-RateLimit-Remaining', Math.max(0, maxRequests - currentCount));
        res.setHeader('X-RateLimit-Reset', Date.now() + (ttl > 0 ? ttl * 1000 : windowMs));
        if (currentCount > maxRequests) {
          return res.status(429).json({ error: 'Too Many Requests', message: `Rate limit exceeded. Try again in ${ttl} seconds.` });
        }
        next();
      } catch (err) {
        next();
      }
    };
  }
  const app = express();
  app.use('/api/', rateLimiter({ windowMs: 60000, maxRequests: 10 }));
  app.use('/api/auth/', rateLimiter({ windowMs: 15 * 60 * 1000, maxRequests: 3, keyPrefix: `${P}ratelimit:auth` }));
  app.get('/api/items', (req, res) => res.json({ ok: true }));
  app.post('/api/auth/login', (req, res) => res.json({ ok: true }));
  const srv = await listen(app);
  try {
    const http = httpClient(srv.base);
    const r1 = await http.get('/api/items');
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('x-ratelimit-limit'), '10');
    assert.equal(r1.headers.get('x-ratelimit-remaining'), '9');
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await http.post('/api/auth/login')).status);
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    for (let i = 0; i < 5; i++) await http.get('/api/items');
    const last = await http.get('/api/items');
    assert.equal(last.status, 429);
    assert.match(last.json.message, /Try again in \d+ seconds/);
    const authKeys = await redis.keys(`${P}ratelimit:auth:*`);
    assert.equal(authKeys.length, 1);
    const t = await redis.ttl(authKeys[0]);
    assert.ok(t > 890 && t <= 900, `auth window ttl ${t}`);
  } finally {
    await srv.close();
  }
});

test('sliding window: ZREMRANGEBYSCORE/ZADD/ZCARD/EXPIRE in a pipeline', { timeout: 10000 }, async () => {
  async function slidingWindowRateLimit(userId, maxRequests, windowMs) {
    const key = `${P}sw:${userId}`;
    const now = Date.now();
    const windowStart = now - windowMs;
    const pipeline = redis.pipeline();
    pipeline.zremrangebyscore(key, 0, windowStart);
    pipeline.zadd(key, now, `${now}:${Math.random()}`);
    pipeline.zcard(key);
    pipeline.expire(key, Math.ceil(windowMs / 1000));
    const results = await pipeline.exec();
    assert.equal(results[3][1], 1);
    return results[2][1] <= maxRequests;
  }
  const verdicts = [];
  for (let i = 0; i < 7; i++) verdicts.push(await slidingWindowRateLimit('u1', 5, 1000));
  assert.deepEqual(verdicts, [true, true, true, true, true, false, false]);
  assert.equal(await redis.zcard(`${P}sw:u1`), 7);
  const ttl = await redis.ttl(`${P}sw:u1`);
  assert.equal(ttl, 1);
  // after the window slides, old entries are removed and requests pass again
  await sleep(1100);
  assert.equal(await slidingWindowRateLimit('u1b', 5, 1000), true);
  await redis.zadd(`${P}sw:u1`, Date.now() - 5000, 'old');
  assert.equal(await slidingWindowRateLimit('u1', 5, 1000), true);
  assert.equal(await redis.zcard(`${P}sw:u1`), 1, 'every entry older than the window was removed');
});

test('sliding window in MULTI/EXEC (ioredis multi())', { timeout: 10000 }, async () => {
  async function rateLimit(userId, limit, windowMs) {
    const now = Date.now();
    const key = `${P}rl:${userId}`;
    const results = await redis
      .multi()
      .zremrangebyscore(key, 0, now - windowMs)
      .zadd(key, now, `${now}-${Math.random()}`)
      .zcard(key)
      .expire(key, Math.ceil(windowMs / 1000))
      .exec();
    assert.equal(results.length, 4);
    for (const [err] of results) assert.equal(err, null);
    return results[2][1] <= limit;
  }
  const out = await Promise.all(Array.from({ length: 12 }, () => rateLimit('m1', 10, 60000)));
  assert.equal(out.filter(Boolean).length, 10);
  assert.equal(await redis.zcard(`${P}rl:m1`), 12);
  const ttl = await redis.ttl(`${P}rl:m1`);
  assert.ok(ttl > 55 && ttl <= 60);
});

test('MULTI/EXEC errors: a queued WRONGTYPE is reported per command, EXEC still runs the rest', { timeout: 10000 }, async () => {
  await redis.set(`${P}str`, 'x');
  const results = await redis.multi().incr(`${P}cnt`).zadd(`${P}str`, 1, 'a').incr(`${P}cnt`).exec();
  assert.equal(results[0][1], 1);
  assert.match(String(results[1][0]), /WRONGTYPE/);
  assert.equal(results[2][1], 2);
  // a syntax error while queueing aborts the whole transaction
  await assert.rejects(redis.multi().incr(`${P}cnt`).call('zadd', `${P}z`).exec(), /EXECABORT|wrong number of arguments/);
  assert.equal(await redis.get(`${P}cnt`), '2');
});

// The same limiters as one Lua script each (issue 7): atomic without MULTI,
// loaded once by ioredis's defineCommand (EVALSHA, EVAL on NOSCRIPT).
const SLIDING = `
local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count >= limit then return {0, count} end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, count + 1}
`;
const REBUILD = `
local v = redis.call('GET', KEYS[1])
if v then return {v, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return {ARGV[1], 1}
`;

test('Lua rate limiter and cache rebuild through defineCommand and eval', { timeout: 10000, ...needs(7) }, async () => {
  const r = ioredis();
  r.defineCommand('slidingLimit', { numberOfKeys: 1, lua: SLIDING });
  r.defineCommand('getOrRebuild', { numberOfKeys: 1, lua: REBUILD });
  const key = `${P}lua:sliding:user1`;
  const now = Date.now();
  const verdicts = [];
  for (let i = 0; i < 5; i++) verdicts.push(await r.slidingLimit(key, now + i, 1000, 3, `req-${i}`));
  assert.deepEqual(verdicts, [[1, 1], [1, 2], [1, 3], [0, 3], [0, 3]]);
  // A window later the old requests fall out.
  assert.deepEqual(await r.slidingLimit(key, now + 2000, 1000, 3, 'late'), [1, 1]);
  const ttl = await r.pttl(key);
  assert.ok(ttl > 0 && ttl <= 1000, `pttl ${ttl}`);
  const ckey = `${P}lua:cache:profile`;
  assert.deepEqual(await r.getOrRebuild(ckey, 'fresh', 60), ['fresh', 1]);
  assert.deepEqual(await r.getOrRebuild(ckey, 'other', 60), ['fresh', 0]);
  assert.ok((await r.ttl(ckey)) > 55);
  // The same script through plain EVAL, then EVALSHA by its SHA.
  assert.deepEqual(await r.eval(REBUILD, 1, ckey, 'x', 60), ['fresh', 0]);
  const sha = await r.script('LOAD', REBUILD);
  assert.deepEqual(await r.evalsha(sha, 1, `${P}lua:cache:other`, 'v', 60), ['v', 1]);
});
