// Sessions: express-session + connect-redis driven by real HTTP requests
// (login, read, shared across app instances, modify, touch, logout, expiry),
// with each client the seeds pair it with; and the seeds' hand-written
// session store (SETEX + a set of a user's sessions + pipelined DEL).
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import express from 'express';
import session from 'express-session';
import RedisStore7 from 'connect-redis7';
import { RedisStore as RedisStore9 } from 'connect-redis';
import { createClient as createClient4 } from 'redis4';
import { createClient as createClient5 } from 'redis5';
import { ioredis, prefix, cleanup, closeAll, track, REDIS_URL, waitFor, listen, httpClient } from '../lib/common.mjs';

const P = prefix('sess');
const inspect = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

const USERS = { 'ada@example.com': { id: 42, password: 'secret' } };

function makeApp(store, cookie = {}, extra = {}) {
  const app = express();
  app.use(express.json());
  app.use(
    session({
      store,
      secret: 'compat-session-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { secure: false, httpOnly: true, maxAge: 86400000, sameSite: 'lax', ...cookie },
      ...extra,
    }),
  );
  app.post('/api/login', (req, res) => {
    const u = USERS[req.body.email];
    if (!u || u.password !== req.body.password) return res.status(401).json({ error: 'Invalid credentials' });
    req.session.userId = u.id;
    req.session.userEmail = req.body.email;
    res.json({ message: 'Logged in' });
  });
  app.get('/api/me', (req, res) => {
    if (!req.session.userId) return res.status(401).json({ error: 'Not logged in' });
    res.json({ userId: req.session.userId, email: req.session.userEmail, views: req.session.views ?? 0 });
  });
  app.post('/api/view', (req, res) => {
    if (!req.session.userId) return res.status(401).json({ error: 'Not logged in' });
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ views: req.session.views });
  });
  app.post('/api/logout', (req, res) => {
    req.session.destroy((err) => {
      if (err) return res.status(500).json({ error: 'Logout failed' });
      res.json({ message: 'Logged out' });
    });
  });
  return app;
}

function sidOf(cookie) {
  // connect.sid=s%3A<sid>.<signature>
  const v = decodeURIComponent(cookie.split('=')[1]);
  assert.ok(v.startsWith('s:'), `signed cookie ${v}`);
  return v.slice(2, v.lastIndexOf('.'));
}

async function sessKeys(pfx) {
  return inspect.keys(`${pfx}*`);
}

const stacks = [
  {
    name: 'connect-redis 7 + ioredis (as in the seeds)',
    make: async (pfx, opts = {}) => new RedisStore7({ client: ioredis(), prefix: pfx, ttl: 86400, ...opts }),
  },
  {
    name: 'connect-redis 7 + node-redis 4',
    make: async (pfx, opts = {}) => {
      const c = track(createClient4({ url: REDIS_URL }));
      c.on('error', () => {});
      await c.connect();
      return new RedisStore7({ client: c, prefix: pfx, ...opts });
    },
  },
  {
    name: 'connect-redis 9 + node-redis 5',
    make: async (pfx, opts = {}) => {
      const c = track(createClient5({ url: REDIS_URL }));
      c.on('error', () => {});
      await c.connect();
      return new RedisStore9({ client: c, prefix: pfx, ...opts });
    },
  },
];

