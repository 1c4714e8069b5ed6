// `device enrol`: a one-time code with which a connector (Claude, ChatGPT) signs
// a device of a tenant in through the gateway's sign-in page, instead of a token.

import type { Command } from 'commander';
import { createEnrolment } from '../auth/enrol.js';
import { validateDeviceName } from '../tenancy/device-name.js';
import { parseGraphPatterns } from '../tenancy/graph-rules.js';
import { parseScopeList, type Scope } from '../tenancy/scopes.js';
import { DURATION_FORMS, formatDuration, parseDuration } from '../duration.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { MAX_ENROLMENT_TTL_SEC, type EnrolmentRecord } from '../state/enrolments.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { cliIssuer, withCliContext, type CliContext } from './context.js';
import { gatewayBaseUrl } from './gateway-url.js';
import { isoSeconds, printJson, printLines } from './output.js';
import { runCommand } from './run.js';

export const DEFAULT_ENROLMENT_TTL = '15m';

export interface EnrolmentRequest {
  tenant: string;
  device: string;
  scopes: readonly Scope[];
  graphs?: readonly string[];
  ttlSec: number;
}

/** --ttl as an enrolment code's lifetime: a duration, at most 24 h. */
export function enrolmentTtl(value: string): number {
  const seconds = parseDuration(value);
  if (seconds > MAX_ENROLMENT_TTL_SEC) {
    throw new GatewayError('REQUEST_INVALID', `--ttl ${value} is longer than ${formatDuration(MAX_ENROLMENT_TTL_SEC)}, the most an enrolment code may live: it is meant to be typed within minutes. Give e.g. --ttl 15m (forms: ${DURATION_FORMS}), and make a new code if it runs out.`);
  }
  return seconds;
}

/** Every check of what was typed, before anything opens the database. */
export function enrolmentRequest(options: { tenant: string; device?: string; scope: string; graphs?: string[]; ttl: string }): EnrolmentRequest {
  const tenant = validateTenantId(options.tenant);
  if (options.device === undefined) throw new GatewayError('REQUEST_INVALID', '--device is needed: the code enrols one device (e.g. --device alice-phone), so it can be cut off alone later.');
  return {
    tenant,
    device: validateDeviceName(options.device),
    scopes: parseScopeList(options.scope),
    ...(options.graphs === undefined ? {} : { graphs: parseGraphPatterns(options.graphs) }),
    ttlSec: enrolmentTtl(options.ttl),
  };
}

/**
 * Makes the code, once the gateway is known to sign its own tokens (the sign-in
 * page issues them) and any running gateway accepts this environment's; the URL
 * is the one to add in the client.
 */
export async function enrolDevice(ctx: CliContext, request: EnrolmentRequest, url: string | undefined): Promise<{ code: string; record: EnrolmentRecord; url: string }> {
  const mcpUrl = `${gatewayBaseUrl(url, ctx.config)}/mcp`;
  try {
    await cliIssuer(ctx);
  } catch (error) {
    if (!isGatewayError(error) || error.code !== 'CONFIG_INVALID') throw error;
    throw new GatewayError(
      'CONFIG_INVALID',
      'No enrolment code was made: this gateway does not sign its own tokens, so its sign-in page cannot enrol a device. Set AUTH_SIGNING_KEY_FILE (make one with `falkordb-mcp-gateway keys generate --out signing.pem`) as the gateway has it; with an identity provider (AUTH_JWKS_URL), connectors sign in there instead.',
      { variable: 'AUTH_SIGNING_KEY_FILE' },
    );
  }
  const created = await createEnrolment({ state: ctx.state, requireRegistration: ctx.config.tenants.requireRegistration }, { ...request, createdBy: 'cli' });
  return { ...created, url: mcpUrl };
}

/** Connectors are added from a web page run by Claude or OpenAI: they reach only a public https address. */
export function warnUnlessHttps(url: string): void {
  if (new URL(url).protocol === 'https:') return;
  process.stderr.write(`Warning: ${url} is not https. Claude's and ChatGPT's connectors connect from their own servers and need a public https URL: set PUBLIC_URL (or pass --url) to the address they reach, e.g. https://gateway.example.com.\n`);
}

/** `{code, tenant, device, scopes, graphs?, expiresAt, url}`; expiresAt in ISO 8601. */
export function enrolmentJson(code: string, record: EnrolmentRecord, url: string): Record<string, unknown> {
  return {
    code,
    tenant: record.tenant,
    device: record.device,
    scopes: record.scopes,
    ...(record.graphs === undefined ? {} : { graphs: record.graphs }),
    expiresAt: isoSeconds(record.expiresAt),
    url,
  };
}

/** What the code grants and until when, as the first lines of any printed enrolment. */
export function enrolmentSummary(code: string, record: EnrolmentRecord): string[] {
  const graphs = record.graphs === undefined ? '' : `, graphs ${record.graphs.join(',')}`;
  return [
    `Enrolment code for tenant "${record.tenant}", device "${record.device}", scopes ${record.scopes.join(' ')}${graphs}:`,
    '',
    `    ${code}`,
    '',
    `It works once, until ${isoSeconds(record.expiresAt)} (${formatDuration(record.expiresAt - record.createdAt)}).`,
  ];
}

interface EnrolOptions {
  tenant: string;
  device?: string;
  scope: string;
  graphs?: string[];
  ttl: string;
  url?: string;
  json?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function enrol(options: EnrolOptions): Promise<void> {
  const request = enrolmentRequest(options);
  await withCliContext(process.env, async (ctx) => {
    const { code, record, url } = await enrolDevice(ctx, request, options.url);
    warnUnlessHttps(url);
    if (options.json) {
      printJson(enrolmentJson(code, record, url));
      return;
    }
    printLines(
      ...enrolmentSummary(code, record),
      `URL:     ${url}`,
      '',
      `Add ${url} as a custom connector, then enter this code when asked.`,
      '',
      'Once signed in, `token list` shows the device; cut it off with `token revoke --device NAME --tenant ID`.',
    );
  });
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('Enrol devices whose MCP client signs in through the gateway (Claude and ChatGPT connectors).');

  device
    .command('enrol')
    .description('Make a one-time enrolment code for one device of a tenant: add the printed URL as a custom connector in the client, then enter the code on the sign-in page. The code is stored only hashed, works once, on every instance, until it expires. Needs the gateway to sign its own tokens (AUTH_SIGNING_KEY_FILE, or dev mode).')
    .requiredOption('--tenant <id>', 'the tenant the device belongs to')
    .requiredOption('--device <name>', 'the device, e.g. alice-phone, so it can be revoked alone')
    .option('--scope <scopes>', 'space-separated scopes the device gets: read, write, admin', 'read write')
    .option('--graphs <patterns>', "limit the device to graphs matching these patterns (`*` matches any run of characters, e.g. 'reports_*'); repeatable or comma-separated (default: every graph the tenant allows)", collect)
    .option('--ttl <duration>', `how long the code can be used, e.g. 10m, 1h; at most ${formatDuration(MAX_ENROLMENT_TTL_SEC)}`, DEFAULT_ENROLMENT_TTL)
    .option('--url <url>', 'the gateway address clients use (default: PUBLIC_URL, else http://HOST:PORT)')
    .option('--json', 'print {code, tenant, device, scopes, graphs, expiresAt, url}')
    .addHelpText('after', '\nExample:\n  falkordb-mcp-gateway device enrol --tenant acme --device alice-phone --scope "read write"')
    .action((options: EnrolOptions) => runCommand(() => enrol(options)));
}
