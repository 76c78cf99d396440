// Leaderboards from the seeds, through ioredis: ZADD, ZINCRBY, ZREVRANGE
// WITHSCORES parsed into players, ZREVRANK + ZSCORE in a pipeline, "players
// around me", ZRANGE ... REV / BYSCORE.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ioredis, prefix, cleanup, closeAll } from '../lib/common.mjs';

const P = prefix('lb');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

const LB = `${P}leaderboard:global`;

async function updateScore(userId, score) {
  await redis.zadd(LB, score, userId);
}
async function incrementScore(userId, amount) {
  return redis.zincrby(LB, amount, userId);
}
async function getTopPlayers(count = 10) {
  const results = await redis.zrevrange(LB, 0, count - 1, 'WITHSCORES');
  const players = [];
  for (let i = 0; i < results.length; i += 2) {
    players.push({ userId: results[i], score: parseFloat(results[i + 1]), rank: Math.floor(i / 2) + 1 });
  }
  return players;
}
async function getPlayerRank(userId) {
  const pipeline = redis.pipeline();
  pipeline.zrevrank(LB, userId);
  pipeline.zscore(LB, userId);
  const results = await pipeline.exec();
  const rank = results?.[0]?.[1];
  const score = results?.[1]?.[1];
  if (rank === null || score === null) return null;
  return { rank: rank + 1, score: parseFloat(score) };
}

test('leaderboard service: update, increment, top players, rank', { timeout: 10000 }, async () => {
  await updateScore('player:alice', 9500);
  await updateScore('player:bob', 8200);
  await updateScore('player:carol', 11000);
  assert.deepEqual(await getTopPlayers(3), [
    { userId: 'player:carol', score: 11000, rank: 1 },
    { userId: 'player:alice', score: 9500, rank: 2 },
    { userId: 'player:bob', score: 8200, rank: 3 },
  ]);
  assert.equal(await redis.zrevrank(LB, 'player:alice'), 1);
  assert.equal(await redis.zscore(LB, 'player:carol'), '11000');
  assert.equal(await incrementScore('player:bob', 3000), '11200');
  assert.equal(await incrementScore('player:bob', 0.5), '11200.5');
  assert.equal(await incrementScore('player:new', 10), '10', 'ZINCRBY creates the member');
  assert.deepEqual(await getPlayerRank('player:bob'), { rank: 1, score: 11200.5 });
  assert.deepEqual(await getPlayerRank('player:new'), { rank: 4, score: 10 });
  assert.equal(await getPlayerRank('player:nobody'), null);
  // updating an existing member's score reorders
  await updateScore('player:new', 20000);
  assert.equal((await getTopPlayers(1))[0].userId, 'player:new');
  assert.equal(await redis.zcard(LB), 4);
});

test('weekly board: multi-member ZADD, ZINCRBY, top 10 WITHSCORES, players around me', { timeout: 10000 }, async () => {
  const key = `${P}leaderboard:weekly`;
  assert.equal(await redis.zadd(key, 1500, 'user:1', 2300, 'user:2', 1800, 'user:3'), 3);
  await redis.zadd(key, 1500, 'user:alice');
  assert.equal(await redis.zincrby(key, 100, 'user:alice'), '1600');
  const top10 = await redis.zrevrange(key, 0, 9, 'WITHSCORES');
  assert.deepEqual(top10, ['user:2', '2300', 'user:3', '1800', 'user:alice', '1600', 'user:1', '1500']);

  // 50 more players, then the 5 around a player in the middle
  const args = [];
  for (let i = 0; i < 50; i++) args.push(1000 + i * 10, `bot:${i}`);
  assert.equal(await redis.zadd(key, ...args), 50);
  const me = 'bot:25'; // score 1250
  const rank = await redis.zrevrank(key, me);
  assert.equal(rank, 4 + (49 - 25));
  const around = await redis.zrevrange(key, Math.max(0, rank - 2), rank + 2, 'WITHSCORES');
  assert.deepEqual(around, ['bot:27', '1270', 'bot:26', '1260', 'bot:25', '1250', 'bot:24', '1240', 'bot:23', '1230']);
  // at the very top the window is clipped at 0
  const topRank = await redis.zrevrank(key, 'user:2');
  assert.equal(topRank, 0);
  const aroundTop = await redis.zrevrange(key, Math.max(0, topRank - 2), topRank + 2);
  assert.deepEqual(aroundTop, ['user:2', 'user:3', 'user:alice']);
});

