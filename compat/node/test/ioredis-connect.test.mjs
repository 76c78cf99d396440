// ioredis's own surface on connect and beyond: CLIENT SETNAME
// (connectionName), CLIENT SETINFO, the INFO ready check, db selection,
// lazyConnect, scanStream & co., call(), binary values, reconnect after
// CLIENT KILL and after a server restart (private server), requirepass
// (private server), maxRetriesPerRequest while the server is down.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { ioredis, prefix, cleanup, closeAll, waitFor, withTimeout, spawnServer, SERVER_BIN, versionAtLeast, HOST, PORT, REDIS_URL, sleep } from '../lib/common.mjs';

const P = prefix('ioc');
const redis = ioredis();
const IOREDIS_VERSION = (await import('ioredis/package.json', { with: { type: 'json' } })).default.version;
after(async () => {
  await cleanup(P);
  for (const db of [3, 4]) await cleanup(P, db);
  await closeAll();
});

function clientLine(list, name) {
  return list.split('\n').find((l) => l.includes(` name=${name} `));
}

test('connectionName sends CLIENT SETNAME; CLIENT SETINFO lib-name/lib-ver are set (7.2+)', { timeout: 10000 }, async () => {
  const name = `api-${P.split(':')[2]}`;
  const r = ioredis({ connectionName: name });
  await r.ping();
  assert.equal(await r.client('GETNAME'), name);
  const line = clientLine(await redis.client('LIST'), name);
  assert.ok(line, 'CLIENT LIST shows the name');
  if (await versionAtLeast(7, 2)) {
    // CLIENT SETINFO exists since Redis 7.2; ioredis ignores its error on older servers
    assert.match(line, /lib-name=ioredis(\s|$)/);
    assert.match(line, new RegExp(`lib-ver=${IOREDIS_VERSION.replace(/\./g, '\\.')}(\\s|$)`));
  }
  const info = await r.client('INFO');
  assert.match(info, new RegExp(`name=${name} `));
  const id = await r.client('ID');
  assert.equal(typeof id, 'number');
  assert.match(info, new RegExp(`^id=${id} `));
});

test('ready check: INFO on connect (loading:0), then the ready event', { timeout: 10000 }, async () => {
  const r = ioredis({ enableReadyCheck: true, lazyConnect: true });
  const events = [];
  for (const e of ['connect', 'ready', 'close', 'end']) r.on(e, () => events.push(e));
  assert.equal(r.status, 'wait');
  await r.connect();
  assert.equal(r.status, 'ready');
  assert.deepEqual(events, ['connect', 'ready']);
  // the same check ioredis ran before 'ready', parsed by ioredis itself
  const info = await new Promise((res, rej) => r._readyCheck((err, i) => (err ? rej(err) : res(i))));
  assert.equal(info.loading, '0');
  assert.match(info.redis_version, /^\d+\.\d+/);
  assert.ok(Number(info.connected_clients) >= 1);
  await r.quit();
  await waitFor(() => events.includes('end'), 3000, 'end event');
});

test('seed connection options: retryStrategy, maxRetriesPerRequest, lazyConnect + connect()', { timeout: 10000 }, async () => {
  const r = ioredis({
    maxRetriesPerRequest: 3,
    retryStrategy(times) {
      return Math.min(times * 50, 2000);
    },
    lazyConnect: true,
  });
  await r.connect();
  assert.equal(await r.set(`${P}lazy`, 'ok'), 'OK');
  assert.equal(await r.get(`${P}lazy`), 'ok');
  // URL form like REDIS_URL in the seeds
  const u = new Redis(REDIS_URL);
  u.on('error', () => {});
  try {
    assert.equal(await u.get(`${P}lazy`), 'ok');
  } finally {
    u.disconnect();
  }
});

