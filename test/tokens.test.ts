// The gateway's own tokens end to end: `token issue | list | inspect | refresh`
// on the command line, the refresh grant on /oauth/token with rotation and
// reuse detection, the JWKS, key rotation, and tenants' own keys.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { signAccessToken } from '../src/auth/signing.js';
import { publicKeyThumbprint } from '../src/state/key-thumbprint.js';
import type { RunningGateway } from '../src/main.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { STATE_CACHE_EXPIRY_MS, getJson, postTokenForm, probeMcp } from './support/http.js';
import { ecKeyPair, tempDir, writeSigningKey } from './support/keys.js';
import { TEST_AUDIENCE, TEST_ISSUER, signTestToken } from './support/tokens.js';

const FILE_SECRET = 'a-secret-that-only-lives-in-a-file-0123456789';

let db: TestFalkorDB;
let gateway: RunningGateway;
let keyDir: string;
let keyFile: string;
let cliEnv: Record<string, string>;

before(async () => {
  db = await startTestFalkorDB();
  keyDir = await tempDir();
  keyFile = await writeSigningKey(keyDir);
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

interface TokenJson {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  jti: string;
  scope: string;
}

describe('token issue, list and inspect', () => {
  it('prints the signed token alone, which the gateway accepts', async () => {
    const done = await runCli(['token', 'issue', '--tenant', 'cli-acme', '--device', 'alice-laptop', '--scope', 'read'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    const token = done.stdout.trim();
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal((await probeMcp(gateway.url, token)).status, 200);
  });

  it('prints access and refresh tokens with --json, with the lifetime asked for', async () => {
    const issued = await runCliJson<TokenJson>(['token', 'issue', '--tenant', 'cli-acme', '--device', 'ci', '--ttl', '15m', '--json'], cliEnv);
    assert.equal(issued.token_type, 'Bearer');
    assert.equal(issued.expires_in, 900);
    assert.equal(issued.scope, 'read write');
    assert.match(issued.refresh_token, /^fmgr_/);
    assert.ok(issued.jti.length > 0);
  });

  it('refuses a bad scope, duration, device name or tenant id with exit code 2 and one line', async () => {
    for (const args of [['--scope', 'root'], ['--ttl', '1 hour'], ['--device', 'my laptop'], ['--tenant', 'x'.repeat(300)]]) {
      const done = await runCli(['token', 'issue', '--tenant', 'cli-acme', ...args], cliEnv);
      assert.equal(done.code, 2, `${args.join(' ')}: ${done.stderr}`);
      assert.equal(done.stderr.trim().split('\n').length, 1, done.stderr);
    }
  });

  it("lists a tenant's devices and tokens with last use, never the tokens themselves", async () => {
    const issued = await runCliJson<TokenJson>(['token', 'issue', '--tenant', 'cli-list', '--device', 'desk', '--json'], cliEnv);
    await runCli(['token', 'issue', '--tenant', 'cli-list', '--device', 'phone'], cliEnv);
    assert.equal((await probeMcp(gateway.url, issued.access_token)).status, 200);
    const human = await runCli(['token', 'list', '--tenant', 'cli-list'], cliEnv);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /desk/);
    assert.match(human.stdout, /phone/);
    assert.ok(human.stdout.includes(issued.jti));
    assert.ok(!human.stdout.includes(issued.access_token) && !human.stdout.includes(issued.refresh_token));
    // "Last used" is written in the background after the request.
    await sleep(200);
    const listed = await runCliJson<{ tokens: Array<{ jti: string; device: string; lastUsedAt?: number }> }>(['token', 'list', '--tenant', 'cli-list', '--json'], cliEnv);
    assert.equal(listed.tokens.length, 2);
    assert.ok(listed.tokens.find((t) => t.jti === issued.jti)?.lastUsedAt !== undefined);
    assert.ok(!JSON.stringify(listed).includes(issued.access_token));
  });

  it('says a valid token is valid, whose it is and what it allows', async () => {
    const issued = await runCliJson<TokenJson>(['token', 'issue', '--tenant', 'cli-inspect', '--device', 'tab', '--json'], cliEnv);
    const done = await runCli(['token', 'inspect', issued.access_token], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /valid:\s+yes/);
    assert.match(done.stdout, /tenant:\s+cli-inspect/);
    assert.match(done.stdout, /device:\s+tab/);
    assert.match(done.stdout, /scopes:\s+read write/);
  });

  it('explains an expired token', async () => {
    const hourAgo = () => Date.now() - 3600_000;
    const expired = await signAccessToken(gateway.signingKey!, { tenant: 'cli-inspect', scopes: ['read'], ttlSeconds: 60 }, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, tenantClaim: 'sub', now: hourAgo });
    const done = await runCli(['token', 'inspect', '-', '--json'], cliEnv, expired);
    assert.equal(done.code, 1);
    const result = JSON.parse(done.stdout) as { valid: boolean; code: string; reason: string };
    assert.equal(result.valid, false);
    assert.equal(result.code, 'TOKEN_EXPIRED');
    assert.match(result.reason, /expired at/);
  });

  it('explains a revoked token, and a token for another audience', async () => {
    const issued = await gateway.issuer!.issue({ tenant: 'cli-inspect', scopes: ['read'], actor: 'test' });
    await gateway.state.ledger.revokeJti(issued.jti, issued.expiresAt);
    const revoked = await runCli(['token', 'inspect', issued.accessToken], cliEnv);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stdout, /valid:\s+no/);
    assert.match(revoked.stdout, /why:\s+The token was revoked at/);
    const foreign = await runCli(['token', 'inspect', issued.accessToken], { ...cliEnv, AUTH_AUDIENCE: 'another-service' });
    assert.equal(foreign.code, 1);
    assert.match(foreign.stdout, /audience/);
  });
});

describe('refresh tokens', () => {
  async function issueWithRefresh(tenant: string, device: string): Promise<{ access: string; refresh: string }> {
    const issued = await gateway.issuer!.issue({ tenant, scopes: ['read', 'write'], device, withRefresh: true, actor: 'test' });
    return { access: issued.accessToken, refresh: issued.refreshToken! };
  }

  it('exchanges a refresh token on /oauth/token for a new access and refresh token', async () => {
    const first = await issueWithRefresh('rt-acme', 'laptop');
    const answer = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: first.refresh });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.headers.get('cache-control'), 'no-store');
    assert.equal(answer.body['token_type'], 'Bearer');
    assert.equal(answer.body['scope'], 'read write');
    assert.notEqual(answer.body['refresh_token'], first.refresh);
    assert.equal((await probeMcp(gateway.url, String(answer.body['access_token']))).status, 200);
  });

  it('narrows scopes on request and refuses to widen them', async () => {
    const first = await issueWithRefresh('rt-scope', 'laptop');
    const narrowed = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: first.refresh, scope: 'read' });
    assert.equal(narrowed.status, 200);
    assert.equal(narrowed.body['scope'], 'read');
    const widened = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: String(narrowed.body['refresh_token']), scope: 'admin' });
    assert.equal(widened.status, 400);
    assert.equal(widened.body['error'], 'invalid_scope');
  });

  it("revokes the device's whole family when a used refresh token comes back, and audits it", async () => {
    const first = await issueWithRefresh('rt-reuse', 'laptop');
    const second = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: first.refresh });
    assert.equal(second.status, 200);
    const reused = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: first.refresh });
    assert.equal(reused.status, 400);
    assert.equal(reused.body['error'], 'invalid_grant');
    assert.match(String(reused.body['error_description']), /already used/);
    // Both the current refresh token and every access token of the family are dead.
    const next = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: String(second.body['refresh_token']) });
    assert.equal(next.status, 400);
    await sleep(STATE_CACHE_EXPIRY_MS);
    assert.equal((await probeMcp(gateway.url, first.access)).status, 401);
    assert.equal((await probeMcp(gateway.url, String(second.body['access_token']))).status, 401);
    const stream = await gateway.state.store.command(['XRANGE', 'gw:audit:rt-reuse', '-', '+']);
    assert.ok(JSON.stringify(stream).includes('refresh_reuse'));
  });

  it('refuses a refresh token of a revoked device', async () => {
    const first = await issueWithRefresh('rt-device', 'lost-laptop');
    await gateway.state.ledger.revokeDevice('rt-device', 'lost-laptop');
    const answer = await postTokenForm(gateway.url, { grant_type: 'refresh_token', refresh_token: first.refresh });
    assert.equal(answer.status, 400);
    assert.match(String(answer.body['error_description']), /revoked/);
  });

  it('answers malformed token requests with RFC 6749 errors', async () => {
    const cases: Array<[Record<string, string>, string, string | undefined]> = [
      [{ grant_type: 'password', username: 'x' }, 'unsupported_grant_type', undefined],
      [{ grant_type: 'refresh_token' }, 'invalid_request', undefined],
      [{ refresh_token: 'fmgr_x' }, 'invalid_request', undefined],
      [{ grant_type: 'refresh_token', refresh_token: 'fmgr_unknown' }, 'invalid_grant', undefined],
      [{ grant_type: 'refresh_token', refresh_token: 'x' }, 'invalid_request', 'application/json'],
    ];
    for (const [form, error, type] of cases) {
      const answer = await postTokenForm(gateway.url, form, type);
      assert.equal(answer.status, 400, JSON.stringify(form));
      assert.equal(answer.body['error'], error, JSON.stringify(form));
      assert.equal(typeof answer.body['error_description'], 'string');
    }
    const get = await fetch(`${gateway.url}/oauth/token`);
    assert.equal(get.status, 405);
  });

  it('rotates on the command line with `token refresh`', async () => {
    const first = await issueWithRefresh('rt-cli', 'desk');
    const next = await runCliJson<TokenJson>(['token', 'refresh', '-'], cliEnv, first.refresh);
    assert.match(next.refresh_token, /^fmgr_/);
    assert.equal((await probeMcp(gateway.url, next.access_token)).status, 200);
    const again = await runCli(['token', 'refresh', first.refresh], cliEnv);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already used/);
  });
});

