// One-time enrolment codes: an operator makes one for a tenant's device, the
// person holding the device types it on the sign-in page, once. Like refresh
// tokens, a code is stored only as its SHA-256 hash, in the shared state so
// every instance sees it; a used-marker set with NX makes it single use.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { validateDeviceName } from '../tenancy/device-name.js';
import { validateGraphPattern } from '../tenancy/graph-rules.js';
import { SCOPES, type Scope } from '../tenancy/scopes.js';
import { formatDuration } from '../duration.js';
import { GatewayError } from '../errors.js';
import { validateTenantId } from '../tenancy/tenant-id.js';
import { stateKeys } from './keys.js';
import type { StateStore } from './store.js';

/** Crockford's base32: digits and capitals without I, L, O and U, so nothing is misread or spells a word. */
export const ENROLMENT_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 16 characters of 5 bits: 80 bits of randomness, printed as four groups of four. */
const CODE_LENGTH = 16;
const GROUP = 4;
/** Longest lifetime a code may have: it is meant to be typed within minutes. */
export const MAX_ENROLMENT_TTL_SEC = 24 * 3600;
/** Anything longer is not a code someone typed, and is not looked at further. */
const MAX_INPUT_LENGTH = 64;

export const EnrolmentRecordSchema = z.object({
  /** Random id (not the code), safe to log and to use as an OAuth account id. */
  id: z.string(),
  tenant: z.string(),
  device: z.string(),
  scopes: z.array(z.enum(['read', 'write', 'admin'] satisfies Scope[])),
  /** Graph-name patterns the device's tokens are limited to; absent: every graph the tenant allows. */
  graphs: z.array(z.string()).optional(),
  /** Epoch seconds. */
  createdAt: z.number(),
  /** Epoch seconds. */
  expiresAt: z.number(),
  /** Who made the code, e.g. "cli". */
  createdBy: z.string(),
});

export type EnrolmentRecord = z.infer<typeof EnrolmentRecordSchema>;

export type EnrolmentUse = { status: 'ok'; record: EnrolmentRecord } | { status: 'unknown' } | { status: 'used'; record: EnrolmentRecord };

export interface EnrolmentInput {
  tenant: string;
  device: string;
  scopes: readonly Scope[];
  graphs?: readonly string[];
  ttlSec: number;
  createdBy: string;
}

/** Crockford's decoding of the letters people type for digits: I and L are 1, O is 0. */
const READ_AS: Readonly<Record<string, string>> = { I: '1', L: '1', O: '0' };

/**
 * The code as printed (`ABCD-EFGH-JKMN-PQRS`) from what a person typed: any case,
 * spaces, hyphens and dashes anywhere, I/L read as 1 and O as 0. Undefined for anything
 * else (wrong length, other characters, not a string); never throws.
 */
export function normaliseEnrolmentCode(input: string): string | undefined {
  if (typeof input !== 'string' || input.length > MAX_INPUT_LENGTH) return undefined;
  // A phone's keyboard may turn a typed hyphen into a dash.
  const compact = input.replace(/[\s\-\u2010-\u2015\u2212]+/g, '').toUpperCase().replace(/[ILO]/g, (c) => READ_AS[c]!);
  if (compact.length !== CODE_LENGTH) return undefined;
  for (const c of compact) if (!ENROLMENT_CODE_ALPHABET.includes(c)) return undefined;
  return compact.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/** 80 random bits as 16 alphabet characters, grouped. */
function newCode(): string {
  const bytes = randomBytes(CODE_LENGTH * 5 / 8);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let compact = '';
  for (let i = CODE_LENGTH - 1; i >= 0; i--) compact += ENROLMENT_CODE_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)];
  return normaliseEnrolmentCode(compact)!;
}

function hashOf(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Lifetime checked the way an operator's --ttl is: whole seconds, above zero, at most 24 h. */
function validTtl(ttlSec: number): number {
  if (!Number.isSafeInteger(ttlSec) || ttlSec <= 0) throw new GatewayError('REQUEST_INVALID', 'An enrolment code needs a lifetime of whole seconds above zero, e.g. --ttl 15m.');
  if (ttlSec > MAX_ENROLMENT_TTL_SEC) {
    throw new GatewayError('REQUEST_INVALID', `An enrolment code may live at most ${formatDuration(MAX_ENROLMENT_TTL_SEC)} (it is typed within minutes, and anyone holding it can enrol the device); ${formatDuration(ttlSec)} is longer. Give e.g. --ttl 15m, and make a new code if it runs out.`);
  }
  return ttlSec;
}

export class EnrolmentCodes {
  readonly #store: StateStore;
  readonly #now: () => number;

  constructor(store: StateStore, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /** Makes a code; only its hash is stored, expiring with it. The caller shows the code once and audits the record. */
  async create(input: EnrolmentInput): Promise<{ code: string; record: EnrolmentRecord }> {
    const tenant = validateTenantId(input.tenant);
    const device = validateDeviceName(input.device);
    const scopes = SCOPES.filter((s) => input.scopes.includes(s));
    if (scopes.length === 0) throw new GatewayError('REQUEST_INVALID', `An enrolment code must grant at least one scope: ${SCOPES.join(', ')}.`);
    const graphs = input.graphs === undefined ? undefined : [...new Set(input.graphs.map((p) => validateGraphPattern(p)))];
    const ttlSec = validTtl(input.ttlSec);
    const createdAt = Math.floor(this.#now() / 1000);
    const record: EnrolmentRecord = {
      id: randomUUID(),
      tenant,
      device,
      scopes,
      ...(graphs === undefined ? {} : { graphs }),
      createdAt,
      expiresAt: createdAt + ttlSec,
      createdBy: input.createdBy,
    };
    // 80 random bits never repeat in practice; NX still makes sure no code replaces another's record.
    for (;;) {
      const code = newCode();
      if (await this.#store.set(stateKeys.enrolment(hashOf(code)), JSON.stringify(record), record.expiresAt * 1000, true)) return { code, record };
    }
  }

  /** The record behind a valid, unexpired, unused code; undefined otherwise (also for input that is not a code). */
  async peek(code: string): Promise<EnrolmentRecord | undefined> {
    const found = await this.#find(code);
    if (found === undefined) return undefined;
    return (await this.#store.exists(stateKeys.enrolmentUsed(found.hash))) ? undefined : found.record;
  }

  /**
   * Spends a code. The used-marker is set only if absent, in one command, so of two
   * concurrent uses exactly one gets `ok`; the other, and any later one, gets `used`.
   */
  async consume(code: string): Promise<EnrolmentUse> {
    const found = await this.#find(code);
    if (found === undefined) return { status: 'unknown' };
    const first = await this.#store.set(stateKeys.enrolmentUsed(found.hash), String(this.#now()), found.record.expiresAt * 1000, true);
    return first ? { status: 'ok', record: found.record } : { status: 'used', record: found.record };
  }

  /** The stored record of a code-shaped, unexpired input. */
  async #find(code: string): Promise<{ hash: string; record: EnrolmentRecord } | undefined> {
    const normalised = normaliseEnrolmentCode(code);
    if (normalised === undefined) return undefined;
    const hash = hashOf(normalised);
    const record = await this.#store.getParsed(stateKeys.enrolment(hash), 'enrolment code', EnrolmentRecordSchema);
    if (record === undefined || record.expiresAt * 1000 <= this.#now()) return undefined;
    return { hash, record };
  }
}
