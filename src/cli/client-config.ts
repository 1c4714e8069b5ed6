// `client-config`: issues a token for one device of a tenant and prints (or,
// with --write, merges into the client's file) the exact config for that client;
// with --transport stdio, the entry that starts a local stdio server instead.

import os from 'node:os';
import { Option, type Command } from 'commander';
import { validateDeviceName } from '../tenancy/device-name.js';
import { parseScopeList } from '../tenancy/scopes.js';
import { loadConfig } from '../config/index.js';
import { parseDuration } from '../duration.js';
import { GatewayError } from '../errors.js';
import { PRODUCT_ID } from '../product.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { ConfigFileRefused, defaultConfigFile, mergeServerEntry, readConfigFile, type FileClient, type MergeResult } from './client-config-files.js';
import { CLIENTS, CONNECTOR_CLIENTS, DEFAULT_SERVER_NAME, connectorSteps, isConnectorClient, renderClientConfig, renderStdioClientConfig, shellQuote, type ClientKind, type ConnectorKind, type RenderedClientConfig } from './client-configs.js';
import { cliIssuer, withCliContext } from './context.js';
import { DEFAULT_ENROLMENT_TTL, enrolDevice, enrolmentJson, enrolmentRequest, enrolmentSummary, warnUnlessHttps } from './device.js';
import { gatewayBaseUrl } from './gateway-url.js';
import { stdioLaunch } from './stdio-launch.js';
import { isoSeconds, printJson, printLines } from './output.js';
import { EXIT, runCommand } from './run.js';

/** A desktop config cannot refresh its token, so it gets a long one; ACCESS_TOKEN_TTL (1h by default) suits refreshing clients. */
export const CLIENT_TOKEN_TTL = '90d';
const MAX_CLIENT_TTL_SEC = 365 * 24 * 3600;

export { gatewayBaseUrl } from './gateway-url.js';

const TITLES: Readonly<Record<ClientKind, string>> = {
  'claude-desktop': 'Claude Desktop (claude_desktop_config.json: macOS ~/Library/Application Support/Claude/, Windows %APPDATA%\\Claude\\, Linux ~/.config/Claude/)',
  'claude-code': 'Claude Code',
  cursor: 'Cursor (.cursor/mcp.json in a project, or ~/.cursor/mcp.json for every project)',
  vscode: 'VS Code (.vscode/mcp.json in the workspace)',
  generic: 'Any MCP client',
};

const TRANSPORTS = ['http', 'stdio'] as const;

interface ClientConfigOptions {
  client: ClientKind | ConnectorKind;
  transport: (typeof TRANSPORTS)[number];
  tenant: string;
  device?: string;
  url?: string;
  name: string;
  scope: string;
  /** Token lifetime (CLIENT_TOKEN_TTL when unset); for a connector, the enrolment code's. */
  ttl?: string;
  write?: boolean;
  configFile?: string;
  json?: boolean;
}

function clientTtl(value: string): number {
  const seconds = parseDuration(value);
  if (seconds > MAX_CLIENT_TTL_SEC) throw new GatewayError('REQUEST_INVALID', `--ttl ${value} is longer than a year (365d); give a shorter lifetime and run client-config again before it ends.`);
  return seconds;
}

function serverName(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (value.length === 0 || value.length > 64 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new GatewayError('REQUEST_INVALID', '--name must be 1 to 64 characters without control characters, e.g. --name falkordb.');
  }
  return value;
}

function configFileFor(client: FileClient, options: ClientConfigOptions): string {
  return options.configFile ?? defaultConfigFile(client, { platform: process.platform, home: os.homedir(), env: process.env, cwd: process.cwd() });
}

function printText(client: ClientKind, rendered: RenderedClientConfig, facts: { name: string; tenant: string; device: string; scope: string; expiresAt: number; writeAsked: boolean; written?: MergeResult }): void {
  const lines: string[] = [`Token for tenant "${facts.tenant}", device "${facts.device}", scopes ${facts.scope}, valid until ${isoSeconds(facts.expiresAt)}.`, ''];
  lines.push(...configLines(client, rendered, facts));
  if (rendered.connection !== undefined) {
    const c = rendered.connection;
    lines.push(`${TITLES.generic} (Streamable HTTP):`, `  URL:     ${c.url}`, `  Header:  ${c.header}`, `  Token:   ${c.token}`, '', 'Clients that cannot set headers (legacy HTTP+SSE, token on the URL):', `  URL:     ${c.sseUrl}`);
  }
  lines.push('', `Cut this device off: falkordb-mcp-gateway token revoke --device ${shellQuote(facts.device)} --tenant ${shellQuote(facts.tenant)}`);
  printLines(...lines);
}

