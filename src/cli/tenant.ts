// `tenant add | list | show | set | disable | enable | remove | usage`: the tenant registry
// every instance reads, with a tenant's own key, allowed addresses, its end, and its usage.
//
// One file over 300 lines: the one `tenant` command, whose subcommands share the option
// parsing and the printing of a record.

import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { describeGraphRules, parseGraphPatterns } from '../tenancy/graph-rules.js';
import { readPublicKeyFile } from '../auth/keys.js';
import { SCOPES, isScope, type Scope } from '../tenancy/scopes.js';
import { createCacheVersions } from '../cache/versions.js';
import { measureTenantStorage, storageQuotaOf } from '../admission/storage-quota.js';
import { GatewayError } from '../errors.js';
import { graphsStorageBytes } from '../falkordb/storage.js';
import { tenantUsersFor } from '../falkordb/acl.js';
import { recentDays } from '../observability/usage-counters.js';
import { readUsageRows, tenantsWithUsage } from '../observability/usage-read.js';
import { activeMove, validateJwksUrl, type NewTenant, type TenantRecord } from '../state/tenants.js';
import { DEFAULT_TARGET } from '../config/index.js';
import { targetConfig, unknownTarget } from '../placement.js';
import { tenantGraphsAmong, tenantKeyPrefix } from '../tenancy/keys.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { databaseOf, tenantDatabase, withCliContext, type CliContext, type TenantDatabase } from './context.js';
import { formatTable, isoSeconds, printJson, printLines } from './output.js';
import { runCommand } from './run.js';
import { formatSize, parseSize, SIZE_FORMS } from '../size.js';
import { registerTenantMoveCommand } from './tenant-move.js';
import { registerTenantTransferCommands } from './tenant-transfer.js';

interface AddOptions {
  publicKey?: string;
  jwksUrl?: string;
  issuer?: string;
  plan?: string;
  allowIp: string[];
  storageQuota?: string;
  database?: string;
  json?: boolean;
}

/** Repeatable option; a comma-separated list counts as several entries. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter((v) => v !== '')];
}

/** The record without its PEM: long, and the kid already says which key it is. */
function publicView({ publicKeyPem: _pem, ...rest }: TenantRecord): Omit<TenantRecord, 'publicKeyPem'> {
  return rest;
}

const atSeconds = (ms: number | undefined) => isoSeconds(ms === undefined ? undefined : Math.floor(ms / 1000));

/** The graph rules in one line: `read: every graph; write: sales_*; admin: none`. */
function graphRulesLabel(record: TenantRecord): string {
  return describeGraphRules(record.graphRules).map(([scope, graphs]) => `${scope}: ${graphs}`).join('; ');
}

function keyLabel(record: TenantRecord): string {
  if (record.publicKeyKid !== undefined) return `kid:${record.publicKeyKid}`;
  if (record.jwksUrl !== undefined) return `jwks:${record.jwksUrl}`;
  return 'gateway';
}

const STORAGE_QUOTA_HELP = `the tenant's own storage quota: a size (${SIZE_FORMS}), none (no quota for this tenant), or default (TENANT_STORAGE_QUOTA_BYTES)`;

/** `--storage-quota`: bytes (0 for none), or undefined for `default` (TENANT_STORAGE_QUOTA_BYTES applies). */
function storageQuotaArg(value: string): number | undefined {
  const word = value.trim().toLowerCase();
  if (word === 'default') return undefined;
  if (word === 'none' || word === 'unlimited') return 0;
  try {
    return parseSize(value, '--storage-quota');
  } catch {
    throw new GatewayError('REQUEST_INVALID', `--storage-quota ${JSON.stringify(value.slice(0, 40))} is not a size; write a whole number of bytes or one unit (${SIZE_FORMS}), none for no quota, or default for TENANT_STORAGE_QUOTA_BYTES.`);
  }
}

/** The quota that applies to the tenant, and where it comes from: `512 MiB (its own)`, `no quota (TENANT_STORAGE_QUOTA_BYTES)`. */
function storageQuotaLabel(record: Pick<TenantRecord, 'storageQuotaBytes'>, defaultBytes: number): string {
  const quota = storageQuotaOf(record, defaultBytes);
  return `${quota === 0 ? 'no quota' : formatSize(quota)} (${record.storageQuotaBytes === undefined ? 'TENANT_STORAGE_QUOTA_BYTES' : 'its own'})`;
}

