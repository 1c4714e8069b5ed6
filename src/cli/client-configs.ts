// Ready-to-paste client configurations for a gateway URL and a token, or for
// a local stdio server: the shapes each MCP client reads, shared by
// `client-config` and the dev banner.

import { PRODUCT_NAME } from '../product.js';
import type { StdioLaunch } from './stdio-launch.js';

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'generic'] as const;
export type ClientKind = (typeof CLIENTS)[number];

/** Clients added by URL in a web UI that sign in through OAuth: they get an enrolment code, never a token. */
export const CONNECTOR_CLIENTS = ['claude-connector', 'chatgpt'] as const;
export type ConnectorKind = (typeof CONNECTOR_CLIENTS)[number];

export function isConnectorClient(client: string): client is ConnectorKind {
  return (CONNECTOR_CLIENTS as readonly string[]).includes(client);
}

export interface ClientConfigInput {
  /** The MCP endpoint, e.g. http://127.0.0.1:3003/mcp */
  mcpUrl: string;
  token: string;
  name?: string;
  /** The header the gateway reads the token from (AUTH_HEADER_NAME); `Authorization` when left out. */
  headerName?: string;
}

export const DEFAULT_SERVER_NAME = 'falkordb';

/** Quotes a value for POSIX shells; values made only of safe characters stay bare, so commands read naturally. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes a value for PowerShell: single quotes are literal there, a quote inside is doubled. */
export function powerShellQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}

/** The legacy HTTP+SSE URL with the token on it, for clients that cannot set headers. */
export function sseTokenUrl(mcpUrl: string, token: string): string {
  return `${mcpUrl.replace(/\/mcp$/, '')}/sse/?token=${encodeURIComponent(token)}`;
}

/** The arguments after `claude`. */
export function claudeCodeArgs({ mcpUrl, token, name = DEFAULT_SERVER_NAME, headerName = 'Authorization' }: ClientConfigInput): string[] {
  return ['mcp', 'add', '--transport', 'http', name, mcpUrl, '--header', `${headerName}: Bearer ${token}`];
}

export function claudeCodeCommand(input: ClientConfigInput): string {
  return ['claude', ...claudeCodeArgs(input).map(shellQuote)].join(' ');
}

export function claudeCodePowerShell(input: ClientConfigInput): string {
  return ['claude', ...claudeCodeArgs(input).map((a) => (/^[A-Za-z0-9_./:-]+$/.test(a) ? a : powerShellQuote(a)))].join(' ');
}

/** mcp-remote accepts plain http only for localhost and 127.0.0.1 unless told otherwise. */
function mcpRemoteNeedsAllowHttp(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'http:' && parsed.hostname !== 'localhost' && parsed.hostname !== '127.0.0.1';
}

/**
 * Claude Desktop starts mcp-remote; the header lives in env, because a header
 * argument with a space in it is split apart on Windows before mcp-remote sees it.
 */
export function claudeDesktopEntry({ mcpUrl, token, headerName = 'Authorization' }: ClientConfigInput): Record<string, unknown> {
  const allowHttp = mcpRemoteNeedsAllowHttp(mcpUrl) ? ['--allow-http'] : [];
  return {
    command: 'npx',
    args: ['-y', 'mcp-remote', mcpUrl, '--header', `${headerName}:\${AUTH_HEADER}`, ...allowHttp],
    env: { AUTH_HEADER: `Bearer ${token}` },
  };
}

/** The fallback for setups where the header gets lost: the token on the legacy SSE URL. */
export function claudeDesktopSseEntry({ mcpUrl, token }: ClientConfigInput): Record<string, unknown> {
  const allowHttp = mcpRemoteNeedsAllowHttp(mcpUrl) ? ['--allow-http'] : [];
  return { command: 'npx', args: ['-y', 'mcp-remote', sseTokenUrl(mcpUrl, token), '--transport', 'sse-only', ...allowHttp] };
}

export function claudeDesktopConfig(input: ClientConfigInput): Record<string, unknown> {
  return { mcpServers: { [input.name ?? DEFAULT_SERVER_NAME]: claudeDesktopEntry(input) } };
}

/** Cursor's and VS Code's mcp.json entry (VS Code also wants the transport type). */
export function mcpJsonEntry({ mcpUrl, token, headerName = 'Authorization' }: ClientConfigInput, flavour: 'cursor' | 'vscode'): Record<string, unknown> {
  const entry = { url: mcpUrl, headers: { [headerName]: `Bearer ${token}` } };
  return flavour === 'vscode' ? { type: 'http', ...entry } : entry;
}

/** Cursor's and VS Code's mcp.json (VS Code names the key `servers`). */
export function mcpJsonConfig(input: ClientConfigInput, flavour: 'cursor' | 'vscode'): Record<string, unknown> {
  return { [flavour === 'vscode' ? 'servers' : 'mcpServers']: { [input.name ?? DEFAULT_SERVER_NAME]: mcpJsonEntry(input, flavour) } };
}

/** What one client needs: a config file entry, a command to run, or plain connection facts. */
export interface RenderedClientConfig {
  /** The whole snippet to paste; `config[section][name]` is the entry --write merges. */
  config?: Record<string, unknown>;
  section?: 'mcpServers' | 'servers';
  entry?: Record<string, unknown>;
  /** Claude Desktop: a second snippet that works where the first cannot. */
  alternative?: Record<string, unknown>;
  command?: { posix: string; powershell: string };
  connection?: { url: string; header: string; token: string; sseUrl: string };
  /** A stdio server: what the client runs (generic). */
  launch?: StdioLaunch;
}

