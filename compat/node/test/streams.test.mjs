// Activity feeds with streams from the seeds, through ioredis: XADD *,
// XTRIM MAXLEN ~, XADD MAXLEN ~ inline, XREVRANGE + COUNT parsed into
// activities, XREAD COUNT STREAMS, XREAD BLOCK. All wait for issue 8.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ioredis, prefix, cleanup, closeAll, needs, sleep } from '../lib/common.mjs';

const P = prefix('xs');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

async function addActivity(userId, action, targetId) {
  const streamKey = `${P}feed:${userId}`;
  const id = await redis.xadd(streamKey, '*', 'action', action, 'targetId', targetId, 'timestamp', Date.now());
  await redis.xtrim(streamKey, 'MAXLEN', '~', 1000);
  return id;
}
async function getActivityFeed(userId, count = 50) {
  const entries = await redis.xrevrange(`${P}feed:${userId}`, '+', '-', 'COUNT', count);
  return entries.map(([id, values]) => ({ id, action: values[1], targetId: parseInt(values[3], 10), timestamp: parseInt(values[5], 10) }));
}

test('activity feed: XADD * + XTRIM MAXLEN ~ 1000, XREVRANGE COUNT newest first', { timeout: 15000, ...needs(8) }, async () => {
  const ids = [];
  for (let i = 0; i < 60; i++) ids.push(await addActivity(1, i % 2 ? 'like' : 'comment', i));
  assert.ok(ids.every((id) => /^\d+-\d+$/.test(id)));
  const feed = await getActivityFeed(1, 50);
  assert.equal(feed.length, 50);
  assert.equal(feed[0].id, ids[59]);
  assert.equal(feed[0].targetId, 59);
  assert.equal(feed[0].action, 'like');
  assert.equal(feed[49].targetId, 10);
  assert.ok(feed[0].timestamp >= feed[49].timestamp);
  assert.equal(await redis.xlen(`${P}feed:1`), 60);
});

test('XADD MAXLEN ~ caps a long stream approximately, MAXLEN = exactly', { timeout: 20000, ...needs(8) }, async () => {
  const key = `${P}events:capped`;
  for (let i = 0; i < 3000; i++) await redis.xadd(key, 'MAXLEN', '~', 1000, '*', 'n', i);
  const len = await redis.xlen(key);
  assert.ok(len >= 1000 && len < 1200, `approximate trim left ${len}`);
  const [[, newest]] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  assert.deepEqual(newest, ['n', '2999']);
  await redis.xadd(key, 'MAXLEN', '=', 10, '*', 'n', 'last');
  assert.equal(await redis.xlen(key), 10);
});

test('XREAD COUNT 10 STREAMS events 0, then from the last id', { timeout: 15000, ...needs(8) }, async () => {
  const key = `${P}events`;
  await redis.xadd(key, '*', 'event', 'login', 'userId', '1');
  await redis.xadd(key, '*', 'event', 'logout', 'userId', '1');
  const events = await redis.xread('COUNT', 10, 'STREAMS', key, '0');
  assert.equal(events.length, 1);
  const [stream, entries] = events[0];
  assert.equal(stream, key);
  assert.deepEqual(entries.map(([, f]) => f), [
    ['event', 'login', 'userId', '1'],
    ['event', 'logout', 'userId', '1'],
  ]);
  const lastId = entries[1][0];
  assert.equal(await redis.xread('COUNT', 10, 'STREAMS', key, lastId), null);
});

test('XREAD BLOCK wakes up on XADD', { timeout: 15000, ...needs(8) }, async () => {
  const key = `${P}live`;
  const reader = ioredis();
  const p = reader.xread('BLOCK', 5000, 'STREAMS', key, '$');
  await sleep(100);
  await redis.xadd(key, '*', 'action', 'post');
  const res = await p;
  assert.equal(res[0][0], key);
  assert.deepEqual(res[0][1][0][1], ['action', 'post']);
});
