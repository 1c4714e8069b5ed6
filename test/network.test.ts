// Network guards before any token work (ALLOWED_IPS, TRUST_PROXY, Origin, Host),
// HTTPS with certificate reload, the plain-HTTP warning and security headers.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { loadConfig } from '../src/config/index.js';
import { isGatewayError } from '../src/errors.js';
import { createClientIpResolver } from '../src/http/network.js';
import { plainHttpWarning } from '../src/http/tls.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { connectClient, mustCall } from './support/mcp.js';
import { signTestToken, TEST_SECRET } from './support/tokens.js';

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** SHA-256 fingerprint of the server certificate, over HTTPS. */
  fingerprint: string | undefined;
  reusedSocket: boolean;
}

interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  ca?: string;
  agent?: http.Agent;
}

/**
 * node:http(s) rather than fetch: fetch may not set Host, and cannot pin a CA or show the
 * peer certificate. Without an agent, each request opens its own connection (the global
 * agents keep connections alive, which would hide a certificate change).
 */
function send(url: string, options: SendOptions = {}): Promise<Reply> {
  const text = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (text !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' });
  const request = url.startsWith('https:') ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? (text === undefined ? 'GET' : 'POST'), headers, ca: options.ca, agent: options.agent ?? false }, (res) => {
      // Read now: by the end of the body the socket may be back in the agent's pool or gone.
      const socket = res.socket as TLSSocket;
      const fingerprint = 'getPeerCertificate' in socket ? socket.getPeerCertificate().fingerprint256 : undefined;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          body = { text: raw };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint, reusedSocket: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function postMcp(baseUrl: string, token: string | undefined, headers: Record<string, string> = {}, ca?: string): Promise<Reply> {
  return send(`${baseUrl}/mcp`, { body: INIT, headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...headers }, ...(ca === undefined ? {} : { ca }) });
}

let db: TestFalkorDB;
let tmp: string;
let token: string;
const gateways: RunningGateway[] = [];

async function gatewayWith(env: Record<string, string>, logTo?: import('node:stream').Writable): Promise<RunningGateway> {
  const gateway = await startTestGateway(db.url, env, logTo);
  gateways.push(gateway);
  return gateway;
}

before(async () => {
  db = await startTestFalkorDB();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'gw-network-'));
  token = await signTestToken('acme');
});

after(async () => {
  for (const gateway of gateways) await gateway.stop();
  await db?.cleanup();
  await rm(tmp, { recursive: true, force: true });
});

describe('ALLOWED_IPS', () => {
  let outside: RunningGateway;
  let inside: RunningGateway;
  before(async () => {
    outside = await gatewayWith({ ALLOWED_IPS: '203.0.113.0/24' });
    inside = await gatewayWith({ ALLOWED_IPS: '10.0.0.0/8, 127.0.0.1/32' });
  });

  it('refuses an address outside the list with 403 IP_FORBIDDEN before looking at the token', async () => {
    const res = await postMcp(outside.url, undefined);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'IP_FORBIDDEN');
    assert.match(String(res.body.message), /127\.0\.0\.1/);
    assert.match(String(res.body.message), /ALLOWED_IPS/);
    assert.equal(res.headers['www-authenticate'], undefined, 'no Bearer challenge: the token was never asked for');
  });

  it('refuses an address outside the list even with a valid token', async () => {
    const res = await postMcp(outside.url, token);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'IP_FORBIDDEN');
  });

  it('lets an address inside the list through to authentication', async () => {
    assert.equal((await postMcp(inside.url, undefined)).status, 401);
    assert.equal((await postMcp(inside.url, token)).status, 200);
  });

  it('serves a real MCP client from an allowed address', async () => {
    const client = await connectClient('http', inside.url, token);
    try {
      const listed = await mustCall(client, 'falkordb_list_graphs');
      assert.ok(Array.isArray(listed.graphs));
    } finally {
      await client.close();
    }
  });

  it('lets load-balancer probes reach /healthz and /readyz from any address, and nothing else', async () => {
    assert.equal((await send(`${outside.url}/healthz`)).status, 200);
    assert.equal((await send(`${outside.url}/readyz`)).status, 200);
    assert.equal((await send(`${outside.url}/.well-known/oauth-protected-resource`)).status, 403);
  });
});