export function renderClientConfig(client: ClientKind, input: ClientConfigInput): RenderedClientConfig {
  const name = input.name ?? DEFAULT_SERVER_NAME;
  switch (client) {
    case 'claude-desktop': {
      const entry = claudeDesktopEntry(input);
      return { config: { mcpServers: { [name]: entry } }, section: 'mcpServers', entry, alternative: { mcpServers: { [name]: claudeDesktopSseEntry(input) } } };
    }
    case 'claude-code':
      return { command: { posix: claudeCodeCommand(input), powershell: claudeCodePowerShell(input) } };
    case 'cursor':
    case 'vscode': {
      const entry = mcpJsonEntry(input, client);
      const section = client === 'vscode' ? 'servers' : 'mcpServers';
      return { config: { [section]: { [name]: entry } }, section, entry };
    }
    case 'generic':
      return { connection: { url: input.mcpUrl, header: `${input.headerName ?? 'Authorization'}: Bearer ${input.token}`, token: input.token, sseUrl: sseTokenUrl(input.mcpUrl, input.token) } };
  }
}

/** The steps in a connector host's UI that add the gateway by URL and sign in with an enrolment code. */
export function connectorSteps(client: ConnectorKind, { mcpUrl, code, name = DEFAULT_SERVER_NAME }: { mcpUrl: string; code: string; name?: string }): { title: string; steps: string[]; note: string } {
  switch (client) {
    case 'claude-connector':
      return {
        title: "Claude (claude.ai, Claude Desktop and Claude's mobile apps)",
        steps: [
          'In claude.ai or Claude Desktop, open Settings → Connectors → Add custom connector (on a Team or Enterprise plan an owner adds it under the organisation\'s settings first).',
          `Name it ${name} and paste the URL: ${mcpUrl}`,
          'Add it, then Connect: the gateway\'s sign-in page opens in the browser.',
          `Enter code ${code} on the sign-in page, check the tenant, device and scopes it shows, and approve.`,
        ],
        note: "Claude Desktop and Claude's mobile apps share the connectors of the account: once connected on one, the others have it too.",
      };
    case 'chatgpt':
      return {
        title: 'ChatGPT (connectors)',
        steps: [
          'In ChatGPT, open Settings → Connectors (Apps & Connectors) → Advanced, and turn on developer mode.',
          `Create a connector: name ${name}, MCP server URL ${mcpUrl}, authentication OAuth; confirm that you trust it and create it.`,
          'ChatGPT opens the gateway\'s sign-in page.',
          `Enter code ${code} on the sign-in page, check the tenant, device and scopes it shows, and approve.`,
        ],
        note: 'The connector then appears in the tools of a chat; it belongs to the ChatGPT account that added it.',
      };
  }
}

/** The arguments after `claude` that add a stdio server; its options come before the name, the command after `--`. */
export function claudeCodeStdioArgs(launch: StdioLaunch, name = DEFAULT_SERVER_NAME): string[] {
  const env = Object.entries(launch.env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  return ['mcp', 'add', '--transport', 'stdio', ...env, name, '--', launch.command, ...launch.args];
}

/** A client that starts the stdio server itself; VS Code also wants the transport type. */
export function stdioEntry(launch: StdioLaunch, flavour: 'mcpServers' | 'vscode'): Record<string, unknown> {
  const entry = { command: launch.command, args: [...launch.args], env: { ...launch.env } };
  return flavour === 'vscode' ? { type: 'stdio', ...entry } : entry;
}

export function renderStdioClientConfig(client: ClientKind, launch: StdioLaunch, name = DEFAULT_SERVER_NAME): RenderedClientConfig {
  switch (client) {
    case 'claude-desktop':
    case 'cursor': {
      const entry = stdioEntry(launch, 'mcpServers');
      return { config: { mcpServers: { [name]: entry } }, section: 'mcpServers', entry };
    }
    case 'vscode': {
      const entry = stdioEntry(launch, 'vscode');
      return { config: { servers: { [name]: entry } }, section: 'servers', entry };
    }
    case 'claude-code': {
      const args = claudeCodeStdioArgs(launch, name);
      // PowerShell would take a bare `--` for itself when `claude` is its .ps1 shim.
      const powershell = ['claude', ...args.map((a) => (/^[A-Za-z0-9_./:-]+$/.test(a) && a !== '--' ? a : powerShellQuote(a)))].join(' ');
      return { command: { posix: ['claude', ...args.map(shellQuote)].join(' '), powershell } };
    }
    case 'generic':
      return { launch };
  }
}

export function devBanner(input: ClientConfigInput & { version: string; database: string; tenant: string; scopes: string; ttlHours: number }): string {
  const json = (value: object) => JSON.stringify(value, null, 2);
  return [
    '',
    `${PRODUCT_NAME} ${input.version} is running in dev mode (it signs its own tokens; loopback only).`,
    `  MCP endpoint:   ${input.mcpUrl}`,
    `  Legacy SSE:     ${input.mcpUrl.replace(/\/mcp$/, '/sse')}`,
    `  Database:       ${input.database}`,
    '',
    `Demo token (tenant "${input.tenant}", scopes ${input.scopes}, valid ${input.ttlHours} h):`,
    input.token,
    '',
    'Claude Code:',
    claudeCodeCommand(input),
    '',
    'Claude Desktop (claude_desktop_config.json):',
    json(claudeDesktopConfig(input)),
    '',
    'Cursor (.cursor/mcp.json):',
    json(mcpJsonConfig(input, 'cursor')),
    '',
    'VS Code (.vscode/mcp.json):',
    json(mcpJsonConfig(input, 'vscode')),
    '',
    'A config for one device, with a longer-lived token: falkordb-mcp-gateway client-config --client claude-desktop --tenant ID --device NAME',
    '',
  ].join('\n');
}
