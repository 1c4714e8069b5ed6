// Finds a Redis/Valkey server (7.2+) that can load falkordb.so, installing valkey-server
// on Debian/Ubuntu when allowed, and locates falkordb.so itself.

import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';

export type ServerBinarySource = 'FALKORDB_SERVER_BIN' | 'bundled' | 'PATH' | 'installed';

export interface ServerBinary {
  path: string;
  /** `major.minor.patch` as printed by `--version`. */
  version: string;
  source: ServerBinarySource;
}

export interface OsRelease {
  id: string;
  idLike: string[];
  versionCodename: string | undefined;
}

export interface FindServerBinaryOptions {
  /** FALKORDB_SERVER_BIN, when set. */
  configuredBin?: string | undefined;
  logger: Logger;
  /** May the gateway install valkey-server with apt (Debian/Ubuntu, as root)? Default true. */
  allowInstall?: boolean;
  /** The PATH to search; default process.env.PATH. */
  pathEnv?: string;
  /** Contents of /etc/os-release, or undefined when there is none. */
  readOsRelease?: () => string | undefined;
  uid?: number;
  platform?: NodeJS.Platform;
  /** The bundled redis-server; null for none. Default: from @falkordblite/linux-x64 if installed. */
  bundledServerPath?: string | null;
  /** apt's configuration folder; default /etc/apt. */
  aptDir?: string;
  /** Runs one install step; default spawns it and logs its output. */
  runCommand?: (command: string, args: readonly string[]) => Promise<void>;
}

const MIN_VERSION: readonly [number, number] = [7, 2];
const SERVER_NAMES = ['valkey-server', 'redis-server'] as const;
const FALKORDBLITE_PACKAGE = '@falkordblite/linux-x64';
const BACKPORTS_SOURCES_FILE = 'falkordb-mcp-gateway-backports.sources';
const DOCKER_HINT = 'or run FalkorDB in Docker and point the gateway at it:\n  docker run -p 6379:6379 falkordb/falkordb\n  FALKORDB_URL=redis://127.0.0.1:6379 npm start';

/** Extracts `8.0.1` from `Valkey server v=8.0.1 sha=…` (Redis prints the same shape). */
export function parseServerVersion(output: string): string | undefined {
  return /\bv=(\d+\.\d+\.\d+)/.exec(output)?.[1];
}

export function isSupportedServerVersion(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]);
}

export function parseOsRelease(text: string): OsRelease {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], match[2].replace(/^["']|["']$/g, ''));
  }
  return {
    id: values.get('ID') ?? '',
    idLike: (values.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean),
    versionCodename: values.get('VERSION_CODENAME') || undefined,
  };
}

/** Runs `bin --version`; resolves with the version, or with the reason it is unusable. */
export function probeServerVersion(bin: string): Promise<{ version: string } | { problem: string }> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const firstLine = `${stderr}`.trim().split('\n')[0] ?? '';
        resolve({ problem: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not executable' : `--version failed: ${firstLine || error.message}` });
        return;
      }
      const version = parseServerVersion(`${stdout}`);
      resolve(version === undefined ? { problem: `--version printed no version: ${`${stdout}`.trim().slice(0, 120)}` } : { version });
    });
  });
}

/** The commands that get a usable server on this machine, for the error message. */
export function serverInstallHint(os: OsRelease | undefined, platform: NodeJS.Platform): string {
  if (platform === 'darwin') {
    return `On macOS: brew install valkey (the FalkorDB module is only bundled for Linux x64, so the simplest route is Docker)\n${DOCKER_HINT}`;
  }
  if (os?.id === 'debian') {
    const suite = `${os.versionCodename ?? 'bookworm'}-backports`;
    return [
      `On Debian, install valkey-server from ${suite}:`,
      `  echo 'deb http://deb.debian.org/debian ${suite} main' | sudo tee /etc/apt/sources.list.d/backports.list`,
      `  sudo apt-get update && sudo apt-get install -y -t ${suite} valkey-server`,
      DOCKER_HINT,
    ].join('\n');
  }
  if (os?.id === 'ubuntu' || os?.idLike.includes('ubuntu')) {
    return `On Ubuntu: sudo apt-get update && sudo apt-get install -y valkey-server\n${DOCKER_HINT}`;
  }
  return `Install Valkey or Redis 7.2+ with your package manager, ${DOCKER_HINT}`;
}

