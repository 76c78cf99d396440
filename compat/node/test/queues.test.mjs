// Lists as queues, through ioredis: FIFO with RPUSH/LPOP, the seeds'
// hand-written retrying JobQueue with its polling worker, reliable handoff
// with LMOVE, and BLPOP/BRPOP/BLMOVE workers (blocking pops: issue 5).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ioredis, prefix, cleanup, closeAll, needs, sleep, waitFor, withTimeout } from '../lib/common.mjs';

const P = prefix('queue');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

test('FIFO queue: RPUSH producers, LPOP consumers, LLEN, RPOP as a stack', { timeout: 10000 }, async () => {
  const q = `${P}queue:emails`;
  for (let i = 0; i < 10; i++) await redis.rpush(q, JSON.stringify({ to: `u${i}@example.com`, subject: 'Hello' }));
  assert.equal(await redis.llen(q), 10);
  const first = JSON.parse(await redis.lpop(q));
  assert.equal(first.to, 'u0@example.com');
  assert.equal(JSON.parse(await redis.rpop(q)).to, 'u9@example.com');
  // LPOP with a count
  const batch = await redis.lpop(q, 3);
  assert.deepEqual(batch.map((s) => JSON.parse(s).to), ['u1@example.com', 'u2@example.com', 'u3@example.com']);
  assert.equal(await redis.llen(q), 5);
  assert.equal(await redis.lpop(`${P}empty`), null);
  assert.equal(await redis.lpop(`${P}empty`, 2), null);
});

test('competing consumers never get the same job', { timeout: 15000 }, async () => {
  const q = `${P}jobs:compete`;
  const N = 300;
  const pipe = redis.pipeline();
  for (let i = 0; i < N; i++) pipe.rpush(q, `job-${i}`);
  await pipe.exec();
  const workers = [ioredis(), ioredis(), ioredis()];
  const seen = [];
  await Promise.all(
    workers.map(async (w) => {
      for (let job; (job = await w.lpop(q)); ) seen.push(job);
    }),
  );
  assert.equal(seen.length, N);
  assert.equal(new Set(seen).size, N);
});

test('hand-written JobQueue: enqueue, polling worker, complete, retry with backoff, failed after maxRetries', { timeout: 20000 }, async () => {
  const K = (s) => `${P}jq:${s}`;
  class JobQueue {
    constructor(r) {
      this.redis = r;
    }
    async enqueue(type, data) {
      const jobId = `job:${Date.now()}:${Math.random()}`;
      const job = { id: jobId, type, data, retries: 0, maxRetries: 3 };
      await this.redis.rpush(K('jobs:pending'), JSON.stringify(job));
      return jobId;
    }
    async dequeue() {
      const jobStr = await this.redis.lpop(K('jobs:pending'));
      if (!jobStr) return null;
      return JSON.parse(jobStr);
    }
    async complete(jobId) {
      await this.redis.hset(K('jobs:completed'), jobId, Date.now());
    }
    async retry(job) {
      job.retries++;
      if (job.retries >= job.maxRetries) {
        await this.redis.hset(K('jobs:failed'), job.id, JSON.stringify(job));
        return;
      }
      const delaySeconds = Math.pow(2, job.retries);
      job.notBefore = Date.now() + delaySeconds; // scaled to ms for the test
      await this.redis.rpush(K('jobs:pending'), JSON.stringify(job));
    }
  }
  const jobQueue = new JobQueue(ioredis());
  const attempts = new Map();
  const handlers = {
    email: async () => {},
    notification: async (data) => {
      attempts.set(data.n, (attempts.get(data.n) ?? 0) + 1);
      if (attempts.get(data.n) < 2) throw new Error('transient');
    },
    report: async () => {
      throw new Error('always fails');
    },
  };
  let running = true;
  const worker = (async () => {
    while (running) {
      const job = await jobQueue.dequeue();
      if (!job) {
        await sleep(20);
        continue;
      }
      try {
        await handlers[job.type](job.data);
        await jobQueue.complete(job.id);
      } catch {
        await jobQueue.retry(job);
      }
    }
  })();
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await jobQueue.enqueue('email', { to: `u${i}@example.com` }));
  ids.push(await jobQueue.enqueue('notification', { n: 1 }));
  const reportId = await jobQueue.enqueue('report', {});
  await waitFor(async () => (await redis.hlen(K('jobs:completed'))) === 6 && (await redis.hlen(K('jobs:failed'))) === 1, 10000, 'all jobs settled');
  running = false;
  await withTimeout(worker, 5000, 'worker stop');
  const completed = await redis.hgetall(K('jobs:completed'));
  assert.deepEqual(Object.keys(completed).sort(), [...ids].sort());
  assert.ok(Object.values(completed).every((v) => /^\d{13}$/.test(v)));
  const failed = JSON.parse(await redis.hget(K('jobs:failed'), reportId));
  assert.equal(failed.retries, 3);
  assert.equal(attempts.get(1), 2);
  assert.equal(await redis.llen(K('jobs:pending')), 0);
});

