// Distributed locks from the seeds, through ioredis: acquire with
// SET key value EX ttl NX, release with the compare-and-delete Lua script
// (EVAL: issue 7), ioredis defineCommand (EVALSHA: issue 7).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import express from 'express';
import { ioredis, prefix, cleanup, closeAll, needs, waitFor, listen } from '../lib/common.mjs';

const P = prefix('lock');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

const RELEASE = `
if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
else
  return 0
end
`;

async function acquireLock(resource, ttlSeconds = 10) {
  const lockKey = `${P}lock:${resource}`;
  const lockValue = crypto.randomUUID();
  const acquired = await redis.set(lockKey, lockValue, 'EX', ttlSeconds, 'NX');
  if (!acquired) return null;
  return {
    value: lockValue,
    release: async () => redis.eval(RELEASE, 1, lockKey, lockValue),
  };
}

test('acquire: SET NX EX wins once, others get null, TTL set', { timeout: 10000 }, async () => {
  const results = await Promise.all(Array.from({ length: 10 }, () => acquireLock('payment:1', 10)));
  const winners = results.filter(Boolean);
  assert.equal(winners.length, 1);
  assert.equal(await redis.get(`${P}lock:payment:1`), winners[0].value);
  const ttl = await redis.ttl(`${P}lock:payment:1`);
  assert.ok(ttl > 8 && ttl <= 10);
});

test('a crashed holder\'s lock expires and can be taken again', { timeout: 10000 }, async () => {
  assert.ok(await acquireLock('cron:nightly', 1));
  assert.equal(await acquireLock('cron:nightly', 1), null);
  const lock = await waitFor(() => acquireLock('cron:nightly', 5), 4000, 'expired lock to be free');
  assert.ok(lock.value);
});

test('release by EVAL compare-and-delete: owner deletes, others do not', { timeout: 10000, ...needs(7) }, async () => {
  const lock = await acquireLock('order:9', 10);
  assert.ok(lock);
  // someone else with a different value cannot release it
  assert.equal(await redis.eval(RELEASE, 1, `${P}lock:order:9`, 'not-the-owner'), 0);
  assert.equal(await redis.exists(`${P}lock:order:9`), 1);
  assert.equal(await lock.release(), 1);
  assert.equal(await redis.exists(`${P}lock:order:9`), 0);
  assert.equal(await lock.release(), 0, 'second release is a no-op');
  assert.ok(await acquireLock('order:9', 10));
});

test('EVAL replies: integers, strings, nil, tables, errors', { timeout: 10000, ...needs(7) }, async () => {
  assert.equal(await redis.eval('return 1', 0), 1);
  assert.equal(await redis.eval('return ARGV[1]', 0, 'x'), 'x');
  assert.equal(await redis.eval('return nil', 0), null);
  assert.deepEqual(await redis.eval('return {1, "two", {3}}', 0), [1, 'two', [3]]);
  await assert.rejects(redis.eval('return redis.error_reply("MYERR boom")', 0), /MYERR boom/);
});

test('lock-protected PATCH handler: concurrent requests get 409', { timeout: 15000, ...needs(7) }, async () => {
  let inside = 0;
  let maxInside = 0;
  const app = express();
  app.patch('/api/users/:id', async (req, res) => {
    const lock = await acquireLock(`user:${req.params.id}`, 10);
    if (!lock) return res.status(409).json({ error: 'Resource is being updated' });
    try {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setTimeout(r, 150));
      res.json({ ok: true });
    } finally {
      inside--;
      await lock.release();
    }
  });
  const srv = await listen(app);
  try {
    const codes = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${srv.base}/api/users/1`, { method: 'PATCH', signal: AbortSignal.timeout(5000) }).then((r) => r.status)),
    );
    assert.equal(codes.filter((c) => c === 200).length, 1);
    assert.equal(codes.filter((c) => c === 409).length, 4);
    assert.equal(maxInside, 1);
    assert.equal(await redis.exists(`${P}lock:user:1`), 0);
  } finally {
    await srv.close();
  }
});

test('ioredis defineCommand (EVALSHA with NOSCRIPT fallback)', { timeout: 10000, ...needs(7) }, async () => {
  const r = ioredis();
  r.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE });
  await r.set(`${P}dc`, 'me');
  assert.equal(await r.releaseLock(`${P}dc`, 'you'), 0);
  assert.equal(await r.releaseLock(`${P}dc`, 'me'), 1);
  await r.script('FLUSH');
  await r.set(`${P}dc`, 'me');
  assert.equal(await r.releaseLock(`${P}dc`, 'me'), 1, 'reloaded after SCRIPT FLUSH');
});
