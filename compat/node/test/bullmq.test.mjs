// BullMQ queues and workers as the seeds use them: attempts with exponential
// backoff, concurrency, delayed jobs, priorities, repeatable jobs (job
// schedulers), QueueEvents, and the seed's `connection: redis` with a client
// instance (ioredis, node-redis 5). BullMQ runs Lua scripts (issue 7), waits
// in BZPOPMIN (issue 5) and publishes events on a stream (issue 8).
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker, QueueEvents, FlowProducer } from 'bullmq';
import Redis from 'ioredis';
import { createClient } from 'redis5';
import { prefix, cleanup, closeAll, needs, HOST, PORT, PASSWORD, REDIS_URL, waitFor, withTimeout, sleep } from '../lib/common.mjs';

const P = prefix('bmq');
const BULL_PREFIX = `${P}bull`;
const connection = { host: HOST, port: PORT, password: PASSWORD, maxRetriesPerRequest: null };
const NEEDS = needs(7, 8);

const closers = [];
const own = (x) => {
  closers.push(x);
  return x;
};
after(async () => {
  for (const c of closers.reverse()) await withTimeout(Promise.resolve(c.close()), 10000, 'bullmq close').catch(() => {});
  await cleanup(P);
  await closeAll();
});

const mkQueue = (name, opts = {}) => own(new Queue(name, { connection, prefix: BULL_PREFIX, ...opts }));
const mkWorker = (name, fn, opts = {}) => {
  const w = own(new Worker(name, fn, { connection, prefix: BULL_PREFIX, ...opts }));
  w.on('error', () => {});
  return w;
};

