// JWT revocation list from the seeds (SETEX blacklist:<token> with the
// token's remaining lifetime), driven through an express app over HTTP.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import express from 'express';
import { ioredis, prefix, cleanup, closeAll, listen, waitFor } from '../lib/common.mjs';

const P = prefix('jwt');
const redis = ioredis();
after(async () => {
  await cleanup(P);
  await closeAll();
});

// A tiny HS256 JWT so the test needs no extra package.
const SECRET = 'compat-jwt-secret';
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function signJWT(payload) {
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64(payload);
  const sig = crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}
function verifyJWT(token) {
  const [head, body, sig] = token.split('.');
  const want = crypto.createHmac('sha256', SECRET).update(`${head}.${body}`).digest('base64url');
  if (sig !== want) throw new Error('bad signature');
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
  if (payload.exp * 1000 < Date.now()) throw new Error('expired');
  return payload;
}

async function revokeToken(token, expiresAt) {
  const ttlSeconds = Math.ceil((expiresAt.getTime() - Date.now()) / 1000);
  if (ttlSeconds > 0) await redis.setex(`${P}blacklist:${token}`, ttlSeconds, 'true');
}
async function isTokenBlacklisted(token) {
  const result = await redis.get(`${P}blacklist:${token}`);
  return result !== null;
}

function makeApp() {
  const app = express();
  const verifyToken = async (req, res, next) => {
    const token = req.headers.authorization?.split(' ')[1];
    if (!token) return res.status(401).json({ error: 'Missing token' });
    if (await isTokenBlacklisted(token)) return res.status(403).json({ error: 'Token revoked' });
    try {
      req.userId = verifyJWT(token).id;
      next();
    } catch {
      res.status(403).json({ error: 'Invalid token' });
    }
  };
  app.get('/api/me', verifyToken, (req, res) => res.json({ userId: req.userId }));
  app.post('/api/logout', verifyToken, async (req, res) => {
    const token = req.headers.authorization.split(' ')[1];
    await revokeToken(token, new Date(verifyJWT(token).exp * 1000));
    res.json({ message: 'Logged out' });
  });
  return app;
}

test('JWT blacklist: logout revokes with SETEX for the remaining lifetime', { timeout: 15000 }, async () => {
  const srv = await listen(makeApp());
  try {
    const token = signJWT({ id: 7, exp: Math.floor(Date.now() / 1000) + 3600 });
    const auth = { authorization: `Bearer ${token}` };
    const get = (p, h) => fetch(srv.base + p, { headers: h, signal: AbortSignal.timeout(5000) });
    const post = (p, h) => fetch(srv.base + p, { method: 'POST', headers: h, signal: AbortSignal.timeout(5000) });
    assert.equal((await get('/api/me')).status, 401);
    const me = await get('/api/me', auth);
    assert.equal(me.status, 200);
    assert.deepEqual(await me.json(), { userId: 7 });
    assert.equal((await post('/api/logout', auth)).status, 200);
    const ttl = await redis.ttl(`${P}blacklist:${token}`);
    assert.ok(ttl > 3590 && ttl <= 3600, `blacklist ttl ${ttl}`);
    assert.equal(await redis.get(`${P}blacklist:${token}`), 'true');
    const after = await get('/api/me', auth);
    assert.equal(after.status, 403);
    assert.deepEqual(await after.json(), { error: 'Token revoked' });
    // another token of the same user is unaffected
    const other = signJWT({ id: 7, exp: Math.floor(Date.now() / 1000) + 60 });
    assert.equal((await get('/api/me', { authorization: `Bearer ${other}` })).status, 200);
  } finally {
    await srv.close();
  }
});

test('JWT blacklist entries disappear when the token would have expired', { timeout: 10000 }, async () => {
  const token = signJWT({ id: 8, exp: Math.floor(Date.now() / 1000) + 1 });
  await revokeToken(token, new Date(Date.now() + 900));
  assert.equal(await isTokenBlacklisted(token), true);
  const ttl = await redis.ttl(`${P}blacklist:${token}`);
  assert.equal(ttl, 1);
  await waitFor(async () => !(await isTokenBlacklisted(token)), 4000, 'blacklist expiry');
  // an already-expired token is not stored at all
  await revokeToken('old', new Date(Date.now() - 1000));
  assert.equal(await redis.exists(`${P}blacklist:old`), 0);
});
