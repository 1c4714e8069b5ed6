// The CLI never does something an operator did not mean: it refuses to mint
// tokens the running gateway would refuse, says what differs (`doctor`), treats
// typed names it does not know as errors, and ends quietly on a closed pipe.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { GraphClient } from '../src/falkordb/graphs.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { tenantGraphKey } from '../src/tenancy/keys.js';
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

describe('names that are not there', () => {
  before(async () => {
    await createGraph('graphs-only', 'kept', 'CREATE (:N)');
  });

  it('tenant export of an unknown tenant exits 1, says how to list the real ones, and creates no file', async () => {
    const out = path.join(await tempDir('cli-safety-export-'), 'nosuch.jsonl');
    const done = await runCli(['tenant', 'export', 'nosuch', '--out', out], cliEnv);
    assert.equal(done.code, 1, done.stderr);
    assertOneLine(done.stderr, /No tenant "nosuch" is known here.*tenant list/);
    await assert.rejects(access(out));
    await assert.rejects(access(`${out}.partial`));
  });

  it('tenant export of an unregistered tenant that has graphs still works', async () => {
    const out = path.join(await tempDir('cli-safety-export-'), 'graphs-only.jsonl');
    const done = await runCli(['tenant', 'export', 'graphs-only', '--out', out, '--quiet'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    await access(out);
  });

  it('token list of an unknown tenant exits 1; of an unregistered tenant with graphs, exits 0', async () => {
    const unknown = await runCli(['token', 'list', '--tenant', 'nosuch'], cliEnv);
    assert.equal(unknown.code, 1, unknown.stderr);
    assertOneLine(unknown.stderr, /No tenant "nosuch" is known here/);
    const known = await runCli(['token', 'list', '--tenant', 'graphs-only'], cliEnv);
    assert.equal(known.code, 0, known.stderr);
  });

  it('token revoke --jti of a jti the gateway never issued exits 1 and stores no revocation', async () => {
    const done = await runCli(['token', 'revoke', '--jti', 'typo-jti'], cliEnv);
    assert.equal(done.code, 1, done.stderr);
    assertOneLine(done.stderr, /No unexpired token with jti "typo-jti".*token list --tenant ID.*--force/);
    assert.equal(await gateway.state.store.exists(stateKeys.revokedJti('typo-jti')), false);
  });

  it('token revoke --jti --force revokes a jti of another issuer on purpose', async () => {
    const done = await runCli(['token', 'revoke', '--jti', 'idp-jti', '--force'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await gateway.state.store.exists(stateKeys.revokedJti('idp-jti')), true);
  });

  it('token revoke --jti of a token the gateway issued revokes it', async () => {
    const issued = await runCliJson<{ jti: string }>(['token', 'issue', '--tenant', 'safety-acme', '--device', 'desk', '--json'], cliEnv);
    const done = await runCli(['token', 'revoke', '--jti', issued.jti], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await gateway.state.store.exists(stateKeys.revokedJti(issued.jti)), true);
  });

  it('token revoke --tenant of an unknown tenant exits 1 unless --force', async () => {
    const done = await runCli(['token', 'revoke', '--tenant', 'nosuch-either'], cliEnv);
    assert.equal(done.code, 1, done.stderr);
    assertOneLine(done.stderr, /No tenant "nosuch-either" is known here.*add --force/);
    assert.equal(await gateway.state.store.exists(stateKeys.tenantCutoff('nosuch-either')), false);
    const forced = await runCli(['token', 'revoke', '--tenant', 'nosuch-either', '--force'], cliEnv);
    assert.equal(forced.code, 0, forced.stderr);
  });
});

describe('next steps', () => {
  it('tenant add prints the client-config command line to run next', async () => {
    const done = await runCli(['tenant', 'add', 'next-step'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.ok(done.stdout.includes('falkordb-mcp-gateway client-config --client claude-code --tenant next-step --device NAME'), done.stdout);
  });

  it('token issue without --device says on stderr that the token cannot be revoked by device, and stdout is the token alone', async () => {
    const done = await runCli(['token', 'issue', '--tenant', 'next-step'], cliEnv);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    assert.match(done.stderr, /names no device, so `token revoke --device` cannot cut it off/);
    const withDevice = await runCli(['token', 'issue', '--tenant', 'next-step', '--device', 'laptop'], cliEnv);
    assert.equal(withDevice.stderr, '');
  });
});

/** Runs the CLI with stdout piped into a reader that closes it after `bytes` bytes (0: before anything is written). */
function runClosingStdout(args: string[], env: Record<string, string>, bytes: number): Promise<{ code: number | null; stderr: string; read: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
    let stderr = '';
    let read = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (bytes === 0) child.stdout.destroy();
    else {
      child.stdout.on('data', (d: Buffer) => {
        read += d.length;
        if (read >= bytes) child.stdout.destroy();
      });
    }
    child.on('close', (code) => resolve({ code, stderr, read }));
    child.stdin.end();
  });
}

function assertQuiet(done: { code: number | null; stderr: string }): void {
  assert.equal(done.code, 0, done.stderr);
  assert.doesNotMatch(done.stderr, /EPIPE|failed|falkordb-mcp-gateway:/);
}

describe('a reader that closes stdout early', () => {
  before(async () => {
    // About 3 MB of export, far more than a pipe holds.
    await createGraph('pipe-tenant', 'big', `UNWIND range(1, 20000) AS i CREATE (:Row {i: i, text: '${'x'.repeat(120)}'})`);
  });

  it('ends tenant export --out - quietly with exit 0, as `| head` does', async () => {
    const done = await runClosingStdout(['tenant', 'export', 'pipe-tenant', '--out', '-', '--quiet'], cliEnv, 1);
    assert.ok(done.read > 0, 'the reader got the start of the export');
    assertQuiet(done);
  });

  it('ends token list quietly with exit 0', async () => {
    assertQuiet(await runClosingStdout(['token', 'list', '--tenant', 'pipe-tenant'], cliEnv, 0));
  });

  it('ends audit tail --follow quietly with exit 0', async () => {
    assertQuiet(await runClosingStdout(['audit', 'tail', '--tenant', 'pipe-tenant', '--since', '1d', '--follow'], cliEnv, 0));
  });
});

async function createGraph(tenant: string, graph: string, query: string): Promise<void> {
  await new GraphClient(gateway.database.db).query({ key: tenantGraphKey(tenant, graph), query, readOnly: false, timeoutMs: 10_000, maxRows: 10 });
}