async function newTenant(id: string, options: AddOptions): Promise<NewTenant> {
  if (options.publicKey !== undefined && options.jwksUrl !== undefined) {
    throw new GatewayError('REQUEST_INVALID', 'Give either --public-key or --jwks-url, not both: a tenant signs its tokens with one key source.');
  }
  if (options.issuer !== undefined && options.publicKey === undefined && options.jwksUrl === undefined) {
    throw new GatewayError('REQUEST_INVALID', '--issuer applies to tokens the tenant signs itself; give it with --public-key or --jwks-url, or leave it out.');
  }
  const tenant: NewTenant = { id: validateTenantId(id), allowIps: options.allowIp };
  if (options.plan !== undefined) tenant.plan = options.plan;
  if (options.issuer !== undefined) tenant.issuer = options.issuer;
  const storageQuota = options.storageQuota === undefined ? undefined : storageQuotaArg(options.storageQuota);
  if (storageQuota !== undefined) tenant.storageQuotaBytes = storageQuota;
  if (options.jwksUrl !== undefined) tenant.jwksUrl = validateJwksUrl(options.jwksUrl, '--jwks-url');
  if (options.publicKey !== undefined) {
    const { key } = await readPublicKeyFile(options.publicKey, '--public-key');
    tenant.publicKeyPem = key.export({ type: 'spki', format: 'pem' }).toString();
  }
  return tenant;
}

/** Where the tenant's graphs live, for people: `default (the shared database)` or the target's name, and a move under way. */
function databaseLabel(record: TenantRecord): string {
  const where = record.database ?? `${DEFAULT_TARGET} (the shared database)`;
  const move = activeMove(record, Date.now());
  return move === undefined ? where : `${where}; moving to ${move.to} since ${atSeconds(move.startedAt)} (${move.phase === 'switching' ? 'switching over: writes paused' : 'copying'})`;
}

/** `--database NAME`: a target of this configuration, reachable now; `default` is the shared database. */
async function placementArg(ctx: CliContext, name: string): Promise<string | undefined> {
  if (name === DEFAULT_TARGET) return undefined;
  if (ctx.config.targets[name] === undefined) throw unknownTarget(ctx.config, name);
  await ctx.targets.open(name);
  return name;
}

function printAdded(ctx: CliContext, record: TenantRecord): void {
  const key = record.publicKeyKid !== undefined ? `its own public key, kid ${record.publicKeyKid}` : record.jwksUrl !== undefined ? `its own JWKS, ${record.jwksUrl}` : "the gateway's signing key (tokens from `token issue`)";
  const lines = [
    `Added tenant "${record.id}" (${record.status}).`,
    `  tokens signed by: ${key}`,
    `  plan:             ${record.plan ?? '-'}`,
    `  allowed IPs:      ${record.allowIps.length === 0 ? 'anywhere' : record.allowIps.join(', ')}`,
    `  storage quota:    ${storageQuotaLabel(record, ctx.config.limits.storageQuotaBytes)}`,
    `  database:         ${databaseLabel(record)}`,
  ];
  if (record.publicKeyKid !== undefined || record.jwksUrl !== undefined) {
    lines.push(`  its tokens need:  aud "${ctx.config.auth.audience}", iss "${record.issuer ?? ctx.config.auth.issuer}", the tenant id in "${ctx.config.auth.tenantClaim}", and an exp.`);
  }
  lines.push(
    '',
    'Next, connect a device (prints its client config with a new token; --client claude-desktop, cursor, vscode or generic for other clients):',
    `  falkordb-mcp-gateway client-config --client claude-code --tenant ${record.id} --device NAME`,
    `or issue a bare token: falkordb-mcp-gateway token issue --tenant ${record.id} --device NAME`,
  );
  printLines(...lines);
}

