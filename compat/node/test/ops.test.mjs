// Operating the server the way the seeds do, through ioredis: INFO parsed
// into hit rate / memory / clients / keys, INFO memory, MEMORY USAGE,
// CONFIG SET maxmemory(-policy), the PING health-check endpoint, graceful
// QUIT, MONITOR (issue 6), eviction under maxmemory (issue 11) and
// persistence across a restart (issue 10) on private servers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import Redis from 'ioredis';
import { ioredis, prefix, cleanup, closeAll, needs, parseInfo, listen, waitFor, sleep, spawnServer, SERVER_BIN, withTimeout } from '../lib/common.mjs';

const P = prefix('ops');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

function calculateHitRate(hits, misses) {
  const total = hits + misses;
  if (total === 0) return '0%';
  return `${((hits / total) * 100).toFixed(2)}%`;
}

async function getRedisStats(r = redis) {
  const stats = parseInfo(await r.info());
  return {
    usedMemory: stats.used_memory_human,
    connectedClients: stats.connected_clients,
    totalKeys: stats.db0?.match(/keys=(\d+)/)?.[1] || 0,
    hits: parseInt(stats.keyspace_hits || '0', 10),
    misses: parseInt(stats.keyspace_misses || '0', 10),
    hitRate: calculateHitRate(parseInt(stats.keyspace_hits || '0', 10), parseInt(stats.keyspace_misses || '0', 10)),
    raw: stats,
  };
}

test('INFO parsed like the seeds: memory, clients, keys, version', { timeout: 10000 }, async () => {
  await redis.set(`${P}k`, 'v');
  const s = await getRedisStats();
  assert.match(s.usedMemory, /^\d+(\.\d+)?[BKMG]$/, `used_memory_human ${s.usedMemory}`);
  assert.ok(Number(s.connectedClients) >= 1);
  assert.ok(Number(s.totalKeys) >= 1);
  assert.equal(Number(s.totalKeys), await redis.dbsize());
  assert.match(s.raw.redis_version, /^\d+\.\d+\.\d+$/);
  assert.ok(Number(s.raw.used_memory) > 0);
  assert.ok(Number(s.raw.uptime_in_seconds) >= 0);
  assert.equal(s.raw.redis_mode, 'standalone');
  assert.equal(s.raw.role, 'master');
  assert.match(s.raw.db0, /^keys=\d+,expires=\d+,avg_ttl=\d+/);
});

test('hit rate from keyspace_hits / keyspace_misses moves by exactly our GETs', { timeout: 10000 }, async () => {
  await redis.set(`${P}hit`, '1');
  const before = await getRedisStats();
  for (let i = 0; i < 6; i++) await redis.get(`${P}hit`);
  for (let i = 0; i < 2; i++) await redis.get(`${P}miss:${i}`);
  const afterStats = await getRedisStats();
  assert.equal(afterStats.hits - before.hits, 6);
  assert.equal(afterStats.misses - before.misses, 2);
  assert.equal(calculateHitRate(afterStats.hits - before.hits, afterStats.misses - before.misses), '75.00%');
  assert.match(afterStats.hitRate, /^\d+\.\d\d%$/);
});

test('connected_clients follows connections opening and closing', { timeout: 15000 }, async () => {
  const before = Number((await getRedisStats()).connectedClients);
  const extra = [ioredis(), ioredis(), ioredis()];
  await Promise.all(extra.map((c) => c.ping()));
  assert.equal(Number((await getRedisStats()).connectedClients), before + 3);
  await Promise.all(extra.map((c) => c.quit()));
  await waitFor(async () => Number((await getRedisStats()).connectedClients) === before, 5000, 'clients to be gone');
});

