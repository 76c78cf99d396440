// Bull (v4) as in the seeds: new Queue('emails', { redis: {host, port} }),
// add with attempts + exponential backoff, process(), completed/failed
// events, delayed, priorities, repeatable, global events. Bull runs Lua
// scripts (issue 7), waits in BRPOPLPUSH (issue 5) and sends global events
// over pub/sub (issue 6).
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import Queue from 'bull';
import { prefix, cleanup, closeAll, needs, HOST, PORT, PASSWORD, waitFor, withTimeout } from '../lib/common.mjs';

const P = prefix('bull');
const BULL_PREFIX = `${P}bull`;
const queues = [];
const mk = (name, opts = {}) => {
  const q = new Queue(name, { redis: { host: HOST, port: PORT, password: PASSWORD }, prefix: BULL_PREFIX, ...opts });
  q.on('error', () => {});
  queues.push(q);
  return q;
};
after(async () => {
  for (const q of queues) await withTimeout(q.close(), 10000, 'bull close').catch(() => {});
  await cleanup(P);
  await closeAll();
});

const NEEDS = needs(7);

describe('Bull', () => {
  test('emails: attempts 3 with exponential backoff; completed and failed events', { timeout: 30000, ...NEEDS }, async () => {
    const emailQueue = mk('emails');
    const starts = [];
    const events = [];
    emailQueue.on('completed', (job, result) => events.push(['completed', job.id, result]));
    emailQueue.on('failed', (job, err) => events.push(['failed', job.id, err.message]));
    emailQueue.process(async (job) => {
      starts.push(Date.now());
      if (job.data.to === 'flaky@example.com' && starts.length < 3) throw new Error('smtp down');
      return { sent: job.data.to };
    });
    const job = await emailQueue.add({ to: 'flaky@example.com', subject: 'Welcome!' }, { attempts: 3, backoff: { type: 'exponential', delay: 200 } });
    await waitFor(() => events.some((e) => e[0] === 'completed'), 20000, 'completed');
    assert.deepEqual(events, [
      ['failed', job.id, 'smtp down'],
      ['failed', job.id, 'smtp down'],
      ['completed', job.id, { sent: 'flaky@example.com' }],
    ]);
    assert.ok(starts[1] - starts[0] >= 180, `backoff 1: ${starts[1] - starts[0]}`);
    assert.ok(starts[2] - starts[1] >= 380, `backoff 2: ${starts[2] - starts[1]}`);
    const j = await emailQueue.getJob(job.id);
    assert.equal(await j.getState(), 'completed');
    assert.equal(j.attemptsMade, 2);
  });

  test('job exhausting its attempts stays failed', { timeout: 30000, ...NEEDS }, async () => {
    const q = mk('always-fails');
    q.process(async () => {
      throw new Error('permanent');
    });
    const job = await q.add({}, { attempts: 2, backoff: 50 });
    await waitFor(async () => (await (await q.getJob(job.id)).getState()) === 'failed', 15000, 'failed');
    const j = await q.getJob(job.id);
    assert.equal(j.failedReason, 'permanent');
    assert.equal(j.attemptsMade, 2);
    assert.equal(await q.getFailedCount(), 1);
  });

  test('delayed and prioritised jobs', { timeout: 30000, ...NEEDS }, async () => {
    const q = mk('delay-prio');
    await q.pause(true);
    const t0 = Date.now();
    await q.add({ n: 'delayed' }, { delay: 800 });
    for (const p of [3, 1, 2]) await q.add({ n: p }, { priority: p });
    const order = [];
    q.process(1, async (job) => order.push([job.data.n, Date.now() - t0]));
    await q.resume(true);
    await waitFor(() => order.length === 4, 15000, 'four jobs');
    assert.deepEqual(order.map((o) => o[0]), [1, 2, 3, 'delayed']);
    assert.ok(order[3][1] >= 780, `delayed after ${order[3][1]} ms`);
  });

  test('repeatable job every 300 ms', { timeout: 30000, ...NEEDS }, async () => {
    const q = mk('repeat');
    let runs = 0;
    q.process(async () => {
      runs++;
    });
    await q.add({ tick: true }, { repeat: { every: 300 }, jobId: 'ticker' });
    await waitFor(() => runs >= 3, 10000, 'three runs');
    const reps = await q.getRepeatableJobs();
    assert.equal(reps.length, 1);
    await q.removeRepeatableByKey(reps[0].key);
    assert.equal((await q.getRepeatableJobs()).length, 0);
  });

  test('global:completed from another process-like queue instance (pub/sub)', { timeout: 30000, ...NEEDS }, async () => {
    const worker = mk('global');
    const watcher = mk('global');
    const seen = [];
    watcher.on('global:completed', (jobId, result) => seen.push([String(jobId), JSON.parse(result)]));
    await watcher.isReady();
    await new Promise((r) => setTimeout(r, 200));
    worker.process(async (job) => job.data.v + 1);
    const job = await worker.add({ v: 1 });
    await waitFor(() => seen.length === 1, 10000, 'global:completed');
    assert.deepEqual(seen[0], [String(job.id), 2]);
  });
});
