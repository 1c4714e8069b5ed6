// `client-config` as an operator runs it: for every client, the printed config
// parses (JSON, or a shell command read back by a real shell), carries a token a
// running gateway accepts, and shows up in `token list`; and --write merges into
// a config file without losing anything.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { decodeJwt } from 'jose';
import { defaultConfigFile } from '../src/cli/client-config-files.js';
import type { RunningGateway } from '../src/main.js';
import { runCli, runCliJson } from './support/cli.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { probeMcp } from './support/http.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { REPO_ROOT } from './support/mcp.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let dir: string;
let cliEnv: Record<string, string>;

before(async () => {
  db = await startTestFalkorDB();
  dir = await tempDir('client-config-');
  const keyFile = await writeSigningKey(dir);
  gateway = await startTestGateway(db.url, { AUTH_SIGNING_KEY_FILE: keyFile });
  cliEnv = { FALKORDB_URL: db.url, AUTH_SIGNING_KEY_FILE: keyFile, LOG_LEVEL: 'silent' };
});

after(async () => {
  await gateway?.stop();
  await db?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const JWT_ANYWHERE = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

/** Runs client-config for tenant `cc-acme` against the test gateway; fails with stderr unless it exits 0. */
async function clientConfig(args: string[], env: Record<string, string> = {}): Promise<string> {
  const done = await runCli(['client-config', '--tenant', 'cc-acme', '--url', gateway.url, ...args], { ...cliEnv, ...env });
  assert.equal(done.code, 0, done.stderr);
  return done.stdout;
}

/** The JSON documents in printed text: each starts at a line `{` and ends at the next line `}`. */
function jsonBlocks(text: string): Array<Record<string, unknown>> {
  const blocks: Array<Record<string, unknown>> = [];
  let open: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line === '{') open = [];
    if (open !== undefined) open.push(line);
    if (line === '}' && open !== undefined) {
      blocks.push(JSON.parse(open.join('\n')) as Record<string, unknown>);
      open = undefined;
    }
  }
  return blocks;
}

/** A real POSIX shell reads the command back; `claude` is a function that prints what it was given. */
function posixArgs(command: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `claude() { printf '%s\\0' "$@"; }\n${command}`], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out.split('\0').slice(0, -1)) : reject(new Error(`sh exited with ${code}`))));
  });
}

/** PowerShell's rules for what the command uses: bare words, and single quotes with '' inside. */
function powerShellArgs(command: string): string[] {
  const args: string[] = [];
  const re = /'((?:[^']|'')*)'|(\S+)/g;
  for (const m of command.matchAll(re)) args.push(m[1] !== undefined ? m[1].replace(/''/g, "'") : m[2]!);
  return args;
}

function bearer(value: unknown): string {
  assert.equal(typeof value, 'string');
  const match = /^Bearer (\S+)$/.exec(value as string);
  assert.ok(match?.[1], `not a Bearer header value: ${String(value)}`);
  assert.match(match[1], JWT);
  return match[1];
}

async function assertAccepted(token: string): Promise<void> {
  assert.equal((await probeMcp(gateway.url, token)).status, 200, 'the gateway accepts the printed token');
}

async function devicesOf(tenant: string): Promise<string[]> {
  // A tenant that never got a token (nor a graph or registration) is unknown to `token list`, which exits 1 for it.
  const done = await runCli(['token', 'list', '--tenant', tenant, '--json'], cliEnv);
  if (done.code === 1 && done.stderr.includes(`No tenant "${tenant}" is known here`)) return [];
  assert.equal(done.code, 0, done.stderr);
  return (JSON.parse(done.stdout) as { tokens: Array<{ device?: string }> }).tokens.map((t) => t.device ?? '');
}