/** Where --write writes for this client, after checking the file can take the entry; undefined without --write. */
async function fileToWrite(client: ClientKind, options: ClientConfigOptions): Promise<{ file: string; section: 'mcpServers' | 'servers' } | undefined> {
  if (options.configFile !== undefined && options.write !== true) throw new GatewayError('REQUEST_INVALID', '--config-file only says where --write writes; add --write, or leave --config-file out to print the config.');
  if (options.write === true && client === 'generic') throw new GatewayError('REQUEST_INVALID', '--client generic has no config file to write; --write works with claude-desktop, cursor and vscode.');
  const fileClient = options.write === true && client !== 'claude-code' && client !== 'generic' ? client : undefined;
  if (fileClient === undefined) return undefined;
  const file = configFileFor(fileClient, options);
  const section = client === 'vscode' ? 'servers' : 'mcpServers';
  await readConfigFile(file, section);
  return { file, section };
}

/** --transport stdio: no token, no database; the entry starts `stdio` with absolute paths, so the client's working folder does not matter. */
async function stdioClientConfig(client: ClientKind, options: ClientConfigOptions): Promise<void> {
  const tenant = validateTenantId(options.tenant);
  const scope = parseScopeList(options.scope).join(' ');
  const name = serverName(options.name);
  if (options.device !== undefined) throw new GatewayError('REQUEST_INVALID', '--device names the device a token is issued for; --transport stdio issues no token, so leave --device out.');
  const target = await fileToWrite(client, options);
  const config = loadConfig(process.env);
  const launch = stdioLaunch(process.env, config, { tenant, scope, cwd: process.cwd() });
  const rendered = renderStdioClientConfig(client, launch, name);
  const written = target === undefined ? undefined : await mergeServerEntry(target.file, target.section, name, rendered.entry);
  if (options.json) {
    const { entry: _entry, section: _section, ...shown } = rendered;
    printJson({ client, transport: 'stdio', name, tenant, scope, launch, ...shown, ...(written === undefined ? {} : { written }) });
    return;
  }
  const dataDir = launch.env['FALKORDB_DATA_DIR'];
  const where = dataDir === undefined ? 'the database this environment names (FALKORDB_URL, FALKORDB_CLUSTER_URLS or FALKORDB_SENTINELS)' : `the embedded database in ${dataDir}`;
  printStdioText(client, rendered, { name, tenant, scope, where, writeAsked: options.write === true, ...(written === undefined ? {} : { written }) });
}

function printStdioText(client: ClientKind, rendered: RenderedClientConfig, facts: { name: string; tenant: string; scope: string; where: string; writeAsked: boolean; written?: MergeResult }): void {
  const lines: string[] = [`A local stdio server for tenant "${facts.tenant}", scopes ${facts.scope}, on ${facts.where}; the client starts it itself, no token needed.`, ''];
  lines.push(...configLines(client, rendered, facts));
  if (rendered.launch !== undefined) {
    const l = rendered.launch;
    lines.push(`${TITLES.generic} (stdio):`, `  Command:      ${l.command}`, `  Arguments:    ${l.args.map(shellQuote).join(' ')}`, '  Environment:', ...Object.entries(l.env).map(([k, v]) => `    ${k}=${v}`));
  }
  lines.push('', `Cut it off: falkordb-mcp-gateway tenant disable ${shellQuote(facts.tenant)} (every tool call is refused within a second), or remove the entry.`);
  printLines(...lines);
}