function bundledServerPath(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve(`${FALKORDBLITE_PACKAGE}/package.json`);
    return path.join(path.dirname(manifest), 'bin', 'redis-server');
  } catch {
    return undefined;
  }
}

/** Path of falkordb.so from the optional @falkordblite/linux-x64 package. */
export function locateFalkorDBModule(resolvePackage: (specifier: string) => string = createRequire(import.meta.url).resolve): string {
  let manifest: string;
  try {
    manifest = resolvePackage(`${FALKORDBLITE_PACKAGE}/package.json`);
  } catch {
    throw new GatewayError(
      'SERVER_BINARY_MISSING',
      `The FalkorDB module (falkordb.so) comes from the optional package ${FALKORDBLITE_PACKAGE}, which is not installed (it exists for Linux x64 only). Run FalkorDB yourself and point the gateway at it:\n  docker run -p 6379:6379 falkordb/falkordb\n  FALKORDB_URL=redis://127.0.0.1:6379`,
    );
  }
  const modulePath = path.join(path.dirname(manifest), 'bin', 'falkordb.so');
  if (!existsSync(modulePath)) {
    throw new GatewayError('SERVER_BINARY_MISSING', `${modulePath} is missing; reinstall with \`npm ci\`, or run FalkorDB yourself and set FALKORDB_URL.`);
  }
  return modulePath;
}

async function searchPath(pathEnv: string, logger: Logger): Promise<ServerBinary | undefined> {
  const dirs = pathEnv.split(path.delimiter).filter(Boolean);
  for (const name of SERVER_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (!existsSync(candidate)) continue;
      const probe = await probeServerVersion(candidate);
      if ('version' in probe && isSupportedServerVersion(probe.version)) return { path: candidate, version: probe.version, source: 'PATH' };
      logger.debug({ candidate, ...probe }, 'server on PATH is not usable for FalkorDB (needs 7.2+)');
    }
  }
  return undefined;
}

function aptHasSuite(aptDir: string, suite: string): boolean {
  const files = [path.join(aptDir, 'sources.list')];
  const listDir = path.join(aptDir, 'sources.list.d');
  if (existsSync(listDir)) {
    for (const name of readdirSync(listDir)) if (name.endsWith('.list') || name.endsWith('.sources')) files.push(path.join(listDir, name));
  }
  const pattern = new RegExp(`(^|\\s)${suite.replace(/[.-]/g, '\\$&')}(\\s|$)`);
  return files.some((file) => {
    if (!existsSync(file)) return false;
    return readFileSync(file, 'utf8').split('\n').some((line) => !line.trimStart().startsWith('#') && pattern.test(line));
  });
}

function spawnLogged(logger: Logger): (command: string, args: readonly string[]) => Promise<void> {
  return (command, args) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const tail: string[] = [];
      const collect = (chunk: Buffer): void => {
        for (const line of chunk.toString().split('\n').filter((l) => l.trim() !== '')) {
          logger.debug({ command }, line);
          tail.push(line);
          if (tail.length > 15) tail.shift();
        }
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${tail.join('\n')}`))));
    });
}

/** Installs valkey-server with apt; the caller has checked it runs on Debian/Ubuntu as root. */
async function installValkey(os: OsRelease, options: FindServerBinaryOptions, run: (command: string, args: readonly string[]) => Promise<void>): Promise<void> {
  const logger = options.logger;
  const aptDir = options.aptDir ?? '/etc/apt';
  const steps: { describe: string; perform: () => Promise<void> }[] = [];
  let installArgs = ['install', '-y', 'valkey-server'];
  if (os.id === 'debian') {
    const suite = `${os.versionCodename ?? 'bookworm'}-backports`;
    installArgs = ['install', '-y', '-t', suite, 'valkey-server'];
    if (!aptHasSuite(aptDir, suite)) {
      const file = path.join(aptDir, 'sources.list.d', BACKPORTS_SOURCES_FILE);
      const content = `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: ${suite}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`;
      steps.push({
        describe: `write ${file} (adds Debian's ${suite} suite)`,
        perform: async () => {
          await mkdir(path.dirname(file), { recursive: true });
          await writeFile(file, content, { mode: 0o644 });
        },
      });
    }
  }
  steps.push({ describe: 'apt-get update', perform: () => run('apt-get', ['update']) });
  steps.push({ describe: `apt-get ${installArgs.join(' ')}`, perform: () => run('apt-get', installArgs) });
  logger.warn(
    { steps: steps.map((s) => s.describe) },
    `No Redis or Valkey 7.2+ server found for the embedded FalkorDB; installing valkey-server now: ${steps.map((s) => s.describe).join('; ')}. ` +
      'The package may also enable a valkey-server system service. Set FALKORDB_SERVER_BIN or FALKORDB_URL to skip this.',
  );
  for (const step of steps) await step.perform();
}

