// Configuration: every variable validated, bad values named, README in step.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.js';
import { configTableMarkdown } from '../src/config-table.js';

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

  it('allows a non-loopback host once a verification key is set', () => {
    const config = loadConfig({ HOST: '0.0.0.0', AUTH_JWT_SECRET: 'x'.repeat(32) });
    assert.equal(config.auth.devMode, false);
  });

  it("keeps README's configuration table in step with the code", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(configTableMarkdown()), 'README table differs: run `npx tsx scripts/config-table.ts`');
    for (const v of CONFIG_VARIABLES) assert.ok(readme.includes(`\`${v.name}\``), v.name);
  });
});