test('reliable queue: LMOVE to a processing list, LREM on ack', { timeout: 10000 }, async () => {
  const q = `${P}rq:pending`;
  const processing = `${P}rq:processing`;
  await redis.rpush(q, 'a', 'b', 'c');
  const job = await redis.lmove(q, processing, 'LEFT', 'RIGHT');
  assert.equal(job, 'a');
  assert.deepEqual(await redis.lrange(processing, 0, -1), ['a']);
  assert.equal(await redis.lrem(processing, 1, job), 1);
  assert.equal(await redis.rpoplpush(q, processing), 'c');
  assert.deepEqual(await redis.lrange(q, 0, -1), ['b']);
  assert.equal(await redis.lmove(`${P}rq:none`, processing, 'LEFT', 'RIGHT'), null);
});

test('BLPOP worker: blocks until a job arrives, FIFO across producers', { timeout: 15000, ...needs(5) }, async () => {
  const q = `${P}tasks:blocking`;
  const worker = ioredis();
  const got = [];
  const loop = (async () => {
    for (;;) {
      const item = await worker.blpop(q, 5);
      if (!item) break;
      if (item[1] === 'STOP') break;
      got.push(item);
    }
  })();
  await sleep(100);
  await redis.rpush(q, 'send-email');
  await redis.rpush(q, 'generate-report', 'resize-image');
  await waitFor(() => got.length === 3, 5000, 'three items');
  await redis.rpush(q, 'STOP');
  await withTimeout(loop, 6000, 'worker exit');
  assert.deepEqual(got, [
    [q, 'send-email'],
    [q, 'generate-report'],
    [q, 'resize-image'],
  ]);
});

test('BLPOP with a timeout returns null on an empty list; BRPOP takes several keys', { timeout: 15000, ...needs(5) }, async () => {
  const t0 = Date.now();
  assert.equal(await redis.blpop(`${P}none`, 1), null);
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited < 3000, `waited ${waited} ms`);
  assert.equal(await redis.blpop(`${P}none`, 0.2), null);
  await redis.rpush(`${P}q2`, 'x', 'y');
  assert.deepEqual(await redis.brpop(`${P}q1`, `${P}q2`, 1), [`${P}q2`, 'y']);
});

test('two BLPOP workers are served one job each, none lost', { timeout: 15000, ...needs(5) }, async () => {
  const q = `${P}tasks:two`;
  const w1 = ioredis();
  const w2 = ioredis();
  const p1 = w1.blpop(q, 5);
  const p2 = w2.blpop(q, 5);
  await sleep(150);
  await redis.rpush(q, 'j1', 'j2');
  const [r1, r2] = await Promise.all([p1, p2]);
  assert.deepEqual([r1[1], r2[1]].sort(), ['j1', 'j2']);
  assert.equal(await redis.llen(q), 0);
});

test('BLMOVE reliable worker', { timeout: 15000, ...needs(5) }, async () => {
  const q = `${P}bl:pending`;
  const processing = `${P}bl:processing`;
  const w = ioredis();
  const p = w.blmove(q, processing, 'LEFT', 'RIGHT', 5);
  await sleep(100);
  await redis.rpush(q, 'job-1');
  assert.equal(await p, 'job-1');
  assert.deepEqual(await redis.lrange(processing, 0, -1), ['job-1']);
});
