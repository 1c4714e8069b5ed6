// Configuration: every variable validated, bad values named, README in step.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_VARIABLES, loadConfig } from '../src/config/index.js';
import { configTableMarkdown } from '../scripts/config-table-markdown.js';

const tempDir = mkdtempSync(path.join(os.tmpdir(), 'gw-config-'));
after(() => rmSync(tempDir, { recursive: true, force: true }));

let fileCount = 0;
/** A file in the test's temp folder holding exactly `content`. */
function secretFile(content: string): string {
  const file = path.join(tempDir, `secret-${++fileCount}`);
  writeFileSync(file, content);
  return file;
}

/** loadConfig's CONFIG_INVALID error for `env`; fails the test if it loads. */
function configFailure(env: Record<string, string>): Error & { code?: string } {
  try {
    loadConfig(env);
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'CONFIG_INVALID');
    return error as Error;
  }
  assert.fail(`expected ${JSON.stringify(Object.keys(env))} to be refused`);
}

const SECRET = 'a-file-secret-that-is-well-over-32-bytes-long';

describe('configuration', () => {
  it('has defaults that make a dev-mode config on loopback', () => {
    const config = loadConfig({});
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.http.port, 3003);
    assert.equal(config.auth.devMode, true);
    assert.equal(config.auth.issuer, 'falkordb-mcp-gateway');
    assert.equal(config.query.maxRows, 10000);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.auth));
  });

  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ FALKORDB_URL: 'http://x' }, 'FALKORDB_URL'],
    [{ FALKORDB_URL: 'not a url' }, 'FALKORDB_URL'],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET'],
    [{ AUTH_JWKS_URL: 'ftp://x' }, 'AUTH_JWKS_URL'],
    [{ AUTH_ALLOW_QUERY_TOKEN: 'maybe' }, 'AUTH_ALLOW_QUERY_TOKEN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ QUERY_TIMEOUT_MS: '0' }, 'QUERY_TIMEOUT_MS'],
    [{ HOST: '0.0.0.0' }, 'HOST'],
    [{ ACCESS_TOKEN_TTL: '1 hour' }, 'ACCESS_TOKEN_TTL'],
    [{ ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
    [{ ACCESS_TOKEN_TTL: '31d' }, 'ACCESS_TOKEN_TTL'],
    [{ REFRESH_TOKEN_TTL: '1y' }, 'REFRESH_TOKEN_TTL'],
    [{ REFRESH_TOKEN_TTL: '401d' }, 'REFRESH_TOKEN_TTL'],
    [{ AUTH_PREVIOUS_KEYS_DIR: '  ' }, 'AUTH_PREVIOUS_KEYS_DIR'],
    [{ TENANTS_REQUIRE_REGISTRATION: 'sometimes' }, 'TENANTS_REQUIRE_REGISTRATION'],
  ];
  for (const [env, variable] of bad) {
    it(`names ${variable} when it is ${JSON.stringify(Object.values(env)[0])}`, () => {
      assert.throws(
        () => loadConfig(env),
        (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && e.message.startsWith(variable) && /for example/.test(e.message),
      );
    });
  }

  it('never shows a secret value in its error', () => {
    assert.throws(() => loadConfig({ AUTH_JWT_SECRET: 'tiny-secret' }), (e: Error) => !e.message.includes('tiny-secret'));
  });

  it('says, for a non-loopback HOST in dev mode, both ways out: a verification key, or a loopback HOST', () => {
    assert.throws(
      () => loadConfig({ HOST: '0.0.0.0' }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'CONFIG_INVALID');
        assert.equal(
          e.message,
          'HOST (got "0.0.0.0") is not a loopback address, and dev mode (self-signed demo tokens, used when no verification key is set) only runs on loopback. ' +
            'To serve other machines, set a verification key: AUTH_JWT_SECRET (or AUTH_JWT_SECRET_FILE), AUTH_PUBLIC_KEY_FILE, AUTH_JWKS_URL or AUTH_SIGNING_KEY_FILE. ' +
            'To stay in dev mode, listen on loopback, for example HOST=127.0.0.1.',
        );
        return true;
      },
    );
  });

  it('allows a non-loopback host once a verification key is set', () => {
    const config = loadConfig({ HOST: '0.0.0.0', AUTH_JWT_SECRET: 'x'.repeat(32) });
    assert.equal(config.auth.devMode, false);
  });

  it('reads token lifetimes as durations, 1h and 30d by default', () => {
    assert.deepEqual([loadConfig({}).auth.accessTokenTtlSec, loadConfig({}).auth.refreshTokenTtlSec], [3600, 30 * 86_400]);
    const config = loadConfig({ ACCESS_TOKEN_TTL: '15m', REFRESH_TOKEN_TTL: '400d' });
    assert.deepEqual([config.auth.accessTokenTtlSec, config.auth.refreshTokenTtlSec], [900, 400 * 86_400]);
    assert.equal(loadConfig({ ACCESS_TOKEN_TTL: '90' }).auth.accessTokenTtlSec, 90);
  });

  it('says which duration forms are accepted and the most allowed', () => {
    assert.match(configFailure({ ACCESS_TOKEN_TTL: 'soon' }).message, /ACCESS_TOKEN_TTL \(got "soon"\) must be a duration .*15m, 1h/);
    assert.match(configFailure({ ACCESS_TOKEN_TTL: '31d' }).message, /must be at most 30d/);
  });

  it('leaves AUTH_PREVIOUS_KEYS_DIR unset by default and resolves it to an absolute path', () => {
    assert.equal(loadConfig({}).auth.previousKeysDir, undefined);
    assert.equal(loadConfig({ AUTH_PREVIOUS_KEYS_DIR: 'old-keys' }).auth.previousKeysDir, path.resolve('old-keys'));
  });

  it('serves unregistered tenants unless TENANTS_REQUIRE_REGISTRATION is on', () => {
    assert.equal(loadConfig({}).tenants.requireRegistration, false);
    assert.equal(loadConfig({ TENANTS_REQUIRE_REGISTRATION: 'true' }).tenants.requireRegistration, true);
    assert.ok(Object.isFrozen(loadConfig({}).tenants));
  });

  it("keeps README's configuration table in step with the code", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(configTableMarkdown()), 'README table differs: run `npx tsx scripts/config-table.ts`');
    for (const v of CONFIG_VARIABLES) assert.ok(readme.includes(`\`${v.name}\``), v.name);
  });
});