describe('ALLOWED_IPS with IPv6', () => {
  it('accepts a client on ::1 when ALLOWED_IPS has ::1/128', async () => {
    const gateway = await gatewayWith({ HOST: '::1', ALLOWED_IPS: '::1/128' });
    assert.match(gateway.url, /^http:\/\/\[::1\]:\d+$/);
    assert.equal((await postMcp(gateway.url, token)).status, 200);
  });

  it('refuses a client on ::1 when ALLOWED_IPS is 2001:db8::/32', async () => {
    const gateway = await gatewayWith({ HOST: '::1', ALLOWED_IPS: '2001:db8::/32' });
    const res = await postMcp(gateway.url, token);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'IP_FORBIDDEN');
    assert.match(String(res.body.message), /Address ::1 /);
  });
});

describe('X-Forwarded-For and TRUST_PROXY', () => {
  const ALLOWED = { ALLOWED_IPS: '203.0.113.0/24' };

  it('ignores X-Forwarded-For by default, so a spoofed allowed address does not get in', async () => {
    const gateway = await gatewayWith(ALLOWED);
    const res = await postMcp(gateway.url, token, { 'X-Forwarded-For': '203.0.113.7' });
    assert.equal(res.status, 403);
    assert.match(String(res.body.message), /Address 127\.0\.0\.1 /);
  });

  for (const trust of ['1', '127.0.0.1/32']) {
    it(`believes the proxy with TRUST_PROXY=${trust}: the forwarded address decides`, async () => {
      const gateway = await gatewayWith({ ...ALLOWED, TRUST_PROXY: trust });
      assert.equal((await postMcp(gateway.url, token, { 'X-Forwarded-For': '198.51.100.9, 203.0.113.7' })).status, 200);
      const refused = await postMcp(gateway.url, token, { 'X-Forwarded-For': '203.0.113.7, 198.51.100.9' });
      assert.equal(refused.status, 403);
      assert.match(String(refused.body.message), /Address 198\.51\.100\.9 /, 'the client is the rightmost untrusted address, not a spoofed one to its left');
    });
  }
});

describe('client address resolution', () => {
  it('uses the socket address when TRUST_PROXY is false', () => {
    assert.equal(createClientIpResolver(false)('10.0.0.1', '203.0.113.7'), '10.0.0.1');
  });

  it('turns IPv4-mapped IPv6 addresses into IPv4', () => {
    assert.equal(createClientIpResolver(false)('::ffff:192.0.2.4', undefined), '192.0.2.4');
    assert.equal(createClientIpResolver(1)('10.0.0.1', '::FFFF:203.0.113.7'), '203.0.113.7');
  });

  it('with a hop count N, takes the address N entries from the right of X-Forwarded-For plus the socket', () => {
    const forwarded = '192.0.2.1, 198.51.100.2, 203.0.113.3';
    assert.equal(createClientIpResolver(1)('10.0.0.1', forwarded), '203.0.113.3');
    assert.equal(createClientIpResolver(2)('10.0.0.1', forwarded), '198.51.100.2');
    assert.equal(createClientIpResolver(3)('10.0.0.1', forwarded), '192.0.2.1');
  });

  it('with more hops than addresses, takes the leftmost address', () => {
    assert.equal(createClientIpResolver(5)('10.0.0.1', '192.0.2.1, 198.51.100.2'), '192.0.2.1');
  });

  it('uses the socket address when a trusted proxy sent no X-Forwarded-For', () => {
    assert.equal(createClientIpResolver(1)('10.0.0.1', undefined), '10.0.0.1');
  });

  it('with CIDR ranges, skips trusted proxies from the right and stops at the first address outside them', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8', '2001:db8::/32']);
    assert.equal(resolve('10.0.0.1', '192.0.2.1, 198.51.100.2, 2001:db8::7, 10.0.0.2'), '198.51.100.2');
  });

  it('with CIDR ranges, ignores X-Forwarded-For from a peer outside them', () => {
    assert.equal(createClientIpResolver(['10.0.0.0/8'])('192.0.2.50', '203.0.113.7'), '192.0.2.50');
  });

  it('matches an IPv4-mapped socket address against IPv4 trusted ranges', () => {
    assert.equal(createClientIpResolver(['127.0.0.1/32'])('::ffff:127.0.0.1', '203.0.113.7'), '203.0.113.7');
  });

  it('stops at a malformed entry, keeping the last address it could read', () => {
    assert.equal(createClientIpResolver(2)('10.0.0.1', '192.0.2.1, not-an-address'), '10.0.0.1');
    assert.equal(createClientIpResolver(['10.0.0.0/8'])('10.0.0.1', '192.0.2.1, unknown, 10.0.0.2'), '10.0.0.2');
    assert.equal(createClientIpResolver(1)('10.0.0.1', '192.0.2.1,'), '10.0.0.1', 'an empty entry is malformed too');
  });

  it('reads the ports and brackets some proxies add', () => {
    assert.equal(createClientIpResolver(1)('10.0.0.1', '203.0.113.7:51234'), '203.0.113.7');
    assert.equal(createClientIpResolver(1)('10.0.0.1', '[2001:DB8::1]:443'), '2001:db8::1');
  });
});

