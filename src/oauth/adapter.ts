// The OAuth authorization server's storage (oidc-provider's adapter interface)
// in the gateway's shared state, so an authorization started on one instance
// can be finished and exchanged on another: each record one expiring JSON key,
// its consumption a separate marker set once, and a grant's members listed so
// revoking the grant removes them all.

import type { Adapter, AdapterPayload } from 'oidc-provider';
import { z } from 'zod';
import { stateKeys } from '../state/keys.js';
import { parseRecord } from '../state/records.js';
import type { StateStore } from '../state/store.js';

/** Records issued under a grant; removed with it. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/**
 * Records with no expiry of their own (dynamically registered clients) are kept this long
 * after their last use: a client in use (each refresh looks it up) stays, an abandoned one goes.
 */
const NO_EXPIRY_KEEP_MS = 90 * 24 * 3600 * 1000;

/**
 * oidc-provider's own record, whatever the model: an object, with the fields every
 * model shares and the adapter relies on checked, the rest kept as stored. A record
 * that does not fit throws STATE_RECORD_INVALID, which oidc-provider answers as a
 * server_error (logged with the key and field) instead of acting on it.
 */
const AdapterPayloadSchema = z.object({
  kind: z.string().optional(),
  jti: z.string().optional(),
  iat: z.number().optional(),
  exp: z.number().optional(),
  uid: z.string().optional(),
  grantId: z.string().optional(),
  accountId: z.string().optional(),
  clientId: z.string().optional(),
  client_id: z.string().optional(),
});

export class StateAdapter implements Adapter {
  readonly #model: string;
  readonly #store: StateStore;
  readonly #now: () => number;

  constructor(model: string, store: StateStore, now: () => number = Date.now) {
    this.#model = model;
    this.#store = store;
    this.#now = now;
  }

  #key(id: string): string {
    return stateKeys.oauth(this.#model, id);
  }

  #expireAt(expiresIn: number | undefined): number {
    return this.#now() + (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn * 1000 : NO_EXPIRY_KEEP_MS);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const expireAt = this.#expireAt(expiresIn);
    await this.#store.setJson(this.#key(id), payload, expireAt);
    if (this.#model === 'Session' && typeof payload.uid === 'string') {
      await this.#store.set(stateKeys.oauthSessionUid(payload.uid), id, expireAt);
    }
    if (GRANTABLE.has(this.#model) && typeof payload.grantId === 'string') {
      const members = stateKeys.oauthGrantMembers(payload.grantId);
      await this.#store.sadd(members, this.#key(id));
      await this.#store.command(['PEXPIREAT', members, String(Math.ceil(expireAt)), 'GT']);
      // A new set has no expiry yet, and GT never sets one on such a key.
      await this.#store.command(['PEXPIREAT', members, String(Math.ceil(expireAt)), 'NX']);
    }
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const [record, consumed] = await this.#store.mget([this.#key(id), stateKeys.oauthConsumed(this.#model, id)]);
    if (record === undefined) return undefined;
    // The schema checks the fields above; what else oidc-provider stored is its own, kept as it was.
    const payload = parseRecord(`OAuth ${this.#model}`, this.#key(id), record, AdapterPayloadSchema);
    if (this.#model === 'Client') await this.#store.command(['PEXPIRE', this.#key(id), String(NO_EXPIRY_KEEP_MS)]);
    return consumed === undefined ? payload : { ...payload, consumed: Number(consumed) };
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await this.#store.get(stateKeys.oauthSessionUid(uid));
    return id === undefined ? undefined : this.find(id);
  }

  findByUserCode(): Promise<AdapterPayload | undefined> {
    // The device flow is not offered.
    return Promise.resolve(undefined);
  }

  async consume(id: string): Promise<void> {
    const key = this.#key(id);
    const ttl = Number(await this.#store.command(['PTTL', key]));
    const expireAt = this.#now() + (ttl > 0 ? ttl : 60_000);
    await this.#store.set(stateKeys.oauthConsumed(this.#model, id), String(Math.floor(this.#now() / 1000)), expireAt, true);
  }

  async destroy(id: string): Promise<void> {
    await this.#store.del(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = stateKeys.oauthGrantMembers(grantId);
    // One key at a time: on a cluster the members live on different shards.
    for (const key of await this.#store.smembers(members)) await this.#store.del(key);
    await this.#store.del(members);
  }
}

/** The adapter factory oidc-provider's `adapter` option takes. */
export function stateAdapterFactory(store: StateStore, now?: () => number): (model: string) => Adapter {
  return (model) => new StateAdapter(model, store, now);
}