/** Picks the server binary for the embedded FalkorDB, in the order DESIGN.md gives. */
export async function findServerBinary(options: FindServerBinaryOptions): Promise<ServerBinary> {
  const { logger, configuredBin } = options;
  if (configuredBin !== undefined) {
    const probe = await probeServerVersion(configuredBin);
    if ('problem' in probe) {
      throw new GatewayError('SERVER_BINARY_MISSING', `FALKORDB_SERVER_BIN=${configuredBin} cannot be used (${probe.problem}). Point it at a Redis or Valkey server of version 7.2 or later, or unset it to let the gateway find one.`, { variable: 'FALKORDB_SERVER_BIN' });
    }
    if (!isSupportedServerVersion(probe.version)) {
      throw new GatewayError('SERVER_BINARY_MISSING', `FALKORDB_SERVER_BIN=${configuredBin} is version ${probe.version}, but FalkorDB needs Redis or Valkey 7.2 or later. Point it at a newer server, or unset it to let the gateway find one.`, { variable: 'FALKORDB_SERVER_BIN' });
    }
    return { path: configuredBin, version: probe.version, source: 'FALKORDB_SERVER_BIN' };
  }

  const bundled = options.bundledServerPath === undefined ? bundledServerPath() : (options.bundledServerPath ?? undefined);
  if (bundled !== undefined && existsSync(bundled)) {
    const probe = await probeServerVersion(bundled);
    if ('version' in probe && isSupportedServerVersion(probe.version)) return { path: bundled, version: probe.version, source: 'bundled' };
    logger.debug({ bundled, ...probe }, 'bundled redis-server cannot run here; looking on PATH');
  }

  const pathEnv = options.pathEnv ?? process.env.PATH ?? '';
  const onPath = await searchPath(pathEnv, logger);
  if (onPath !== undefined) return onPath;

  const platform = options.platform ?? process.platform;
  const osText = platform === 'linux' ? (options.readOsRelease ?? readSystemOsRelease)() : undefined;
  const os = osText === undefined ? undefined : parseOsRelease(osText);
  const hint = serverInstallHint(os, platform);
  const missing = (why: string): GatewayError =>
    new GatewayError('SERVER_BINARY_MISSING', `${why} The embedded FalkorDB needs a Redis or Valkey server of version 7.2 or later to load falkordb.so.\n${hint}\nOr set FALKORDB_SERVER_BIN to such a server binary.`);

  const aptFamily = os !== undefined && (os.id === 'debian' || os.id === 'ubuntu' || os.idLike.includes('ubuntu'));
  const uid = options.uid ?? process.getuid?.();
  if (!aptFamily) throw missing('No usable Redis or Valkey server was found.');
  if (options.allowInstall === false) throw missing('No usable Redis or Valkey server was found, and installing one is turned off.');
  if (uid !== 0) throw missing('No usable Redis or Valkey server was found, and the gateway is not running as root, so it cannot install one.');

  try {
    await installValkey(os, options, options.runCommand ?? spawnLogged(logger));
  } catch (error) {
    throw missing(`Installing valkey-server failed (${error instanceof Error ? error.message : String(error)}).`);
  }
  const installed = await searchPath(pathEnv, logger);
  if (installed === undefined) throw missing('valkey-server was installed, but no server of version 7.2 or later is on PATH afterwards.');
  logger.info({ path: installed.path, version: installed.version }, 'installed valkey-server for the embedded FalkorDB');
  return { ...installed, source: 'installed' };
}

function readSystemOsRelease(): string | undefined {
  try {
    return readFileSync('/etc/os-release', 'utf8');
  } catch {
    return undefined;
  }
}
