// Ready-to-paste client configurations for a gateway URL and a token.

export interface ClientConfigInput {
  /** The MCP endpoint, e.g. http://127.0.0.1:3003/mcp */
  mcpUrl: string;
  token: string;
  name?: string;
}

/** Single-quotes a value for POSIX shells. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function claudeCodeCommand({ mcpUrl, token, name = 'falkordb' }: ClientConfigInput): string {
  return `claude mcp add --transport http ${shellQuote(name)} ${shellQuote(mcpUrl)} --header ${shellQuote(`Authorization: Bearer ${token}`)}`;
}

/** Claude Desktop runs mcp-remote; the header lives in env, the form that survives its argument handling. */
export function claudeDesktopConfig({ mcpUrl, token, name = 'falkordb' }: ClientConfigInput): object {
  return {
    mcpServers: {
      [name]: {
        command: 'npx',
        args: ['-y', 'mcp-remote', mcpUrl, '--header', 'Authorization:${AUTH_HEADER}'],
        env: { AUTH_HEADER: `Bearer ${token}` },
      },
    },
  };
}

/** Cursor's and VS Code's mcp.json entries (VS Code names the key `servers`). */
export function mcpJsonConfig({ mcpUrl, token, name = 'falkordb' }: ClientConfigInput, flavour: 'cursor' | 'vscode'): object {
  const entry = { url: mcpUrl, headers: { Authorization: `Bearer ${token}` } };
  return flavour === 'vscode' ? { servers: { [name]: { type: 'http', ...entry } } } : { mcpServers: { [name]: entry } };
}

export function devBanner(input: ClientConfigInput & { version: string; database: string; tenant: string; scopes: string; ttlHours: number }): string {
  const json = (value: object) => JSON.stringify(value, null, 2);
  return [
    '',
    `FalkorDB MCP Gateway ${input.version} is running in dev mode (it signs its own tokens; loopback only).`,
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
  ].join('\n');
}
