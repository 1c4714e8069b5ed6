// The tenant registry: which tenants exist, whether they are enabled, and the
// key (PEM or JWKS URL) a tenant may sign its own tokens with. Shared by every
// instance and the CLI through the database server. Every write of a record also
// notes the tenant in the policy change stream, in the same script, so instances
// holding the record in memory drop it (src/state/policy-changes.ts).

import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { grantGraphPatterns, isValidGraphPattern, revokeGraphPatterns, validateGraphRules, type GraphRules } from '../tenancy/graph-rules.js';
import type { Scope } from '../tenancy/scopes.js';
import { publicKeyThumbprint } from './key-thumbprint.js';
import { parseCidr } from '../cidr.js';
import { isLoopbackHost } from '../config/index.js';
import { TARGET_NAME } from '../config/parsers.js';
import { GatewayError } from '../errors.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { stateKeys } from './keys.js';
import { writeNoting } from './policy-changes.js';
import { parseRecord } from './records.js';
import type { StateStore } from './store.js';

/** A stored pattern must still be one: graph rules are checked on every call. */
const graphPatterns = z.array(z.string().refine(isValidGraphPattern, 'is not a graph pattern')).readonly();

/** Whether `check` accepts `value` (returns rather than throws). */
function passes(check: (value: string) => unknown, value: string): boolean {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

const isCidr = (entry: string): boolean => passes(parseCidr, entry);
const isTenantId = (value: string): boolean => passes(validateTenantId, value);

const epochMs = z.number().int().nonnegative();

export const TenantRecordSchema = z.object({
  id: z.string().refine(isTenantId, 'is not a tenant id'),
  status: z.enum(['enabled', 'disabled']),
  plan: z.string().optional(),
  /** PEM public key that verifies the tenant's own tokens. */
  publicKeyPem: z.string().optional(),
  /** Thumbprint of `publicKeyPem`, to tell which key signed a cached token. */
  publicKeyKid: z.string().optional(),
  /** JWKS endpoint of the tenant's own identity provider. */
  jwksUrl: z.string().optional(),
  /** Required `iss` of tokens the tenant signs itself; AUTH_ISSUER when unset. */
  issuer: z.string().optional(),
  /** Client addresses (CIDR or single IPs) the tenant's tokens may be used from; empty: anywhere. */
  allowIps: z.array(z.string().refine(isCidr, 'is not an IP address or CIDR range')),
  /**
   * Graph-name patterns each scope may be used on (src/tenancy/graph-rules.ts); a
   * scope left out may be used on every graph, one with an empty list on none.
   */
  graphRules: z.strictObject({ read: graphPatterns.optional(), write: graphPatterns.optional(), admin: graphPatterns.optional() } satisfies Record<Scope, unknown>).optional(),
  /** The tenant's own storage quota in bytes (0: none), instead of TENANT_STORAGE_QUOTA_BYTES. */
  storageQuotaBytes: z.number().int().nonnegative().optional(),
  /** The database target (DATABASE_TARGETS) the tenant's graphs live on; absent: the shared database. */
  database: z.string().regex(TARGET_NAME).optional(),
  /**
   * A `tenant move` under way: while `until` is ahead, `copying` has every write note its graph
   * (so it is copied again) and `switching` refuses writes; a move whose mover died runs out.
   */
  move: z.strictObject({ id: z.string(), to: z.string(), phase: z.enum(['copying', 'switching']), until: epochMs, startedAt: epochMs }).optional(),
  /** Epoch ms. */
  createdAt: epochMs,
  updatedAt: epochMs,
  disabledAt: epochMs.optional(),
});

export type TenantRecord = z.infer<typeof TenantRecordSchema>;

export type TenantMove = NonNullable<TenantRecord['move']>;

/** The move the record names, if it has not run out. */
export function activeMove(record: Pick<TenantRecord, 'move'> | undefined, now: number): TenantMove | undefined {
  const move = record?.move;
  return move !== undefined && move.until > now ? move : undefined;
}

/** Reads a stored tenant record, or throws STATE_RECORD_INVALID naming the key and the field. */
function parseTenant(key: string, text: string): TenantRecord {
  return parseRecord('tenant', key, text, TenantRecordSchema);
}

/** A tenant to register; the key's kid is computed from `publicKeyPem`. */
export type NewTenant = Pick<TenantRecord, 'id'> & Partial<Pick<TenantRecord, 'plan' | 'publicKeyPem' | 'jwksUrl' | 'issuer' | 'allowIps' | 'graphRules' | 'storageQuotaBytes' | 'database'>>;

const PLAN_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * The keys a JWKS serves decide which tokens pass, so its URL must not travel
 * in the clear (http:// only on loopback) or carry credentials.
 */
export function validateJwksUrl(value: string, label = 'The JWKS URL'): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && isLoopbackHost(url.hostname.replace(/^\[|\]$/g, '')));
  if (url === undefined || !secure) {
    throw new GatewayError('REQUEST_INVALID', `${label} ${JSON.stringify(value.slice(0, 100))} must be an https:// URL (http:// only for localhost), e.g. https://login.acme.example/.well-known/jwks.json.`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new GatewayError('REQUEST_INVALID', `${label} must not carry a user or password: a JWKS is public, and the URL is stored and shown as it is.`);
  }
  return url.href;
}

function validateStorageQuota(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new GatewayError('REQUEST_INVALID', `A storage quota is a whole number of bytes, 0 for none; got ${bytes}.`);
  return bytes;
}

/** The thumbprint (kid) of a PEM public key, so a replaced key is noticed on tokens it signed. */
async function pemThumbprint(pem: string): Promise<string> {
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new GatewayError('REQUEST_INVALID', "The tenant's public key is not a PEM public key.");
  }
  return publicKeyThumbprint(key);
}