describe('BullMQ', () => {
  test('send-welcome: attempts 3 with exponential backoff, then completed', { timeout: 30000, ...NEEDS }, async () => {
    const emailQueue = mkQueue('email');
    const starts = [];
    const worker = mkWorker('email', async (job) => {
      starts.push(Date.now());
      if (job.attemptsMade < 2) throw new Error(`smtp down (attempt ${job.attemptsMade + 1})`);
      return { sentTo: job.data.email };
    }, { concurrency: 5 });
    const completed = new Promise((res) => worker.on('completed', (job, result) => res({ job, result })));
    const job = await emailQueue.add('send-welcome', { userId: 42, email: 'ada@example.com' }, { attempts: 3, backoff: { type: 'exponential', delay: 200 } });
    assert.ok(job.id);
    const { job: done, result } = await withTimeout(completed, 20000, 'completed');
    assert.equal(done.id, job.id);
    assert.deepEqual(result, { sentTo: 'ada@example.com' });
    assert.equal(starts.length, 3);
    const gap1 = starts[1] - starts[0];
    const gap2 = starts[2] - starts[1];
    assert.ok(gap1 >= 180, `first backoff ${gap1} ms`);
    assert.ok(gap2 >= 380, `second backoff ${gap2} ms (exponential)`);
    const fresh = await emailQueue.getJob(job.id);
    assert.equal(await fresh.getState(), 'completed');
    assert.equal(fresh.attemptsMade, 3, 'BullMQ counts the successful attempt too');
  });

  test('a job that keeps failing ends in failed with its reason', { timeout: 30000, ...NEEDS }, async () => {
    const q = mkQueue('fail');
    const worker = mkWorker('fail', async () => {
      throw new Error('boom');
    });
    const failures = [];
    worker.on('failed', (job, err) => failures.push([job.attemptsMade, err.message]));
    const job = await q.add('x', {}, { attempts: 2, backoff: { type: 'fixed', delay: 50 } });
    await waitFor(async () => (await q.getJob(job.id).then((j) => j.getState())) === 'failed', 15000, 'failed state');
    const j = await q.getJob(job.id);
    assert.equal(j.failedReason, 'boom');
    assert.equal(j.attemptsMade, 2);
    assert.deepEqual(failures, [
      [1, 'boom'],
      [2, 'boom'],
    ]);
    assert.deepEqual(await q.getJobCounts('failed', 'completed'), { failed: 1, completed: 0 });
  });

  test('concurrency 5: 20 jobs, at most 5 at once', { timeout: 30000, ...NEEDS }, async () => {
    const q = mkQueue('conc');
    let running = 0;
    let peak = 0;
    let done = 0;
    mkWorker('conc', async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(100);
      running--;
      done++;
    }, { concurrency: 5 });
    await q.addBulk(Array.from({ length: 20 }, (_, i) => ({ name: 'n', data: { i } })));
    await waitFor(() => done === 20, 20000, '20 jobs');
    assert.ok(peak > 1 && peak <= 5, `peak concurrency ${peak}`);
  });

  test('delayed job runs after its delay', { timeout: 30000, ...NEEDS }, async () => {
    const q = mkQueue('delayed');
    const ran = [];
    mkWorker('delayed', async (job) => ran.push([job.data.n, Date.now()]));
    const t0 = Date.now();
    const job = await q.add('later', { n: 1 }, { delay: 800 });
    assert.equal(await job.getState(), 'delayed');
    await q.add('now', { n: 2 });
    await waitFor(() => ran.length === 2, 10000, 'both jobs');
    assert.equal(ran[0][0], 2);
    assert.ok(ran[1][1] - t0 >= 780, `delayed ran after ${ran[1][1] - t0} ms`);
  });

  test('priorities: lower number first', { timeout: 30000, ...NEEDS }, async () => {
    const q = mkQueue('prio');
    for (const p of [5, 1, 3, 2, 4]) await q.add('p', { p }, { priority: p });
    assert.equal(await q.getPrioritizedCount(), 5);
    const order = [];
    mkWorker('prio', async (job) => order.push(job.data.p), { concurrency: 1 });
    await waitFor(() => order.length === 5, 10000, 'five jobs');
    assert.deepEqual(order, [1, 2, 3, 4, 5]);
  });

  test('repeatable jobs: job scheduler every 300 ms, then removed', { timeout: 30000, ...NEEDS }, async () => {
    const q = mkQueue('repeat');
    let runs = 0;
    mkWorker('repeat', async (job) => {
      assert.equal(job.name, 'tick');
      runs++;
    });
    await q.upsertJobScheduler('every-300', { every: 300 }, { name: 'tick', data: { x: 1 } });
    assert.equal((await q.getJobSchedulers()).length, 1);
    await waitFor(() => runs >= 3, 10000, 'three ticks');
    assert.equal(await q.removeJobScheduler('every-300'), true);
    assert.equal((await q.getJobSchedulers()).length, 0);
  });

  test('QueueEvents: completed/failed events and waitUntilFinished', { timeout: 30000, ...NEEDS }, async () => {
    const q = mkQueue('events');
    const qe = own(new QueueEvents('events', { connection, prefix: BULL_PREFIX }));
    await qe.waitUntilReady();
    const seen = [];
    qe.on('completed', ({ jobId, returnvalue }) => seen.push(['completed', jobId, returnvalue]));
    qe.on('failed', ({ jobId, failedReason }) => seen.push(['failed', jobId, failedReason]));
    mkWorker('events', async (job) => {
      if (job.data.fail) throw new Error('nope');
      return job.data.v * 2;
    });
    const ok = await q.add('ok', { v: 21 });
    assert.equal(await withTimeout(ok.waitUntilFinished(qe), 10000, 'waitUntilFinished'), 42);
    const bad = await q.add('bad', { fail: true });
    await assert.rejects(withTimeout(bad.waitUntilFinished(qe), 10000, 'waitUntilFinished'), /nope/);
    await waitFor(() => seen.length >= 2, 5000, 'events');
    assert.deepEqual(seen.find((e) => e[1] === ok.id), ['completed', ok.id, 42]);
    assert.deepEqual(seen.find((e) => e[1] === bad.id), ['failed', bad.id, 'nope']);
  });

  test('10,000 jobs: retries with exponential backoff, delays, priorities, a job scheduler and a flow, seen by QueueEvents', { timeout: 120000, ...NEEDS }, async () => {
    const N = 10000;
    const q = mkQueue('bulk');
    const qe = own(new QueueEvents('bulk', { connection, prefix: BULL_PREFIX }));
    await qe.waitUntilReady();
    const completedEvents = new Set();
    const failedEvents = new Set();
    qe.on('completed', ({ jobId }) => completedEvents.add(jobId));
    qe.on('failed', ({ jobId }) => failedEvents.add(jobId));
    let ticks = 0;
    const attempts = new Map();
    mkWorker('bulk', async (job) => {
      if (job.name === 'tick') return ++ticks;
      if (job.name === 'parent') {
        const values = Object.values(await job.getChildrenValues());
        return values.reduce((a, b) => a + b, 0);
      }
      if (job.name === 'child') return job.data.n;
      const i = job.data.i;
      attempts.set(i, (attempts.get(i) || 0) + 1);
      if (i % 250 === 1) throw new Error(`always ${i}`);
      if (i % 10 === 0 && job.attemptsMade === 0) throw new Error(`first try ${i}`);
      return i;
    }, { concurrency: 50 });
    // Every tenth job fails once and succeeds on retry; every 250th always
    // fails; some wait 200 ms; some carry a priority.
    for (let from = 0; from < N; from += 1000) {
      const batch = [];
      for (let i = from; i < from + 1000; i++) {
        const opts = { attempts: i % 250 === 1 ? 2 : 3, backoff: { type: 'exponential', delay: 10 } };
        if (i % 50 === 2) opts.delay = 200;
        if (i % 7 === 3) opts.priority = (i % 5) + 1;
        batch.push({ name: 'job', data: { i }, opts });
      }
      await q.addBulk(batch);
    }
    await q.upsertJobScheduler('every-100', { every: 100 }, { name: 'tick' });
    const flow = own(new FlowProducer({ connection, prefix: BULL_PREFIX }));
    const tree = await flow.add({
      name: 'parent',
      queueName: 'bulk',
      children: [1, 2, 3].map((n) => ({ name: 'child', queueName: 'bulk', data: { n } })),
    });
    const alwaysFail = Math.floor((N - 2) / 250) + 1;
    await waitFor(async () => {
      const c = await q.getJobCounts('completed', 'failed');
      return c.failed === alwaysFail && c.completed >= N - alwaysFail + 4 && ticks >= 3;
    }, 100000, 'all jobs finished');
    await q.removeJobScheduler('every-100');
    assert.equal(await tree.job.getState(), 'completed');
    assert.equal((await q.getJob(tree.job.id)).returnvalue, 6);
    // Retried jobs ran twice, failing ones twice, the rest once.
    assert.equal(attempts.size, N);
    for (const [i, n] of attempts) {
      assert.equal(n, i % 250 === 1 || i % 10 === 0 ? 2 : 1, `job ${i} ran ${n} times`);
    }
    await waitFor(() => failedEvents.size === alwaysFail && completedEvents.size >= N - alwaysFail + 4, 20000, 'events');
  });

  test('seed style: connection is an ioredis instance', { timeout: 30000, ...NEEDS }, async () => {
    const redis = new Redis({ host: HOST, port: PORT, password: PASSWORD, maxRetriesPerRequest: null });
    redis.on('error', () => {});
    own({ close: () => redis.quit() });
    const emailQueue = mkQueue('email-io', { connection: redis });
    const got = [];
    mkWorker('email-io', async (job) => got.push(job.data), { connection: redis, concurrency: 5 });
    await emailQueue.add('send-welcome', { userId: 1, email: 'a@example.com' }, { attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
    await waitFor(() => got.length === 1, 10000, 'job processed');
    assert.deepEqual(got[0], { userId: 1, email: 'a@example.com' });
  });

  test('seed style: connection is a node-redis 5 client', { timeout: 30000, ...NEEDS }, async () => {
    const redis = createClient({ url: REDIS_URL });
    redis.on('error', () => {});
    await redis.connect();
    own({ close: () => redis.close() });
    const emailQueue = mkQueue('email-nr', { connection: redis });
    const got = [];
    mkWorker('email-nr', async (job) => got.push(job.data), { connection: redis, concurrency: 5 });
    await emailQueue.add('send-welcome', { userId: 2, email: 'b@example.com' }, { attempts: 3, backoff: { type: 'exponential', delay: 1000 } });
    await waitFor(() => got.length === 1, 10000, 'job processed');
    assert.deepEqual(got[0], { userId: 2, email: 'b@example.com' });
  });
});