describe('Origin check', () => {
  let gateway: RunningGateway;
  before(async () => {
    gateway = await gatewayWith({ ALLOWED_ORIGINS: 'http://localhost:6274' });
  });

  it('refuses a foreign Origin with 403 ORIGIN_FORBIDDEN, token or not', async () => {
    const res = await postMcp(gateway.url, token, { Origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'ORIGIN_FORBIDDEN');
    assert.match(String(res.body.message), /ALLOWED_ORIGINS/);
  });

  it('refuses Origin: null (sandboxed frames, local files)', async () => {
    assert.equal((await postMcp(gateway.url, token, { Origin: 'null' })).body.code, 'ORIGIN_FORBIDDEN');
  });

  it("accepts the gateway's own origin", async () => {
    assert.equal((await postMcp(gateway.url, token, { Origin: gateway.url })).status, 200);
  });

  it('accepts an origin in ALLOWED_ORIGINS, whatever the case of its scheme and host', async () => {
    assert.equal((await postMcp(gateway.url, token, { Origin: 'http://localhost:6274' })).status, 200);
    assert.equal((await postMcp(gateway.url, token, { Origin: 'HTTP://LocalHost:6274' })).status, 200);
  });

  it('refuses an allowed host on another port', async () => {
    assert.equal((await postMcp(gateway.url, token, { Origin: 'http://localhost:6275' })).status, 403);
  });

  it('accepts requests without an Origin (non-browser clients)', async () => {
    assert.equal((await postMcp(gateway.url, token)).status, 200);
  });
});

describe('Host check on a loopback gateway', () => {
  let gateway: RunningGateway;
  before(async () => {
    gateway = await gatewayWith({});
  });

  it('refuses a Host of evil.example with 403 HOST_FORBIDDEN, against DNS rebinding', async () => {
    const res = await postMcp(gateway.url, token, { Host: 'evil.example' });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'HOST_FORBIDDEN');
    assert.match(String(res.body.message), /DNS rebinding/);
    assert.match(String(res.body.message), /PUBLIC_URL/);
  });

  it('accepts localhost, 127.x.y.z and [::1] on any port', async () => {
    for (const host of ['localhost', 'LOCALHOST:3003', '127.0.0.1:80', '127.1.2.3', '[::1]:9999']) {
      assert.equal((await send(`${gateway.url}/healthz`, { headers: { Host: host } })).status, 200, host);
    }
  });

  it('refuses names that merely start like a loopback name', async () => {
    for (const host of ['localhost.evil.example', '127.0.0.1.evil.example', '[::1].evil.example']) {
      assert.equal((await send(`${gateway.url}/healthz`, { headers: { Host: host } })).body.code, 'HOST_FORBIDDEN', host);
    }
  });

  it('does not check Host once PUBLIC_URL says which name clients use', async () => {
    const named = await gatewayWith({ PUBLIC_URL: 'https://graphs.example.com' });
    // named.url is PUBLIC_URL, where a proxy would be; the listener itself is on loopback.
    assert.equal((await postMcp(`http://127.0.0.1:${named.port}`, token, { Host: 'graphs.example.com' })).status, 200);
  });
});