async function add(id: string, options: AddOptions): Promise<void> {
  const input = await newTenant(id, options);
  await withCliContext(process.env, async (ctx) => {
    const database = options.database === undefined ? undefined : await placementArg(ctx, options.database);
    if (database !== undefined) input.database = database;
    const record = await ctx.state.tenants.add(input);
    await ctx.state.audit.record({ event: 'tenant_changed', tenant: record.id, actor: 'cli', detail: `added, key=${keyLabel(record)}${database === undefined ? '' : `, database=${database}`}` });
    if (options.json) printJson(publicView(record));
    else printAdded(ctx, record);
  });
}

async function list(options: { json?: boolean }): Promise<void> {
  await withCliContext(process.env, async (ctx) => {
    const tenants = await ctx.state.tenants.list();
    if (options.json) return printJson({ tenants: tenants.map(publicView) });
    if (tenants.length === 0) return printLines('No tenants are registered. Add one with: falkordb-mcp-gateway tenant add ID');
    // The graph rules column appears once any tenant has graph rules.
    const withRules = tenants.some((t) => t.graphRules !== undefined);
    // The database column appears once any tenant is placed on a target of its own, or is being moved.
    const withDatabase = tenants.some((t) => t.database !== undefined || t.move !== undefined);
    const rows = tenants.map((t) => [
      t.id, t.status, t.plan ?? '-', keyLabel(t), t.allowIps.length === 0 ? 'any' : t.allowIps.join(','), atSeconds(t.createdAt),
      ...(withDatabase ? [`${t.database ?? DEFAULT_TARGET}${activeMove(t, Date.now()) === undefined ? '' : ` (moving to ${t.move?.to})`}`] : []),
      ...(withRules ? [t.graphRules === undefined ? '-' : graphRulesLabel(t)] : []),
    ]);
    printLines(formatTable(['ID', 'STATUS', 'PLAN', 'KEY', 'ALLOWED IPS', 'CREATED', ...(withDatabase ? ['DATABASE'] : []), ...(withRules ? ['GRAPH RULES'] : [])], rows));
  });
}