test('db option and /db in the URL select a database', { timeout: 10000 }, async () => {
  const r3 = ioredis({ db: 3 });
  await r3.set(`${P}indb`, 'three');
  assert.equal(await redis.get(`${P}indb`), null, 'not in db 0');
  assert.match(await r3.client('INFO'), / db=3 /);
  const r4 = new Redis(`${REDIS_URL}/4`);
  r4.on('error', () => {});
  try {
    assert.equal(await r4.get(`${P}indb`), null);
    await r4.set(`${P}indb`, 'four');
    assert.match(await r4.client('INFO'), / db=4 /);
  } finally {
    r4.disconnect();
  }
  assert.equal(await r3.get(`${P}indb`), 'three');
  await r3.select(4);
  assert.equal(await r3.get(`${P}indb`), 'four');
  await assert.rejects(redis.select(999), /ERR DB index is out of range/);
});

test('scanStream / hscanStream / sscanStream / zscanStream with match and count', { timeout: 20000 }, async () => {
  const pipe = redis.pipeline();
  for (let i = 0; i < 500; i++) pipe.set(`${P}ss:user:${i}`, i);
  for (let i = 0; i < 50; i++) pipe.set(`${P}ss:other:${i}`, i);
  for (let i = 0; i < 300; i++) pipe.hset(`${P}ss:h`, `f${i}`, i);
  for (let i = 0; i < 300; i++) pipe.sadd(`${P}ss:s`, `m${i}`);
  for (let i = 0; i < 300; i++) pipe.zadd(`${P}ss:z`, i, `z${i}`);
  await pipe.exec();
  const collect = (stream) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const all = [];
        let batches = 0;
        stream.on('data', (items) => {
          batches++;
          all.push(...items);
        });
        stream.on('end', () => resolve({ all, batches }));
        stream.on('error', reject);
      }),
      10000,
      'scan stream',
    );
  const { all, batches } = await collect(redis.scanStream({ match: `${P}ss:user:*`, count: 100 }));
  assert.equal(new Set(all).size, 500);
  assert.ok(all.every((k) => k.startsWith(`${P}ss:user:`)));
  assert.ok(batches > 1);
  const typed = await collect(redis.scanStream({ match: `${P}ss:*`, type: 'hash', count: 1000 }));
  assert.deepEqual(typed.all, [`${P}ss:h`]);
  const h = await collect(redis.hscanStream(`${P}ss:h`, { count: 50 }));
  assert.equal(h.all.length, 600);
  const hobj = {};
  for (let i = 0; i < h.all.length; i += 2) hobj[h.all[i]] = h.all[i + 1];
  assert.equal(Object.keys(hobj).length, 300);
  assert.equal(hobj.f42, '42');
  const s = await collect(redis.sscanStream(`${P}ss:s`, { match: 'm1*', count: 50 }));
  assert.equal(new Set(s.all).size, 111);
  const z = await collect(redis.zscanStream(`${P}ss:z`, { count: 50 }));
  assert.equal(z.all.length, 600);
});

test('call() / sendCommand, binary-safe values with Buffers', { timeout: 10000 }, async () => {
  assert.equal(await redis.call('SET', `${P}call`, 'v'), 'OK');
  assert.equal(await redis.call('GET', `${P}call`), 'v');
  const bin = Buffer.from([0, 1, 2, 255, 254, 13, 10, 0]);
  await redis.set(`${P}bin`, bin);
  assert.deepEqual(await redis.getBuffer(`${P}bin`), bin);
  await redis.hset(`${P}binh`, Buffer.from([0xff, 0]), bin);
  const h = await redis.hgetallBuffer(`${P}binh`);
  assert.deepEqual(Object.values(h)[0], bin);
  const unicode = 'héllo wörld ✓ 日本';
  await redis.set(`${P}ü`, unicode);
  assert.equal(await redis.get(`${P}ü`), unicode);
  assert.equal(await redis.strlen(`${P}ü`), Buffer.byteLength(unicode));
  const big = 'x'.repeat(5 * 1024 * 1024);
  await redis.set(`${P}big`, big);
  assert.equal((await redis.get(`${P}big`)).length, big.length);
});