// The tests share one gateway but no tenant device, file or folder, so they may run side by side.
describe('client-config prints a working config for each client', { concurrency: 2 }, () => {
  it('claude-desktop: mcp-remote with the header in env, plus the token-on-the-SSE-URL alternative', async () => {
    const out = await clientConfig(['--client', 'claude-desktop', '--device', 'cc-desktop']);
    const [main, alternative] = jsonBlocks(out) as Array<{ mcpServers: Record<string, { command: string; args: string[]; env?: Record<string, string> }> }>;
    const entry = main?.mcpServers['falkordb'];
    assert.ok(entry && alternative, out);
    assert.equal(entry.command, 'npx');
    assert.deepEqual(entry.args, ['-y', 'mcp-remote', `${gateway.url}/mcp`, '--header', 'Authorization:${AUTH_HEADER}']);
    const token = bearer(entry.env?.['AUTH_HEADER']);
    await assertAccepted(token);

    const fallback = alternative.mcpServers['falkordb'];
    assert.deepEqual(fallback?.args, ['-y', 'mcp-remote', `${gateway.url}/sse/?token=${encodeURIComponent(token)}`, '--transport', 'sse-only']);
    const client = new Client({ name: 'sse-url', version: '1.0.0' });
    await client.connect(new SSEClientTransport(new URL(fallback.args[2]!)));
    // The config's token has "read write": every tool but the admin one.
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ['falkordb_create_constraint', 'falkordb_drop_constraint', 'falkordb_explain', 'falkordb_graph_schema', 'falkordb_health', 'falkordb_list_graphs', 'falkordb_query', 'falkordb_read_query', 'falkordb_server_info']);
    await client.close();
    assert.ok((await devicesOf('cc-acme')).includes('cc-desktop'));
  });

  it('claude-code: a command a POSIX shell reads back as `claude mcp add`, and a PowerShell form with the same arguments', async () => {
    const out = await clientConfig(['--client', 'claude-code', '--device', 'cc-code']);
    const lines = out.split('\n').filter((l) => l.startsWith('claude '));
    assert.equal(lines.length, 2, out);
    const args = await posixArgs(lines[0]!);
    assert.deepEqual(args.slice(0, 6), ['mcp', 'add', '--transport', 'http', 'falkordb', `${gateway.url}/mcp`]);
    assert.equal(args[6], '--header');
    assert.match(args[7]!, /^Authorization: Bearer /);
    await assertAccepted(bearer(args[7]!.slice('Authorization: '.length)));
    assert.deepEqual(powerShellArgs(lines[1]!).slice(1), args);
    assert.ok((await devicesOf('cc-acme')).includes('cc-code'));
  });

  it('cursor: mcpServers.<name> with url and an Authorization header', async () => {
    const [config] = jsonBlocks(await clientConfig(['--client', 'cursor', '--device', 'cc-cursor']));
    const entry = (config as { mcpServers: Record<string, { url: string; headers: Record<string, string> }> }).mcpServers['falkordb'];
    assert.equal(entry?.url, `${gateway.url}/mcp`);
    await assertAccepted(bearer(entry?.headers['Authorization']));
    assert.ok((await devicesOf('cc-acme')).includes('cc-cursor'));
  });

  it('vscode: servers.<name> of type http with url and an Authorization header', async () => {
    const [config] = jsonBlocks(await clientConfig(['--client', 'vscode', '--device', 'cc-vscode', '--name', 'graphs']));
    const entry = (config as { servers: Record<string, { type: string; url: string; headers: Record<string, string> }> }).servers['graphs'];
    assert.equal(entry?.type, 'http');
    assert.equal(entry?.url, `${gateway.url}/mcp`);
    await assertAccepted(bearer(entry?.headers['Authorization']));
    assert.ok((await devicesOf('cc-acme')).includes('cc-vscode'));
  });

  it('generic: the URL, the header, the token and the SSE fallback URL', async () => {
    const out = await clientConfig(['--client', 'generic', '--device', 'cc-generic']);
    const field = (label: string, from = 0) => out.slice(from).match(new RegExp(`^  ${label}:\\s+(\\S.*)$`, 'm'))?.[1];
    const token = field('Token');
    assert.ok(token, out);
    assert.equal(field('URL'), `${gateway.url}/mcp`);
    assert.equal(field('Header'), `Authorization: Bearer ${token}`);
    assert.equal(field('URL', out.indexOf('cannot set headers')), `${gateway.url}/sse/?token=${token}`);
    await assertAccepted(token);
    assert.ok((await devicesOf('cc-acme')).includes('cc-generic'));
  });

  it('keeps JSON valid and shell commands intact with quotes, spaces and $ in the name and URL', async () => {
    const name = `my "graphs" 'db' $HOME \\ x`;
    const url = "https://gw.example.com/o'brien$(touch pwned)&x;/";
    const common = ['--device', 'cc-quotes', '--name', name, '--url', url];
    const expectedUrl = "https://gw.example.com/o'brien$(touch%20pwned)&x;/mcp";
    for (const client of ['claude-desktop', 'cursor', 'vscode']) {
      const [config] = jsonBlocks(await clientConfig(['--client', client, ...common]));
      const servers = (config?.['mcpServers'] ?? config?.['servers']) as Record<string, Record<string, unknown>>;
      assert.deepEqual(Object.keys(servers), [name]);
      assert.ok(JSON.stringify(servers[name]).includes(JSON.stringify(expectedUrl)), JSON.stringify(servers[name]));
    }
    const lines = (await clientConfig(['--client', 'claude-code', ...common])).split('\n').filter((l) => l.startsWith('claude '));
    const args = await posixArgs(lines[0]!);
    assert.deepEqual(args.slice(4, 6), [name, expectedUrl]);
    assert.deepEqual(powerShellArgs(lines[1]!).slice(1), args);
  });

  it('asks mcp-remote to allow plain http only for an address other than localhost', async () => {
    const printed = await runCliJson<{ config: { mcpServers: { falkordb: { args: string[] } } } }>(['client-config', '--client', 'claude-desktop', '--tenant', 'cc-acme', '--device', 'cc-lan', '--url', 'http://10.1.2.3:3003', '--json'], cliEnv);
    assert.deepEqual(printed.config.mcpServers.falkordb.args.slice(2), ['http://10.1.2.3:3003/mcp', '--header', 'Authorization:${AUTH_HEADER}', '--allow-http']);
  });

  it('takes the address from PUBLIC_URL when --url is not given', async () => {
    const done = await runCli(['client-config', '--client', 'cursor', '--tenant', 'cc-acme', '--device', 'cc-public', '--json'], { ...cliEnv, PUBLIC_URL: 'https://graphs.example.com' });
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as { url: string }).url, 'https://graphs.example.com/mcp');
  });

  it('gives the token 90 days by default, the --ttl asked for, and refuses more than 365 days', async () => {
    const lifetime = async (extra: string[]) => {
      const printed = await runCliJson<{ token: string }>(['client-config', '--client', 'generic', '--tenant', 'cc-acme', '--device', 'cc-ttl', '--json', ...extra], cliEnv);
      const claims = decodeJwt(printed.token);
      return claims.exp! - claims.iat!;
    };
    assert.equal(await lifetime([]), 90 * 24 * 3600);
    assert.equal(await lifetime(['--ttl', '30d']), 30 * 24 * 3600);
    const refused = await runCli(['client-config', '--client', 'generic', '--tenant', 'cc-acme', '--device', 'cc-ttl', '--ttl', '366d'], cliEnv);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^falkordb-mcp-gateway: --ttl 366d is longer than a year.*\n$/);
  });
});

