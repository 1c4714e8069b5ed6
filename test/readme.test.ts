// README as a newcomer follows it: its set-up command is run as written, its
// client snippets are compared with what that command prints, and its
// client-config example is run against the gateway it started.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { freeLoopbackPort } from './support/ports.js';
import { runCli, type Finished } from './support/cli.js';
import { probeMcp } from './support/http.js';
import { CLI_ENTRY, REPO_ROOT, connectClient, mustCall } from './support/mcp.js';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
/** The code blocks of README, with `\` line continuations joined. */
const FENCES = [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({ lang: m[1] ?? '', body: (m[2] ?? '').replace(/\\\n\s*/g, '') }));
const COMMAND_LINES = FENCES.flatMap((f) => f.body.split('\n')).map((l) => l.replace(/^\s*\$\s+/, '').trim());
/** However README spells a token placeholder: <token>, <TOKEN>, <your-token>. */
const TOKEN_PLACEHOLDER = /<[^<>\s]*token[^<>\s]*>/gi;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;

/** A real POSIX shell splits the words after the program name, as it would when the reader pastes the line. */
function shellWords(line: string, cwd: string): Promise<string[]> {
  const args = line.replace(/^(npx\s+)?\S+/, '');
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `printf '%s\\0'${args}`], { cwd });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out.split('\0').slice(0, -1)) : reject(new Error(`sh could not read: ${line}`))));
  });
}