describe('secrets from files (NAME_FILE)', () => {
  it('reads AUTH_JWT_SECRET from AUTH_JWT_SECRET_FILE, dropping one trailing newline', () => {
    assert.equal(loadConfig({ AUTH_JWT_SECRET_FILE: secretFile(`${SECRET}\n`) }).auth.jwtSecret, SECRET);
    assert.equal(loadConfig({ AUTH_JWT_SECRET_FILE: secretFile(`${SECRET}\r\n`) }).auth.jwtSecret, SECRET);
    assert.equal(loadConfig({ AUTH_JWT_SECRET_FILE: secretFile(SECRET) }).auth.jwtSecret, SECRET);
  });

  it('drops only one trailing newline, since the rest may be part of the secret', () => {
    assert.equal(loadConfig({ AUTH_JWT_SECRET_FILE: secretFile(`${SECRET}\n\n`) }).auth.jwtSecret, `${SECRET}\n`);
  });

  it('reads FALKORDB_URL from FALKORDB_URL_FILE', () => {
    const url = 'redis://:pw@db.internal:6379';
    assert.equal(loadConfig({ FALKORDB_URL_FILE: secretFile(`${url}\n`) }).falkordb.url, url);
  });

  it('turns dev mode off when AUTH_JWT_SECRET_FILE is set, and then allows a non-loopback host', () => {
    const config = loadConfig({ HOST: '0.0.0.0', AUTH_JWT_SECRET_FILE: secretFile(SECRET) });
    assert.equal(config.auth.devMode, false);
  });

  it('refuses NAME and NAME_FILE set together, naming both', () => {
    const error = configFailure({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_SECRET_FILE: secretFile(SECRET) });
    assert.match(error.message, /AUTH_JWT_SECRET and AUTH_JWT_SECRET_FILE are both set/);
    assert.ok(!error.message.includes(SECRET));
  });

  it('names NAME_FILE and the reason when the file is missing', () => {
    const error = configFailure({ AUTH_JWT_SECRET_FILE: path.join(tempDir, 'no-such-file') });
    assert.match(error.message, /^AUTH_JWT_SECRET_FILE .*no-such-file.* cannot be read \(ENOENT\)/);
  });

  it('names NAME_FILE and the reason when it names something that cannot be read as a file', () => {
    const error = configFailure({ AUTH_JWT_SECRET_FILE: tempDir });
    assert.match(error.message, /^AUTH_JWT_SECRET_FILE .* cannot be read \(EISDIR\)/);
  });

  it('names NAME_FILE when the file is empty', () => {
    assert.match(configFailure({ AUTH_JWT_SECRET_FILE: secretFile('') }).message, /^AUTH_JWT_SECRET_FILE .* empty/);
    assert.match(configFailure({ FALKORDB_URL_FILE: secretFile('\n') }).message, /^FALKORDB_URL_FILE .* empty/);
  });

  it('names NAME_FILE for a bad value in the file, and never shows the value', () => {
    const error = configFailure({ AUTH_JWT_SECRET_FILE: secretFile('short-file-secret\n') });
    assert.match(error.message, /^AUTH_JWT_SECRET_FILE \(value hidden\) must be at least 32 bytes long; for example AUTH_JWT_SECRET_FILE=\//);
    assert.ok(!error.message.includes('short-file-secret'));
  });

  it('never shows a secret in any error, whichever way it was given', () => {
    const url = 'redis://:hunter2-password@';
    const failures = [
      configFailure({ FALKORDB_URL: url }),
      configFailure({ FALKORDB_URL_FILE: secretFile(url) }),
      configFailure({ FALKORDB_URL: url, FALKORDB_URL_FILE: secretFile(url) }),
      configFailure({ AUTH_JWT_SECRET_FILE: secretFile('hunter2-password') }),
      configFailure({ AUTH_JWT_SECRET: 'hunter2-password', AUTH_JWT_SECRET_FILE: secretFile('hunter2-password') }),
    ];
    for (const error of failures) assert.ok(!error.message.includes('hunter2'), error.message);
  });

  it('only reads _FILE forms of secret variables', () => {
    assert.equal(loadConfig({ PORT_FILE: secretFile('4000') }).http.port, 3003);
  });
});

describe('sign-in at an upstream OpenID provider (OAUTH_UPSTREAM_*)', () => {
  const upstream = {
    OAUTH_UPSTREAM_ISSUER: 'https://login.example.com/realms/staff/',
    OAUTH_UPSTREAM_CLIENT_ID: 'gateway',
    OAUTH_UPSTREAM_TENANTS: 'group:graph-admins -> acme read write admin; domain:acme.com -> acme read',
  };

  it('is off unless the issuer is set, and then holds the parsed rules and the defaults', () => {
    assert.equal(loadConfig({}).oauth.upstream, undefined);
    const on = loadConfig(upstream).oauth.upstream;
    assert.equal(on?.issuer, 'https://login.example.com/realms/staff');
    assert.equal(on?.name, 'login.example.com');
    assert.equal(on?.scope, 'openid email profile');
    assert.equal(on?.groupsClaim, 'groups');
    assert.equal(on?.clientSecret, undefined);
    assert.deepEqual(on?.rules.map((r) => r.tenant), ['acme', 'acme']);
    assert.equal(loadConfig({ ...upstream, OAUTH_UPSTREAM_CLIENT_SECRET_FILE: secretFile('s3cret\n') }).oauth.upstream?.clientSecret, 's3cret');
  });

  it('names what is missing or wrong, and what to do', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ OAUTH_UPSTREAM_ISSUER: upstream.OAUTH_UPSTREAM_ISSUER, OAUTH_UPSTREAM_TENANTS: upstream.OAUTH_UPSTREAM_TENANTS }, /OAUTH_UPSTREAM_CLIENT_ID is required with OAUTH_UPSTREAM_ISSUER/],
      [{ OAUTH_UPSTREAM_ISSUER: upstream.OAUTH_UPSTREAM_ISSUER, OAUTH_UPSTREAM_CLIENT_ID: 'gateway' }, /OAUTH_UPSTREAM_TENANTS is required with OAUTH_UPSTREAM_ISSUER/],
      [{ OAUTH_UPSTREAM_CLIENT_ID: 'gateway' }, /OAUTH_UPSTREAM_CLIENT_ID is only used with OAUTH_UPSTREAM_ISSUER/],
      [{ ...upstream, OAUTH_UPSTREAM_ISSUER: 'http://login.example.com' }, /OAUTH_UPSTREAM_ISSUER .*must be an https:\/\/ URL \(http:\/\/ only on a loopback address\)/],
      [{ ...upstream, OAUTH_UPSTREAM_TENANTS: 'domain:acme.com -> acme read; group:x acme read' }, /OAUTH_UPSTREAM_TENANTS .*rule 2 .*needs "->"/],
      [{ ...upstream, OAUTH_UPSTREAM_SCOPE: 'email profile' }, /OAUTH_UPSTREAM_SCOPE .*must include openid/],
      [{ ...upstream, OAUTH_SERVER: 'false' }, /OAUTH_SERVER is false/],
      [{ ...upstream, AUTH_JWKS_URL: 'https://idp.example.com/jwks' }, /does not sign its own tokens.*AUTH_SIGNING_KEY_FILE/],
    ];
    for (const [env, expected] of cases) assert.match(configFailure(env).message, expected, JSON.stringify(env));
    assert.equal(loadConfig({ ...upstream, OAUTH_UPSTREAM_ISSUER: 'http://127.0.0.1:9000' }).oauth.upstream?.issuer, 'http://127.0.0.1:9000');
    assert.doesNotMatch(configFailure({ ...upstream, OAUTH_UPSTREAM_CLIENT_SECRET: 'hidden-secret', OAUTH_SERVER: 'false' }).message, /hidden-secret/);
  });
});