function notFound(id: string): GatewayError {
  return new GatewayError('TENANT_NOT_FOUND', `No tenant "${id}" is registered; see \`tenant list\`.`);
}

/** Writes of one tenant record that may be beaten by another writer before this one gives up. */
const MAX_UPDATE_ATTEMPTS = 10;

export class TenantRegistry {
  readonly #store: StateStore;
  readonly #now: () => number;

  constructor(store: StateStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  get(id: string): Promise<TenantRecord | undefined> {
    return this.#store.getParsed(stateKeys.tenant(validateTenantId(id)), 'tenant', TenantRecordSchema);
  }

  async mustGet(id: string): Promise<TenantRecord> {
    const record = await this.get(id);
    if (record === undefined) throw notFound(id);
    return record;
  }

  async add(input: NewTenant): Promise<TenantRecord> {
    const id = validateTenantId(input.id);
    if (input.plan !== undefined && !PLAN_NAME.test(input.plan)) {
      throw new GatewayError('REQUEST_INVALID', 'A plan name is 1 to 64 letters, digits, _ . -, starting with a letter or digit (e.g. pro).');
    }
    if (input.publicKeyPem !== undefined && input.jwksUrl !== undefined) {
      throw new GatewayError('REQUEST_INVALID', 'Give a tenant either a public key or a JWKS URL, not both.');
    }
    const allowIps = (input.allowIps ?? []).map((entry) => {
      parseCidr(entry);
      return entry.trim();
    });
    const at = this.#now();
    const record: TenantRecord = {
      id,
      status: 'enabled',
      ...(input.plan === undefined ? {} : { plan: input.plan }),
      ...(input.publicKeyPem === undefined ? {} : { publicKeyPem: input.publicKeyPem, publicKeyKid: await pemThumbprint(input.publicKeyPem) }),
      ...(input.jwksUrl === undefined ? {} : { jwksUrl: validateJwksUrl(input.jwksUrl) }),
      ...(input.issuer === undefined ? {} : { issuer: input.issuer }),
      allowIps,
      ...(input.graphRules === undefined ? {} : { graphRules: validateGraphRules(input.graphRules) }),
      ...(input.storageQuotaBytes === undefined ? {} : { storageQuotaBytes: validateStorageQuota(input.storageQuotaBytes) }),
      ...(input.database === undefined ? {} : { database: input.database }),
      createdAt: at,
      updatedAt: at,
    };
    // Indexed first: an index entry without a record is skipped by list(), while a record missing from the index would be invisible.
    await this.#store.sadd(stateKeys.tenantIndex(), id);
    const created = (await writeNoting(this.#store, { tenant: id }, ['SET', stateKeys.tenant(id), JSON.stringify(record), 'NX'])) !== null;
    if (!created) throw new GatewayError('TENANT_EXISTS', `Tenant "${id}" is already registered; see \`tenant show ${id}\`, or remove it first.`);
    return record;
  }

  async list(): Promise<TenantRecord[]> {
    const ids = (await this.#store.smembers(stateKeys.tenantIndex())).sort();
    const keys = ids.map((id) => stateKeys.tenant(id));
    const values = await this.#store.mget(keys);
    return values.flatMap((v, i) => (v === undefined ? [] : [parseTenant(keys[i]!, v)]));
  }

  async setEnabled(id: string, enabled: boolean): Promise<TenantRecord> {
    const { after } = await this.#update(id, (record) => {
      const next: TenantRecord = { ...record, status: enabled ? 'enabled' : 'disabled', updatedAt: this.#now() };
      if (enabled) delete next.disabledAt;
      else next.disabledAt = record.disabledAt ?? next.updatedAt;
      return next;
    });
    return after;
  }

  /** Adds graph patterns to a scope's rule (creating the rule: from then on only its patterns are allowed). */
  grantGraphs(id: string, scope: Scope, patterns: readonly string[]): Promise<{ before: TenantRecord; after: TenantRecord }> {
    return this.#changeGraphRules(id, (rules) => grantGraphPatterns(rules, scope, patterns));
  }

  /** Removes graph patterns from a scope's rule; never widens (see revokeGraphPatterns). */
  revokeGraphs(id: string, scope: Scope, patterns: readonly string[]): Promise<{ before: TenantRecord; after: TenantRecord }> {
    return this.#changeGraphRules(id, (rules) => revokeGraphPatterns(rules, scope, patterns));
  }

  /** Sets the tenant's own storage quota in bytes (0: none); undefined: back to TENANT_STORAGE_QUOTA_BYTES. */
  async setStorageQuota(id: string, bytes: number | undefined): Promise<{ before: TenantRecord; after: TenantRecord }> {
    const quota = bytes === undefined ? undefined : validateStorageQuota(bytes);
    return this.#update(id, (record) => {
      const next: TenantRecord = { ...record, updatedAt: this.#now() };
      if (quota === undefined) delete next.storageQuotaBytes;
      else next.storageQuotaBytes = quota;
      return next;
    });
  }

  /**
   * Starts a move of the tenant's graphs to `to` (a target name, undefined: the shared database) in its `copying`
   * phase, lasting until `until`; refused while another move has not run out.
   */
  async beginMove(id: string, to: string | undefined, moveId: string, until: number): Promise<TenantRecord> {
    const { after } = await this.#update(id, (record) => {
      const running = activeMove(record, this.#now());
      if (running !== undefined) {
        throw new GatewayError('TENANT_MOVING', `Tenant "${id}" is being moved already (to ${running.to}, since ${new Date(running.startedAt).toISOString()}); wait for that move to end, or for it to run out if its command was stopped (within ${Math.ceil((running.until - this.#now()) / 1000)} s).`);
      }
      const at = this.#now();
      return { ...record, move: { id: moveId, to: to ?? 'default', phase: 'copying', until, startedAt: at }, updatedAt: at };
    });
    return after;
  }

  /**
   * Changes the move `moveId` (its phase, how long it lasts; `done` with `database`: the switch to the
   * new placement, ending the move), only while it is still the record's own and has not run out.
   */
  async updateMove(id: string, moveId: string, change: { phase?: TenantMove['phase']; until?: number } | { done: true; database: string | undefined } | { abandon: true }): Promise<TenantRecord> {
    const { after } = await this.#update(id, (record) => {
      const move = record.move;
      const abandon = 'abandon' in change;
      if (move?.id !== moveId || (!abandon && move.until <= this.#now())) {
        throw new GatewayError('TENANT_MOVE_LOST', `The move of tenant "${id}" ran out before it could finish (its lease was not renewed in time, or another command changed it); nothing was switched. Run \`tenant move\` again.`);
      }
      const next: TenantRecord = { ...record, updatedAt: this.#now() };
      if ('done' in change) {
        delete next.move;
        if (change.database === undefined) delete next.database;
        else next.database = change.database;
      } else if (abandon) {
        delete next.move;
      } else {
        next.move = { ...move, ...(change.phase === undefined ? {} : { phase: change.phase }), ...(change.until === undefined ? {} : { until: change.until }) };
      }
      return next;
    });
    return after;
  }

  #changeGraphRules(id: string, change: (rules: GraphRules | undefined) => GraphRules): Promise<{ before: TenantRecord; after: TenantRecord }> {
    return this.#update(id, (record) => ({ ...record, graphRules: validateGraphRules(change(record.graphRules)), updatedAt: this.#now() }));
  }

