// The CLI never does something an operator did not mean: it refuses to mint
// tokens the running gateway would refuse, says what differs (`doctor`), treats
// typed names it does not know as errors, and ends quietly on a closed pipe.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { RunningGateway } from '../src/main.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { CLI_ENTRY, REPO_ROOT } from './support/mcp.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let keyFile: string;
let dataDir: string;
let cliEnv: Record<string, string>;

before(async () => {
  db = await startTestFalkorDB();
  const dir = await tempDir('cli-safety-');
  keyFile = await writeSigningKey(dir);
  dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile, FALKORDB_DATA_DIR: dataDir });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, FALKORDB_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
});

function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, /^falkordb-mcp-gateway: [^\n]+\n$/, stderr);
  assert.match(stderr, pattern);
}

/** The CLI environment of someone who forgot the key variable. */
function withoutKey(): Record<string, string> {
  const { AUTH_SIGNING_KEY_FILE: _key, ...rest } = cliEnv;
  return rest;
}

describe('token issue against a gateway that signs with AUTH_SIGNING_KEY_FILE', () => {
  it('refuses without the key variable, naming it, and writes no dev key into the data folder', async () => {
    const done = await runCli(['token', 'issue', '--tenant', 'safety-acme', '--device', 'laptop'], withoutKey());
    assert.equal(done.code, 1, done.stderr);
    assert.equal(done.stdout, '', 'no token is printed');
    assertOneLine(done.stderr, /AUTH_SIGNING_KEY_FILE/);
    assert.deepEqual(await readdir(dataDir), [], 'nothing was written into the data folder');
  });

  it('refuses with a stale dev key in the data folder, which the running gateway does not accept', async () => {
    const stale = await tempDir('cli-safety-stale-');
    await copyFile(await writeSigningKey(stale, 'other.pem'), path.join(stale, 'dev-signing-key.pem'));
    const done = await runCli(['token', 'issue', '--tenant', 'safety-acme', '--device', 'laptop'], { ...withoutKey(), FALKORDB_DATA_DIR: stale });
    assert.equal(done.code, 1, done.stderr);
    assert.equal(done.stdout, '');
    assertOneLine(done.stderr, /would refuse tokens signed here.*AUTH_SIGNING_KEY_FILE is not set here/);
    assert.ok(done.stderr.includes(gateway.url), done.stderr);
  });

  it('refuses when the issuer differs from the running gateway\'s, naming AUTH_ISSUER', async () => {
    const done = await runCli(['token', 'issue', '--tenant', 'safety-acme'], { ...cliEnv, AUTH_ISSUER: 'https://elsewhere.example' });
    assert.equal(done.code, 1, done.stderr);
    assertOneLine(done.stderr, /issuer differ.*set AUTH_ISSUER here/i);
  });

  it('issues a token the gateway accepts when the environment matches', async () => {
    const done = await runCli(['token', 'issue', '--tenant', 'safety-acme', '--device', 'laptop'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    const probe = await probeMcp(gateway.url, done.stdout.trim());
    assert.equal(probe.status, 200, JSON.stringify(probe.body));
  });
});

describe('doctor', () => {
  it('says the signing key differs, names AUTH_SIGNING_KEY_FILE and exits 1', async () => {
    const done = await runCli(['doctor'], withoutKey());
    assert.equal(done.code, 1, done.stderr);
    assert.match(done.stdout, /differs: signing key: .*set AUTH_SIGNING_KEY_FILE \(it refuses tokens signed here\)/);
    assert.ok(done.stdout.includes(`Gateway at ${gateway.url}`), done.stdout);
    assert.ok(done.stdout.includes(`kid ${gateway.signingKey!.kid}`), done.stdout);
  });

  it('lists every difference as JSON', async () => {
    const done = await runCli(['doctor', '--json'], { ...cliEnv, AUTH_AUDIENCE: 'another-audience' });
    assert.equal(done.code, 1, done.stderr);
    const report = JSON.parse(done.stdout) as { matches: boolean; gateways: Array<{ differences: Array<{ variable: string; refusesTokens: boolean }> }> };
    assert.equal(report.matches, false);
    assert.deepEqual(report.gateways[0]?.differences.map((d) => [d.variable, d.refusesTokens]), [['AUTH_AUDIENCE', true]]);
  });

  it('exits 0 and says everything matches when the environment is the gateway\'s', async () => {
    const done = await runCli(['doctor'], cliEnv);
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /Everything matches 1 running gateway\(s\)\./);
  });

  it('exits 1 when no running gateway is found in the database', async () => {
    const other = await startTestFalkorDB();
    try {
      const done = await runCli(['doctor'], { ...cliEnv, FALKORDB_URL: other.url });
      assert.equal(done.code, 1, done.stderr);
      assert.match(done.stdout, /No running gateway announces itself in this database/);
    } finally {
      await other.cleanup();
    }
  });

  it('tells the truth in --help', async () => {
    const done = await runCli(['doctor', '--help'], {});
    assert.equal(done.code, 0);
    assert.match(done.stdout.replace(/\s+/g, ' '), /Exit 0 when all match; 1 when something differs or no running gateway is found/);
  });
});