/** Every address becomes ORIGIN and every token <token>, so README's examples and real output compare. */
function normalized(value: unknown, token?: string): unknown {
  let text = JSON.stringify(value).replace(/https?:\/\/[^/\s"']+/g, 'ORIGIN').replace(TOKEN_PLACEHOLDER, '<token>');
  if (token !== undefined) text = text.replaceAll(token, '<token>');
  return JSON.parse(text);
}

/** The value itself and every value nested in it, so README may show a whole file or one entry of it. */
function subtrees(value: unknown): unknown[] {
  if (typeof value !== 'object' || value === null) return [value];
  return [value, ...Object.values(value).flatMap(subtrees)];
}

/** Printed JSON documents: each from a line `{` to the next line `}`. */
function jsonBlocks(text: string): unknown[] {
  return [...text.matchAll(/^\{\n[\s\S]*?^\}$/gm)].map((m) => JSON.parse(m[0]));
}

let dataDir: string;
let workDir: string;
let port: number;
let base: string;
let server: ChildProcess;
let banner = '';
let demoToken: string;
let cliEnv: Record<string, string>;

/** Runs the CLI as `npx falkordb-mcp-gateway` would, from a scratch folder (so a --write into ./.vscode lands there). */
function runGatewayCommand(args: string[]): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CLI_ENTRY, ...args], { cwd: workDir, env: { PATH: process.env.PATH ?? '', ...cliEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The pid of the embedded server `npm start` launched, from its data folder's lock file. */
function embeddedServerPid(): number | undefined {
  try {
    const pid = (JSON.parse(readFileSync(path.join(dataDir, 'embedded.json'), 'utf8')) as { serverPid?: number }).serverPid;
    return typeof pid === 'number' && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Waits up to 30 s for a process to end (the gateway stops its server on SIGTERM), then kills what is left. */
async function stopped(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 300 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

before(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-readme-data-'));
  workDir = await mkdtemp(path.join(os.tmpdir(), 'gw-readme-work-'));
  port = await freeLoopbackPort();
  // Another gateway on this machine may hold the default METRICS_PORT (9464): the one started here gets a free port too.
  const metricsPort = await freeLoopbackPort();
  base = `http://127.0.0.1:${port}`;
  cliEnv = { FALKORDB_DATA_DIR: dataDir, PORT: String(port), HOME: workDir, LOG_LEVEL: 'silent' };

  const setUp = FENCES.find((f) => /\bnpm start\b/.test(f.body));
  assert.ok(setUp, 'README shows how to start the gateway with npm start');
  const commands = setUp.body.split(/\n|&&|;/).map((c) => c.replace(/#.*/, '').trim()).filter((c) => c !== '');
  // `npm ci` would reinstall node_modules under the running test suite; every other set-up command runs as written.
  const toRun = commands.filter((c) => !/^(npm (ci|install)|git clone\b|cd\b)/.test(c));
  assert.deepEqual(toRun, ['npm start'], `README's set-up block has commands this test does not know how to run: ${toRun.join(' | ')}`);
  // Its own process group, so stopping it reaches npm, tsx and the gateway alike.
  server = spawn('sh', ['-c', toRun.join(' && ')], { cwd: REPO_ROOT, detached: true, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? workDir, FALKORDB_DATA_DIR: dataDir, PORT: String(port), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'warn' } });
  demoToken = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      banner += d.toString();
      const token = /Demo token[^\n]*\n(\S+)\n/.exec(banner)?.[1];
      // The banner is complete once the last config (VS Code's) has closed.
      if (token && /VS Code[^\n]*\n\{\n[\s\S]*?\n\}\n/.test(banner)) resolve(token);
    };
    server.stdout?.on('data', onData);
    server.stderr?.on('data', onData);
    server.on('close', (code) => reject(new Error(`npm start exited with ${code}: ${banner}`)));
  });
});

after(async () => {
  // The embedded server is a process group of its own: `close` of the shell comes before the
  // gateway has stopped it, and deleting its folder under it would fail its last save.
  const serverPid = embeddedServerPid();
  if (server?.pid !== undefined && server.exitCode === null) {
    server.removeAllListeners('close');
    const closed = new Promise((resolve) => server.once('close', resolve));
    process.kill(-server.pid, 'SIGTERM');
    await closed;
  }
  if (serverPid !== undefined) await stopped(serverPid);
  // The embedded server may still be writing its last save into the folder: rm retries ENOTEMPTY.
  await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  await rm(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

describe('README', () => {
  it('set-up: `npm start` prints a demo token with which the gateway serves the ten tools', async () => {
    const client = await connectClient('http', base, demoToken);
    try {
      assert.equal((await client.listTools()).tools.length, 10);
      await mustCall(client, 'falkordb_query', { graphName: 'readme', query: "CREATE (:Step {name: 'set up'})" });
      assert.deepEqual((await mustCall(client, 'falkordb_query', { graphName: 'readme', query: 'MATCH (s:Step) RETURN s.name AS name' })).rows, [{ name: 'set up' }]);
    } finally {
      await client.close();
    }
  });

  it("shows the same Claude Code command that `npm start` prints", async () => {
    const readmeLines = COMMAND_LINES.filter((l) => l.startsWith('claude mcp add'));
    assert.ok(readmeLines.length > 0, 'README shows the `claude mcp add` command');
    const printed = banner.split('\n').find((l) => l.startsWith('claude mcp add'));
    assert.ok(printed, banner);
    const expected = normalized(await shellWords(printed, workDir), demoToken);
    for (const line of readmeLines) {
      assert.deepEqual(normalized(await shellWords(line.replace(TOKEN_PLACEHOLDER, demoToken), workDir), demoToken), expected, line);
    }
  });

  it('shows client configs that match what the gateway prints', async () => {
    const shown = FENCES.filter((f) => f.lang === 'json' && /mcp-remote|"mcpServers"|"servers"/.test(f.body)).map((f) => JSON.parse(f.body) as unknown);
    assert.ok(shown.length > 0, 'README shows at least one client config');
    const desktop = await runGatewayCommand(['client-config', '--client', 'claude-desktop', '--tenant', 'demo', '--device', 'readme-alternative', '--json']);
    assert.equal(desktop.code, 0, desktop.stderr);
    const printed = JSON.parse(desktop.stdout) as { token: string; config: unknown; alternative: unknown };
    const candidates = [...jsonBlocks(banner).map((b) => normalized(b, demoToken)), normalized(printed.config, printed.token), normalized(printed.alternative, printed.token)].flatMap(subtrees);
    for (const block of shown) {
      assert.ok(candidates.some((c) => JSON.stringify(c) === JSON.stringify(normalized(block))), `README's config is not what the gateway prints:\n${JSON.stringify(block, null, 2)}`);
    }
  });

  it('shows a token-on-the-URL address that connects over the legacy SSE transport', async () => {
    const shown = README.match(/https?:\/\/[^\s`"']+\/sse\/?\?token=<[^<>\s]*token[^<>\s]*>/i)?.[0];
    assert.ok(shown, 'README shows the /sse/?token= form');
    const url = new URL(shown.replace(TOKEN_PLACEHOLDER, encodeURIComponent(demoToken)));
    const client = new Client({ name: 'readme-sse', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(`${url.pathname}${url.search}`, base)));
    try {
      assert.equal((await client.listTools()).tools.length, 10);
    } finally {
      await client.close();
    }
  });

  it("runs README's client-config example, with the commands shown before it, and the printed token works", async (t) => {
    const CLI_LINE = /^(npx\s+)?falkordb-mcp-gateway\s+\S/;
    const fence = FENCES.find((f) => /^(npx\s+)?falkordb-mcp-gateway\s+client-config\b/m.test(f.body));
    let lines = fence?.body.split('\n').map((l) => l.replace(/^\s*\$\s+/, '').trim()).filter((l) => CLI_LINE.test(l)) ?? [];
    if (fence === undefined) {
      const help = await runCli(['client-config', '--help'], {});
      lines = help.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('falkordb-mcp-gateway client-config'));
      t.diagnostic('README has no client-config example; running the one from `client-config --help`');
    }
    assert.ok(lines.some((l) => /\sclient-config\s/.test(l)), 'an example client-config command');

    // README may stand in for the installed command with an alias; it must run the CLI from the checkout.
    const alias = /^alias falkordb-mcp-gateway=(['"])(.+)\1$/m.exec(fence?.body ?? '')?.[2];
    if (alias !== undefined) {
      const version = await new Promise<Finished>((resolve) => {
        const child = spawn('sh', ['-c', `${alias} --version`], { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? workDir } });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
      });
      assert.equal(version.code, 0, `README's alias ${alias} does not run`);
      assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    }

    let args: string[] = [];
    let done: Finished | undefined;
    for (const line of lines) {
      // Placeholders such as <tenant> would be shell redirections; fill them in as a reader would.
      const filled = line.replace(/(--[\w-]+)[ =]<[^<>]+>/g, (_m, option: string) => `${option} ${{ '--tenant': 'readme-acme', '--device': 'readme-laptop', '--url': base, '--client': 'cursor' }[option] ?? 'readme'}`);
      const words = await shellWords(filled, workDir);
      const finished = await runGatewayCommand(words);
      assert.equal(finished.code, 0, `${line}\n${finished.stderr}`);
      if (words[0] === 'client-config') [args, done] = [words, finished];
    }
    assert.ok(done);
    for (const block of done.stdout.matchAll(/^\{\n[\s\S]*?^\}$/gm)) JSON.parse(block[0]);

    const written = /^(?:Created|Added the .* entry to|Replaced the .* entry in) (.+?)(?: \(the old file is kept as .*\))?\. Restart/m.exec(done.stdout)?.[1];
    const text = done.stdout + (written === undefined ? '' : await readFile(written, 'utf8'));
    const tokens = [...new Set(text.match(JWT) ?? [])];
    assert.ok(tokens.length > 0, done.stdout);
    for (const token of tokens) assert.equal((await probeMcp(base, token)).status, 200, 'the gateway accepts the printed token');

    const tenant = args[args.indexOf('--tenant') + 1]!;
    const device = args[args.indexOf('--device') + 1]!;
    const listed = await runGatewayCommand(['token', 'list', '--tenant', tenant, '--json']);
    assert.ok((JSON.parse(listed.stdout) as { tokens: Array<{ device?: string }> }).tokens.some((d) => d.device === device), listed.stdout);
  });
});
