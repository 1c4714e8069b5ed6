// The official MCP conformance suite (@modelcontextprotocol/conformance) against a
// real gateway on a real FalkorDB: every server scenario (`--suite all`), run by the
// suite's own CLI under Node.js 22 (it needs `fs.globSync`; test/support/node22.ts
// brings the binary from the npm registry). The suite's client cannot set headers, so
// the token travels on the URL (`/mcp?token=`, AUTH_ALLOW_QUERY_TOKEN). The scenarios
// that are expected to fail are in test/conformance-baseline.yml, each with its reason;
// any other failure fails this test, and so does a listed scenario that now passes.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { connectClient, mustCall } from './support/mcp.js';
import { CONFORMANCE_VERSION, node22Tools, type Node22Tools } from './support/node22.js';
import { signTestToken } from './support/tokens.js';

const BASELINE_FILE = path.join(import.meta.dirname, 'conformance-baseline.yml');
/** Not a time the test holds the suite to (it takes seconds): only the end of a hung run. */
const HANG_LIMIT_MS = 5 * 60_000;

const TENANT = 'conformance';
const OTHER_TENANT = 'conformance-bystander';
const OTHER_GRAPH = 'bystander_ledger';

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  description?: string;
  errorMessage?: string;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let db: TestFalkorDB;
let gateway: RunningGateway;
let tools: Node22Tools;
let work: string;
let token: string;
let keepWork = false;
const children = new Set<ChildProcess>();

before(async () => {
  tools = await node22Tools();
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, { AUTH_ALLOW_QUERY_TOKEN: 'true' });
  work = await mkdtemp(path.join(tmpdir(), 'conformance-'));
  token = await signTestToken(TENANT, { scope: 'read write' });
  // A tenant with a graph of its own, and another tenant the suite must never see.
  const owner = await connectClient('http', gateway.url, token);
  await mustCall(owner, 'falkordb_query', { graphName: 'movies', query: "CREATE (:Movie {title: 'Arrival', year: 2016})-[:DIRECTED_BY]->(:Person {name: 'Denis Villeneuve'})" });
  await owner.close();
  const bystander = await connectClient('http', gateway.url, await signTestToken(OTHER_TENANT, { scope: 'read write' }));
  await mustCall(bystander, 'falkordb_query', { graphName: OTHER_GRAPH, query: "CREATE (:Account {owner: 'someone else'})" });
  await bystander.close();
});

after(async () => {
  // A run still going (the test failed or was cancelled while it ran) is ended here.
  for (const child of children) child.kill('SIGKILL');
  await gateway?.stop();
  await db?.cleanup();
  if (work !== undefined && !keepWork) await rm(work, { recursive: true, force: true });
});

/** The suite's CLI under Node.js 22, with nothing of this process's environment but PATH. */
function conformance(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.node, [tools.conformanceCli, ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const hang = setTimeout(() => child.kill('SIGKILL'), HANG_LIMIT_MS);
    child.on('error', (error) => {
      clearTimeout(hang);
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hang);
      children.delete(child);
      resolve({ code, signal, stdout: redact(stdout), stderr: redact(stderr) });
    });
  });
}

const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** The suite prints the URL it tests, token and all. */
function redact(text: string): string {
  // It also colours its output whatever NO_COLOR says.
  const plain = text.replace(ANSI_COLOUR, '');
  return token === undefined ? plain : plain.replaceAll(token, '<token>');
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

interface Baseline {
  cannotApply: string[];
  notBuiltYet: string[];
}

async function readBaseline(): Promise<Baseline> {
  const doc = parse(await readFile(BASELINE_FILE, 'utf8')) as Record<string, unknown>;
  const list = (key: string): string[] => {
    const value = doc[key] ?? [];
    assert.ok(Array.isArray(value) && value.every((v) => typeof v === 'string'), `${BASELINE_FILE}: "${key}" must be a list of scenario names`);
    return value as string[];
  };
  const unknownKeys = Object.keys(doc).filter((k) => k !== 'cannot-apply' && k !== 'not-built-yet');
  assert.deepEqual(unknownKeys, [], `${BASELINE_FILE} has only the lists "cannot-apply" and "not-built-yet"`);
  return { cannotApply: list('cannot-apply'), notBuiltYet: list('not-built-yet') };
}

/** `conformance list --server`: "  - <name> [<revisions>]" a line. */
async function serverScenarios(): Promise<string[]> {
  const run = await conformance(['list', '--server']);
  assert.equal(run.code, 0, `conformance list --server failed (exit ${run.code ?? run.signal}):\n${run.stderr}\n${run.stdout}`);
  const names = [...run.stdout.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1] as string);
  assert.ok(names.length > 0, `conformance list --server listed no scenario:\n${run.stdout}`);
  return names;
}