/** The written-file sentence or the config, the Claude Desktop alternative, and the Claude Code commands. */
function configLines(client: ClientKind, rendered: RenderedClientConfig, facts: { name: string; writeAsked: boolean; written?: MergeResult }): string[] {
  const json = (value: object) => JSON.stringify(value, null, 2);
  const lines: string[] = [];
  const { written } = facts;
  if (written !== undefined) {
    const how = written.created ? 'Created' : written.replaced ? `Replaced the "${facts.name}" entry in` : `Added the "${facts.name}" entry to`;
    lines.push(`${how} ${written.file}${written.backup === undefined ? '' : ` (the old file is kept as ${written.backup})`}. Restart the client (or reload its MCP servers) to use it.`);
  } else if (rendered.config !== undefined) {
    lines.push(`${TITLES[client]}:`, json(rendered.config));
  }
  if (rendered.alternative !== undefined) {
    lines.push('', 'If Claude Desktop cannot connect with that (a proxy that drops the header, an old mcp-remote), use this entry instead; it puts the token on the legacy SSE URL:', json(rendered.alternative));
  }
  if (rendered.command !== undefined) {
    if (facts.writeAsked) lines.push('Claude Code keeps its own settings: --write changes nothing; run the command below.', '');
    lines.push('Claude Code (macOS, Linux, WSL, Git Bash):', rendered.command.posix, '', 'Claude Code (Windows PowerShell):', rendered.command.powershell);
    lines.push('', 'That adds the server for you in the current project (Claude Code\'s default scope); put --scope user after `mcp add` to have it in every project.');
  }
  return lines;
}

/** A connector signs in through OAuth: it gets an enrolment code and the steps in its host's UI, never a token. */
async function connectorClientConfig(client: ConnectorKind, options: ClientConfigOptions): Promise<void> {
  if (options.transport === 'stdio') throw new GatewayError('REQUEST_INVALID', `--client ${client} connects over the internet to the gateway's URL; --transport stdio does not apply to it.`);
  if (options.write === true || options.configFile !== undefined) throw new GatewayError('REQUEST_INVALID', `--client ${client} has no config file: it is added in ${client === 'chatgpt' ? "ChatGPT's" : "Claude's"} settings; leave out --write and --config-file.`);
  const name = serverName(options.name);
  const request = enrolmentRequest({ ...options, ttl: options.ttl ?? DEFAULT_ENROLMENT_TTL });
  await withCliContext(process.env, async (ctx) => {
    const { code, record, url } = await enrolDevice(ctx, request, options.url);
    warnUnlessHttps(url);
    const shown = connectorSteps(client, { mcpUrl: url, code, name });
    if (options.json) {
      printJson({ client, name, ...enrolmentJson(code, record, url), title: shown.title, steps: shown.steps, note: shown.note });
      return;
    }
    printLines(
      ...enrolmentSummary(code, record),
      '',
      `${shown.title}:`,
      ...shown.steps.map((step, i) => `  ${i + 1}. ${step}`),
      '',
      shown.note,
      '',
      `Cut this device off: falkordb-mcp-gateway token revoke --device ${shellQuote(record.device)} --tenant ${shellQuote(record.tenant)}`,
    );
  });
}

async function clientConfig(options: ClientConfigOptions): Promise<void> {
  const { client } = options;
  if (isConnectorClient(client)) return connectorClientConfig(client, options);
  await tokenClientConfig(client, options);
}

async function tokenClientConfig(client: ClientKind, options: ClientConfigOptions): Promise<void> {
  if (options.transport === 'stdio') return stdioClientConfig(client, options);
  // Everything that can be refused is checked before a token exists, so a refusal leaves nothing behind.
  const tenant = validateTenantId(options.tenant);
  if (options.device === undefined) throw new GatewayError('REQUEST_INVALID', "--device is needed: the token is issued for one device (e.g. --device alice-laptop), so it can be cut off alone; --transport stdio needs none.");
  const device = validateDeviceName(options.device);
  const scopes = parseScopeList(options.scope);
  const ttlSec = clientTtl(options.ttl ?? CLIENT_TOKEN_TTL);
  const name = serverName(options.name);
  const target = await fileToWrite(client, options);

  await withCliContext(process.env, async (ctx) => {
    const mcpUrl = `${gatewayBaseUrl(options.url, ctx.config)}/mcp`;
    const issuer = await cliIssuer(ctx);
    const issued = await issuer.issue({ tenant, scopes, ttlSec, device, actor: 'cli' });
    const rendered = renderClientConfig(client, { mcpUrl, token: issued.accessToken, name, headerName: ctx.config.auth.headerName });
    let written: MergeResult | undefined;
    try {
      written = target === undefined ? undefined : await mergeServerEntry(target.file, target.section, name, rendered.entry);
    } catch (error) {
      // A token that reached no file would only be a loose credential.
      await ctx.state.ledger.revokeJti(issued.jti, issued.expiresAt);
      throw error;
    }
    if (options.json) {
      const { entry: _entry, section: _section, ...shown } = rendered;
      printJson({ client, name, tenant, device, scope: issued.scopes.join(' '), jti: issued.jti, expiresAt: isoSeconds(issued.expiresAt), url: mcpUrl, token: issued.accessToken, ...shown, ...(written === undefined ? {} : { written }) });
    } else {
      printText(client, rendered, { name, tenant, device, scope: issued.scopes.join(' '), expiresAt: issued.expiresAt, writeAsked: options.write === true, ...(written === undefined ? {} : { written }) });
    }
  });
}