describe('client-config --write', { concurrency: 2 }, () => {
  const mode = async (file: string) => (await stat(file)).mode & 0o777;
  const backupsOf = async (file: string) => (await readdir(path.dirname(file))).filter((f) => f.startsWith(`${path.basename(file)}.`) && f.endsWith('.bak'));

  it('merges its entry next to other servers and keys, keeps a backup of the old file, and leaves only the owner able to read it', async () => {
    const file = path.join(dir, 'desktop', 'claude_desktop_config.json');
    await mkdir(path.dirname(file));
    const before = `${JSON.stringify({ globalShortcut: 'Alt+Space', mcpServers: { other: { command: 'other-server', args: ['--x'] } } }, null, 4)}\n`;
    await writeFile(file, before, { mode: 0o644 });
    const out = await clientConfig(['--client', 'claude-desktop', '--device', 'cc-write', '--write', '--config-file', file]);
    assert.match(out, /Added the "falkordb" entry to .*claude_desktop_config\.json \(the old file is kept as .*\.bak\)/);

    const after = JSON.parse(await readFile(file, 'utf8')) as { globalShortcut: string; mcpServers: Record<string, { env?: Record<string, string> }> };
    assert.equal(after.globalShortcut, 'Alt+Space');
    assert.deepEqual(after.mcpServers['other'], { command: 'other-server', args: ['--x'] });
    await assertAccepted(bearer(after.mcpServers['falkordb']?.env?.['AUTH_HEADER']));
    assert.equal(await mode(file), 0o600);
    const [backup] = await backupsOf(file);
    assert.ok(backup, 'a backup exists');
    assert.match(backup, /^claude_desktop_config\.json\.\d{8}T\d{6}Z(-\d+)?\.bak$/);
    assert.equal(await readFile(path.join(path.dirname(file), backup), 'utf8'), before);
    assert.equal(await mode(path.join(path.dirname(file), backup)), 0o600);

    // A second run replaces its own entry, and keeps the previous file as a second backup.
    assert.match(await clientConfig(['--client', 'claude-desktop', '--device', 'cc-write', '--write', '--config-file', file]), /Replaced the "falkordb" entry/);
    assert.equal((await backupsOf(file)).length, 2);
    assert.deepEqual(Object.keys((JSON.parse(await readFile(file, 'utf8')) as { mcpServers: object }).mcpServers), ['other', 'falkordb']);
  });

  it('refuses a file that is not valid JSON with exit code 1, leaves it byte for byte, and issues no token', async () => {
    const file = path.join(dir, 'broken', 'mcp.json');
    await mkdir(path.dirname(file));
    const broken = '{\n  // my servers\n  "mcpServers": {}\n}\n';
    await writeFile(file, broken);
    const done = await runCli(['client-config', '--client', 'cursor', '--tenant', 'cc-broken', '--device', 'cc-refused', '--url', gateway.url, '--write', '--config-file', file], cliEnv);
    assert.equal(done.code, 1);
    assert.match(done.stderr, /^falkordb-mcp-gateway: .*mcp\.json is not valid JSON .*left untouched.*\n$/);
    assert.equal(done.stdout, '');
    assert.equal(await readFile(file, 'utf8'), broken);
    assert.deepEqual(await readdir(path.dirname(file)), ['mcp.json']);
    assert.deepEqual(await devicesOf('cc-broken'), []);
  });

  it('creates a missing file and its folders, readable by the owner only', async () => {
    const file = path.join(dir, 'new', 'project', '.vscode', 'mcp.json');
    const out = await clientConfig(['--client', 'vscode', '--device', 'cc-created', '--write', '--config-file', file]);
    assert.match(out, /^Created .*mcp\.json\. Restart the client/m);
    const written = JSON.parse(await readFile(file, 'utf8')) as { servers: Record<string, { type: string; headers: Record<string, string> }> };
    assert.equal(written.servers['falkordb']?.type, 'http');
    await assertAccepted(bearer(written.servers['falkordb']?.headers['Authorization']));
    assert.equal(await mode(file), 0o600);
    assert.deepEqual(await backupsOf(file), []);
  });

  it("writes Claude Desktop's and Cursor's usual files under the home folder when no --config-file is given", async () => {
    const home = path.join(dir, 'home');
    await clientConfig(['--client', 'claude-desktop', '--device', 'cc-home', '--write'], { HOME: home });
    await clientConfig(['--client', 'cursor', '--device', 'cc-home', '--write'], { HOME: home });
    const desktop = JSON.parse(await readFile(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), 'utf8')) as { mcpServers: object };
    const cursor = JSON.parse(await readFile(path.join(home, '.cursor', 'mcp.json'), 'utf8')) as { mcpServers: object };
    assert.deepEqual(Object.keys(desktop.mcpServers), ['falkordb']);
    assert.deepEqual(Object.keys(cursor.mcpServers), ['falkordb']);
  });

  it('knows where each client keeps its file on macOS, Windows and Linux', () => {
    const at = { home: '/Users/ann', env: {}, cwd: '/work/project' };
    assert.equal(defaultConfigFile('claude-desktop', { ...at, platform: 'darwin' }), '/Users/ann/Library/Application Support/Claude/claude_desktop_config.json');
    assert.equal(defaultConfigFile('claude-desktop', { platform: 'win32', home: 'C:\\Users\\ann', env: { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, cwd: 'C:\\p' }), 'C:\\Users\\ann\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
    assert.equal(defaultConfigFile('claude-desktop', { ...at, platform: 'linux' }), '/Users/ann/.config/Claude/claude_desktop_config.json');
    assert.equal(defaultConfigFile('cursor', { ...at, platform: 'linux' }), '/Users/ann/.cursor/mcp.json');
    assert.equal(defaultConfigFile('vscode', { ...at, platform: 'darwin' }), '/work/project/.vscode/mcp.json');
  });

  it('claude-code --write changes no file and says to run the printed command', async () => {
    const home = path.join(dir, 'code-home');
    const out = await clientConfig(['--client', 'claude-code', '--device', 'cc-code-write', '--write'], { HOME: home });
    assert.match(out, /--write changes nothing; run the command below/);
    assert.match(out, /^claude mcp add /m);
    await assert.rejects(stat(home), /ENOENT/);
  });

  it('refuses --write for generic, and --config-file without --write, with exit code 2 before issuing anything', async () => {
    for (const args of [['--client', 'generic', '--write'], ['--client', 'cursor', '--config-file', path.join(dir, 'never.json')]]) {
      const done = await runCli(['client-config', '--tenant', 'cc-usage', '--device', 'cc-usage', ...args], cliEnv);
      assert.equal(done.code, 2, done.stderr);
      assert.equal(done.stderr.trim().split('\n').length, 1, done.stderr);
    }
    assert.deepEqual(await devicesOf('cc-usage'), []);
  });
});

describe('client-config --transport stdio', { concurrency: 2 }, () => {
  /** Runs client-config for a stdio entry from `cwd`, with the test database named by FALKORDB_URL. */
  async function stdioConfig(args: string[], env: Record<string, string> = {}): Promise<string> {
    const done = await runCli(['client-config', '--transport', 'stdio', '--tenant', 'cc-local', ...args], { FALKORDB_URL: db.url, LOG_LEVEL: 'silent', ...env });
    assert.equal(done.code, 0, done.stderr);
    return done.stdout;
  }

  it('claude-code: `claude mcp add --transport stdio` with the environment before the name and the absolute command after `--`, the same in PowerShell', async () => {
    const lines = (await stdioConfig(['--client', 'claude-code'], { AUDIT_LOG_FILE: 'logs/audit.log' })).split('\n').filter((l) => l.startsWith('claude '));
    assert.equal(lines.length, 2);
    const args = await posixArgs(lines[0]!);
    const dash = args.indexOf('--');
    assert.deepEqual(args.slice(0, 4), ['mcp', 'add', '--transport', 'stdio']);
    assert.deepEqual(args.slice(4, dash), ['--env', `FALKORDB_URL=${db.url}`, '--env', `AUDIT_LOG_FILE=${path.join(REPO_ROOT, 'logs', 'audit.log')}`, 'falkordb']);
    assert.ok(path.isAbsolute(args[dash + 1]!), args[dash + 1]);
    assert.deepEqual(args.slice(-5), ['stdio', '--tenant', 'cc-local', '--scope', 'read write']);
    assert.deepEqual(powerShellArgs(lines[1]!).slice(1), args);
  });

  it('vscode --write: a `stdio` entry in servers, no token anywhere, and --device refused with exit code 2', async () => {
    const file = path.join(dir, 'stdio-vscode', '.vscode', 'mcp.json');
    await stdioConfig(['--client', 'vscode', '--write', '--config-file', file]);
    const written = JSON.parse(await readFile(file, 'utf8')) as { servers: Record<string, { type: string; command: string; env: Record<string, string> }> };
    const entry = written.servers['falkordb'];
    assert.equal(entry?.type, 'stdio');
    assert.ok(path.isAbsolute(entry.command));
    assert.deepEqual(entry.env, { FALKORDB_URL: db.url });
    assert.doesNotMatch(JSON.stringify(written), JWT_ANYWHERE);

    const refused = await runCli(['client-config', '--transport', 'stdio', '--client', 'cursor', '--tenant', 'cc-local', '--device', 'x'], { FALKORDB_URL: db.url });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^falkordb-mcp-gateway: --device names the device a token is issued for; --transport stdio issues no token.*\n$/);
  });
});