/** The checks of each scenario, from the `server-<scenario>-<timestamp>/checks.json` folders the suite writes. */
async function readResults(dir: string): Promise<Map<string, Check[]>> {
  const results = new Map<string, Check[]>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry.name);
    if (!entry.isDirectory() || match === null) continue;
    results.set(match[1] as string, JSON.parse(await readFile(path.join(dir, entry.name, 'checks.json'), 'utf8')) as Check[]);
  }
  return results;
}

/** What the suite's `--expected-failures` counts as a failed scenario: any FAILURE or WARNING check. */
function failedChecks(checks: Check[]): Check[] {
  return checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
}

function describeCheck(c: Check): string {
  return `${c.id} ${c.status}: ${c.errorMessage ?? c.description ?? ''}`;
}

describe(`the MCP conformance suite ${CONFORMANCE_VERSION}, server scenarios`, () => {
  it('keeps a baseline of known scenarios, each listed once', async () => {
    const baseline = await readBaseline();
    const known = new Set(await serverScenarios());
    const all = [...baseline.cannotApply, ...baseline.notBuiltYet];
    assert.deepEqual(all.filter((s) => !known.has(s)), [], `test/conformance-baseline.yml names scenarios the suite does not have (known: ${[...known].join(', ')})`);
    assert.deepEqual(all.filter((s, i) => all.indexOf(s) !== i), [], 'test/conformance-baseline.yml names a scenario twice');
  });

  it('passes every scenario that applies to the gateway, and fails each one the baseline lists', async (t) => {
    const baseline = await readBaseline();
    const expected = [...baseline.cannotApply, ...baseline.notBuiltYet];
    const scenarios = await serverScenarios();
    // The suite reads one `server:` list; the file keeps two, for their reasons.
    const expectedFile = path.join(work, 'expected-failures.yml');
    await writeFile(expectedFile, stringify({ server: expected }));
    const resultsDir = path.join(work, 'results');
    const url = `${gateway.url}/mcp?token=${encodeURIComponent(token)}`;
    const run = await conformance(['server', '--url', url, '--suite', 'all', '--expected-failures', expectedFile, '--output-dir', resultsDir]);
    const output = `results in ${resultsDir}; the suite's last lines (exit ${run.code ?? run.signal}):\n${tail(run.stdout, 12)}\n${tail(run.stderr, 10)}`;
    keepWork = true;
    assert.notEqual(run.signal, 'SIGKILL', `the suite did not finish within ${HANG_LIMIT_MS} ms and was stopped; ${output}`);

    const results = await readResults(resultsDir).catch(() => new Map<string, Check[]>());
    const lines: string[] = [];
    const unexpected: string[] = [];
    const stale: string[] = [];
    const missing: string[] = [];
    for (const scenario of scenarios) {
      const checks = results.get(scenario);
      if (checks === undefined) {
        missing.push(scenario);
        lines.push(`${scenario}: no result`);
        continue;
      }
      const failed = failedChecks(checks);
      const listed = baseline.cannotApply.includes(scenario) ? ' (baseline: cannot apply)' : baseline.notBuiltYet.includes(scenario) ? ' (baseline: not built yet)' : '';
      lines.push(`${failed.length === 0 ? 'pass' : 'FAIL'} ${scenario}${listed}${failed.length === 0 ? '' : `: ${failed.map(describeCheck).join('; ')}`}`);
      if (failed.length > 0 && !expected.includes(scenario)) unexpected.push(`${scenario}: failed, and test/conformance-baseline.yml does not list it; failed check ${failed.map(describeCheck).join('; failed check ')}`);
      if (failed.length === 0 && expected.includes(scenario)) stale.push(scenario);
    }
    for (const line of lines) t.diagnostic(line);

    const problems = [
      ...missing.map((s) => `${s}: the suite wrote no checks for it (it could not run)`),
      ...unexpected,
      ...stale.map((s) => `${s}: passes now; remove it from test/conformance-baseline.yml`),
    ];
    if (problems.length > 0) assert.fail(`${problems.length} conformance scenario(s) not as the baseline says:\n  ${problems.join('\n  ')}\n${output}`);
    // The suite's own verdict on the same baseline agrees: with --expected-failures it
    // exits 1 on a failure not listed, on a listed scenario that passed, or on an
    // error of its own, and 0 otherwise.
    assert.equal(run.code, 0, `the suite's --expected-failures check failed; ${output}`);
    keepWork = false;
  });

  it("showed the suite nothing of another tenant's graphs", async () => {
    const results = await readResults(path.join(work, 'results'));
    assert.ok(results.size > 0, 'the suite ran (the test above) and left its results');
    for (const [scenario, checks] of results) {
      const text = JSON.stringify(checks);
      assert.ok(!text.includes(OTHER_GRAPH) && !text.includes(OTHER_TENANT), `${scenario} saw ${OTHER_TENANT}'s graph ${OTHER_GRAPH}: ${text.slice(0, 2000)}`);
    }
  });
});
