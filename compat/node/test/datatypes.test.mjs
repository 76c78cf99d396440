// The seeds' "data structures you'll use most" tour, through ioredis:
// strings, counters, hashes (hset with an object), lists, sets, sorted sets.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ioredis, prefix, cleanup, closeAll } from '../lib/common.mjs';

const P = prefix('types');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

test('strings: set/get/exists/del, SET EX, SETEX, MSET/MGET', { timeout: 10000 }, async () => {
  assert.equal(await redis.set(`${P}greeting`, 'Hello, Redis!'), 'OK');
  assert.equal(await redis.get(`${P}greeting`), 'Hello, Redis!');
  assert.equal(await redis.set(`${P}session:abc123`, JSON.stringify({ userId: 42 }), 'EX', 3600), 'OK');
  const ttl = await redis.ttl(`${P}session:abc123`);
  assert.ok(ttl > 3590 && ttl <= 3600, `ttl ${ttl}`);
  assert.deepEqual(JSON.parse(await redis.get(`${P}session:abc123`)), { userId: 42 });
  assert.equal(await redis.exists(`${P}greeting`), 1);
  assert.equal(await redis.del(`${P}greeting`), 1);
  assert.equal(await redis.exists(`${P}greeting`), 0);
  assert.equal(await redis.get(`${P}greeting`), null);

  assert.equal(await redis.setex(`${P}otp:user123`, 300, '123456'), 'OK');
  const otpTtl = await redis.ttl(`${P}otp:user123`);
  assert.ok(otpTtl > 290 && otpTtl <= 300, `ttl ${otpTtl}`);

  assert.equal(await redis.mset(`${P}key1`, 'value1', `${P}key2`, 'value2'), 'OK');
  assert.deepEqual(await redis.mget(`${P}key1`, `${P}key2`, `${P}nokey`), ['value1', 'value2', null]);
  // ioredis also takes an object for MSET
  assert.equal(await redis.mset({ [`${P}key3`]: 'v3', [`${P}key4`]: 'v4' }), 'OK');
  assert.deepEqual(await redis.mget([`${P}key3`, `${P}key4`]), ['v3', 'v4']);
});

test('counters: INCR, INCRBY, page views batched every N', { timeout: 10000 }, async () => {
  await redis.set(`${P}page:views`, 0);
  assert.equal(await redis.incr(`${P}page:views`), 1);
  assert.equal(await redis.incrby(`${P}page:views`, 5), 6);
  assert.equal(await redis.decr(`${P}page:views`), 5);
  assert.equal(await redis.incrbyfloat(`${P}page:views`, 0.5), '5.5');

  // incrementPageView(): atomic increments from many concurrent callers, a
  // "flush to the database" every 100 views.
  const key = `${P}page:home:views`;
  let flushes = 0;
  const incrementPageView = async () => {
    const count = await redis.incr(key);
    if (count % 100 === 0) flushes++;
    return count;
  };
  const counts = await Promise.all(Array.from({ length: 500 }, incrementPageView));
  assert.equal(new Set(counts).size, 500, 'every INCR returned a distinct value');
  assert.equal(Math.max(...counts), 500);
  assert.equal(flushes, 5);
  const cached = await redis.get(key);
  assert.equal(cached ? parseInt(cached, 10) : 0, 500);
  assert.equal(await redis.get(`${P}page:none:views`), null);
});