  /**
   * Reads the record, changes it and writes it back only if nobody wrote it in
   * between; otherwise starts again from what is stored now. Two operators (or
   * instances) changing one tenant at once both get their change: a grant can
   * never undo a concurrent disable, nor bring back a removed tenant.
   */
  async #update(id: string, change: (record: TenantRecord) => TenantRecord): Promise<{ before: TenantRecord; after: TenantRecord }> {
    const key = stateKeys.tenant(validateTenantId(id));
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const stored = await this.#store.get(key);
      if (stored === undefined) throw notFound(id);
      const before = parseTenant(key, stored);
      const after = change(before);
      if (await this.#store.replaceIfUnchanged(key, stored, JSON.stringify(after), { tenant: before.id })) return { before, after };
    }
    throw new GatewayError('STATE_CONFLICT', `Tenant "${id}" kept changing while this change was being written (${MAX_UPDATE_ATTEMPTS} tries); nothing was changed by this command. Run it again.`);
  }

  /** Removes the record; the caller revokes tokens and purges graphs as asked. */
  async remove(id: string): Promise<TenantRecord> {
    const record = await this.mustGet(id);
    await writeNoting(this.#store, { tenant: record.id }, ['DEL', stateKeys.tenant(record.id)]);
    await this.#store.srem(stateKeys.tenantIndex(), record.id);
    return record;
  }
}