for (const [i, stack] of stacks.entries()) {
  describe(`express-session with ${stack.name}`, () => {
    test('login, read, shared across instances, modify, logout', { timeout: 20000 }, async () => {
      const pfx = `${P}s${i}:sess:`;
      const storeA = await stack.make(pfx);
      const storeB = await stack.make(pfx);
      const a = await listen(makeApp(storeA));
      const b = await listen(makeApp(storeB));
      try {
        const http = httpClient(a.base);
        let r = await http.get('/api/me');
        assert.equal(r.status, 401);
        assert.equal(http.cookie, '', 'saveUninitialized: false sets no cookie');
        assert.deepEqual(await sessKeys(pfx), []);

        r = await http.post('/api/login', { email: 'ada@example.com', password: 'wrong' });
        assert.equal(r.status, 401);
        assert.deepEqual(await sessKeys(pfx), []);

        r = await http.post('/api/login', { email: 'ada@example.com', password: 'secret' });
        assert.equal(r.status, 200);
        assert.match(http.cookie, /^connect\.sid=/);
        const sid = sidOf(http.cookie);
        const key = `${pfx}${sid}`;
        assert.deepEqual(await sessKeys(pfx), [key]);
        assert.equal(await inspect.type(key), 'string');
        const stored = JSON.parse(await inspect.get(key));
        assert.equal(stored.userId, 42);
        assert.equal(stored.userEmail, 'ada@example.com');
        assert.equal(stored.cookie.httpOnly, true);
        const ttl = await inspect.ttl(key);
        assert.ok(ttl > 86390 && ttl <= 86400, `session ttl ${ttl}`);

        r = await http.get('/api/me');
        assert.equal(r.status, 200);
        assert.deepEqual(r.json, { userId: 42, email: 'ada@example.com', views: 0 });

        // a second app instance sharing the store sees the same session
        const other = httpClient(b.base);
        other.cookie = http.cookie;
        r = await other.get('/api/me');
        assert.equal(r.status, 200);
        assert.equal(r.json.userId, 42);

        r = await http.post('/api/view');
        assert.equal(r.json.views, 1);
        r = await other.post('/api/view');
        assert.equal(r.json.views, 2);
        assert.equal(JSON.parse(await inspect.get(key)).views, 2);

        // the store's own surface: length/ids/all (SCAN MATCH + MGET)
        const call = (fn, ...args) => new Promise((res, rej) => storeA[fn](...args, (e, v) => (e ? rej(e) : res(v))));
        assert.equal(await call('length'), 1);
        assert.deepEqual(await call('ids'), [sid]);
        const all = await call('all');
        assert.equal(all.length, 1);
        assert.equal(all[0].userId, 42);

        r = await http.post('/api/logout');
        assert.equal(r.status, 200);
        assert.equal(await inspect.exists(key), 0, 'logout destroyed the session');
        r = await other.get('/api/me');
        assert.equal(r.status, 401);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('rolling sessions are touched (EXPIRE) on reads', { timeout: 20000 }, async () => {
      const pfx = `${P}s${i}:roll:`;
      const store = await stack.make(pfx);
      const app = await listen(makeApp(store, { maxAge: 60000 }, { rolling: true }));
      try {
        const http = httpClient(app.base);
        assert.equal((await http.post('/api/login', { email: 'ada@example.com', password: 'secret' })).status, 200);
        const key = `${pfx}${sidOf(http.cookie)}`;
        assert.ok((await inspect.ttl(key)) > 55);
        await inspect.expire(key, 5);
        assert.ok((await inspect.ttl(key)) <= 5);
        assert.equal((await http.get('/api/me')).status, 200);
        await waitFor(async () => (await inspect.ttl(key)) > 55, 3000, 'touch to refresh the TTL');
      } finally {
        await app.close();
      }
    });

    test('sessions expire with the cookie maxAge', { timeout: 20000 }, async () => {
      const pfx = `${P}s${i}:exp:`;
      const store = await stack.make(pfx);
      const app = await listen(makeApp(store, { maxAge: 1500 }));
      try {
        const http = httpClient(app.base);
        assert.equal((await http.post('/api/login', { email: 'ada@example.com', password: 'secret' })).status, 200);
        const key = `${pfx}${sidOf(http.cookie)}`;
        const ttl = await inspect.ttl(key);
        assert.ok(ttl >= 1 && ttl <= 2, `ttl ${ttl}`);
        assert.equal((await http.get('/api/me')).status, 200);
        await waitFor(async () => (await inspect.exists(key)) === 0, 6000, 'session key expiry');
        // the browser would have dropped the cookie too; sending it anyway finds nothing
        assert.equal((await http.get('/api/me')).status, 401);
      } finally {
        await app.close();
      }
    });

    test('store.clear() removes every session under the prefix', { timeout: 20000 }, async () => {
      const pfx = `${P}s${i}:clr:`;
      const store = await stack.make(pfx);
      const app = await listen(makeApp(store));
      try {
        for (let n = 0; n < 5; n++) {
          const http = httpClient(app.base);
          assert.equal((await http.post('/api/login', { email: 'ada@example.com', password: 'secret' })).status, 200);
        }
        assert.equal((await sessKeys(pfx)).length, 5);
        await new Promise((res, rej) => store.clear((e) => (e ? rej(e) : res())));
        assert.equal((await sessKeys(pfx)).length, 0);
      } finally {
        await app.close();
      }
    });
  });
}

describe('hand-written session store (SETEX + user session set + pipeline)', () => {
  const redis = ioredis();
  const SESSION_TTL = 7 * 24 * 60 * 60;
  async function createSession(userId, userData) {
    const sessionId = crypto.randomBytes(32).toString('hex');
    const now = Date.now();
    const s = { ...userData, userId, createdAt: now, expiresAt: now + SESSION_TTL * 1000 };
    await redis.setex(`${P}session:${sessionId}`, SESSION_TTL, JSON.stringify(s));
    await redis.sadd(`${P}user:${userId}:sessions`, sessionId);
    return sessionId;
  }
  async function getSession(sessionId) {
    const data = await redis.get(`${P}session:${sessionId}`);
    if (!data) return null;
    const s = JSON.parse(data);
    if (s.expiresAt < Date.now()) {
      await destroySession(sessionId);
      return null;
    }
    return s;
  }
  async function destroySession(sessionId) {
    const s = await getSession(sessionId);
    if (s) await redis.srem(`${P}user:${s.userId}:sessions`, sessionId);
    await redis.del(`${P}session:${sessionId}`);
  }
  async function destroyAllUserSessions(userId) {
    const sessionIds = await redis.smembers(`${P}user:${userId}:sessions`);
    if (sessionIds.length > 0) {
      const pipeline = redis.pipeline();
      sessionIds.forEach((id) => pipeline.del(`${P}session:${id}`));
      pipeline.del(`${P}user:${userId}:sessions`);
      const results = await pipeline.exec();
      assert.ok(results.every(([err, n]) => err === null && n === 1));
    }
  }

  test('create, get, destroy one, destroy all', { timeout: 10000 }, async () => {
    const ids = [];
    for (let n = 0; n < 3; n++) ids.push(await createSession('u1', { email: 'u1@example.com', role: 'user' }));
    const s = await getSession(ids[0]);
    assert.equal(s.email, 'u1@example.com');
    const ttl = await redis.ttl(`${P}session:${ids[0]}`);
    assert.ok(ttl > SESSION_TTL - 10 && ttl <= SESSION_TTL);
    assert.equal(await redis.scard(`${P}user:u1:sessions`), 3);
    await destroySession(ids[0]);
    assert.equal(await getSession(ids[0]), null);
    assert.equal(await redis.scard(`${P}user:u1:sessions`), 2);
    await destroyAllUserSessions('u1');
    assert.equal(await getSession(ids[1]), null);
    assert.equal(await getSession(ids[2]), null);
    assert.equal(await redis.exists(`${P}user:u1:sessions`), 0);
  });
});
