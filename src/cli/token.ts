// `token issue | list | inspect | revoke | refresh`: the lifecycle of the
// gateway's own tokens, against the same shared state every instance reads.

import type { Command } from 'commander';
import { decodeJwt } from 'jose';
import { validateDeviceName } from '../tenancy/device-name.js';
import { parseGraphPatterns } from '../tenancy/graph-rules.js';
import { inspectToken } from '../auth/inspect.js';
import type { IssuedTokens } from '../auth/issue.js';
import { parseScopeList } from '../tenancy/scopes.js';
import { parseDuration } from '../duration.js';
import { GatewayError } from '../errors.js';
import { looksLikeRefreshToken } from '../state/refresh.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { cliIssuer, cliVerifier, mustKnowTenant, withCliContext, type CliContext } from './context.js';
import { formatTable, isoSeconds, printJson, printLines, tokenArgument } from './output.js';
import { EXIT, runCommand } from './run.js';

/** Longest lifetime `token issue --ttl` accepts. */
const MAX_TTL_SEC = 365 * 24 * 3600;

function tokenJson(issued: IssuedTokens): Record<string, unknown> {
  return {
    access_token: issued.accessToken,
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken }),
    token_type: 'Bearer',
    expires_in: issued.expiresIn,
    jti: issued.jti,
    tenant: issued.tenant,
    ...(issued.device === undefined ? {} : { device: issued.device }),
    scope: issued.scopes.join(' '),
    ...(issued.graphs === undefined ? {} : { graphs: issued.graphs }),
  };
}