async function show(id: string, options: { json?: boolean }): Promise<void> {
  await withCliContext(process.env, async (ctx) => {
    const record = await ctx.state.tenants.mustGet(validateTenantId(id));
    const placed = await databaseOf(ctx, record.database);
    const graphs = (await placed.graphs.listKeys(tenantKeyPrefix(record.id))).length;
    const tokens = await ctx.state.ledger.listTenant(record.id);
    const families = await ctx.state.refresh.listTenant(record.id);
    const devices = [...new Set([...tokens, ...families].flatMap((t) => (t.device === undefined ? [] : [t.device])))].sort();
    const counts = { graphs, tokens: tokens.length, revokedTokens: tokens.filter((t) => t.revoked !== undefined).length, devices };
    const { usedBytes } = await measureTenantStorage(placed.graphs, record.id);
    const quotaBytes = storageQuotaOf(record, ctx.config.limits.storageQuotaBytes);
    const storage = { usedBytes, quotaBytes, quotaFrom: record.storageQuotaBytes === undefined ? 'TENANT_STORAGE_QUOTA_BYTES' : 'tenant' };
    if (options.json) return printJson({ ...publicView(record), ...counts, storage });
    const rows: Array<[string, string | undefined]> = [
      ['tenant', record.id],
      ['status', record.status === 'disabled' ? `disabled since ${atSeconds(record.disabledAt)}` : 'enabled'],
      ['plan', record.plan],
      ['key', keyLabel(record)],
      ['issuer', record.issuer],
      ['allowed IPs', record.allowIps.length === 0 ? 'anywhere' : record.allowIps.join(', ')],
      ['graph rules', graphRulesLabel(record)],
      ['database', databaseLabel(record)],
      ['created', atSeconds(record.createdAt)],
      ['graphs', String(graphs)],
      ['storage', `${formatSize(usedBytes)} used${quotaBytes > 0 && usedBytes >= quotaBytes ? ', AT OR OVER QUOTA: writes that may add data are refused' : ''}`],
      ['quota', storageQuotaLabel(record, ctx.config.limits.storageQuotaBytes)],
      ['tokens', `${tokens.length} unexpired${counts.revokedTokens > 0 ? ` (${counts.revokedTokens} revoked)` : ''}`],
      ['devices', devices.length === 0 ? 'none' : devices.join(', ')],
    ];
    printLines(...rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(13)}${v}`));
  });
}

async function set(id: string, options: { storageQuota?: string; json?: boolean }): Promise<void> {
  if (options.storageQuota === undefined) throw new GatewayError('REQUEST_INVALID', 'Nothing to set: give --storage-quota SIZE (or none, or default).');
  const quota = storageQuotaArg(options.storageQuota);
  const tenant = validateTenantId(id);
  await withCliContext(process.env, async (ctx) => {
    const { before, after } = await ctx.state.tenants.setStorageQuota(tenant, quota);
    const defaultBytes = ctx.config.limits.storageQuotaBytes;
    await ctx.state.audit.record({ event: 'tenant_changed', tenant: after.id, actor: 'cli', detail: `storage quota ${quota === undefined ? 'default' : String(quota)}` });
    const { usedBytes } = await measureTenantStorage((await databaseOf(ctx, after.database)).graphs, after.id);
    if (options.json) return printJson({ tenant: after.id, storageQuotaBytes: after.storageQuotaBytes ?? null, quotaBytes: storageQuotaOf(after, defaultBytes), usedBytes });
    printLines(
      `Tenant "${after.id}": storage quota is now ${storageQuotaLabel(after, defaultBytes)} (before: ${storageQuotaLabel(before, defaultBytes)}).`,
      `It stores ${formatSize(usedBytes)} now.`,
      'Every gateway instance applies the change the next time it measures the tenant\'s storage, at most TENANT_STORAGE_CHECK_MS later.',
    );
  });
}

/** TENANT_ISOLATION=acl: the tenant's database user follows the registry; says what changed. */
async function changeDatabaseUser(ctx: CliContext, id: string, change: 'enable' | 'disable' | 'remove'): Promise<string[]> {
  if (ctx.config.isolation.mode !== 'acl') return [];
  const placed = await tenantDatabase(ctx, id);
  const users = tenantUsersFor(placed.target === undefined ? ctx.config : targetConfig(ctx.config, placed.target), placed.db, ctx.logger);
  if (change === 'enable') {
    await users.enable(id);
    return ['Its database user is on again.'];
  }
  if (change === 'disable') return [`Its database user is off; ${await users.disable(id)} open connection(s) of it were closed.`];
  return [(await users.remove(id)) ? 'Its database user was deleted, with its open connections.' : 'It had no database user.'];
}

async function setEnabled(id: string, enabled: boolean): Promise<void> {
  await withCliContext(process.env, async (ctx) => {
    const before = await ctx.state.tenants.mustGet(validateTenantId(id));
    const after = await ctx.state.tenants.setEnabled(before.id, enabled);
    await ctx.state.audit.record({ event: 'tenant_changed', tenant: after.id, actor: 'cli', detail: `${after.status} (was ${before.status})` });
    const change = before.status === after.status ? `Tenant "${after.id}" was already ${after.status}.` : `Tenant "${after.id}" is now ${after.status} (was ${before.status}).`;
    const effect = enabled
      ? 'Every gateway instance accepts its tokens again within 1 second.'
      : `Every gateway instance refuses its tokens within 1 second; nothing was deleted. Undo with: falkordb-mcp-gateway tenant enable ${after.id}`;
    printLines(change, effect, ...(await changeDatabaseUser(ctx, after.id, enabled ? 'enable' : 'disable')));
  });
}

function oneScope(value: string): Scope {
  if (!isScope(value)) throw new GatewayError('REQUEST_INVALID', `--scope must be one of ${SCOPES.join(', ')} (one scope per command); got ${JSON.stringify(value.slice(0, 40))}.`);
  return value;
}

interface GraphRuleOptions {
  scope: string;
  graphs: string[];
  json?: boolean;
}

/** `tenant grant` and `tenant revoke`: adds or removes graph patterns of one scope's rule. */
async function changeGraphs(change: 'grant' | 'revoke', id: string, options: GraphRuleOptions): Promise<void> {
  const tenant = validateTenantId(id);
  const scope = oneScope(options.scope);
  const patterns = parseGraphPatterns(options.graphs);
  await withCliContext(process.env, async (ctx) => {
    const registry = ctx.state.tenants;
    const { before, after } = change === 'grant' ? await registry.grantGraphs(tenant, scope, patterns) : await registry.revokeGraphs(tenant, scope, patterns);
    await ctx.state.audit.record({ event: 'tenant_changed', tenant: after.id, actor: 'cli', detail: `graph rule ${scope}: ${change} ${patterns.join(',')}` });
    if (options.json) return printJson({ tenant: after.id, scope, graphRules: after.graphRules ?? {} });
    const describe = (record: TenantRecord) => describeGraphRules(record.graphRules).find(([s]) => s === scope)?.[1] ?? '';
    const now = describe(after);
    printLines(
      `Tenant "${after.id}": "${scope}" is now allowed on ${now === 'none' ? 'no graph' : now === 'every graph' ? 'every graph' : `graphs matching: ${now}`} (before: ${describe(before)}).`,
      `Graph rules: ${graphRulesLabel(after)}.`,
      'Every gateway instance applies the change within 1 second.',
    );
  });
}

/** An operator on a terminal types the id; a script must say --yes, so nothing is removed by accident. */
async function confirmRemoval(id: string, purge: boolean): Promise<void> {
  const what = `removes tenant "${id}" and revokes every token of it${purge ? ', and DELETES EVERY GRAPH OF IT' : ''}`;
  if (!process.stdin.isTTY) throw new GatewayError('REQUEST_INVALID', `Nothing changed: this ${what}; add --yes to confirm.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // A question pending at end of input never settles; the close event ends the wait instead.
  const closed = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  try {
    const answer = await Promise.race([rl.question(`This ${what}. Type the tenant id to confirm: `), closed]);
    if (answer?.trim() !== id) throw new GatewayError('REQUEST_INVALID', `Nothing changed: the typed id did not match "${id}".`);
  } finally {
    rl.close();
  }
}

async function purgeGraphs(ctx: CliContext, id: string): Promise<number> {
  const deleted: string[] = [];
  const { graphs } = await tenantDatabase(ctx, id);
  for (const key of await graphs.listKeys(tenantKeyPrefix(id))) {
    if (await graphs.deleteGraph(key)) deleted.push(...tenantGraphsAmong(id, [key]));
  }
  // Running gateways forget their cached schemas, lists and results of those graphs.
  await createCacheVersions(graphs.database).bump(id, deleted, true);
  return deleted.length;
}

async function remove(id: string, options: { purgeGraphs?: boolean; yes?: boolean }): Promise<void> {
  const purge = options.purgeGraphs === true;
  await withCliContext(process.env, async (ctx) => {
    const record = await ctx.state.tenants.mustGet(validateTenantId(id));
    if (options.yes !== true) await confirmRemoval(record.id, purge);
    // Tokens first, record last: an interrupted removal leaves a tenant that can be removed again, never live tokens of a gone one.
    const cutoff = await ctx.state.ledger.revokeTenant(record.id);
    const deleted = purge ? await purgeGraphs(ctx, record.id) : undefined;
    const databaseUser = await changeDatabaseUser(ctx, record.id, 'remove');
    await ctx.state.tenants.remove(record.id);
    const detail = `removed, tokens revoked up to ${isoSeconds(cutoff)}${deleted === undefined ? '' : `; ${deleted} graph(s) deleted`}`;
    await ctx.state.audit.record({ event: 'tenant_changed', tenant: record.id, actor: 'cli', detail });
    printLines(
      `Removed tenant "${record.id}" and revoked every token of it issued up to ${isoSeconds(cutoff)}; every instance refuses them within 1 second.`,
      deleted === undefined ? 'Its graphs are kept; remove them with --purge-graphs.' : `Deleted ${deleted} graph(s) of the tenant.`,
      ...databaseUser,
    );
  });
}

/** Storage now, per tenant: one SCAN of the graph keys for all of them, then GRAPH.MEMORY USAGE per graph. */
async function storageTable(ctx: CliContext, tenants: readonly string[]): Promise<string> {
  const records = new Map((await ctx.state.tenants.list()).map((r) => [r.id, r]));
  // One SCAN per database the tenants are placed on.
  const keysOf = new Map<string | undefined, Promise<{ db: TenantDatabase; keys: string[] }>>();
  const placedKeys = (target: string | undefined) => {
    let found = keysOf.get(target);
    if (found === undefined) {
      found = databaseOf(ctx, target).then(async (db) => ({ db, keys: await db.graphs.listKeys('') }));
      keysOf.set(target, found);
    }
    return found;
  };
  const defaultBytes = ctx.config.limits.storageQuotaBytes;
  const rows: string[][] = [];
  for (const tenant of tenants) {
    const prefix = tenantKeyPrefix(tenant);
    const { db, keys } = await placedKeys(records.get(tenant)?.database);
    const used = await graphsStorageBytes(db.db, keys.filter((key) => key.startsWith(prefix)));
    const record = records.get(tenant) ?? {};
    const quota = storageQuotaOf(record, defaultBytes);
    rows.push([tenant, formatSize(used), storageQuotaLabel(record, defaultBytes), quota === 0 ? '-' : `${Math.floor((used / quota) * 100)}%`]);
  }
  return formatTable(['TENANT', 'STORAGE NOW', 'STORAGE QUOTA', 'USED'], rows);
}

const MAX_USAGE_DAYS = 3650;

function usageDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > MAX_USAGE_DAYS) {
    throw new GatewayError('REQUEST_INVALID', `--days must be a whole number of days from 1 to ${MAX_USAGE_DAYS}, e.g. --days 7; got ${JSON.stringify(value)}.`);
  }
  return days;
}