test('INFO memory and other sections', { timeout: 10000 }, async () => {
  const mem = parseInfo(await redis.info('memory'));
  for (const f of ['used_memory', 'used_memory_human', 'used_memory_peak', 'maxmemory', 'maxmemory_policy']) assert.ok(f in mem, `INFO memory has ${f}`);
  const ks = await redis.info('keyspace');
  assert.match(ks, /^# Keyspace/);
  const stats = parseInfo(await redis.info('stats'));
  for (const f of ['total_connections_received', 'total_commands_processed', 'keyspace_hits', 'keyspace_misses', 'expired_keys', 'evicted_keys']) assert.ok(f in stats, `INFO stats has ${f}`);
  const clients = parseInfo(await redis.info('clients'));
  assert.ok('connected_clients' in clients && 'blocked_clients' in clients);
});

test('active expiry removes keys nobody reads; expired_keys counts them', { timeout: 15000 }, async () => {
  const r9 = ioredis({ db: 9 });
  const size9 = await r9.dbsize();
  const before = Number(parseInfo(await redis.info('stats')).expired_keys);
  const p = r9.pipeline();
  for (let i = 0; i < 200; i++) p.set(`${P}ttl:${i}`, 'v', 'PX', 100);
  await p.exec();
  // no reads of those keys from here on: only the server's own expiry cycle removes them
  await waitFor(async () => Number(parseInfo(await redis.info('stats')).expired_keys) - before >= 200, 10000, 'active expiry of 200 keys');
  assert.equal(await r9.dbsize(), size9);
});

test('MEMORY USAGE of a key grows with its value; missing key is null', { timeout: 10000 }, async () => {
  await redis.set(`${P}small`, 'x');
  await redis.set(`${P}large`, 'x'.repeat(10000));
  await redis.hset(`${P}user:123`, { name: 'John', email: 'john@example.com' });
  const small = await redis.memory('USAGE', `${P}small`);
  const large = await redis.memory('USAGE', `${P}large`);
  const hash = await redis.memory('USAGE', `${P}user:123`);
  assert.equal(typeof small, 'number');
  assert.ok(small > 0 && small < 200, `small ${small}`);
  assert.ok(large >= 10000 && large < 20000, `large ${large}`);
  assert.ok(hash > 0, `hash ${hash}`);
  assert.equal(await redis.memory('USAGE', `${P}missing`), null);
  assert.equal(typeof (await redis.memory('USAGE', `${P}large`, 'SAMPLES', 0)), 'number');
});

test('CONFIG SET maxmemory-policy allkeys-lru and maxmemory 256mb, read back, restore', { timeout: 10000 }, async () => {
  const policyReply = await redis.config('GET', 'maxmemory-policy');
  const maxReply = await redis.config('GET', 'maxmemory');
  assert.equal(policyReply.length, 2, `CONFIG GET maxmemory-policy -> ${JSON.stringify(policyReply)}`);
  assert.equal(maxReply.length, 2, `CONFIG GET maxmemory -> ${JSON.stringify(maxReply)}`);
  const [, oldPolicy] = policyReply;
  const [, oldMax] = maxReply;
  try {
    assert.equal(await redis.config('SET', 'maxmemory-policy', 'allkeys-lru'), 'OK');
    assert.deepEqual(await redis.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'allkeys-lru']);
    assert.equal(await redis.config('SET', 'maxmemory', '256mb'), 'OK');
    assert.deepEqual(await redis.config('GET', 'maxmemory'), ['maxmemory', '268435456']);
    const mem = parseInfo(await redis.info('memory'));
    assert.equal(mem.maxmemory_policy, 'allkeys-lru');
    assert.equal(mem.maxmemory, '268435456');
    for (const p of ['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-ttl', 'allkeys-random']) {
      assert.equal(await redis.config('SET', 'maxmemory-policy', p), 'OK');
    }
    await assert.rejects(redis.config('SET', 'maxmemory-policy', 'most-recently-used'), /ERR/);
    // glob form used by dashboards
    const all = await redis.config('GET', 'maxmemory*');
    assert.ok(all.includes('maxmemory-policy'));
  } finally {
    await redis.config('SET', 'maxmemory-policy', oldPolicy).catch(() => {});
    await redis.config('SET', 'maxmemory', oldMax).catch(() => {});
  }
});

