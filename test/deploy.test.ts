// The deployment files (Dockerfile, compose files, Caddyfile, systemd unit,
// Kubernetes manifests) checked against the code they deploy: variable names,
// probe paths, ports, timeouts and secrets; the image's entry and health check
// run from a real build; Caddy in front of two real gateways; and the checkers
// that need no Docker engine (docker-compose config, caddy validate,
// systemd-analyze verify), which .ci/run installs.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Registry } from 'prom-client';
import { CONFIG_VARIABLES, isSecretVariable, isTargetVariable, loadConfig, secretFileVariable, targetVariablePrefix } from '../src/config/index.js';
import { registerMetricFamilies } from '../src/observability/metric-families.js';
import { freeLoopbackPort } from './support/ports.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { captureLog, startTestGateway } from './support/gateway.js';
import { tempDir, writeSigningKey } from './support/keys.js';
import { signTestToken } from './support/tokens.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const GATEWAY_PORT = 3003;

// ---------------------------------------------------------------- reading the files

type Json = Record<string, unknown>;

function repoText(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

function yamlFile(file: string): Json {
  return parseYaml(repoText(file)) as Json;
}

function obj(value: unknown, what: string): Json {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is missing or not a mapping`);
  return value as Json;
}

function arr(value: unknown, what: string): unknown[] {
  assert.ok(Array.isArray(value), `${what} is missing or not a list`);
  return value;
}

const CONFIG_NAMES = new Set<string>(CONFIG_VARIABLES.map((v) => v.name));
const FILE_FORMS = new Set<string>(CONFIG_VARIABLES.filter((v) => isSecretVariable(v)).map((v) => secretFileVariable(v.name)));
const SECRET_NAMES = new Set<string>(CONFIG_VARIABLES.filter((v) => isSecretVariable(v)).map((v) => v.name));

function configDefault(name: string): string {
  const value = CONFIG_VARIABLES.find((v) => v.name === name)?.default;
  assert.ok(value !== undefined, `${name} has no default in CONFIG_VARIABLES`);
  return value;
}

function assertGatewayVariables(names: Iterable<string>, where: string): void {
  for (const name of names) {
    assert.ok(
      CONFIG_NAMES.has(name) || FILE_FORMS.has(name) || isTargetVariable(name),
      `${where} sets ${name}, which is neither a variable of CONFIG_VARIABLES, the _FILE form of a secret one, nor one of a database target's`,
    );
  }
}

/** `--interval=30s` style durations of Docker and compose, and plain seconds; in milliseconds. */
function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  assert.ok(match, `cannot read the duration ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's']!;
  return Number(match[1]) * unit;
}

interface Instruction {
  keyword: string;
  args: string;
  /** 0 for the first FROM's stage, 1 for the next, ... */
  stage: number;
}

/** Dockerfile instructions, with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  let stage = -1;
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^(\S+)\s*([\s\S]*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stage++;
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

const dockerfile = parseDockerfile(repoText('Dockerfile'));
const lastStage = Math.max(...dockerfile.map((i) => i.stage));
const runtime = dockerfile.filter((i) => i.stage === lastStage);

function execForm(instruction: Instruction | undefined, what: string): string[] {
  assert.ok(instruction, `the runtime stage has no ${what}`);
  const json = instruction.args.slice(instruction.args.indexOf('['));
  const parsed = JSON.parse(json) as unknown;
  assert.ok(Array.isArray(parsed) && parsed.every((p) => typeof p === 'string'), `${what} is not in exec form: ${instruction.args}`);
  return parsed;
}

const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK');
const healthcheckCommand = (): string[] => {
  assert.ok(healthcheck, 'the runtime stage has no HEALTHCHECK');
  const cmd = execForm({ ...healthcheck, args: healthcheck.args.slice(healthcheck.args.indexOf('CMD') + 3) }, 'HEALTHCHECK CMD');
  assert.equal(cmd[0], 'node', 'the health check runs node (there is no curl in the image)');
  return cmd;
};

/** `${NAME}`, `${NAME:-default}`, `${NAME:?message}` in a compose file. */
function interpolations(text: string): Array<{ name: string; hasDefault: boolean }> {
  return [...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])[^}]*)?\}/g)].map((m) => ({ name: m[1]!, hasDefault: m[2] === '-' }));
}

const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.scale.yml', 'docker-compose.dedicated.yml'];
const compose = yamlFile('docker-compose.yml');
const scale = yamlFile('docker-compose.scale.yml');
const services = (file: Json, what: string) => obj(file.services, `${what} services`);

/** Services that run the gateway image: built from this folder. */
function gatewayServices(file: Json, what: string): Array<[string, Json]> {
  return Object.entries(services(file, what))
    .map(([name, s]): [string, Json] => [name, obj(s, `${what} service ${name}`)])
    .filter(([, s]) => s.build === '.' || (typeof s.build === 'object' && (s.build as Json).context === '.'));
}

function environment(service: Json, what: string): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(obj(env, `${what} environment`)).map(([k, v]) => [k, String(v)]));
}

/** Variable assignments in .env.example, `#NAME=value` (commented-out examples) included. */
function envExample(): Array<{ name: string; value: string; active: boolean }> {
  return repoText('.env.example')
    .split('\n')
    .map((line) => /^(#?)\s*([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[2]!, value: m[3]!, active: m[1] === '' }));
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Json;
  spec?: Json;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  file: string;
}

const K8S_DIR = path.join('deploy', 'k8s');
/** The premium tenant's pool: plain manifests of its own, on the shared pool's ConfigMap and Secret. */
const DEDICATED_DIR = path.join(K8S_DIR, 'dedicated');
const kustomizationFiles = (dir: string): string[] => arr(yamlFile(path.join(dir, 'kustomization.yaml')).resources, `${dir} kustomization resources`).map(String);
const k8sFiles = (): string[] => kustomizationFiles(K8S_DIR).concat('secret.example.yaml');

function manifestObjects(dir: string, files: string[]): K8sObject[] {
  return files.flatMap((file) =>
    parseAllDocuments(repoText(path.join(dir, file))).map((doc) => {
      assert.deepEqual(doc.errors, [], `${path.join(dir, file)} does not parse`);
      return { ...(doc.toJS() as Omit<K8sObject, 'file'>), file: path.join(dir, file) };
    }),
  );
}

function k8sObjects(): K8sObject[] {
  return manifestObjects(K8S_DIR, k8sFiles());
}

const dedicatedObjects = (): K8sObject[] => manifestObjects(DEDICATED_DIR, kustomizationFiles(DEDICATED_DIR));
/** The dedicated pool's own Secret (acme's database URL), an example like ../secret.example.yaml. */
const dedicatedSecret = (): K8sObject => oneOf(manifestObjects(DEDICATED_DIR, ['secret.example.yaml']), 'Secret', DEDICATED_DIR);

function oneOf(objects: K8sObject[], kind: string, where: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind} in ${where}, found ${found.length}`);
  return found[0]!;
}

function k8sOne(kind: string): K8sObject {
  return oneOf(k8sObjects(), kind, K8S_DIR);
}

interface Container {
  name: string;
  args?: string[];
  ports: Array<{ name?: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: Json;
  resources?: { requests?: Json; limits?: Json };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}

function podSpec(): Json {
  return obj(obj(k8sOne('Deployment').spec?.template, 'Deployment template').spec, 'Deployment pod spec');
}

function gatewayContainer(): Container {
  const containers = arr(podSpec().containers, 'Deployment containers') as Container[];
  assert.equal(containers.length, 1, 'one container per gateway pod');
  return containers[0]!;
}

function containerPort(port: string | number): number {
  if (typeof port === 'number') return port;
  const named = gatewayContainer().ports.find((p) => p.name === port);
  assert.ok(named, `no container port is named ${port}`);
  return named.containerPort;
}

function podLabels(): Json {
  return obj(obj(obj(k8sOne('Deployment').spec?.template, 'template').metadata, 'template metadata').labels, 'pod labels');
}

function selects(selector: unknown, labels: Json): boolean {
  const matchLabels = obj(obj(selector, 'selector').matchLabels, 'matchLabels');
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
}

/** One pool of gateway pods: the shared one (deploy/k8s) or a dedicated one (deploy/k8s/dedicated). */
interface Pool {
  where: string;
  objects: K8sObject[];
  deployment: K8sObject;
  pod: Json;
  container: Container;
  labels: Json;
}

function poolOf(where: string, objects: K8sObject[]): Pool {
  const deployment = oneOf(objects, 'Deployment', where);
  const template = obj(deployment.spec?.template, `${where} Deployment template`);
  const pod = obj(template.spec, `${where} pod spec`);
  const containers = arr(pod.containers, `${where} containers`) as Container[];
  assert.equal(containers.length, 1, `one container per gateway pod in ${where}`);
  return { where, objects, deployment, pod, container: containers[0]!, labels: obj(obj(template.metadata, 'template metadata').labels, `${where} pod labels`) };
}

const sharedPool = (): Pool => poolOf(K8S_DIR, k8sObjects());
const dedicatedPool = (): Pool => poolOf(DEDICATED_DIR, dedicatedObjects());

/** What the pool's container sets a variable to, by value (undefined when it sets none, or only by valueFrom). */
const envValue = (pool: Pool, name: string): string | undefined => pool.container.env?.find((e) => e.name === name)?.value;

/** The name the code exports the in-flight gauge under, from the metric families themselves. */
async function inFlightGaugeName(): Promise<string> {
  const families = registerMetricFamilies(new Registry(), { sessions: () => 0, inFlight: () => 0, auditSinkFailures: () => ({}), auditHeld: () => 0, primaryAvailable: () => true });
  return (await families.inFlight.get()).name;
}

/** A Kubernetes quantity as a number: `20`, `500m`, `1.5`. */
function quantity(value: unknown): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(value));
  assert.ok(match, `cannot read the quantity ${JSON.stringify(value)}`);
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1);
}

/** The text of one `### ` subsection of a docs file, up to the next heading of its level or above. */
function docSubsection(file: string, heading: string): string {
  const text = repoText(file);
  const start = text.indexOf(`\n### ${heading}\n`);
  assert.ok(start >= 0, `${file} has a subsection "### ${heading}"`);
  const rest = text.slice(start + 1);
  const end = rest.slice(4).search(/\n#{1,3} /);
  return end < 0 ? rest : rest.slice(0, end + 4);
}

/** `Key=Value` lines of a systemd unit, per section, in order (keys may repeat). */
function systemdUnit(file: string): Map<string, Array<[string, string]>> {
  const sections = new Map<string, Array<[string, string]>>();
  let section = '';
  for (const raw of repoText(file).split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      sections.set(section, sections.get(section) ?? []);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `${file}: cannot read ${JSON.stringify(line)}`);
    sections.get(section)!.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return sections;
}

const UNIT = path.join('deploy', 'systemd', 'falkordb-mcp-gateway.service');
const service = (): Array<[string, string]> => systemdUnit(UNIT).get('Service') ?? [];
const unitValues = (key: string): string[] => service().filter(([k]) => k === key).map(([, v]) => v);
const unitValue = (key: string): string | undefined => unitValues(key).at(-1);

/** The systemd unit's Environment= assignments. */
function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitValues('Environment')) {
    for (const [, name, value] of line.matchAll(/"?([A-Za-z_][A-Za-z0-9_]*)=([^"\s]*)"?/g)) env[name!] = value!;
  }
  return env;
}

const CADDYFILE = path.join('deploy', 'Caddyfile');

/** `reverse_proxy UPSTREAM... {` blocks of the Caddyfile, with the text of each block. */
function caddyProxies(): Array<{ upstreams: string[]; block: string; handle: string }> {
  const text = repoText(CADDYFILE);
  return [...text.matchAll(/handle( @\S+)? \{\s*reverse_proxy ([^{\n]+)\{([^}]*)\}/g)].map((m) => ({
    handle: (m[1] ?? '').trim(),
    upstreams: m[2]!.trim().split(/\s+/),
    block: m[3]!,
  }));
}

// ------------------------------------------------------------------ running things

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function requireCommand(command: string, debianPackage: string): void {
  assert.ok(hasCommand(command), `${command} is not installed; .ci/run installs it (apt-get install ${debianPackage})`);
}

/** Copies the compose files, Dockerfile and Caddyfile into a fresh folder with .env made from .env.example. */
async function composeProject(): Promise<string> {
  const dir = await tempDir('compose-check-');
  await mkdir(path.join(dir, 'deploy'));
  for (const file of [...COMPOSE_FILES, 'Dockerfile', '.env.example', CADDYFILE]) await copyFile(path.join(ROOT, file), path.join(dir, file));
  await copyFile(path.join(ROOT, '.env.example'), path.join(dir, '.env'));
  return dir;
}

function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; requestId: string | undefined }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, requestId: res.headers['x-request-id'] as string | undefined }));
      })
      .on('error', reject);
  });
}