async function usage(options: { tenant?: string; days: string; json?: boolean }): Promise<void> {
  const days = usageDays(options.days);
  const only = options.tenant === undefined ? undefined : validateTenantId(options.tenant);
  await withCliContext(process.env, async (ctx) => {
    const store = ctx.state.store;
    // A removed tenant's counters are kept for their retention, so tenants are found in the counters too.
    const tenants = only !== undefined ? [only] : [...new Set([...(await ctx.state.tenants.list()).map((t) => t.id), ...(await tenantsWithUsage(store))])].sort();
    const rows = (await readUsageRows(store, tenants, recentDays(Date.now(), days))).sort((a, b) => b.day.localeCompare(a.day) || a.tenant.localeCompare(b.tenant));
    if (options.json) return printJson(rows);
    const window = `the last ${days} day${days === 1 ? '' : 's'} (UTC)`;
    const storage = await storageTable(ctx, tenants);
    if (rows.length === 0) return printLines(`No usage recorded ${only === undefined ? 'for any tenant' : `for tenant "${only}"`} in ${window}.`, '', storage);
    const table = rows.map((r) => [r.tenant, r.day, String(r.requests), String(r.queries), String(r.writes), String(r.errors), String(r.rows), r.queryMs.toFixed(1)]);
    const idle = tenants.filter((t) => !rows.some((r) => r.tenant === t));
    printLines(
      formatTable(['TENANT', 'DAY', 'REQUESTS', 'QUERIES', 'WRITES', 'ERRORS', 'ROWS', 'QUERY MS'], table),
      ...(idle.length === 0 ? [] : ['', `No usage in ${window}: ${idle.join(', ')}`]),
      '',
      storage,
    );
  });
}

