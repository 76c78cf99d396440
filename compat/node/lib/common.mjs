// Shared helpers for the Node compat suite.
//
// Target selection: REDIS_URL (redis://[:password@]host:port) or
// FERROKEY_HOST / FERROKEY_PORT (default 127.0.0.1:6379).
// COMPAT_SERVER_BIN: a redis-server-compatible binary the tests may spawn
// privately (server restart, requirepass); compat/run sets it.
// COMPAT_TARGET=ferrokey|redis overrides the detection by INFO.
// COMPAT_PENDING=none|5,7,... overrides ../../pending.json.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';

const here = path.dirname(fileURLToPath(import.meta.url));

function address() {
  if (process.env.REDIS_URL) {
    const u = new URL(process.env.REDIS_URL);
    return {
      host: u.hostname || '127.0.0.1',
      port: Number(u.port || 6379),
      password: u.password ? decodeURIComponent(u.password) : undefined,
    };
  }
  return {
    host: process.env.FERROKEY_HOST || '127.0.0.1',
    port: Number(process.env.FERROKEY_PORT || 6379),
    password: process.env.FERROKEY_PASSWORD || undefined,
  };
}

export const { host: HOST, port: PORT, password: PASSWORD } = address();
export const REDIS_URL = `redis://${PASSWORD ? `:${encodeURIComponent(PASSWORD)}@` : ''}${HOST}:${PORT}`;
export const SERVER_BIN = process.env.COMPAT_SERVER_BIN || '';

// ---------------------------------------------------------------- target
async function detectTarget() {
  if (process.env.COMPAT_TARGET) return process.env.COMPAT_TARGET;
  const r = new Redis({ host: HOST, port: PORT, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await r.connect();
    const info = await r.info('server');
    return /^ferrokey_version:/m.test(info) ? 'ferrokey' : 'redis';
  } catch (e) {
    throw new Error(`compat: cannot reach the server at ${HOST}:${PORT}: ${e.message}`);
  } finally {
    r.disconnect();
  }
}

export const TARGET = await detectTarget();

function pendingIssues() {
  const file = JSON.parse(fs.readFileSync(path.join(here, '..', '..', 'pending.json'), 'utf8'));
  const names = file.pending;
  const env = process.env.COMPAT_PENDING;
  if (env === undefined || env === '') return names;
  if (env === 'none') return {};
  const out = {};
  for (const n of env.split(',').map((s) => s.trim()).filter(Boolean)) out[n] = names[n] || 'family';
  return out;
}
const PENDING = TARGET === 'ferrokey' ? pendingIssues() : {};

// Test options for a test that needs the families of the given issues.
// Against Ferrokey, while one of them is open, the test is skipped with
// "pending: waits for issue N (...)"; otherwise it runs.
export function needs(...issues) {
  const open = issues.map(String).filter((i) => i in PENDING);
  if (open.length === 0) return {};
  return { skip: `pending: waits for ${open.map((i) => `issue ${i} (${PENDING[i]})`).join(', ')}` };
}

// ---------------------------------------------------------------- keys
export function prefix(area) {
  return `compat:${area}:${crypto.randomBytes(4).toString('hex')}:`;
}

// ---------------------------------------------------------------- clients
const opened = new Set();

// A new ioredis client for the target, closed by closeAll().
export function ioredis(opts = {}) {
  const r = new Redis({ host: HOST, port: PORT, password: PASSWORD, maxRetriesPerRequest: 3, connectTimeout: 5000, ...opts });
  r.on('error', () => {});
  opened.add(r);
  return r;
}

// Resolves once the client has passed ioredis's connect-time ready check.
// ioredis sends SUBSCRIBE/PSUBSCRIBE even before that check (they are
// allowed while a server loads), so a subscribe issued on a brand-new
// connection can race the check's INFO, which a subscribed RESP2
// connection must refuse; ioredis then reconnects and the subscription can
// be lost. Real Redis shows the same race, so subscribers wait for this.
export async function ready(client) {
  await client.ping();
  return client;
}

export function track(closeable) {
  opened.add(closeable);
  return closeable;
}

export async function closeAll() {
  const all = [...opened];
  opened.clear();
  for (const c of all) {
    try {
      if (c.isOpen === false) continue; // node-redis client already closed
      if (typeof c.disconnect === 'function' && c.constructor?.name === 'Redis') c.disconnect();
      else if (typeof c.close === 'function') await withTimeout(Promise.resolve(c.close()), 5000, 'close');
      else if (typeof c.disconnect === 'function') await withTimeout(Promise.resolve(c.disconnect()), 5000, 'disconnect');
    } catch {
      /* already closed */
    }
  }
}

// Deletes every key starting with pfx (SCAN MATCH + DEL), in db 0.
export async function cleanup(pfx, db = 0) {
  const r = new Redis({ host: HOST, port: PORT, password: PASSWORD, db, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${pfx}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

// True when the server's redis_version is at least major.minor.
export async function versionAtLeast(major, minor) {
  const r = new Redis({ host: HOST, port: PORT, password: PASSWORD, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    const v = (await r.info('server')).match(/^redis_version:(\d+)\.(\d+)/m);
    return Number(v[1]) > major || (Number(v[1]) === major && Number(v[2]) >= minor);
  } finally {
    r.disconnect();
  }
}

// ---------------------------------------------------------------- misc
export const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

export function withTimeout(promise, ms, what = 'operation') {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

// Polls fn until it returns a truthy value; throws after ms.
export async function waitFor(fn, ms = 5000, what = 'condition', every = 25) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

// Parses INFO text the way the seeds do.
export function parseInfo(info) {
  const stats = {};
  info.split('\n').forEach((line) => {
    const [key, value] = line.split(':');
    if (key && value) stats[key.trim()] = value.trim();
  });
  return stats;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function pingRaw(port, ms = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(ms, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG') || buf.startsWith('-NOAUTH'));
    });
  });
}

// Spawns a private server (COMPAT_SERVER_BIN) on 127.0.0.1. Returns
// { port, stop(), restart() }. Throws if no binary is configured.
export async function spawnServer(extraArgs = [], port = undefined) {
  if (!SERVER_BIN) throw new Error('COMPAT_SERVER_BIN is not set');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-srv-'));
  const p = port || (await freePort());
  let proc;
  const start = async () => {
    const args = ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs];
    proc = spawn(SERVER_BIN, args, { stdio: 'ignore', cwd: dir });
    await waitFor(() => pingRaw(p), 10000, `server on port ${p}`, 50);
  };
  const stop = async () => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((res) => proc.once('exit', res));
    proc.kill('SIGKILL');
    await withTimeout(exited, 5000, 'server exit');
  };
  await start();
  return {
    port: p,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    cleanup: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Minimal cookie-keeping HTTP client for the express tests.
export function httpClient(base) {
  let cookie = '';
  const req = async (method, p, body) => {
    const headers = {};
    if (cookie) headers.cookie = cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10000) });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  return {
    get: (p) => req('GET', p),
    post: (p, body) => req('POST', p, body ?? {}),
    patch: (p, body) => req('PATCH', p, body ?? {}),
    get cookie() {
      return cookie;
    },
    set cookie(v) {
      cookie = v;
    },
  };
}

// Starts an express app on 127.0.0.1:<free port>; returns { base, close }.
export async function listen(app) {
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address();
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((res) => {
        server.closeAllConnections?.();
        server.close(() => res());
      }),
  };
}
