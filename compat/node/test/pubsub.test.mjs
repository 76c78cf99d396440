// Pub/Sub from the seeds, through ioredis on dedicated subscriber
// connections: SUBSCRIBE to several channels with a 'message' dispatcher,
// the callback form, PSUBSCRIBE + 'pmessage', PUBLISH receiver counts,
// UNSUBSCRIBE back to normal mode, PUBSUB introspection, keyspace events.
// Keyspace events wait for issue 6 on Ferrokey.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ioredis, ready, prefix, cleanup, closeAll, needs, waitFor, sleep } from '../lib/common.mjs';

const P = prefix('ps');
const publisher = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

test('SUBSCRIBE orders + notifications, dispatch on channel, PUBLISH counts receivers', { timeout: 15000 }, async () => {
  const subscriber = await ready(ioredis());
  const orders = [];
  const notes = [];
  const count = await subscriber.subscribe(`${P}orders`, `${P}notifications`);
  assert.equal(count, 2);
  subscriber.on('message', (channel, message) => {
    const data = JSON.parse(message);
    switch (channel) {
      case `${P}orders`:
        orders.push(data);
        break;
      case `${P}notifications`:
        notes.push(data);
        break;
    }
  });
  async function publishOrderCreated(order) {
    return publisher.publish(
      `${P}orders`,
      JSON.stringify({ event: 'order.created', data: { orderId: order.id, userId: order.userId, total: order.total }, timestamp: Date.now() }),
    );
  }
  assert.equal(await publishOrderCreated({ id: 1, userId: 42, total: 9.99 }), 1);
  assert.equal(await publisher.publish(`${P}notifications`, JSON.stringify({ userIds: [42], message: 'hi' })), 1);
  assert.equal(await publisher.publish(`${P}nobody-listens`, 'x'), 0);
  await waitFor(() => orders.length === 1 && notes.length === 1, 5000, 'both messages');
  assert.equal(orders[0].event, 'order.created');
  assert.deepEqual(orders[0].data, { orderId: 1, userId: 42, total: 9.99 });
  assert.deepEqual(notes[0], { userIds: [42], message: 'hi' });
});

test('subscribe with a callback (err, count), message order preserved', { timeout: 15000 }, async () => {
  const subscriber = await ready(ioredis());
  const got = [];
  const count = await new Promise((resolve, reject) => subscriber.subscribe(`${P}notify`, (err, c) => (err ? reject(err) : resolve(c))));
  assert.equal(count, 1);
  subscriber.on('message', (channel, message) => got.push(message));
  for (let i = 0; i < 100; i++) await publisher.publish(`${P}notify`, `m${i}`);
  await waitFor(() => got.length === 100, 5000, '100 messages');
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `m${i}`));
});

test('PSUBSCRIBE orders.* receives pmessage(pattern, channel, message)', { timeout: 15000 }, async () => {
  const subscriber = await ready(ioredis());
  const got = [];
  assert.equal(await subscriber.psubscribe(`${P}orders.*`), 1);
  subscriber.on('pmessage', (pattern, channel, message) => got.push([pattern, channel, JSON.parse(message)]));
  assert.equal(await publisher.publish(`${P}orders.created`, JSON.stringify({ id: 1 })), 1);
  assert.equal(await publisher.publish(`${P}orders.shipped`, JSON.stringify({ id: 1 })), 1);
  assert.equal(await publisher.publish(`${P}ordersX`, '{}'), 0);
  await waitFor(() => got.length === 2, 5000, 'two pmessages');
  assert.deepEqual(got, [
    [`${P}orders.*`, `${P}orders.created`, { id: 1 }],
    [`${P}orders.*`, `${P}orders.shipped`, { id: 1 }],
  ]);
});

test('one publish reaches channel and pattern subscribers on several connections', { timeout: 15000 }, async () => {
  const subs = await Promise.all([ioredis(), ioredis(), ioredis()].map(ready));
  await subs[0].subscribe(`${P}deployments`);
  await subs[1].subscribe(`${P}deployments`);
  await subs[2].psubscribe(`${P}deploy*`);
  const got = [[], [], []];
  subs[0].on('message', (c, m) => got[0].push(m));
  subs[1].on('message', (c, m) => got[1].push(m));
  subs[2].on('pmessage', (p, c, m) => got[2].push(m));
  const n = await publisher.publish(`${P}deployments`, JSON.stringify({ projectId: 7, status: 'deployed' }));
  assert.equal(n, 3);
  await waitFor(() => got.every((g) => g.length === 1), 5000, 'all three');
  const numsub = await publisher.pubsub('NUMSUB', `${P}deployments`);
  assert.deepEqual(numsub, [`${P}deployments`, 2]);
  assert.ok((await publisher.pubsub('CHANNELS', `${P}*`)).includes(`${P}deployments`));
  assert.ok((await publisher.pubsub('NUMPAT')) >= 1);
});

test('UNSUBSCRIBE returns the connection to normal commands', { timeout: 15000 }, async () => {
  const subscriber = await ready(ioredis());
  await subscriber.subscribe(`${P}a`, `${P}b`);
  await subscriber.unsubscribe(`${P}a`);
  assert.equal(await publisher.publish(`${P}a`, 'x'), 0);
  assert.equal(await publisher.publish(`${P}b`, 'x'), 1);
  await subscriber.unsubscribe();
  await sleep(20);
  assert.equal(await subscriber.set(`${P}after`, '1'), 'OK');
  assert.equal(await subscriber.get(`${P}after`), '1');
});

test('keyspace notifications: expired events for cache keys', { timeout: 15000 }, async () => {
  const [, old] = await publisher.config('GET', 'notify-keyspace-events');
  const subscriber = await ready(ioredis());
  try {
    await publisher.config('SET', 'notify-keyspace-events', 'Ex');
    const expired = [];
    await subscriber.subscribe('__keyevent@0__:expired');
    subscriber.on('message', (channel, key) => {
      if (key.startsWith(P)) expired.push(key);
    });
    await publisher.set(`${P}short`, 'v', 'PX', 100);
    await sleep(250);
    // reading an expired key expires it (active expiry may not have sampled it yet)
    assert.equal(await publisher.get(`${P}short`), null);
    await waitFor(() => expired.includes(`${P}short`), 5000, 'expired event');
  } finally {
    await publisher.config('SET', 'notify-keyspace-events', old);
  }
});