test('health-check endpoint: PING latency + stats over HTTP', { timeout: 10000 }, async () => {
  const app = express();
  app.get('/health/redis', async (req, res) => {
    try {
      const start = Date.now();
      const pong = await redis.ping();
      const latency = Date.now() - start;
      const stats = await getRedisStats();
      res.json({ status: 'healthy', pong, latency: `${latency}ms`, usedMemory: stats.usedMemory, connectedClients: stats.connectedClients, hitRate: stats.hitRate });
    } catch (err) {
      res.status(503).json({ status: 'unhealthy', error: err.message });
    }
  });
  const srv = await listen(app);
  try {
    const r = await fetch(`${srv.base}/health/redis`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    const body = await r.json();
    assert.equal(body.status, 'healthy');
    assert.equal(body.pong, 'PONG');
    assert.match(body.latency, /^\d+ms$/);
    assert.match(body.hitRate, /%$/);
    assert.equal(await redis.ping('hello'), 'hello');
  } finally {
    await srv.close();
  }
});

test('graceful shutdown: quit() answers OK, the connection ends, the server forgets the client', { timeout: 10000 }, async () => {
  const r = ioredis({ connectionName: `${P.replace(/:/g, '-')}quitter` });
  await r.ping();
  const name = `${P.replace(/:/g, '-')}quitter`;
  assert.match(await redis.client('LIST'), new RegExp(`name=${name}`));
  const ended = new Promise((res) => r.once('end', res));
  assert.equal(await r.quit(), 'OK');
  await withTimeout(ended, 5000, "'end' event");
  assert.equal(r.status, 'end');
  await waitFor(async () => !(await redis.client('LIST')).includes(`name=${name}`), 5000, 'client gone from CLIENT LIST');
  await assert.rejects(r.get('x'), /Connection is closed/);
});

test('MONITOR streams other clients\' commands', { timeout: 10000 }, async () => {
  const monitor = await redis.monitor();
  const seen = [];
  monitor.on('monitor', (time, args) => seen.push(args));
  try {
    await sleep(50);
    await redis.set(`${P}mon`, 'v');
    await waitFor(() => seen.some((a) => a[0].toLowerCase() === 'set' && a[1] === `${P}mon`), 5000, 'SET in MONITOR');
  } finally {
    monitor.disconnect();
  }
});

const privateServer = SERVER_BIN ? {} : { skip: 'COMPAT_SERVER_BIN not set: cannot start a private server' };

test('eviction: allkeys-lru under a small maxmemory evicts instead of failing', { timeout: 30000, ...privateServer, ...needs(11) }, async () => {
  const srv = await spawnServer(['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru']);
  const r = new Redis({ port: srv.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    const value = 'x'.repeat(1000);
    for (let batch = 0; batch < 20; batch++) {
      const p = r.pipeline();
      for (let i = 0; i < 1000; i++) p.set(`k:${batch}:${i}`, value);
      const res = await p.exec();
      assert.ok(res.every(([e]) => e === null), 'no OOM errors under allkeys-lru');
    }
    const stats = parseInfo(await r.info());
    assert.ok(Number(stats.evicted_keys) > 0, `evicted_keys ${stats.evicted_keys}`);
    assert.ok((await r.dbsize()) < 20000);
    assert.ok(Number(stats.used_memory) <= 4 * 1024 * 1024 * 1.1, `used_memory ${stats.used_memory}`);
    // noeviction: writes are refused with Redis's OOM error
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    await assert.rejects(
      (async () => {
        for (let i = 0; i < 20000; i++) await r.set(`more:${i}`, value);
      })(),
      /OOM command not allowed when used memory > 'maxmemory'/,
    );
    assert.equal(await r.get('k:19:999'), value, 'reads still work');
  } finally {
    r.disconnect();
    await srv.cleanup();
  }
});

test('persistence: SAVE, restart, data is back (dump.rdb)', { timeout: 30000, ...privateServer }, async () => {
  const srv = await spawnServer();
  const connect = () => {
    const c = new Redis({ port: srv.port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
    c.on('error', () => {});
    return c;
  };
  let r = connect();
  try {
    await r.set('user:1', JSON.stringify({ name: 'Alice' }));
    await r.hset('user:1:profile', { city: 'Paris' });
    await r.zadd('leaderboard', 10, 'alice', 20, 'bob');
    await r.set('session:x', 'data', 'EX', 3600);
    assert.equal(await r.save(), 'OK');
    r.disconnect();
    await srv.restart();
    r = connect();
    assert.deepEqual(JSON.parse(await r.get('user:1')), { name: 'Alice' });
    assert.deepEqual(await r.hgetall('user:1:profile'), { city: 'Paris' });
    assert.deepEqual(await r.zrevrange('leaderboard', 0, -1, 'WITHSCORES'), ['bob', '20', 'alice', '10']);
    const ttl = await r.ttl('session:x');
    assert.ok(ttl > 3500 && ttl <= 3600, `ttl ${ttl}`);
  } finally {
    r.disconnect();
    await srv.cleanup();
  }
});