/** `tenant grant` or `tenant revoke`: the same arguments, their own help. */
function registerGraphRuleCommand(tenant: Command, change: 'grant' | 'revoke', description: string, graphsHelp: string): void {
  tenant
    .command(change)
    .argument('<id>', 'the tenant id')
    .description(description)
    .requiredOption('--scope <scope>', 'one of read, write, admin')
    .requiredOption('--graphs <patterns>', graphsHelp, collect, [])
    .option('--json', 'print {tenant, scope, graphRules}')
    .action((id: string, options: GraphRuleOptions) => runCommand(() => changeGraphs(change, id, options)));
}

export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('The tenant registry: add, list, show, disable, enable and remove tenants (optionally with their own signing key and allowed addresses), and their daily usage; export and import the graphs of a tenant.');

  tenant
    .command('add')
    .argument('<id>', 'the tenant id (what tokens name in the tenant claim)')
    .description('Register a tenant, optionally with its own public key or JWKS URL (it then signs its own tokens) and the addresses its tokens may be used from.')
    .option('--public-key <file>', "PEM public key (or certificate) the tenant's own tokens are signed with")
    .option('--jwks-url <url>', "https:// JWKS endpoint of the tenant's identity provider")
    .option('--issuer <iss>', "required iss of the tenant's own tokens (default: AUTH_ISSUER)")
    .option('--plan <name>', 'plan name (e.g. pro); sets the tenant\'s rate limit through RATE_LIMIT_PLANS')
    .option('--allow-ip <cidr>', 'address or CIDR range the tenant may connect from; repeatable (default: anywhere)', collect, [])
    .option('--storage-quota <size>', STORAGE_QUOTA_HELP)
    .option('--database <target>', 'the database its graphs live on: a name from DATABASE_TARGETS, or default (the shared database, the default); `tenant move` changes it later')
    .option('--json', 'print the record as JSON')
    .action((id: string, options: AddOptions) => runCommand(() => add(id, options)));

  tenant
    .command('list')
    .description('List the registered tenants: status, plan, key, allowed addresses, creation time.')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => runCommand(() => list(options)));

  tenant
    .command('show')
    .argument('<id>', 'the tenant id')
    .description('Show one tenant, with the database its graphs live on, how many graphs, unexpired tokens and devices it has, and its storage and storage quota.')
    .option('--json', 'print JSON')
    .action((id: string, options: { json?: boolean }) => runCommand(() => show(id, options)));

  tenant
    .command('set')
    .argument('<id>', 'the tenant id')
    .description("Change a tenant's settings: its storage quota (what its graphs may take in FalkorDB; writes that may add data are refused at or over it).")
    .option('--storage-quota <size>', STORAGE_QUOTA_HELP)
    .option('--json', 'print {tenant, storageQuotaBytes, quotaBytes, usedBytes}')
    .action((id: string, options: { storageQuota?: string; json?: boolean }) => runCommand(() => set(id, options)));

  registerGraphRuleCommand(
    tenant,
    'grant',
    'Allow a scope on more graphs: adds patterns to the tenant\'s graph rule for that scope. A scope without a rule may be used on every graph; its first grant limits it to the granted patterns.',
    'graph-name pattern, `*` matching any run of characters (e.g. \'sales_*\'); repeatable or comma-separated',
  );

  registerGraphRuleCommand(
    tenant,
    'revoke',
    'Allow a scope on fewer graphs: removes patterns, exactly as listed, from the tenant\'s graph rule for that scope. Removing the last one leaves the scope allowed on no graph; revoking `*` from a scope without a rule does the same.',
    'pattern(s) to remove; repeatable or comma-separated',
  );

  tenant
    .command('disable')
    .argument('<id>', 'the tenant id')
    .description("Refuse every token of the tenant (within 1 second, on every instance); its graphs and tokens are kept.")
    .action((id: string) => runCommand(() => setEnabled(id, false)));

  tenant
    .command('enable')
    .argument('<id>', 'the tenant id')
    .description("Accept the tenant's tokens again.")
    .action((id: string) => runCommand(() => setEnabled(id, true)));

  tenant
    .command('remove')
    .argument('<id>', 'the tenant id')
    .description('Remove the tenant and revoke every token of it; asks for the id on a terminal, needs --yes otherwise.')
    .option('--purge-graphs', 'also delete every graph of the tenant')
    .option('--yes', 'confirm without asking (scripts)')
    .action((id: string, options: { purgeGraphs?: boolean; yes?: boolean }) => runCommand(() => remove(id, options)));

  tenant
    .command('usage')
    .description('Daily usage per tenant (UTC days, newest first): requests, queries, writes, errors, rows returned, query milliseconds; then each tenant\'s storage now and its storage quota.')
    .option('--tenant <id>', 'only this tenant (default: every registered tenant and any tenant with usage kept)')
    .option('--days <n>', 'how many days back, today included', '30')
    .option('--json', 'print an array of {tenant, day, requests, queries, writes, errors, rows, queryMs}')
    .action((options: { tenant?: string; days: string; json?: boolean }) => runCommand(() => usage(options)));

  registerTenantTransferCommands(tenant);
  registerTenantMoveCommand(tenant);
}