describe('signing keys', () => {
  it('publishes its public signing key, and nothing private, at /.well-known/jwks.json', async () => {
    const jwks = await getJson(`${gateway.url}/.well-known/jwks.json`);
    assert.equal(jwks.status, 200);
    const keys = jwks.body['keys'] as Array<Record<string, unknown>>;
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.['kid'], gateway.signingKey?.kid);
    assert.equal(keys[0]?.['d'], undefined);
  });

  it('keeps accepting tokens of the previous key after rotation, until its file is removed', async () => {
    const oldToken = (await gateway.issuer!.issue({ tenant: 'rotate', scopes: ['read'], actor: 'test' })).accessToken;
    const previousDir = await tempDir();
    await rename(keyFile, path.join(previousDir, 'old.pem'));
    const newKey = await writeSigningKey(keyDir, 'signing-2.pem');
    const rotated = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: newKey, AUTH_PREVIOUS_KEYS_DIR: previousDir });
    try {
      assert.equal((await probeMcp(rotated.url, oldToken)).status, 200);
      const newToken = (await rotated.issuer!.issue({ tenant: 'rotate', scopes: ['read'], actor: 'test' })).accessToken;
      assert.equal((await probeMcp(rotated.url, newToken)).status, 200);
      const jwks = await getJson(`${rotated.url}/.well-known/jwks.json`);
      assert.equal((jwks.body['keys'] as unknown[]).length, 2);
    } finally {
      await rotated.stop();
    }
    const removed = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: newKey });
    try {
      const refused = await probeMcp(removed.url, oldToken);
      assert.equal(refused.status, 401);
      assert.equal(refused.body['code'], 'TOKEN_KEY_UNKNOWN');
    } finally {
      await removed.stop();
      await rename(path.join(previousDir, 'old.pem'), keyFile);
    }
  });
});