test('ties order by member, ZRANGE REV / BYSCORE / LIMIT, negative and float scores', { timeout: 10000 }, async () => {
  const key = `${P}ties`;
  await redis.zadd(key, 10, 'b', 10, 'a', 10, 'c', -5.5, 'neg', 1e3, 'big');
  assert.deepEqual(await redis.zrevrange(key, 0, -1), ['big', 'c', 'b', 'a', 'neg']);
  assert.deepEqual(await redis.zrange(key, 0, 1, 'REV'), ['big', 'c']);
  assert.deepEqual(await redis.zrange(key, 0, -1, 'WITHSCORES'), ['neg', '-5.5', 'a', '10', 'b', '10', 'c', '10', 'big', '1000']);
  assert.deepEqual(await redis.zrange(key, '+inf', 10, 'BYSCORE', 'REV', 'LIMIT', 0, 2), ['big', 'c']);
  assert.deepEqual(await redis.zrangebyscore(key, '(10', '+inf'), ['big']);
  assert.deepEqual(await redis.zrevrangebyscore(key, 10, '-inf', 'WITHSCORES', 'LIMIT', 1, 2), ['b', '10', 'a', '10']);
  assert.equal(await redis.zcount(key, 0, 100), 3);
  assert.equal(await redis.zremrangebyscore(key, '-inf', 0), 1);
  assert.equal(await redis.zrem(key, 'big', 'nope'), 1);
  assert.deepEqual(await redis.zrange(key, 0, -1), ['a', 'b', 'c']);
  // ZADD flags the seeds' libraries rely on
  assert.equal(await redis.zadd(key, 'NX', 99, 'a'), 0);
  assert.equal(await redis.zscore(key, 'a'), '10');
  assert.equal(await redis.zadd(key, 'XX', 'CH', 11, 'a'), 1);
  assert.equal(await redis.zadd(key, 'GT', 5, 'a'), 0);
  assert.equal(await redis.zscore(key, 'a'), '11');
  assert.equal(await redis.zadd(key, 'INCR', 4, 'a'), '15');
});

test('a large board (5000 players): ranks, slices and counts agree with a sorted copy', { timeout: 20000 }, async () => {
  const key = `${P}big`;
  const players = [];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 5000; i++) players.push([`p${i}`, Math.floor(rnd() * 100000) / 10]);
  for (let i = 0; i < players.length; i += 500) {
    const args = players.slice(i, i + 500).flatMap(([m, s]) => [s, m]);
    await redis.zadd(key, ...args);
  }
  // Redis order: score descending, ties by member descending for REV
  const sorted = [...players].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
  assert.equal(await redis.zcard(key), 5000);
  const p = redis.pipeline();
  const sample = [0, 1, 2, 17, 499, 2500, 4998, 4999].map((i) => sorted[i][0]);
  for (const m of sample) p.zrevrank(key, m);
  const ranks = (await p.exec()).map(([, v]) => v);
  assert.deepEqual(ranks, sample.map((m) => sorted.findIndex(([x]) => x === m)));
  const slice = await redis.zrevrange(key, 2495, 2504, 'WITHSCORES');
  // scores compared as numbers: Redis 7.0 prints doubles with 17 digits
  // ('5064.1999999999998'), 7.2 the shortest form ('5064.2')
  const got = [];
  for (let i = 0; i < slice.length; i += 2) got.push([slice[i], parseFloat(slice[i + 1])]);
  assert.deepEqual(got, sorted.slice(2495, 2505));
  assert.equal(await redis.zcount(key, 5000, '(7500'), players.filter(([, s]) => s >= 5000 && s < 7500).length);
  const removed = await redis.zremrangebyscore(key, '-inf', '(1000');
  assert.equal(removed, players.filter(([, s]) => s < 1000).length);
  assert.equal(await redis.zcard(key), 5000 - removed);
  const top = sorted[0][0];
  assert.equal(await redis.zrevrank(key, top), 0);
  await redis.zincrby(key, -1e9, top);
  assert.equal(await redis.zrank(key, top), 0, 'ZINCRBY moved it to the bottom');
});