/** Repeatable option, kept as typed (parseGraphPatterns splits comma-separated lists). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function ttlOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDuration(value);
  if (seconds > MAX_TTL_SEC) throw new GatewayError('REQUEST_INVALID', `--ttl ${value} is longer than a year; give a shorter lifetime and use refresh tokens (--json) for long-lived devices.`);
  return seconds;
}

interface IssueOptions {
  tenant: string;
  scope: string;
  ttl?: string;
  device?: string;
  graphs?: string[];
  json?: boolean;
}

async function issue(options: IssueOptions): Promise<void> {
  const request = {
    tenant: validateTenantId(options.tenant),
    scopes: parseScopeList(options.scope),
    ttlSec: ttlOption(options.ttl),
    ...(options.device === undefined ? {} : { device: validateDeviceName(options.device) }),
    ...(options.graphs === undefined ? {} : { graphs: parseGraphPatterns(options.graphs) }),
  };
  await withCliContext(process.env, async (ctx) => {
    const issuer = await cliIssuer(ctx);
    const issued = await issuer.issue({ ...request, withRefresh: options.json === true, actor: 'cli' });
    if (options.json) printJson(tokenJson(issued));
    else printLines(issued.accessToken);
    // On stderr, so that stdout stays the token alone.
    if (request.device === undefined) {
      process.stderr.write(`Note: this token names no device, so \`token revoke --device\` cannot cut it off; revoke it by its jti (token revoke --jti ${issued.jti}) or with every token of the tenant. Give --device NAME to issue one per device.\n`);
    }
  });
}

async function list(options: { tenant: string; json?: boolean }): Promise<void> {
  const tenant = validateTenantId(options.tenant);
  await withCliContext(process.env, async (ctx) => {
    await mustKnowTenant(ctx, tenant);
    const tokens = await ctx.state.ledger.listTenant(tenant);
    const families = await ctx.state.refresh.listTenant(tenant);
    if (options.json) {
      printJson({ tenant, tokens, refreshTokens: families.map(({ id: _id, ...family }) => family) });
      return;
    }
    if (tokens.length === 0 && families.length === 0) {
      printLines(`Tenant "${tenant}" has no unexpired tokens issued by this gateway.`);
      return;
    }
    const rows = tokens.map((t) => [
      t.device ?? '-',
      t.jti,
      t.scopes.join(' '),
      t.graphs === undefined ? '*' : t.graphs.join(',') || 'none',
      isoSeconds(t.issuedAt),
      isoSeconds(t.expiresAt),
      t.lastUsedAt === undefined ? 'never' : isoSeconds(Math.floor(t.lastUsedAt / 1000)),
      t.revoked === undefined ? 'valid' : 'revoked',
    ]);
    printLines(`Access tokens of tenant "${tenant}":`, formatTable(['DEVICE', 'JTI', 'SCOPES', 'GRAPHS', 'ISSUED', 'EXPIRES', 'LAST USED', 'STATUS'], rows));
    if (families.length > 0) {
      const familyRows = families.map((f) => [f.device ?? '-', f.scopes.join(' '), isoSeconds(f.createdAt), isoSeconds(f.expiresAt), f.revokedAt === undefined ? 'valid' : `revoked (${f.revokedReason ?? ''})`]);
      printLines('', 'Refresh tokens (one chain per device):', formatTable(['DEVICE', 'SCOPES', 'FIRST ISSUED', 'EXPIRES', 'STATUS'], familyRows));
    }
  });
}

async function inspect(value: string, options: { json?: boolean }): Promise<void> {
  const token = await tokenArgument(value);
  const result = await withCliContext(process.env, async (ctx) => {
    const { verifier, policy } = await cliVerifier(ctx);
    return inspectToken(token, { verifier, policy, state: ctx.state, tenantClaim: ctx.config.auth.tenantClaim });
  });
  if (options.json) {
    printJson(result);
  } else {
    const c = result.claims;
    const rows: Array<[string, string | undefined]> = [
      ['kind', result.kind === 'refresh' ? 'refresh token' : result.kind === 'access' ? 'access token (JWT)' : 'unknown'],
      ['valid', result.valid ? 'yes' : 'no'],
      ['why', result.reason],
      ['tenant', c.tenant],
      ['subject', c.subject !== c.tenant ? c.subject : undefined],
      ['device', c.device],
      ['scopes', c.scopes],
      ['graphs', c.graphs],
      ['jti', c.jti],
      ['issuer', c.issuer],
      ['audience', c.audience],
      ['issued', c.issuedAt === undefined ? undefined : isoSeconds(c.issuedAt)],
      ['expires', c.expiresAt === undefined ? undefined : isoSeconds(c.expiresAt)],
      ['signed with', c.alg === undefined ? undefined : `${c.alg}${c.kid === undefined ? '' : ` (kid ${c.kid})`}`],
    ];
    printLines(...rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`));
  }
  if (!result.valid) process.exitCode = EXIT.failure;
}

interface RevokeOptions {
  jti?: string;
  tenant?: string;
  device?: string;
  force?: boolean;
  json?: boolean;
}

function unknownJti(jti: string): GatewayError {
  return new GatewayError(
    'TOKEN_NOT_FOUND',
    `No unexpired token with jti "${jti}" was issued by this gateway, so nothing was revoked. See the real ones with \`falkordb-mcp-gateway token list --tenant ID\`; to revoke the jti of a token another issuer signed (an identity provider), add --force (that revocation is kept for good).`,
  );
}

async function revokeTokenValue(ctx: CliContext, token: string): Promise<{ revoked: string; detail: Record<string, unknown> }> {
  if (looksLikeRefreshToken(token)) {
    const found = await ctx.state.refresh.peek(token);
    if (found === undefined) throw new GatewayError('REQUEST_INVALID', 'This refresh token is unknown to the gateway or has expired; there is nothing to revoke.');
    const count = await ctx.state.refresh.revokeFamily(found.record.family, 'revoked by operator');
    return { revoked: `the refresh token of tenant "${found.record.tenant}"${found.record.device ? `, device "${found.record.device}"` : ''}, and the ${count} access token(s) issued from it`, detail: { tenant: found.record.tenant, device: found.record.device, accessTokens: count } };
  }
  let payload;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new GatewayError('REQUEST_INVALID', 'This is not a token of this gateway (neither a JWT nor a refresh token); check what was pasted.');
  }
  if (typeof payload.jti !== 'string' || payload.jti === '') {
    throw new GatewayError('REQUEST_INVALID', 'This token has no "jti", so it cannot be revoked alone; revoke its device (--device NAME --tenant ID) or its tenant (--tenant ID).');
  }
  const tenant = typeof payload[ctx.config.auth.tenantClaim] === 'string' ? (payload[ctx.config.auth.tenantClaim] as string) : undefined;
  await ctx.state.ledger.revokeJti(payload.jti, typeof payload.exp === 'number' ? payload.exp : undefined);
  return { revoked: `token ${payload.jti}${tenant === undefined ? '' : ` of tenant "${tenant}"`}`, detail: { jti: payload.jti, tenant } };
}

async function revoke(value: string | undefined, options: RevokeOptions): Promise<void> {
  const chosen = [value !== undefined, options.jti !== undefined, options.device !== undefined || options.tenant !== undefined].filter(Boolean).length;
  if (chosen !== 1) {
    throw new GatewayError('REQUEST_INVALID', 'Say what to revoke, one of: a TOKEN, --jti ID, --device NAME --tenant ID, or --tenant ID.');
  }
  if (options.device !== undefined && options.tenant === undefined) throw new GatewayError('REQUEST_INVALID', '--device needs --tenant: device names are per tenant.');
  const token = value === undefined ? undefined : await tokenArgument(value);
  await withCliContext(process.env, async (ctx) => {
    let outcome: { revoked: string; detail: Record<string, unknown> };
    if (token !== undefined) {
      outcome = await revokeTokenValue(ctx, token);
    } else if (options.jti !== undefined) {
      const issued = await ctx.state.ledger.get(options.jti);
      if (issued === undefined && options.force !== true) throw unknownJti(options.jti);
      await ctx.state.ledger.revokeJti(options.jti, issued?.expiresAt);
      outcome = {
        revoked: issued === undefined ? `token ${options.jti} (not issued by this gateway; the revocation is kept until removed)` : `token ${options.jti} of tenant "${issued.tenant}"`,
        detail: { jti: options.jti, tenant: issued?.tenant },
      };
    } else if (options.device !== undefined) {
      const tenant = validateTenantId(options.tenant);
      const device = validateDeviceName(options.device);
      if (options.force !== true) await mustKnowTenant(ctx, tenant, '--force');
      const cutoff = await ctx.state.ledger.revokeDevice(tenant, device);
      outcome = { revoked: `every token of device "${device}" of tenant "${tenant}" issued up to ${isoSeconds(cutoff)}`, detail: { tenant, device, issuedUpTo: cutoff } };
    } else {
      const tenant = validateTenantId(options.tenant);
      if (options.force !== true) await mustKnowTenant(ctx, tenant, '--force');
      const cutoff = await ctx.state.ledger.revokeTenant(tenant);
      outcome = { revoked: `every token of tenant "${tenant}" issued up to ${isoSeconds(cutoff)}`, detail: { tenant, issuedUpTo: cutoff } };
    }
    const d = outcome.detail;
    await ctx.state.audit.record({
      event: 'token_revoked',
      actor: 'cli',
      detail: outcome.revoked,
      ...(typeof d['tenant'] === 'string' ? { tenant: d['tenant'] } : {}),
      ...(typeof d['device'] === 'string' ? { device: d['device'] } : {}),
      ...(typeof d['jti'] === 'string' ? { jti: d['jti'] } : {}),
    });
    if (options.json) printJson({ revoked: true, ...outcome.detail });
    else printLines(`Revoked ${outcome.revoked}. Every gateway instance refuses it within 1 second.`);
  });
}

async function refresh(value: string): Promise<void> {
  const token = await tokenArgument(value);
  await withCliContext(process.env, async (ctx) => {
    const issuer = await cliIssuer(ctx);
    printJson(tokenJson(await issuer.refresh(token, undefined, 'cli', 'operator')));
  });
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('Issue, list, inspect, revoke and refresh the tokens this gateway signs (AUTH_SIGNING_KEY_FILE, or the dev key).');

  token
    .command('issue')
    .description('Sign an access token for one device of a tenant; prints the token alone, or with --json also a refresh token.')
    .requiredOption('--tenant <id>', 'the tenant the token is for')
    .option('--scope <scopes>', 'space-separated scopes: read, write, admin', 'read write')
    .option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 24h, 7d (default: ACCESS_TOKEN_TTL)')
    .option('--device <name>', 'device the token is for (e.g. alice-laptop), so it can be revoked alone; without it, stderr says the token cannot be revoked by device')
    .option('--graphs <patterns>', "limit the token to graphs matching these patterns (`*` matches any run of characters, e.g. 'reports_*'); repeatable or comma-separated (default: every graph the tenant allows)", collect)
    .option('--json', 'print {access_token, refresh_token, token_type, expires_in, jti, ...}')
    .action((options: IssueOptions) => runCommand(() => issue(options)));

  token
    .command('list')
    .description("List a tenant's unexpired tokens and refresh chains (device, jti, scopes, issued, expires, last used), never the tokens themselves. A tenant unknown to this database (not registered, no graphs, tokens or audit events) is an error, exit 1.")
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--json', 'print JSON')
    .action((options: { tenant: string; json?: boolean }) => runCommand(() => list(options)));

  token
    .command('inspect')
    .argument('<token>', 'the token (access or refresh); - reads it from stdin')
    .description('Decode and check a token the way the gateway would, and say in plain words whether it is valid and why not. Exit code 0 when valid, 1 when not.')
    .option('--json', 'print JSON')
    .action((value: string, options: { json?: boolean }) => runCommand(() => inspect(value, options)));

  token
    .command('revoke')
    .argument('[token]', 'the token to revoke (access or refresh); - reads it from stdin')
    .description('Revoke one token, a token by --jti, every token of a device (--device NAME --tenant ID), or every token of a tenant issued until now (--tenant ID). Every instance refuses it within 1 second.')
    .option('--jti <id>', 'the jti of the token to revoke')
    .option('--device <name>', 'revoke every token of this device (with --tenant)')
    .option('--tenant <id>', 'revoke every token of this tenant (or, with --device, of that device)')
    .option('--force', 'revoke even a jti this gateway did not issue (a token of an identity provider; kept for good), or a tenant it knows nothing of; without it, an unknown jti or tenant is an error (exit 1)')
    .option('--json', 'print JSON')
    .action((value: string | undefined, options: RevokeOptions) => runCommand(() => revoke(value, options)));

  token
    .command('refresh')
    .argument('<refresh-token>', 'a refresh token from `token issue --json`; - reads it from stdin')
    .description('Exchange a refresh token for a new access token and a new refresh token (the old one stops working); prints JSON.')
    .action((value: string) => runCommand(() => refresh(value)));
}