test('reconnects after CLIENT KILL and re-applies connectionName and db', { timeout: 15000 }, async () => {
  const name = `rk-${P.split(':')[2]}`;
  const r = ioredis({ connectionName: name, db: 3, retryStrategy: (t) => Math.min(t * 50, 500) });
  await r.set(`${P}rk`, 'x');
  const id = await r.client('ID');
  const reconnecting = new Promise((res) => r.once('reconnecting', res));
  assert.equal(await redis.client('KILL', 'ID', id), 1);
  await withTimeout(reconnecting, 5000, 'reconnecting event');
  await waitFor(() => r.status === 'ready', 5000, 'ready again');
  const id2 = await r.client('ID');
  assert.notEqual(id2, id);
  assert.equal(await r.client('GETNAME'), name);
  assert.equal(await r.get(`${P}rk`), 'x', 'still on db 3');
});

const PRIVATE = SERVER_BIN ? {} : { skip: 'COMPAT_SERVER_BIN not set: cannot start a private server' };

describe('private server (COMPAT_SERVER_BIN)', () => {
  test('reconnect after the server restarts; commands sent meanwhile are queued and run', { timeout: 40000, ...PRIVATE }, async () => {
    const srv = await spawnServer();
    const events = [];
    const r = new Redis({ host: '127.0.0.1', port: srv.port, connectionName: 'restart-test', retryStrategy: (times) => Math.min(times * 50, 500), maxRetriesPerRequest: 50 });
    r.on('error', () => {});
    for (const e of ['ready', 'close', 'reconnecting']) r.on(e, () => events.push(e));
    try {
      await r.set('before', '1');
      await srv.stop();
      await waitFor(() => events.includes('reconnecting'), 5000, 'reconnecting');
      const pending = r.set('during', '2'); // offline queue
      await sleep(300);
      await srv.restart();
      assert.equal(await withTimeout(pending, 15000, 'queued SET'), 'OK');
      assert.equal(r.status, 'ready');
      assert.equal(await r.get('during'), '2');
      assert.equal(await r.get('before'), null, 'a restarted server without persistence is empty');
      assert.equal(await r.client('GETNAME'), 'restart-test');
      assert.ok(events.filter((e) => e === 'ready').length >= 2);
    } finally {
      r.disconnect();
      await srv.cleanup();
    }
  });

  test('maxRetriesPerRequest rejects commands while the server stays down', { timeout: 30000, ...PRIVATE }, async () => {
    const srv = await spawnServer();
    const r = new Redis({ host: '127.0.0.1', port: srv.port, retryStrategy: () => 50, maxRetriesPerRequest: 2 });
    r.on('error', () => {});
    try {
      await r.ping();
      await srv.stop();
      await assert.rejects(withTimeout(r.get('x'), 10000, 'GET'), /max retries per request limit|Reached the max retries/i);
    } finally {
      r.disconnect();
      await srv.cleanup();
    }
  });

  test('requirepass: password option, URL with password, NOAUTH and WRONGPASS errors', { timeout: 30000, ...PRIVATE }, async () => {
    const srv = await spawnServer(['--requirepass', 's3cret']);
    const mk = (opts) => {
      const c = new Redis({ host: '127.0.0.1', port: srv.port, maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
      c.on('error', () => {});
      return c;
    };
    const clients = [];
    try {
      const good = mk({ password: 's3cret' });
      clients.push(good);
      assert.equal(await good.set('k', 'v'), 'OK');
      const url = new Redis(`redis://default:s3cret@127.0.0.1:${srv.port}`);
      url.on('error', () => {});
      clients.push(url);
      assert.equal(await url.get('k'), 'v');
      const none = mk({ enableReadyCheck: false, lazyConnect: true });
      clients.push(none);
      await none.connect();
      await assert.rejects(none.get('k'), /NOAUTH Authentication required/);
      assert.equal(await none.auth('s3cret'), 'OK');
      assert.equal(await none.get('k'), 'v');
      const wrong = mk({ enableReadyCheck: false, lazyConnect: true });
      clients.push(wrong);
      await wrong.connect().catch(() => {});
      await assert.rejects(wrong.auth('nope'), /WRONGPASS invalid username-password pair or user is disabled/);
    } finally {
      clients.forEach((c) => c.disconnect());
      await srv.cleanup();
    }
  });
});