function httpsPost(url: string, ca: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, agent: false, headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Opens GET /sse and resolves with the messages endpoint the server announces, and a way to close the stream. */
function openSse(url: string, ca: string, token: string): Promise<{ endpoint: string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET /sse answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /event: endpoint\r?\ndata: (\S+)/.exec(text);
        if (match) resolve({ endpoint: match[1]!, close: () => req.destroy() });
      });
    });
    req.on('error', (error) => reject(error));
  });
}

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'deploy-test', version: '1.0.0' } } };

async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const result = await attempt();
      if (result !== undefined) return result;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

// ------------------------------------------------------------------------ the tests

describe('Dockerfile', () => {
  it('builds in one stage and runs from another', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM');
    assert.ok(froms.length >= 2, 'a build stage and a runtime stage');
    const build = dockerfile.filter((i) => i.stage < lastStage && i.keyword === 'RUN').map((i) => i.args);
    assert.ok(build.some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r)), 'the build stage installs every dependency with npm ci');
    assert.ok(build.some((r) => /\bnpm run build\b/.test(r)), 'the build stage runs npm run build');
    const runs = runtime.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.ok(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'the runtime stage installs production dependencies only');
    assert.ok(!runs.some((r) => /npm run build|\btsc\b/.test(r)), 'the runtime stage does not compile');
    const copies = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    assert.ok(copies.some((c) => /^--from=\S+\s+\/app\/dist\s+\.\/dist$/.test(c)), 'the runtime stage copies dist/ from the build stage');
    for (const copy of copies.filter((c) => !c.startsWith('--from='))) {
      const sources = copy.split(/\s+/).slice(0, -1);
      assert.deepEqual(sources.filter((f) => f !== 'package.json' && f !== 'package-lock.json'), [], `the runtime stage copies only package files from the context: COPY ${copy}`);
    }
  });

  it('runs as a user other than root, by number', () => {
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1);
    assert.ok(user, 'the runtime stage sets USER');
    const [uid] = user.args.split(':');
    assert.match(uid!, /^\d+$/, 'a numeric user, so that Kubernetes runAsNonRoot can check it');
    assert.notEqual(Number(uid), 0);
    assert.equal(Number(uid), obj(podSpec().securityContext, 'pod securityContext').runAsUser, 'the same user as the Kubernetes pod');
  });

  it('listens on every interface at port 3003 and says so', () => {
    const env = runtime.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    assert.match(env, /\bHOST=0\.0\.0\.0\b/);
    assert.match(env, new RegExp(`\\bPORT=${GATEWAY_PORT}\\b`));
    assert.ok(runtime.some((i) => i.keyword === 'EXPOSE' && i.args.split(/\s+/).includes(String(GATEWAY_PORT))), `EXPOSE ${GATEWAY_PORT}`);
    const envNames = [...env.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((m) => m[1]!).filter((n) => n !== 'NODE_ENV');
    assertGatewayVariables(envNames, 'Dockerfile ENV');
  });

  it('checks health on 127.0.0.1:3003/healthz with node alone', () => {
    const script = healthcheckCommand().join(' ');
    assert.match(script, /'127\.0\.0\.1'/);
    assert.match(script, /'\/healthz'/);
    assert.match(script, new RegExp(`process\\.env\\.PORT \\|\\| ${GATEWAY_PORT}`));
  });

  it('starts `node dist/cli/index.js serve`, and that file is what the build makes of src/cli/index.ts', () => {
    const entry = [...execForm(runtime.find((i) => i.keyword === 'ENTRYPOINT'), 'ENTRYPOINT'), ...execForm(runtime.find((i) => i.keyword === 'CMD'), 'CMD')];
    assert.deepEqual(entry, ['node', 'dist/cli/index.js', 'serve']);
    const buildConfig = JSON.parse(repoText('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    const source = path.join(buildConfig.compilerOptions.rootDir, path.relative(buildConfig.compilerOptions.outDir, 'dist/cli/index.js')).replace(/\.js$/, '.ts');
    assert.ok(existsSync(path.join(ROOT, source)), `${source} exists`);
    const pkg = JSON.parse(repoText('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };
    assert.equal(path.normalize(pkg.bin['falkordb-mcp-gateway']!), path.normalize('dist/cli/index.js'), 'the package bin is the same file');
    assert.match(pkg.scripts.build!, /tsconfig\.build\.json/);
  });

  it('needs only production dependencies at run time, so `npm ci --omit=dev --omit=optional` is enough', async () => {
    const pkg = JSON.parse(repoText('package.json')) as { dependencies: Record<string, string> };
    const sources = (await readdir(path.join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    for (const file of sources) {
      const text = repoText(path.join('src', file));
      for (const [, specifier] of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^'.][^']*)'/gm)) {
        if (specifier!.startsWith('node:')) continue;
        const name = specifier!.startsWith('@') ? specifier!.split('/').slice(0, 2).join('/') : specifier!.split('/')[0]!;
        assert.ok(name in pkg.dependencies, `src/${file} imports ${name}, which is not in dependencies`);
      }
    }
  });

  it('keeps secrets and build output out of the build context', () => {
    const ignored = repoText('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', 'dist', '.data', 'secrets', '*.pem', '.git']) assert.ok(ignored.includes(entry), `.dockerignore lists ${entry}`);
  });

  describe('from a real build', () => {
    let falkordb: TestFalkorDB;
    let dir: string;
    let gateway: ChildProcess | undefined;
    let port: number;
    let output = '';

    before(async () => {
      falkordb = await startTestFalkorDB();
      // The image's layout: dist/ beside package.json (which the gateway reads its version from).
      dir = await tempDir('image-layout-');
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], { cwd: ROOT, stdio: 'pipe' });
      await copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
      await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
      const secrets = await tempDir('image-secrets-');
      await writeFile(path.join(secrets, 'falkordb_url'), `${falkordb.url}\n`, { mode: 0o600 });
      port = await freeLoopbackPort();
      const [command, ...args] = [...execForm(runtime.find((i) => i.keyword === 'ENTRYPOINT'), 'ENTRYPOINT'), ...execForm(runtime.find((i) => i.keyword === 'CMD'), 'CMD')];
      assert.equal(command, 'node');
      // The container's environment, on loopback: secrets only through their _FILE forms.
      gateway = spawn(process.execPath, args, {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          FALKORDB_URL_FILE: path.join(secrets, 'falkordb_url'),
          AUTH_SIGNING_KEY_FILE: await writeSigningKey(secrets),
          TENANTS_REQUIRE_REGISTRATION: 'true',
          METRICS_PORT: 'off',
          SHUTDOWN_TIMEOUT_MS: '2000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      gateway.stdout?.on('data', (c: Buffer) => (output += c.toString()));
      gateway.stderr?.on('data', (c: Buffer) => (output += c.toString()));
      await waitFor('the built gateway to listen', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
    });

    after(async () => {
      if (gateway && gateway.exitCode === null) {
        gateway.kill('SIGKILL');
        await exitOf(gateway);
      }
      await falkordb?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('serves /healthz and /readyz', async () => {
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, output);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(ready.status, 200, output);
    });

    it("passes the image's HEALTHCHECK command, which fails when nothing listens", async () => {
      const [command, ...args] = healthcheckCommand();
      assert.equal(command, 'node');
      const run = (p: number) => spawnSync(process.execPath, args, { env: { PATH: process.env.PATH ?? '', PORT: String(p) }, timeout: 10_000 });
      assert.equal(run(port).status, 0, 'healthy gateway');
      assert.equal(run(await freeLoopbackPort()).status, 1, 'no gateway');
    });

    it('answers --version and --help from the build output', () => {
      const version = execFileSync(process.execPath, ['dist/cli/index.js', '--version'], { cwd: dir, encoding: 'utf8' }).trim();
      assert.equal(version, (JSON.parse(repoText('package.json')) as { version: string }).version);
      assert.match(execFileSync(process.execPath, ['dist/cli/index.js', '--help'], { cwd: dir, encoding: 'utf8' }), /\bserve\b/);
    });

    it('stops with exit code 0 on SIGTERM (docker stop)', async () => {
      assert.ok(gateway);
      gateway.kill('SIGTERM');
      assert.equal(await exitOf(gateway), 0, output);
    });
  });
});

describe('docker compose', () => {
  it('runs FalkorDB with a password, persistence on a named volume, and a redis-cli health check', () => {
    const falkordb = obj(services(compose, 'docker-compose.yml').falkordb, 'the falkordb service');
    assert.match(String(falkordb.image), /^falkordb\/falkordb(:|$)/);
    const env = environment(falkordb, 'falkordb');
    assert.match(env.REDIS_ARGS!, /--requirepass \$\{FALKORDB_PASSWORD:\?/, 'a password is required');
    assert.match(env.REDIS_ARGS!, /--appendonly yes/, 'AOF persistence');
    assert.equal(env.REDISCLI_AUTH, '${FALKORDB_PASSWORD}', 'the health check authenticates');
    const volumes = arr(falkordb.volumes, 'falkordb volumes').map(String);
    const data = volumes.find((v) => v.endsWith(':/var/lib/falkordb/data'));
    assert.ok(data, 'the data folder is a volume');
    assert.ok(Object.keys(obj(compose.volumes, 'top-level volumes')).includes(data.split(':')[0]!), 'a named volume');
    const test = arr(obj(falkordb.healthcheck, 'falkordb healthcheck').test, 'healthcheck test').join(' ');
    assert.match(test, /redis-cli ping \| grep -q PONG/, 'PONG, not just any answer (NOAUTH also exits 0)');
  });

  it('builds the gateway here, starts it once FalkorDB is healthy, and publishes port 3003', () => {
    const gateways = gatewayServices(compose, 'docker-compose.yml');
    assert.deepEqual(gateways.map(([name]) => name), ['gateway']);
    const gateway = gateways[0]![1];
    assert.deepEqual(obj(obj(gateway.depends_on, 'depends_on').falkordb, 'depends_on falkordb'), { condition: 'service_healthy' });
    assert.ok(arr(gateway.ports, 'ports').map(String).some((p) => p.endsWith(`:${GATEWAY_PORT}:${GATEWAY_PORT}`)));
    assert.equal(gateway.env_file, '.env');
  });

  for (const file of COMPOSE_FILES) {
    it(`${file}: points every gateway at the falkordb service, with the signing key from a mounted secret`, () => {
      const parsed = yamlFile(file);
      const secrets = obj(parsed.secrets, `${file} secrets`);
      const gateways = gatewayServices(parsed, file);
      assert.ok(gateways.length >= 1);
      for (const [name, gateway] of gateways) {
        const env = environment(gateway, `${file} ${name}`);
        assert.match(env.FALKORDB_URL!, /^redis:\/\/:\$\{FALKORDB_PASSWORD(:\?[^}]*)?\}@falkordb:6379$/);
        const keyFile = /^\/run\/secrets\/(\S+)$/.exec(env.AUTH_SIGNING_KEY_FILE ?? '');
        assert.ok(keyFile, `${name}: AUTH_SIGNING_KEY_FILE is a mounted secret`);
        assert.ok(arr(gateway.secrets, `${name} secrets`).includes(keyFile[1]), `${name} mounts the secret ${keyFile[1]}`);
        assert.ok(obj(secrets[keyFile[1]!], `secret ${keyFile[1]}`).file, 'the secret is a file');
        assertGatewayVariables(Object.keys(env), `${file} ${name}`);
        assert.ok(durationMs(String(gateway.stop_grace_period)) > Number(configDefault('SHUTDOWN_TIMEOUT_MS')), 'docker stop waits longer than SHUTDOWN_TIMEOUT_MS');
      }
    });
  }

  it('.env.example defines every variable the compose files need, and nothing unknown', () => {
    const assigned = envExample();
    const used = COMPOSE_FILES.flatMap((f) => interpolations(repoText(f)));
    const usedNames = new Set(used.map((u) => u.name));
    for (const { name, hasDefault } of used) {
      const entry = assigned.find((a) => a.name === name);
      assert.ok(entry, `.env.example says nothing about ${name}, which a compose file uses`);
      if (!hasDefault) assert.ok(entry.active, `${name} has no default in the compose files, so .env.example must set it`);
    }
    for (const { name } of assigned) {
      assert.ok(usedNames.has(name) || CONFIG_NAMES.has(name) || FILE_FORMS.has(name), `.env.example names ${name}: neither a compose variable nor a gateway variable`);
    }
    for (const { name, active } of assigned) {
      if (active && SECRET_NAMES.has(name)) assert.fail(`.env.example sets the secret ${name}; the compose files build it`);
    }
  });

  it('keeps .env out of git', () => {
    const ignored = spawnSync('git', ['check-ignore', '-q', '.env'], { cwd: ROOT });
    assert.equal(ignored.status, 0, '.gitignore ignores .env');
    assert.notEqual(spawnSync('git', ['check-ignore', '-q', '.env.example'], { cwd: ROOT }).status, 0, '.env.example is committed');
  });

  it('scale-out: two gateways behind Caddy, trusting only the proxy network, with an https PUBLIC_URL', () => {
    const gateways = gatewayServices(scale, 'docker-compose.scale.yml');
    assert.equal(gateways.length, 2);
    const subnet = arr(obj(obj(obj(scale.networks, 'networks').proxy, 'proxy network').ipam, 'ipam').config, 'ipam config').map((c) => String((c as Json).subnet));
    assert.equal(subnet.length, 1);
    for (const [name, gateway] of gateways) {
      const env = environment(gateway, name);
      assert.equal(env.TRUST_PROXY, subnet[0], `${name}: TRUST_PROXY is the proxy network`);
      assert.match(env.PUBLIC_URL!, /^https:\/\//, `${name}: PUBLIC_URL is https`);
      assert.ok(gateway.ports === undefined, `${name} is reached through Caddy only`);
      assert.ok(arr(gateway.networks, `${name} networks`).includes('proxy'));
    }
    const caddy = obj(services(scale, 'scale').caddy, 'the caddy service');
    assert.ok(arr(caddy.volumes, 'caddy volumes').map(String).some((v) => v.startsWith('./deploy/Caddyfile:/etc/caddy/Caddyfile')));
    assert.deepEqual(arr(caddy.networks, 'caddy networks'), ['proxy'], 'Caddy is on the proxy network only');
    const caddyGrace = /grace_period (\S+)/.exec(repoText(CADDYFILE));
    assert.ok(caddyGrace, 'the Caddyfile bounds how long open streams hold up a stop');
    assert.ok(durationMs(String(caddy.stop_grace_period)) > durationMs(caddyGrace[1]!), 'docker stop waits for Caddy to cut open streams');
    const falkordb = obj(services(scale, 'scale').falkordb, 'falkordb');
    assert.deepEqual(falkordb.extends, { file: 'docker-compose.yml', service: 'falkordb' }, 'the same FalkorDB as the single-instance file');
  });

  it('passes `docker-compose config` for both files', async () => {
    requireCommand('docker-compose', 'docker-compose');
    const dir = await composeProject();
    try {
      for (const file of COMPOSE_FILES) {
        const result = spawnSync('docker-compose', ['-f', file, 'config', '-q'], { cwd: dir, encoding: 'utf8' });
        assert.equal(result.status, 0, `${file}: ${result.stderr}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Caddy', () => {
  it('sends every path to both gateways, with legacy SSE pinned per client address', () => {
    const scaleGateways = gatewayServices(scale, 'docker-compose.scale.yml').map(([name]) => `${name}:${GATEWAY_PORT}`).sort();
    const proxies = caddyProxies();
    assert.equal(proxies.length, 2);
    for (const proxy of proxies) {
      assert.deepEqual([...proxy.upstreams].sort(), scaleGateways);
      assert.match(proxy.block, /health_uri \/readyz/);
    }
    const legacy = proxies.find((p) => p.handle !== '');
    assert.ok(legacy);
    assert.match(legacy.block, /lb_policy ip_hash/);
    const matcher = new RegExp(`${legacy.handle} path ([^\\n]+)`).exec(repoText(CADDYFILE));
    assert.ok(matcher);
    for (const p of ['/sse', '/sse/*', '/messages']) assert.ok(matcher[1]!.split(/\s+/).includes(p), `${p} is pinned`);
  });

  it('passes `caddy validate` with the internal CA and with ACME', async () => {
    requireCommand('caddy', 'caddy');
    const home = await tempDir('caddy-validate-');
    try {
      for (const tls of ['internal', 'ops@example.com']) {
        const result = spawnSync('caddy', ['validate', '--adapter', 'caddyfile', '--config', path.join(ROOT, CADDYFILE)], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, PUBLIC_HOST: 'graphs.example.com', CADDY_TLS: tls },
        });
        assert.equal(result.status, 0, `${tls}: ${result.stderr}`);
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  describe('in front of two gateways, on loopback', () => {
    let falkordb: TestFalkorDB;
    const gateways: RunningGateway[] = [];
    const logs: Array<ReturnType<typeof captureLog>> = [];
    let caddy: ChildProcess | undefined;
    let home: string;
    let base: string;
    let ca: string;
    let caddyOutput = '';

    before(async () => {
      requireCommand('caddy', 'caddy');
      falkordb = await startTestFalkorDB();
      const httpsPort = await freeLoopbackPort();
      base = `https://localhost:${httpsPort}`;
      for (let i = 0; i < 2; i++) {
        const log = captureLog();
        logs.push(log);
        gateways.push(await startTestGateway(falkordb.url, { TRUST_PROXY: '127.0.0.1/32', PUBLIC_URL: base, METRICS_PORT: 'off', LOG_LEVEL: 'info' }, log.stream));
      }
      // deploy/Caddyfile as is, but with loopback ports for the upstreams and for Caddy itself.
      home = await tempDir('caddy-run-');
      let text = repoText(CADDYFILE);
      text = text.replaceAll('gateway-1:3003', `127.0.0.1:${gateways[0]!.port}`).replaceAll('gateway-2:3003', `127.0.0.1:${gateways[1]!.port}`);
      text = text.replace('{\n', `{\n\thttps_port ${httpsPort}\n\tauto_https disable_redirects\n`);
      text = text.replace(/\{\$PUBLIC_HOST:localhost\} \{\n/, (site) => `${site}\tbind 127.0.0.1\n`);
      await writeFile(path.join(home, 'Caddyfile'), text);
      caddy = spawn('caddy', ['run', '--adapter', 'caddyfile', '--config', path.join(home, 'Caddyfile')], {
        env: { PATH: process.env.PATH ?? '', HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home, PUBLIC_HOST: 'localhost', CADDY_TLS: 'internal' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      caddy.stdout?.on('data', (c: Buffer) => (caddyOutput += c.toString()));
      caddy.stderr?.on('data', (c: Buffer) => (caddyOutput += c.toString()));
      const root = path.join(home, 'caddy', 'pki', 'authorities', 'local', 'root.crt');
      ca = await waitFor('Caddy to make its internal CA', async () => (existsSync(root) ? readFile(root, 'utf8') : undefined));
      await waitFor('Caddy to serve HTTPS', async () => ((await httpsGet(`${base}/readyz`, ca)).status === 200 ? true : undefined));
    });

    after(async () => {
      // A throwaway proxy: no need to sit through its grace period for open streams.
      if (caddy && caddy.exitCode === null) {
        caddy.kill('SIGKILL');
        await exitOf(caddy);
      }
      for (const gateway of gateways) await gateway.stop();
      await falkordb?.cleanup();
      if (home) await rm(home, { recursive: true, force: true });
    });

    it('serves the probes and /mcp over TLS', async () => {
      assert.equal((await httpsGet(`${base}/healthz`, ca)).status, 200, caddyOutput);
      const token = await signTestToken('acme');
      const reply = await httpsPost(`${base}/mcp`, ca, { Authorization: `Bearer ${token}` }, INITIALIZE);
      assert.equal(reply.status, 200, reply.body);
    });

    it('replaces an X-Forwarded-For the client made up, so the gateway sees the real address', async () => {
      const reply = await httpsGet(`${base}/healthz`, ca, { 'X-Forwarded-For': '203.0.113.9' });
      assert.equal(reply.status, 200);
      assert.ok(reply.requestId, 'the gateway names the request');
      const line = logs
        .flatMap((l) => l.text().split('\n'))
        .find((l) => l.includes(reply.requestId!));
      assert.ok(line, 'the request reached a gateway and was logged');
      assert.ok(!line.includes('203.0.113.9'), line);
      assert.equal((JSON.parse(line) as { ip?: string }).ip, '127.0.0.1');
    });

    it('keeps tokens out of its access log, from the query string and the Authorization header', async () => {
      const token = await signTestToken('acme');
      assert.equal((await httpsGet(`${base}/healthz?token=${encodeURIComponent(token)}&probe=query`, ca)).status, 200);
      assert.equal((await httpsGet(`${base}/healthz?probe=header`, ca, { Authorization: `Bearer ${token}` })).status, 200);
      const logged = await waitFor('both requests in the access log', async () => (caddyOutput.includes('probe=query') && caddyOutput.includes('probe=header') ? caddyOutput : undefined));
      assert.ok(!logged.includes(token), 'no token in the access log');
      assert.ok(!logged.includes(token.split('.')[2]!), 'not even its signature');
    });

    it('keeps a legacy SSE session on the instance that opened it, and its id out of the access log', async () => {
      const token = await signTestToken('acme');
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const sse = await openSse(`${base}/sse`, ca, token);
        try {
          const endpoint = new URL(sse.endpoint, base);
          ids.push(endpoint.searchParams.get('sessionId') ?? '');
          const post = await httpsPost(endpoint.href, ca, { Authorization: `Bearer ${token}` }, INITIALIZE);
          assert.equal(post.status, 202, post.body);
        } finally {
          sse.close();
        }
      }
      const posts = () => caddyOutput.split('\n').filter((l) => l.includes('"uri":"/messages')).length;
      const logged = await waitFor('the posts in the access log', async () => (posts() >= ids.length ? caddyOutput : undefined));
      for (const id of ids) assert.ok(id !== '' && !logged.includes(id), 'no session id in the access log');
    });
  });
});

describe('systemd unit', () => {
  it('is hardened', () => {
    assert.ok(unitValue('DynamicUser') === 'yes' || (unitValue('User') ?? 'root') !== 'root', 'DynamicUser=yes or a dedicated User');
    const expected: Record<string, string> = {
      ProtectSystem: 'strict',
      NoNewPrivileges: 'yes',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      RestrictSUIDSGID: 'yes',
      CapabilityBoundingSet: '',
      Restart: 'on-failure',
    };
    for (const [key, value] of Object.entries(expected)) assert.equal(unitValue(key), value, `${key}=${value}`);
    assert.ok(unitValue('EnvironmentFile'), 'EnvironmentFile');
  });

  it('hands secrets over as credentials, through the _FILE variables', () => {
    const env = unitEnvironment();
    assertGatewayVariables(Object.keys(env).filter((n) => n !== 'NODE_ENV'), 'the systemd unit');
    const credentials = new Map(unitValues('LoadCredential').map((c) => [c.slice(0, c.indexOf(':')), c.slice(c.indexOf(':') + 1)]));
    const fileVariables = Object.entries(env).filter(([name]) => name.endsWith('_FILE'));
    assert.ok(fileVariables.some(([name]) => name === 'AUTH_SIGNING_KEY_FILE'));
    assert.ok(fileVariables.some(([name]) => name === 'FALKORDB_URL_FILE'));
    for (const [name, value] of fileVariables) {
      const match = /^(?:%d|\$\{?CREDENTIALS_DIRECTORY\}?)\/(.+)$/.exec(value);
      assert.ok(match, `${name} points into the credentials directory`);
      assert.ok(credentials.has(match[1]!), `${name}: LoadCredential=${match[1]}:… exists`);
    }
    for (const name of SECRET_NAMES) assert.ok(!(name in env), `${name} is not written into the unit`);
  });

  it('waits longer than SHUTDOWN_TIMEOUT_MS for a stop, and reloads with SIGHUP', () => {
    assert.ok(durationMs(unitValue('TimeoutStopSec') ?? '0') > Number(configDefault('SHUTDOWN_TIMEOUT_MS')));
    assert.match(unitValue('ExecReload') ?? '', /^\S*kill -HUP \$MAINPID$/);
    assert.match(unitValue('ExecStart') ?? '', /\bnode \S*dist\/cli\/index\.js serve$/);
  });

  it('passes `systemd-analyze verify` without a warning', () => {
    requireCommand('systemd-analyze', 'systemd');
    const result = spawnSync('systemd-analyze', ['verify', path.join(ROOT, UNIT)], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.trim(), '', 'no warnings');
  });
});

describe('Kubernetes manifests', () => {
  it('has a Deployment, Service, Secret, NetworkPolicy and PodDisruptionBudget, all in one namespace', () => {
    const objects = k8sObjects();
    for (const kind of ['Deployment', 'Service', 'Secret', 'NetworkPolicy', 'PodDisruptionBudget', 'ConfigMap']) assert.ok(objects.some((o) => o.kind === kind), kind);
    const namespace = yamlFile(path.join(K8S_DIR, 'kustomization.yaml')).namespace;
    for (const o of objects.filter((o) => o.kind !== 'Namespace')) assert.equal(o.metadata.namespace, namespace, `${o.file} ${o.kind}`);
  });

  it('runs non-root replicas with a read-only root filesystem and resources, as many as the autoscaler says', () => {
    // A `replicas` here would be put back on every apply, undoing the HorizontalPodAutoscaler's count.
    assert.equal(k8sOne('Deployment').spec?.replicas, undefined);
    const pod = obj(podSpec().securityContext, 'pod securityContext');
    assert.equal(pod.runAsNonRoot, true);
    assert.ok(Number(pod.runAsUser) > 0);
    const container = gatewayContainer();
    const security = obj(container.securityContext, 'container securityContext');
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.deepEqual(obj(security.capabilities, 'capabilities').drop, ['ALL']);
    assert.ok(container.resources?.requests?.cpu && container.resources.requests.memory && container.resources.limits?.memory, 'requests and a memory limit');
    assert.deepEqual(container.args, ['serve']);
  });

  it('probes readiness on /readyz and liveness on /healthz at port 3003', () => {
    const container = gatewayContainer();
    assert.equal(container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(container.livenessProbe?.httpGet?.path, '/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      if (probe?.httpGet) assert.equal(containerPort(probe.httpGet.port), GATEWAY_PORT);
    }
  });

  it('gives a stopping pod more time than its preStop pause plus SHUTDOWN_TIMEOUT_MS', () => {
    const config = k8sOne('ConfigMap').data ?? {};
    const shutdownMs = Number(config.SHUTDOWN_TIMEOUT_MS ?? configDefault('SHUTDOWN_TIMEOUT_MS'));
    const preStop = gatewayContainer().lifecycle?.preStop;
    const pauseMs = preStop?.sleep ? preStop.sleep.seconds * 1000 : preStop?.exec?.command[0] === 'sleep' ? Number(preStop.exec.command[1]) * 1000 : 0;
    assert.ok(Number(podSpec().terminationGracePeriodSeconds) * 1000 > pauseMs + shutdownMs);
  });

  it('takes settings from the ConfigMap and secrets only as files from the mounted Secret', () => {
    const container = gatewayContainer();
    const config = k8sOne('ConfigMap');
    assert.deepEqual(container.envFrom, [{ configMapRef: { name: config.metadata.name } }]);
    assertGatewayVariables(Object.keys(config.data ?? {}), 'the ConfigMap');
    assertGatewayVariables((container.env ?? []).map((e) => e.name), 'the Deployment');
    for (const name of SECRET_NAMES) {
      assert.ok(!(name in (config.data ?? {})), `the ConfigMap does not hold the secret ${name}`);
      assert.ok(!(container.env ?? []).some((e) => e.name === name), `the Deployment does not set the secret ${name} directly`);
    }
    const secret = k8sOne('Secret');
    const keys = Object.keys({ ...secret.data, ...secret.stringData });
    const volumes = arr(podSpec().volumes, 'pod volumes') as Array<{ name: string; secret?: { secretName: string } }>;
    const secretVolume = volumes.find((v) => v.secret?.secretName === secret.metadata.name);
    assert.ok(secretVolume, 'the Secret is mounted as a volume');
    const mount = (container.volumeMounts ?? []).find((m) => m.name === secretVolume.name);
    assert.ok(mount?.readOnly, 'read-only');
    const files = (container.env ?? []).filter((e) => e.name.endsWith('_FILE'));
    assert.deepEqual(files.map((e) => e.name).sort(), ['AUTH_SIGNING_KEY_FILE', 'FALKORDB_URL_FILE']);
    for (const e of files) {
      assert.equal(path.posix.dirname(e.value ?? ''), mount.mountPath, `${e.name} is in the Secret's mount`);
      assert.ok(keys.includes(path.posix.basename(e.value ?? '')), `${e.name}: the Secret has the key ${path.posix.basename(e.value ?? '')}`);
    }
    for (const value of Object.values(secret.stringData ?? {})) assert.match(value, /REPLACE-WITH/, 'the example Secret holds placeholders only');
  });

  it('routes the Service and the PodDisruptionBudget to the gateway pods', () => {
    const labels = podLabels();
    assert.ok(selects(k8sOne('Deployment').spec?.selector, labels));
    const svc = k8sOne('Service');
    assert.ok(Object.entries(obj(svc.spec?.selector, 'service selector')).every(([k, v]) => labels[k] === v));
    const http = arr(svc.spec?.ports, 'service ports').map((p) => p as { name: string; targetPort: string | number }).find((p) => p.name === 'http');
    assert.ok(http);
    assert.equal(containerPort(http.targetPort), GATEWAY_PORT);
    const pdb = k8sOne('PodDisruptionBudget');
    assert.ok(selects(pdb.spec?.selector, labels));
    assert.ok(pdb.spec?.maxUnavailable === 1 || Number(pdb.spec?.minAvailable) >= 1);
  });

  it('lets in 3003 from the ingress controller and the metrics port from monitoring only, and out only to FalkorDB and DNS', () => {
    const policy = k8sOne('NetworkPolicy');
    assert.ok(selects(policy.spec?.podSelector, podLabels()));
    assert.deepEqual(policy.spec?.policyTypes, ['Ingress', 'Egress']);
    type Rule = { from?: Array<{ namespaceSelector?: { matchLabels: Json } }>; to?: Array<{ namespaceSelector?: { matchLabels: Json } }>; ports: Array<{ port: number; protocol: string }> };
    const ingress = arr(policy.spec?.ingress, 'ingress rules') as Rule[];
    const sources = new Map(ingress.map((r) => [r.ports.map((p) => p.port).join(','), r.from?.map((f) => f.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']).join(',')]));
    const metricsPort = Number(configDefault('METRICS_PORT'));
    assert.deepEqual([...sources.entries()].sort(), [[String(GATEWAY_PORT), 'ingress-nginx'], [String(metricsPort), 'monitoring']].sort());
    assert.equal(gatewayContainer().ports.find((p) => p.name === 'metrics')?.containerPort, metricsPort, 'the metrics container port is the METRICS_PORT default');
    const config = k8sOne('ConfigMap').data ?? {};
    assert.equal(Number(config.METRICS_PORT ?? metricsPort), metricsPort);
    assert.equal(config.METRICS_HOST, '0.0.0.0', 'the metrics listener is reachable from outside the pod');
    const egress = arr(policy.spec?.egress, 'egress rules') as Rule[];
    const ports = egress.flatMap((r) => r.ports.map((p) => p.port)).sort((a, b) => a - b);
    assert.deepEqual([...new Set(ports)], [53, 6379]);
    for (const rule of egress) assert.ok(rule.to && rule.to.length > 0, 'every egress rule names its destination');
  });

  it('points FalkorDB URLs at the port the NetworkPolicy lets out', () => {
    const secret = k8sOne('Secret');
    const url = new URL((secret.stringData ?? {})['falkordb-url'] ?? '');
    assert.equal(url.port, '6379');
  });
});

describe('Kubernetes autoscaling and the dedicated pool', () => {
  type Hpa = {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: Array<{ type: string; resource?: { name: string; target: Json }; pods?: { metric: { name: string }; target: Json } }>;
    behavior?: { scaleDown?: { stabilizationWindowSeconds?: number }; scaleUp?: Json };
  };
  const hpaOf = (pool: Pool): Hpa => {
    const hpa = oneOf(pool.objects, 'HorizontalPodAutoscaler', pool.where);
    assert.equal(hpa.apiVersion, 'autoscaling/v2', `${pool.where}: autoscaling/v2, for Pods metrics and behavior`);
    return hpa.spec as unknown as Hpa;
  };
  const pools = (): Pool[] => [sharedPool(), dedicatedPool()];

  it('lists in each kustomization only files that exist, every object in the shared pool\'s namespace', () => {
    const namespace = yamlFile(path.join(K8S_DIR, 'kustomization.yaml')).namespace;
    for (const dir of [K8S_DIR, DEDICATED_DIR]) {
      for (const file of kustomizationFiles(dir)) assert.ok(existsSync(path.join(ROOT, dir, file)), `${dir}/kustomization.yaml lists ${file}, which exists`);
      assert.equal(yamlFile(path.join(dir, 'kustomization.yaml')).namespace, namespace, `${dir} uses the namespace ${String(namespace)}`);
    }
    const dedicated = dedicatedObjects();
    for (const kind of ['Deployment', 'Service', 'Ingress', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget']) oneOf(dedicated, kind, DEDICATED_DIR);
    // Shared, not copied: one registry and state database (the ConfigMap's and the Secret's), one namespace.
    for (const kind of ['ConfigMap', 'Secret', 'Namespace']) assert.ok(!dedicated.some((o) => o.kind === kind), `${DEDICATED_DIR} has no ${kind} of its own`);
    for (const o of dedicated) assert.equal(o.metadata.namespace, namespace, `${o.file} ${o.kind}`);
    const names = new Set(k8sObjects().map((o) => `${o.kind}/${String(o.metadata.name)}`));
    for (const o of dedicated) assert.ok(!names.has(`${o.kind}/${String(o.metadata.name)}`), `${o.file}: ${o.kind} ${String(o.metadata.name)} is not a shared object's name`);
  });

  it('scales each pool\'s own Deployment, which leaves its replica count to the autoscaler', () => {
    for (const pool of pools()) {
      const hpa = hpaOf(pool);
      assert.deepEqual(hpa.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: pool.deployment.metadata.name }, `${pool.where}: the HPA scales the Deployment beside it`);
      assert.equal(pool.deployment.spec?.replicas, undefined, `${pool.where}: no replicas in the Deployment`);
      // One pod may be down for a disruption (the PodDisruptionBudget) and one still serve.
      assert.ok(hpa.minReplicas >= 2, `${pool.where}: minReplicas ${hpa.minReplicas}`);
      assert.ok(hpa.maxReplicas > hpa.minReplicas, `${pool.where}: room to grow`);
      const pdb = oneOf(pool.objects, 'PodDisruptionBudget', pool.where);
      assert.ok(selects(pdb.spec?.selector, pool.labels), `${pool.where}: the PodDisruptionBudget covers the pool's pods`);
      assert.ok(Number(pdb.spec?.maxUnavailable) < hpa.minReplicas, `${pool.where}: a disruption leaves a pod serving`);
    }
  });

  it('scales on CPU utilisation and on the in-flight gauge the code exports, per pod', async () => {
    const gauge = await inFlightGaugeName();
    for (const pool of pools()) {
      const { metrics } = hpaOf(pool);
      const cpu = metrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
      assert.ok(cpu?.resource, `${pool.where}: a CPU metric`);
      assert.equal(cpu.resource.target.type, 'Utilization');
      assert.ok(Number(cpu.resource.target.averageUtilization) > 0);
      assert.ok(pool.container.resources?.requests?.cpu, `${pool.where}: utilisation is of the CPU request, which is set`);
      const pods = metrics.filter((m) => m.type === 'Pods');
      assert.equal(pods.length, 1, `${pool.where}: one Pods metric`);
      assert.equal(pods[0]!.pods?.metric.name, gauge, `${pool.where}: the Pods metric is the gauge /metrics exports`);
      assert.equal(pods[0]!.pods?.target.type, 'AverageValue');
      assert.ok(quantity(pods[0]!.pods?.target.averageValue) > 0);
      assert.deepEqual(metrics.map((m) => m.type).sort(), ['Pods', 'Resource'], `${pool.where}: nothing else`);
    }
  });

  it('adds pods before calls start to queue: each in-flight target is below what one pod admits', () => {
    // A tool call over POST /mcp counts twice in the gauge (its request and the call).
    const target = (pool: Pool) => quantity(hpaOf(pool).metrics.find((m) => m.type === 'Pods')?.pods?.target.averageValue);
    const cap = (pool: Pool, name: string) => Number(envValue(pool, name) ?? k8sOne('ConfigMap').data?.[name] ?? configDefault(name));
    const shared = sharedPool();
    assert.ok(target(shared) < 2 * cap(shared, 'MAX_CONCURRENT_QUERIES'), 'the shared pool\'s target is below the instance cap');
    // One tenant is the whole load of its pool: its per-tenant cap is each pod's ceiling.
    const dedicated = dedicatedPool();
    assert.ok(target(dedicated) < 2 * cap(dedicated, 'MAX_CONCURRENT_QUERIES_PER_TENANT'), 'the dedicated pool\'s target is below the per-tenant cap');
  });

  it('scales down only after a stabilisation window, and up without one', () => {
    for (const pool of pools()) {
      const { behavior } = hpaOf(pool);
      assert.ok(Number(behavior?.scaleDown?.stabilizationWindowSeconds) >= 300, `${pool.where}: a lull of under 5 minutes does not remove pods (and their SSE sessions)`);
      assert.equal(behavior?.scaleUp?.stabilizationWindowSeconds, 0, `${pool.where}: load is answered at once`);
    }
  });

  it('writes out the prometheus-adapter rule in the docs, for the metric the HPAs name, per pod', async () => {
    const gauge = await inFlightGaugeName();
    const section = docSubsection('docs/deployment.md', 'Scaling each pool on its load');
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parseYaml(m[1]!) as Json).filter((b) => b !== null && typeof b === 'object' && 'rules' in b);
    assert.equal(blocks.length, 1, 'one adapter `rules:` block');
    type Rule = { seriesQuery: string; resources: { overrides: Record<string, { resource: string }> }; name: { matches: string; as?: string }; metricsQuery: string };
    const rules = arr(blocks[0]!.rules, 'rules') as Rule[];
    const rule = rules.find((r) => r.seriesQuery.includes(gauge));
    assert.ok(rule, `a rule for ${gauge}`);
    assert.match(rule.seriesQuery, new RegExp(`^${gauge}\\{`), 'the series is the gauge itself');
    const exposed = rule.name.as ?? gauge;
    assert.ok(new RegExp(rule.name.matches).test(gauge), 'name.matches matches the series');
    for (const pool of pools()) assert.equal(hpaOf(pool).metrics.find((m) => m.type === 'Pods')?.pods?.metric.name, exposed, `${pool.where}: the HPA asks for the name the rule exposes`);
    // Per pod: the adapter must tie each series to its pod and namespace.
    assert.deepEqual(Object.values(rule.resources.overrides).map((o) => o.resource).sort(), ['namespace', 'pod']);
    assert.match(rule.metricsQuery, /<<\.Series>>\{<<\.LabelMatchers>>\}/);
    assert.match(rule.metricsQuery, /by \(<<\.GroupBy>>\)/);
  });

  it('runs the dedicated pool as the shared pool\'s pod: same image, command, ports, probes, limits and security', () => {
    const shared = sharedPool();
    const dedicated = dedicatedPool();
    for (const key of ['image', 'imagePullPolicy', 'args', 'ports', 'envFrom', 'securityContext', 'resources', 'startupProbe', 'livenessProbe', 'readinessProbe', 'lifecycle'] as const) {
      assert.deepEqual(dedicated.container[key as keyof Container], shared.container[key as keyof Container], `the dedicated container's ${key}`);
    }
    for (const key of ['securityContext', 'terminationGracePeriodSeconds', 'automountServiceAccountToken']) {
      assert.deepEqual(dedicated.pod[key], shared.pod[key], `the dedicated pod's ${key}`);
    }
    // The shared pool's volumes and mounts (its Secret, /tmp), and acme's own Secret besides.
    const sharedVolumes = arr(shared.pod.volumes, 'volumes');
    assert.deepEqual(arr(dedicated.pod.volumes, 'volumes').slice(0, sharedVolumes.length), sharedVolumes);
    assert.deepEqual(dedicated.container.volumeMounts?.slice(0, shared.container.volumeMounts?.length), shared.container.volumeMounts);
    assert.deepEqual(dedicated.deployment.spec?.strategy, shared.deployment.spec?.strategy);
    assert.equal(dedicated.container.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(dedicated.container.livenessProbe?.httpGet?.path, '/healthz');
  });

  it('serves only the listed tenants, names each pod after itself, and answers under its own host', () => {
    const dedicated = dedicatedPool();
    const env = dedicated.container.env ?? [];
    assertGatewayVariables(env.map((e) => e.name), 'the dedicated Deployment');
    for (const name of SECRET_NAMES) assert.ok(!env.some((e) => e.name === name), `the dedicated Deployment does not set the secret ${name} directly`);
    assert.match(envValue(dedicated, 'SERVE_TENANTS') ?? '', /^[a-z0-9*][a-z0-9*_,-]*$/, 'SERVE_TENANTS lists the tenants this pool serves');
    assert.deepEqual(env.find((e) => e.name === 'INSTANCE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } }, 'INSTANCE_NAME is the pod\'s name');
    const host = (o: K8sObject) => (arr(o.spec?.rules, 'ingress rules')[0] as { host: string }).host;
    const ingress = oneOf(dedicated.objects, 'Ingress', DEDICATED_DIR);
    assert.notEqual(host(ingress), host(k8sOne('Ingress')), 'a host of its own');
    assert.equal(new URL(envValue(dedicated, 'PUBLIC_URL') ?? '').host, host(ingress), 'PUBLIC_URL is the Ingress host');
    assert.equal(new URL(envValue(dedicated, 'PUBLIC_URL') ?? '').protocol, 'https:');
    assert.deepEqual((arr(ingress.spec?.tls, 'ingress tls')[0] as { hosts: string[] }).hosts, [host(ingress)]);
    assert.deepEqual(ingress.metadata.annotations, k8sOne('Ingress').metadata.annotations, 'the shared Ingress\'s controller settings (SSE stickiness, streaming)');
  });

  it('keeps the pools apart: each Service, Ingress and policy reaches its own pool\'s pods only', () => {
    const shared = sharedPool();
    const dedicated = dedicatedPool();
    assert.ok(selects(dedicated.deployment.spec?.selector, dedicated.labels));
    for (const [mine, other] of [[shared, dedicated], [dedicated, shared]] as const) {
      for (const o of mine.objects.filter((x) => x.spec !== undefined)) {
        const selector = o.kind === 'Service' ? { matchLabels: o.spec?.selector } : o.kind === 'NetworkPolicy' ? o.spec?.podSelector : o.kind === 'Deployment' || o.kind === 'PodDisruptionBudget' ? o.spec?.selector : undefined;
        if (selector === undefined) continue;
        assert.ok(selects(selector, mine.labels), `${o.file} ${o.kind} selects its pool's pods`);
        assert.ok(!selects(selector, other.labels), `${o.file} ${o.kind} does not select the other pool's pods`);
      }
    }
    const svc = oneOf(dedicated.objects, 'Service', DEDICATED_DIR);
    const backend = (((arr(oneOf(dedicated.objects, 'Ingress', DEDICATED_DIR).spec?.rules, 'rules')[0] as Json).http as Json).paths as Array<{ backend: { service: { name: string; port: { name: string } } } }>)[0]!.backend.service;
    assert.equal(backend.name, svc.metadata.name, 'the dedicated Ingress sends to the dedicated Service');
    const port = arr(svc.spec?.ports, 'service ports').map((p) => p as { name: string; targetPort: string | number }).find((p) => p.name === backend.port.name);
    assert.ok(port, `the Service has the port ${backend.port.name}`);
    const named = dedicated.container.ports.find((p) => p.name === port.targetPort);
    assert.equal(named?.containerPort, GATEWAY_PORT);
  });

  /** Each Secret a pool mounts, by the path it is mounted at. */
  function mountedSecrets(pool: Pool): Map<string, K8sObject> {
    const secrets = [k8sOne('Secret'), dedicatedSecret()];
    const mounted = new Map<string, K8sObject>();
    for (const volume of arr(pool.pod.volumes, `${pool.where} volumes`) as Array<{ name: string; secret?: { secretName: string } }>) {
      if (volume.secret === undefined) continue;
      const secret = secrets.find((x) => x.metadata.name === volume.secret?.secretName);
      assert.ok(secret, `${pool.where} mounts the Secret ${volume.secret.secretName}, which has an example`);
      const mount = pool.container.volumeMounts?.find((m) => m.name === volume.name);
      assert.ok(mount?.readOnly, `${pool.where}: ${volume.secret.secretName} is mounted read-only`);
      mounted.set(mount.mountPath, secret);
    }
    return mounted;
  }

  /** The Secret and key a `_FILE` variable of the pool reads, from where its value points. */
  function secretFile(pool: Pool, variable: string): { secret: K8sObject; key: string } {
    const file = envValue(pool, variable);
    assert.ok(file, `${pool.where} sets ${variable}`);
    const secret = mountedSecrets(pool).get(path.posix.dirname(file));
    assert.ok(secret, `${pool.where}: ${variable} (${file}) is in a mounted Secret`);
    const key = path.posix.basename(file);
    assert.ok(key in { ...secret.data, ...secret.stringData }, `${pool.where}: ${variable}: the Secret ${String(secret.metadata.name)} has the key ${key}`);
    return { secret, key };
  }

  const targetsOf = (pool: Pool): string[] => (envValue(pool, 'DATABASE_TARGETS') ?? k8sOne('ConfigMap').data?.DATABASE_TARGETS ?? '').split(',').map((n) => n.trim()).filter((n) => n !== '');

  it('gives each pool a configuration the gateway loads: the ConfigMap, its own variables and its Secrets\' files', async () => {
    const dir = await tempDir('k8s-config-');
    try {
      for (const pool of pools()) {
        const env: Record<string, string> = { ...k8sOne('ConfigMap').data };
        const podName = `${String(pool.deployment.metadata.name)}-7d9c5b8f4-x2k7q`;
        const mounts = mountedSecrets(pool);
        for (const [mountPath, secret] of mounts) {
          await mkdir(path.join(dir, mountPath), { recursive: true });
          for (const [key, value] of Object.entries(secret.stringData ?? {})) await writeFile(path.join(dir, mountPath, key), value);
        }
        for (const e of pool.container.env ?? []) {
          if (e.value !== undefined) env[e.name] = mounts.has(path.posix.dirname(e.value)) ? path.join(dir, e.value) : e.value;
          else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
        }
        const config = loadConfig(env);
        assert.equal(config.falkordb.url, k8sOne('Secret').stringData?.['falkordb-url'], `${pool.where}: the shared state database`);
        assert.equal(config.http.publicUrl, envValue(pool, 'PUBLIC_URL') ?? k8sOne('ConfigMap').data?.PUBLIC_URL);
        assert.deepEqual(Object.keys(config.targets), targetsOf(pool), `${pool.where}: its database targets`);
        for (const name of targetsOf(pool)) {
          const { secret, key } = secretFile(pool, `${targetVariablePrefix(name)}URL_FILE`);
          assert.equal(config.targets[name]?.url, secret.stringData?.[key], `${pool.where}: the target ${name} from its Secret`);
        }
        if (pool.where === DEDICATED_DIR) {
          assert.deepEqual(config.instance.serveTenants, [envValue(pool, 'SERVE_TENANTS')]);
          assert.equal(config.instance.name, podName, 'each pod is named after itself');
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives both pools the shared state database and signing key, and acme\'s database to acme\'s pool alone', () => {
    const shared = sharedPool();
    const dedicated = dedicatedPool();
    for (const pool of [shared, dedicated]) {
      assert.deepEqual(pool.container.envFrom, [{ configMapRef: { name: k8sOne('ConfigMap').metadata.name } }], `${pool.where}: the shared ConfigMap`);
      for (const variable of ['FALKORDB_URL_FILE', 'AUTH_SIGNING_KEY_FILE']) {
        assert.equal(secretFile(pool, variable).secret.metadata.name, k8sOne('Secret').metadata.name, `${pool.where}: ${variable} from the shared Secret`);
        assert.equal(envValue(pool, variable), envValue(shared, variable), `${pool.where}: ${variable} is the shared pool's file`);
      }
      // A target variable without its name in DATABASE_TARGETS stops the gateway at start.
      for (const e of pool.container.env ?? []) {
        if (isTargetVariable(e.name)) assert.ok(targetsOf(pool).some((name) => e.name.startsWith(targetVariablePrefix(name))), `${pool.where}: ${e.name} belongs to a target of DATABASE_TARGETS`);
      }
    }
    const targets = targetsOf(dedicated);
    assert.ok(targets.length > 0, 'the dedicated pool names its database target (DATABASE_TARGETS)');
    for (const name of targets) {
      const { secret, key } = secretFile(dedicated, `${targetVariablePrefix(name)}URL_FILE`);
      assert.equal(secret.metadata.name, dedicatedSecret().metadata.name, `the target ${name} comes from the dedicated pool's own Secret`);
      assert.equal(new URL(secret.stringData?.[key] ?? '').port, '6379', `the target ${name} is on the port the NetworkPolicy lets out`);
    }
    for (const value of Object.values(dedicatedSecret().stringData ?? {})) assert.match(value, /REPLACE-WITH/, 'the example Secret holds placeholders only');
    // The shared pool never serves acme: it has neither the target nor its Secret.
    assert.deepEqual(targetsOf(shared), [], 'the shared pool names no database target');
    assert.ok(![...mountedSecrets(shared).values()].some((x) => x.metadata.name === dedicatedSecret().metadata.name), 'the shared pool does not mount acme\'s Secret');
  });

  it('lets acme\'s pool, and only it, out to acme\'s database; in and out otherwise as the shared pool', () => {
    type Peer = { namespaceSelector?: { matchLabels: Json }; podSelector?: { matchLabels: Json } };
    type Rule = { to?: Peer[]; from?: Peer[]; ports: Array<{ port: number }> };
    const shared = k8sOne('NetworkPolicy');
    const dedicated = oneOf(dedicatedObjects(), 'NetworkPolicy', DEDICATED_DIR);
    assert.deepEqual(dedicated.spec?.policyTypes, shared.spec?.policyTypes);
    assert.deepEqual(dedicated.spec?.ingress, shared.spec?.ingress, 'the ingress controller and monitoring, as for the shared pool');
    const sharedEgress = arr(shared.spec?.egress, 'shared egress') as Rule[];
    const dedicatedEgress = arr(dedicated.spec?.egress, 'dedicated egress') as Rule[];
    for (const rule of sharedEgress) assert.ok(dedicatedEgress.some((r) => JSON.stringify(r) === JSON.stringify(rule)), `acme's pool has the shared rule ${JSON.stringify(rule)}`);
    const extra = dedicatedEgress.filter((r) => !sharedEgress.some((x) => JSON.stringify(x) === JSON.stringify(r)));
    assert.equal(extra.length, 1, 'one more way out: to acme\'s database');
    assert.deepEqual(extra[0]!.ports.map((p) => p.port), [6379]);
    const acmeDb = extra[0]!.to?.[0]?.podSelector?.matchLabels ?? {};
    assert.ok(Object.keys(acmeDb).length > 0, 'acme\'s database is named by its labels');
    // In the examples each FalkorDB's Service (`NAME.NAMESPACE.svc…` in its URL) is named as its pods' app.kubernetes.io/name.
    const leadsTo = (rule: Rule | undefined, url: string) => {
      const [service, namespace] = new URL(url).hostname.split('.');
      return rule?.to?.some((peer) => peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] === namespace && peer.podSelector?.matchLabels['app.kubernetes.io/name'] === service) === true;
    };
    const acmeUrl = Object.values(dedicatedSecret().stringData ?? {})[0] ?? '';
    assert.ok(leadsTo(extra[0], acmeUrl), `the extra way out leads to acme's database, ${new URL(acmeUrl).hostname}`);
    assert.ok(sharedEgress.some((rule) => leadsTo(rule, k8sOne('Secret').stringData?.['falkordb-url'] ?? '')), 'the shared pool may reach the shared database');
    for (const rule of sharedEgress) {
      for (const peer of rule.to ?? []) {
        if (peer.podSelector) assert.ok(!selects(peer.podSelector, acmeDb), 'the shared pool\'s policy does not let it reach acme\'s database');
      }
    }
  });
});

describe('probe paths in every deployment file', () => {
  let falkordb: TestFalkorDB;
  let gateway: RunningGateway;

  before(async () => {
    falkordb = await startTestFalkorDB();
    gateway = await startTestGateway(falkordb.url, { METRICS_PORT: 'off' });
  });

  after(async () => {
    await gateway?.stop();
    await falkordb?.cleanup();
  });

  function probePaths(): Map<string, string> {
    const paths = new Map<string, string>();
    for (const m of healthcheckCommand().join(' ').matchAll(/'(\/[a-z]+)'/g)) paths.set(`Dockerfile HEALTHCHECK ${m[1]}`, m[1]!);
    for (const proxy of caddyProxies()) for (const m of proxy.block.matchAll(/health_uri (\S+)/g)) paths.set(`Caddyfile health_uri ${m[1]}`, m[1]!);
    const container = gatewayContainer();
    for (const [name, probe] of Object.entries({ readinessProbe: container.readinessProbe, livenessProbe: container.livenessProbe, startupProbe: container.startupProbe })) {
      if (probe?.httpGet) paths.set(`Deployment ${name}`, probe.httpGet.path);
    }
    for (const file of COMPOSE_FILES) {
      for (const [name, svc] of Object.entries(services(yamlFile(file), file))) {
        const test = (svc as Json).healthcheck ? arr(((svc as Json).healthcheck as Json).test, 'healthcheck').join(' ') : '';
        for (const m of test.matchAll(/:3003(\/[a-z]+)/g)) paths.set(`${file} ${name} healthcheck`, m[1]!);
      }
    }
    return paths;
  }

  it('finds the probes: the Dockerfile, the Caddyfile and the Deployment each have some', () => {
    const where = [...probePaths().keys()].join('; ');
    for (const source of ['Dockerfile', 'Caddyfile', 'Deployment']) assert.ok(where.includes(source), `${source} has a probe (found: ${where})`);
  });

  it('answers 200 on every one of them', async () => {
    for (const [where, probe] of probePaths()) {
      const response = await fetch(`${gateway.url}${probe}`);
      assert.equal(response.status, 200, `${where}: GET ${probe}`);
    }
  });
});
