// Pipelining and batching from the seeds, through ioredis: a pipeline of 100
// GETs, MGET/MSET, mixed pipelines with per-command errors, transactions,
// WATCH-based optimistic locking, auto-pipelining.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ioredis, prefix, cleanup, closeAll } from '../lib/common.mjs';

const P = prefix('pipe');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

test('pipeline of 100 GETs: one round trip, results in order, misses are null', { timeout: 10000 }, async () => {
  const userIds = Array.from({ length: 100 }, (_, i) => i);
  const w = redis.pipeline();
  for (const id of userIds) if (id % 3 !== 0) w.set(`${P}user:${id}`, JSON.stringify({ id, name: `user ${id}` }));
  await w.exec();
  const pipeline = redis.pipeline();
  userIds.forEach((id) => pipeline.get(`${P}user:${id}`));
  assert.equal(pipeline.length, 100);
  const results = await pipeline.exec();
  assert.equal(results.length, 100);
  const users = results.map(([err, data]) => {
    assert.equal(err, null);
    return data ? JSON.parse(data) : null;
  });
  users.forEach((u, i) => {
    if (i % 3 === 0) assert.equal(u, null);
    else assert.deepEqual(u, { id: i, name: `user ${i}` });
  });
});

test('MGET/MSET of 100 keys', { timeout: 10000 }, async () => {
  const kv = {};
  for (let i = 0; i < 100; i++) kv[`${P}m:${i}`] = `v${i}`;
  assert.equal(await redis.mset(kv), 'OK');
  const keys = Object.keys(kv);
  const values = await redis.mget(keys);
  assert.deepEqual(values, Object.values(kv));
  assert.deepEqual(await redis.mget(`${P}m:0`, `${P}m:missing`, `${P}m:99`), ['v0', null, 'v99']);
  assert.equal(await redis.msetnx(`${P}m:0`, 'x', `${P}m:new`, 'y'), 0);
  assert.equal(await redis.get(`${P}m:new`), null);
});

test('mixed pipeline: errors stay per command, later commands still run', { timeout: 10000 }, async () => {
  await redis.set(`${P}s`, 'text');
  const results = await redis
    .pipeline()
    .set(`${P}a`, 1)
    .incr(`${P}s`)
    .hset(`${P}h`, { f: 'v' })
    .lpush(`${P}s`, 'x')
    .get(`${P}a`)
    .exec();
  assert.deepEqual(results[0], [null, 'OK']);
  assert.equal(results[1][0].message, 'ERR value is not an integer or out of range');
  assert.deepEqual(results[2], [null, 1]);
  assert.equal(results[3][0].message, 'WRONGTYPE Operation against a key holding the wrong kind of value');
  assert.deepEqual(results[4], [null, '1']);
});

test('pipeline of many commands (10k INCR) stays ordered', { timeout: 20000 }, async () => {
  const p = redis.pipeline();
  for (let i = 0; i < 10000; i++) p.incr(`${P}big`);
  const results = await p.exec();
  assert.equal(results.length, 10000);
  assert.equal(results[9999][1], 10000);
  assert.ok(results.every(([e, v], i) => e === null && v === i + 1));
});

test('transactions: multi().exec() applies atomically, DISCARD drops', { timeout: 10000 }, async () => {
  const res = await redis.multi().set(`${P}t:a`, 1).incrby(`${P}t:a`, 9).get(`${P}t:a`).exec();
  assert.deepEqual(res, [
    [null, 'OK'],
    [null, 10],
    [null, '10'],
  ]);
  const m = redis.multi();
  m.set(`${P}t:b`, 1);
  await m.discard();
  assert.equal(await redis.exists(`${P}t:b`), 0);
  // pipeline containing a multi block
  const r = await redis.pipeline().multi().incr(`${P}t:c`).incr(`${P}t:c`).exec().get(`${P}t:c`).exec();
  assert.equal(r[r.length - 1][1], '2');
});