export function registerClientConfigCommand(program: Command): void {
  program
    .command('client-config')
    .description(
      'Issue a token for one device of a tenant and print the exact config for its MCP client (or merge it into the client\'s config file with --write). The token is recorded like `token issue` does: `token list` shows the device, `token revoke --device NAME --tenant ID` cuts it off. With --client claude-connector or chatgpt: no token either; a one-time enrolment code (like `device enrol`) and the steps to add the gateway\'s URL as a connector and sign in with the code. With --transport stdio: no token; the entry starts a local `stdio` server with absolute paths and this environment\'s database (FALKORDB_URL, or FALKORDB_DATA_DIR as an absolute path).',
    )
    .addOption(new Option('--client <client>', 'the MCP client; claude-connector and chatgpt get an enrolment code (see `device enrol`) and the steps to add the gateway by URL, no token').choices([...CLIENTS, ...CONNECTOR_CLIENTS]).makeOptionMandatory())
    .addOption(new Option('--transport <transport>', 'http: through the gateway with a token; stdio: the client starts a local stdio server on this machine\'s database (no token; absolute paths, so any working folder works)').choices(TRANSPORTS).default('http'))
    .requiredOption('--tenant <id>', 'the tenant the device belongs to')
    .option('--device <name>', 'the device, e.g. alice-laptop (one token per device, so one can be revoked alone); required with --transport http')
    .option('--url <url>', 'the gateway address clients use (default: PUBLIC_URL, else http://HOST:PORT)')
    .option('--name <name>', 'the server name in the client config', DEFAULT_SERVER_NAME)
    .option('--scope <scopes>', 'space-separated scopes: read, write, admin', 'read write')
    .option('--ttl <duration>', `token lifetime, e.g. 30d or 180d; at most 365d. A config file cannot refresh its token, so the default is ${CLIENT_TOKEN_TTL} rather than ACCESS_TOKEN_TTL. For claude-connector and chatgpt: how long the enrolment code can be used (default ${DEFAULT_ENROLMENT_TTL}, at most 24h)`)
    .option('--write', "merge the entry into the client's config file (a timestamped backup of the old file is kept; claude-code: prints the command to run instead)")
    .option('--config-file <path>', 'with --write: the file to merge into, instead of the client\'s usual one')
    .option('--json', 'print JSON: token, jti, expiry and the config')
    .addHelpText(
      'after',
      `
Config files --write merges into:
  claude-desktop  macOS ~/Library/Application Support/Claude/claude_desktop_config.json,
                  Windows %APPDATA%\\Claude\\claude_desktop_config.json, Linux ~/.config/Claude/claude_desktop_config.json
  cursor          ~/.cursor/mcp.json
  vscode          .vscode/mcp.json in the current folder

Example:
  falkordb-mcp-gateway client-config --client claude-desktop --tenant acme --device alice-laptop --url https://gateway.example.com
  falkordb-mcp-gateway client-config --client claude-desktop --transport stdio --tenant acme
  falkordb-mcp-gateway client-config --client claude-connector --tenant acme --device alice-phone`,
    )
    .action((options: ClientConfigOptions) =>
      runCommand(async () => {
        try {
          await clientConfig(options);
        } catch (error) {
          if (!(error instanceof ConfigFileRefused)) throw error;
          process.stderr.write(`${PRODUCT_ID}: ${error.message}\n`);
          process.exitCode = EXIT.failure;
        }
      }),
    );
}