describe('secrets from files', () => {
  it('verifies with the shared secret read from AUTH_JWT_SECRET_FILE, and the database URL from FALKORDB_URL_FILE', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'secret'), `${FILE_SECRET}\n`, { mode: 0o600 });
    await writeFile(path.join(dir, 'url'), db.url, { mode: 0o600 });
    const fromFiles = await startTestGateway('', {
      FALKORDB_URL: '',
      FALKORDB_URL_FILE: path.join(dir, 'url'),
      AUTH_JWT_SECRET: '',
      AUTH_JWT_SECRET_FILE: path.join(dir, 'secret'),
    });
    try {
      assert.equal((await probeMcp(fromFiles.url, await signTestToken('files', { secret: FILE_SECRET }))).status, 200);
      assert.equal((await probeMcp(fromFiles.url, await signTestToken('files'))).status, 401);
    } finally {
      await fromFiles.stop();
    }
  });
});

describe("tenants' own keys", () => {
  async function tenantToken(key: KeyObject, tenant: string, kid: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'read write' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setSubject(tenant)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti(crypto.randomUUID())
      .sign(key);
  }

  it("accepts a token signed by the tenant's registered key for that tenant", async () => {
    const pair = ecKeyPair();
    const kid = await publicKeyThumbprint(pair.publicKey);
    await gateway.state.tenants.add({ id: 'own-key', publicKeyPem: pair.publicPem });
    assert.equal((await probeMcp(gateway.url, await tenantToken(pair.privateKey, 'own-key', kid))).status, 200);
  });

  it("refuses a token a tenant's key signed for another tenant", async () => {
    const attacker = ecKeyPair();
    const victim = ecKeyPair();
    const attackerKid = await publicKeyThumbprint(attacker.publicKey);
    await gateway.state.tenants.add({ id: 'own-attacker', publicKeyPem: attacker.publicPem });
    await gateway.state.tenants.add({ id: 'own-victim', publicKeyPem: victim.publicPem });
    // A registered victim with a key of its own: the signature is checked against the victim's key.
    const forged = await probeMcp(gateway.url, await tenantToken(attacker.privateKey, 'own-victim', attackerKid));
    assert.equal(forged.status, 401);
    assert.equal(forged.body['code'], 'TOKEN_SIGNATURE_INVALID');
    // An unregistered tenant has no key at all, so nothing can vouch for the token.
    const orphan = await probeMcp(gateway.url, await tenantToken(attacker.privateKey, 'own-nobody', attackerKid));
    assert.equal(orphan.status, 401);
    assert.equal(orphan.body['code'], 'TOKEN_KEY_UNKNOWN');
  });

  it("stops accepting a tenant's key once the tenant is disabled", async () => {
    const pair = ecKeyPair();
    const kid = await publicKeyThumbprint(pair.publicKey);
    await gateway.state.tenants.add({ id: 'own-off', publicKeyPem: pair.publicPem });
    const token = await tenantToken(pair.privateKey, 'own-off', kid);
    assert.equal((await probeMcp(gateway.url, token)).status, 200);
    await gateway.state.tenants.setEnabled('own-off', false);
    await sleep(STATE_CACHE_EXPIRY_MS);
    assert.equal((await probeMcp(gateway.url, token)).status, 403);
  });
});