describe('HTTPS', () => {
  const certFile = () => path.join(tmp, 'tls.crt');
  const keyFile = () => path.join(tmp, 'tls.key');
  interface Pair {
    cert: string;
    key: string;
    certPem: string;
    fingerprint: string;
  }
  let first: Pair;
  let second: Pair;
  let gateway: RunningGateway;
  const log = captureLog();

  function makePair(name: string): Pair {
    const cert = path.join(tmp, `${name}.crt`);
    const key = path.join(tmp, `${name}.key`);
    // A throwaway self-signed P-256 certificate for localhost and 127.0.0.1.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
    const certPem = readFileSync(cert, 'utf8');
    return { cert, key, certPem, fingerprint: new X509Certificate(certPem).fingerprint256 };
  }

  async function install(cert: string, key: string): Promise<void> {
    await copyFile(cert, certFile());
    await copyFile(key, keyFile());
  }

  const bothCas = () => first.certPem + second.certPem;

  before(async () => {
    first = makePair('first');
    second = makePair('second');
    await install(first.cert, first.key);
    gateway = await gatewayWith({ TLS_CERT_FILE: certFile(), TLS_KEY_FILE: keyFile() }, log.stream);
  });

  it('serves HTTPS with the configured certificate, and says https:// in its URLs', async () => {
    assert.match(gateway.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await send(`${gateway.url}/.well-known/oauth-protected-resource`, { ca: first.certPem });
    assert.equal(res.status, 200);
    assert.equal(res.fingerprint, first.fingerprint);
    assert.equal(res.body.resource, `${gateway.url}/mcp`);
  });

  it('serves MCP over HTTPS', async () => {
    assert.equal((await postMcp(gateway.url, token, {}, first.certPem)).status, 200);
  });

  it('refuses TLS 1.1', async () => {
    const error = await new Promise<NodeJS.ErrnoException>((resolve, reject) => {
      // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
      const socket = tls.connect({ host: '127.0.0.1', port: gateway.port, ca: bothCas(), minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
      socket.on('secureConnect', () => {
        socket.destroy();
        reject(new Error(`connected with ${socket.getProtocol()}`));
      });
      socket.on('error', resolve);
    });
    // The server's protocol_version alert, not a cipher or handshake failure of some other kind.
    assert.equal(error.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('sends Strict-Transport-Security over HTTPS', async () => {
    const res = await send(`${gateway.url}/healthz`, { ca: bothCas() });
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  });

  it('serves a renewed certificate to new connections after reload, while an open keep-alive connection keeps working', async () => {
    const current = await send(`${gateway.url}/healthz`, { ca: bothCas() });
    const next = current.fingerprint === first.fingerprint ? second : first;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: bothCas() });
    try {
      const before = await send(`${gateway.url}/healthz`, { agent });
      assert.equal(before.fingerprint, current.fingerprint);

      await install(next.cert, next.key);
      await gateway.reload();

      const kept = await send(`${gateway.url}/healthz`, { agent });
      assert.equal(kept.status, 200);
      assert.ok(kept.reusedSocket, 'the request went over the connection opened before the reload');
      assert.equal(kept.fingerprint, current.fingerprint);

      const fresh = await send(`${gateway.url}/healthz`, { ca: bothCas() });
      assert.equal(fresh.status, 200);
      assert.ok(!fresh.reusedSocket);
      assert.equal(fresh.fingerprint, next.fingerprint);
    } finally {
      agent.destroy();
    }
  });

  it('keeps the current certificate when reload finds a key that does not belong to the new certificate', async () => {
    const current = await send(`${gateway.url}/healthz`, { ca: bothCas() });
    const next = current.fingerprint === first.fingerprint ? second : first;
    const mismatched = next === first ? second : first;
    await install(next.cert, mismatched.key);
    await gateway.reload();
    const after = await send(`${gateway.url}/healthz`, { ca: bothCas() });
    assert.equal(after.status, 200);
    assert.equal(after.fingerprint, current.fingerprint);
    const failure = log
      .text()
      .split('\n')
      .find((line) => line.includes('reload step failed'));
    assert.match(failure ?? '', /TLS_KEY_FILE .*is not the private key/);
  });

  it('stops start-up with CONFIG_INVALID naming TLS_CERT_FILE when the certificate cannot be read', async () => {
    await assert.rejects(startTestGateway(db.url, { TLS_CERT_FILE: path.join(tmp, 'missing.crt'), TLS_KEY_FILE: first.key }), (error: unknown) => {
      assert.ok(isGatewayError(error));
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /^TLS_CERT_FILE .*cannot be read \(ENOENT\)/);
      assert.doesNotMatch(error.message, /\n\s+at /);
      return true;
    });
  });

  it('stops start-up with CONFIG_INVALID naming TLS_CERT_FILE when it holds no certificate', async () => {
    const garbage = path.join(tmp, 'garbage.crt');
    await writeFile(garbage, 'not a certificate\n');
    await assert.rejects(startTestGateway(db.url, { TLS_CERT_FILE: garbage, TLS_KEY_FILE: first.key }), (error: unknown) => {
      assert.ok(isGatewayError(error));
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /^TLS_CERT_FILE .*is not a PEM certificate/);
      return true;
    });
  });

  it('stops start-up with CONFIG_INVALID naming TLS_KEY_FILE when the key does not belong to the certificate', async () => {
    await assert.rejects(startTestGateway(db.url, { TLS_CERT_FILE: first.cert, TLS_KEY_FILE: second.key }), (error: unknown) => {
      assert.ok(isGatewayError(error));
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.match(error.message, /^TLS_KEY_FILE .*is not the private key of the certificate/);
      assert.ok(!error.message.includes('PRIVATE KEY-----'), 'the message never holds the key');
      return true;
    });
  });
});

describe('plain HTTP warning', () => {
  it('warns once at start when serving plain HTTP on a non-loopback HOST, naming the risk and the fixes', async () => {
    const log = captureLog();
    await gatewayWith({ HOST: '0.0.0.0' }, log.stream);
    const warnings = log
      .text()
      .split('\n')
      .filter((line) => line.includes('"level":40') && line.includes('plain HTTP'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /clear text/);
    assert.match(warnings[0]!, /TLS_CERT_FILE and TLS_KEY_FILE/);
    assert.match(warnings[0]!, /TRUST_PROXY/);
  });

  it('does not warn on loopback, with TLS, or behind a declared HTTPS proxy', () => {
    const base = { AUTH_JWT_SECRET: TEST_SECRET, FALKORDB_URL: 'redis://127.0.0.1:6379' };
    assert.equal(plainHttpWarning(loadConfig({ ...base, HOST: '127.0.0.1' })), undefined);
    assert.equal(plainHttpWarning(loadConfig({ ...base, HOST: '0.0.0.0', TLS_CERT_FILE: 'tls.crt', TLS_KEY_FILE: 'tls.key' })), undefined);
    assert.equal(plainHttpWarning(loadConfig({ ...base, HOST: '0.0.0.0', PUBLIC_URL: 'https://graphs.example.com', TRUST_PROXY: '1' })), undefined);
    assert.notEqual(plainHttpWarning(loadConfig({ ...base, HOST: '0.0.0.0', PUBLIC_URL: 'https://graphs.example.com' })), undefined, 'an https:// PUBLIC_URL alone does not say a proxy is trusted');
  });
});

describe('security headers', () => {
  let gateway: RunningGateway;
  before(async () => {
    gateway = await gatewayWith({});
  });

  const EXPECTED = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
  };

  it('sets them on successes, errors and refusals alike', async () => {
    const responses = {
      ok: await send(`${gateway.url}/healthz`),
      notFound: await send(`${gateway.url}/nowhere`),
      unauthenticated: await postMcp(gateway.url, undefined),
      refused: await postMcp(gateway.url, token, { Origin: 'https://evil.example' }),
    };
    assert.deepEqual(
      Object.values(responses).map((r) => r.status),
      [200, 404, 401, 403],
    );
    for (const [name, res] of Object.entries(responses)) {
      for (const [header, value] of Object.entries(EXPECTED)) assert.equal(res.headers[header], value, `${header} on ${name}`);
    }
  });

  it('does not send Strict-Transport-Security over plain HTTP', async () => {
    assert.equal((await send(`${gateway.url}/healthz`)).headers['strict-transport-security'], undefined);
  });
});