test('WATCH optimistic locking: EXEC returns null when the key changed', { timeout: 10000 }, async () => {
  const a = ioredis();
  const b = ioredis();
  await a.set(`${P}bal`, 100);
  await a.watch(`${P}bal`);
  const bal = Number(await a.get(`${P}bal`));
  await b.incrby(`${P}bal`, 5); // concurrent writer
  const res = await a.multi().set(`${P}bal`, bal - 30).exec();
  assert.equal(res, null, 'aborted transaction');
  assert.equal(await a.get(`${P}bal`), '105');
  await a.watch(`${P}bal`);
  const res2 = await a.multi().decrby(`${P}bal`, 30).exec();
  assert.deepEqual(res2, [[null, 75]]);
  await a.watch(`${P}bal`);
  assert.equal(await a.unwatch(), 'OK');
});

test('enableAutoPipelining batches concurrent commands', { timeout: 10000 }, async () => {
  const r = ioredis({ enableAutoPipelining: true });
  await r.ping();
  const N = 500;
  const sets = await Promise.all(Array.from({ length: N }, (_, i) => r.set(`${P}ap:${i}`, i)));
  assert.ok(sets.every((s) => s === 'OK'));
  const gets = await Promise.all(Array.from({ length: N }, (_, i) => r.get(`${P}ap:${i}`)));
  assert.deepEqual(gets, Array.from({ length: N }, (_, i) => String(i)));
  const mixed = await Promise.all([r.incr(`${P}ap:n`), r.hset(`${P}ap:h`, 'f', 'v'), r.zadd(`${P}ap:z`, 1, 'a'), r.get(`${P}ap:nothing`)]);
  assert.deepEqual(mixed, [1, 1, 1, null]);
});

test('many connections INCR one counter concurrently: no lost update', { timeout: 20000 }, async () => {
  const conns = Array.from({ length: 8 }, () => ioredis());
  await Promise.all(conns.map((c) => c.ping()));
  await Promise.all(conns.map(async (c) => {
    for (let i = 0; i < 250; i++) await c.incr(`${P}shared:counter`);
  }));
  assert.equal(await redis.get(`${P}shared:counter`), '2000');
});

test('MULTI/EXEC transfers between keys from many connections keep the total', { timeout: 20000 }, async () => {
  const accounts = Array.from({ length: 4 }, (_, i) => `${P}acct:{bank}:${i}`);
  await redis.mset(Object.fromEntries(accounts.map((a) => [a, 1000])));
  const conns = Array.from({ length: 6 }, () => ioredis());
  const snapshots = [];
  await Promise.all(conns.map(async (c, n) => {
    for (let i = 0; i < 100; i++) {
      const from = accounts[(n + i) % 4];
      const to = accounts[(n + i + 1) % 4];
      const res = await c.multi().decrby(from, 7).incrby(to, 7).exec();
      assert.ok(res.every(([e]) => e === null));
      if (i % 10 === 0) {
        // a transaction reading every account sees a consistent total
        const r = await c.multi().mget(...accounts).exec();
        snapshots.push(r[0][1].reduce((s, v) => s + Number(v), 0));
      }
    }
  }));
  const final = (await redis.mget(...accounts)).reduce((s, v) => s + Number(v), 0);
  assert.equal(final, 4000);
  assert.ok(snapshots.every((t) => t === 4000), `totals seen inside MULTI: ${[...new Set(snapshots)]}`);
});

test('WATCH/MULTI optimistic increments from many connections: exact count', { timeout: 30000 }, async () => {
  const key = `${P}optimistic`;
  await redis.set(key, 0);
  const conns = Array.from({ length: 5 }, () => ioredis());
  let aborted = 0;
  await Promise.all(conns.map(async (c) => {
    for (let done = 0; done < 40; ) {
      await c.watch(key);
      const v = Number(await c.get(key));
      const res = await c.multi().set(key, v + 1).exec();
      if (res === null) aborted++;
      else done++;
    }
  }));
  assert.equal(await redis.get(key), '200');
  assert.ok(aborted >= 0);
});