test('hashes: hset with an object, hget, hgetall, hincrby, hdel', { timeout: 10000 }, async () => {
  const key = `${P}user:42`;
  assert.equal(await redis.hset(key, { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' }), 3);
  assert.equal(await redis.hget(key, 'name'), 'Ada Lovelace');
  assert.deepEqual(await redis.hgetall(key), { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' });
  assert.equal(await redis.hset(key, 'role', 'superadmin'), 0);
  assert.equal(await redis.hget(key, 'role'), 'superadmin');
  assert.equal(await redis.hdel(key, 'role'), 1);
  assert.deepEqual(await redis.hgetall(key), { name: 'Ada Lovelace', email: 'ada@example.com' });
  assert.equal(await redis.hincrby(key, 'login_count', 1), 1);
  assert.equal(await redis.hincrby(key, 'login_count', 1), 2);
  // field/value pairs form too
  assert.equal(await redis.hset(`${P}user:1`, 'email', 'alice@example.com', 'name', 'Alice'), 2);
  assert.deepEqual(await redis.hgetall(`${P}user:1`), { email: 'alice@example.com', name: 'Alice' });
  assert.deepEqual(await redis.hgetall(`${P}user:none`), {});
  assert.deepEqual(await redis.hmget(key, 'name', 'nope'), ['Ada Lovelace', null]);
});

test('lists: rpush/lpop/lrange/llen/rpop, capped feed with lpush+ltrim', { timeout: 10000 }, async () => {
  const tasks = `${P}tasks`;
  assert.equal(await redis.rpush(tasks, 'send-email', 'generate-report'), 2);
  assert.equal(await redis.lpop(tasks), 'send-email');
  assert.deepEqual(await redis.lrange(tasks, 0, -1), ['generate-report']);
  assert.equal(await redis.llen(tasks), 1);
  assert.equal(await redis.rpop(tasks), 'generate-report');
  assert.equal(await redis.lpop(tasks), null);
  assert.equal(await redis.exists(tasks), 0, 'an emptied list is deleted');

  const feed = `${P}feed:global`;
  for (let i = 0; i < 150; i++) {
    await redis.lpush(feed, JSON.stringify({ type: 'post', id: i, ts: Date.now() }));
    await redis.ltrim(feed, 0, 99); // keep only the last 100 items
  }
  assert.equal(await redis.llen(feed), 100);
  const recent = (await redis.lrange(feed, 0, 9)).map((s) => JSON.parse(s).id);
  assert.deepEqual(recent, [149, 148, 147, 146, 145, 144, 143, 142, 141, 140]);

  const notif = `${P}notifications:user123`;
  await redis.lpush(notif, 'New message from Bob');
  await redis.lpush(notif, 'New message from Ann');
  assert.deepEqual(await redis.lrange(notif, 0, 9), ['New message from Ann', 'New message from Bob']);
});

test('sets: sadd/smembers/sismember/srem/scard/sinter, unique visitors', { timeout: 10000 }, async () => {
  const online = `${P}online-users`;
  assert.equal(await redis.sadd(online, 'user:1', 'user:2', 'user:3'), 3);
  assert.equal(await redis.sismember(online, 'user:2'), 1);
  assert.equal(await redis.sismember(online, 'user:9'), 0);
  assert.deepEqual((await redis.smembers(online)).sort(), ['user:1', 'user:2', 'user:3']);
  assert.equal(await redis.srem(online, 'user:1'), 1);
  assert.equal(await redis.scard(online), 2);

  // numbers as members come back as strings
  await redis.sadd(`${P}user:1:followers`, 2, 3, 4);
  assert.deepEqual((await redis.smembers(`${P}user:1:followers`)).sort(), ['2', '3', '4']);

  await redis.sadd(`${P}visitors:2026-04-03`, 'user:1', 'user:2', 'user:3', 'user:1');
  assert.equal(await redis.scard(`${P}visitors:2026-04-03`), 3);

  await redis.sadd(`${P}user:1:interests`, 'coding', 'gaming', 'music');
  await redis.sadd(`${P}user:2:interests`, 'coding', 'sports', 'music');
  assert.deepEqual((await redis.sinter(`${P}user:1:interests`, `${P}user:2:interests`)).sort(), ['coding', 'music']);
  await redis.sadd(`${P}tags:post:1`, 'nodejs', 'redis', 'tutorial');
  assert.deepEqual((await redis.smembers(`${P}tags:post:1`)).sort(), ['nodejs', 'redis', 'tutorial']);
});

test('sorted sets: zadd, zrevrange, zrank, zscore', { timeout: 10000 }, async () => {
  const lb = `${P}leaderboard`;
  await redis.zadd(lb, 100, 'alice', 95, 'bob', 88, 'charlie');
  assert.deepEqual(await redis.zrevrange(lb, 0, 2), ['alice', 'bob', 'charlie']);
  assert.equal(await redis.zrank(lb, 'bob'), 1);
  assert.equal(await redis.zrank(lb, 'charlie'), 0);
  assert.equal(await redis.zscore(lb, 'alice'), '100');
  assert.equal(await redis.zscore(lb, 'nobody'), null);
  assert.equal(await redis.zrank(lb, 'nobody'), null);
  assert.deepEqual(await redis.zrangebyscore(lb, 90, '+inf', 'WITHSCORES'), ['bob', '95', 'alice', '100']);
});

test('TYPE and WRONGTYPE errors are what clients expect', { timeout: 10000 }, async () => {
  await redis.set(`${P}str`, 'x');
  await redis.hset(`${P}h`, { a: 1 });
  assert.equal(await redis.type(`${P}str`), 'string');
  assert.equal(await redis.type(`${P}h`), 'hash');
  assert.equal(await redis.type(`${P}none`), 'none');
  await assert.rejects(redis.lpush(`${P}str`, 'y'), (e) => {
    assert.equal(e.message, 'WRONGTYPE Operation against a key holding the wrong kind of value');
    return true;
  });
  await assert.rejects(redis.incr(`${P}h`), /WRONGTYPE/);
  await redis.set(`${P}notnum`, 'abc');
  await assert.rejects(redis.incr(`${P}notnum`), (e) => {
    assert.equal(e.message, 'ERR value is not an integer or out of range');
    return true;
  });
});

test('error replies clients match on: arity, unknown command, syntax', { timeout: 10000 }, async () => {
  await assert.rejects(redis.call('GET'), (e) => {
    assert.equal(e.message, "ERR wrong number of arguments for 'get' command");
    return true;
  });
  await assert.rejects(redis.call('NOSUCHCMD', 'a', 'b'), (e) => {
    assert.equal(e.message, "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' ");
    return true;
  });
  await assert.rejects(redis.call('SET', `${P}k`, 'v', 'EX', 'notanumber'), (e) => {
    assert.equal(e.message, 'ERR value is not an integer or out of range');
    return true;
  });
  await assert.rejects(redis.call('SET', `${P}k`, 'v', 'BOGUS'), (e) => {
    assert.equal(e.message, 'ERR syntax error');
    return true;
  });
  await assert.rejects(redis.call('EXPIRE', `${P}k`, 10, 'NX', 'XX'), /ERR NX and XX, GT or LT options at the same time are not compatible/);
});

test('expiry helpers: SET KEEPTTL / GET, GETEX, GETDEL, PERSIST, EXPIRE NX/GT', { timeout: 10000 }, async () => {
  await redis.set(`${P}e`, 'a', 'EX', 100);
  assert.equal(await redis.set(`${P}e`, 'b', 'KEEPTTL', 'GET'), 'a');
  assert.ok((await redis.ttl(`${P}e`)) > 90);
  assert.equal(await redis.getex(`${P}e`, 'EX', 500), 'b');
  assert.ok((await redis.ttl(`${P}e`)) > 490);
  assert.equal(await redis.expire(`${P}e`, 50, 'GT'), 0);
  assert.equal(await redis.expire(`${P}e`, 50, 'NX'), 0);
  assert.equal(await redis.persist(`${P}e`), 1);
  assert.equal(await redis.ttl(`${P}e`), -1);
  assert.equal(await redis.expire(`${P}e`, 50, 'NX'), 1);
  assert.equal(await redis.getdel(`${P}e`), 'b');
  assert.equal(await redis.exists(`${P}e`), 0);
});

test('large collections survive their compact-to-full conversions', { timeout: 20000 }, async () => {
  const h = {};
  for (let i = 0; i < 1000; i++) h[`field:${i}`] = i % 7 === 0 ? 'x'.repeat(100) : String(i);
  assert.equal(await redis.hset(`${P}bigh`, h), 1000);
  assert.deepEqual(await redis.hgetall(`${P}bigh`), h);
  assert.equal(await redis.hlen(`${P}bigh`), 1000);
  const ints = Array.from({ length: 1000 }, (_, i) => i * 3);
  await redis.sadd(`${P}ints`, ...ints);
  await redis.sadd(`${P}ints2`, ...Array.from({ length: 1000 }, (_, i) => i * 2));
  assert.equal(await redis.scard(`${P}ints`), 1000);
  const inter = (await redis.sinter(`${P}ints`, `${P}ints2`)).map(Number).sort((a, b) => a - b);
  assert.deepEqual(inter, ints.filter((x) => x % 2 === 0 && x < 2000));
  await redis.sadd(`${P}ints`, 'not-a-number');
  assert.equal(await redis.sismember(`${P}ints`, '2997'), 1);
  assert.equal(await redis.sismember(`${P}ints`, 'not-a-number'), 1);
  const list = Array.from({ length: 2000 }, (_, i) => `item-${i}`);
  await redis.rpush(`${P}bigl`, ...list);
  assert.deepEqual(await redis.lrange(`${P}bigl`, 995, 1004), list.slice(995, 1005));
  assert.equal(await redis.lindex(`${P}bigl`, -1), 'item-1999');
  await redis.ltrim(`${P}bigl`, 100, 199);
  assert.deepEqual(await redis.lrange(`${P}bigl`, 0, -1), list.slice(100, 200));
  const usage = await redis.memory('USAGE', `${P}bigh`);
  assert.ok(usage > 10000, `MEMORY USAGE of a 1000-field hash: ${usage}`);
});
