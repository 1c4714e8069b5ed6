// Typed access to the gateway's shared state in the database server: JSON
// records, expiring markers and sorted-set indexes, one command each so no
// two callers (instances, the CLI) ever need a transaction between them (a
// record changed in place is written only if nobody changed it meanwhile).

import type { z } from 'zod';
import { GatewayError, isGatewayError } from '../errors.js';
import type { CommandOptions, Database, RespValue } from '../falkordb/database.js';
import { replaceNoting, type PolicyChange } from './policy-changes.js';
import { parseRecord, type RecordSchema } from './records.js';

function unavailable(): GatewayError {
  return new GatewayError('DATABASE_UNREACHABLE', 'The gateway state in the database server could not be read or written; check that the database is reachable and try again.');
}

const REPLACE_IF_UNCHANGED = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0";

/** Expiry as an absolute epoch-ms time; undefined keeps the key until it is deleted. */
export type ExpireAtMs = number | undefined;

export class StateStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  get database(): Database {
    return this.#db;
  }

  /**
   * False while the primary behind read replicas is unreachable: reads then come
   * from a replica (which may lag) and writes fail with PRIMARY_UNAVAILABLE.
   */
  get primaryAvailable(): boolean {
    return this.#db.primaryAvailable !== false;
  }

  /**
   * True on a Redis/Valkey Cluster, where keys with different hash tags live on different shards
   * and one script cannot write them together.
   */
  get sharded(): boolean {
    return this.#db.primaries !== undefined;
  }

  async command(args: readonly string[], options?: CommandOptions): Promise<RespValue> {
    try {
      return await this.#db.sendCommand(args, options);
    } catch (error) {
      if (isGatewayError(error)) throw error;
      throw unavailable();
    }
  }

  /** Reads a JSON record and checks it against its schema; throws STATE_RECORD_INVALID naming the key and field when it does not fit. */
  async getParsed<S extends RecordSchema>(key: string, kind: string, schema: S): Promise<z.output<S> | undefined> {
    const stored = await this.get(key);
    return stored === undefined ? undefined : parseRecord(kind, key, stored, schema);
  }

  /**
   * Reads and deletes a JSON record in one command (GETDEL): of two callers, only one gets it.
   * Checked like getParsed; a record that does not fit is gone all the same.
   */
  async takeParsed<S extends RecordSchema>(key: string, kind: string, schema: S): Promise<z.output<S> | undefined> {
    const reply = await this.command(['GETDEL', key]);
    return typeof reply === 'string' ? parseRecord(kind, key, reply, schema) : undefined;
  }

  /** One MGET; on a cluster the database sends one GET per key instead, all at once, wherever the keys live. */
  async mget(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    const reply = await this.command(['MGET', ...keys]);
    return (Array.isArray(reply) ? reply : []).map((v) => (typeof v === 'string' ? v : undefined));
  }

  /** SET with an optional absolute expiry; with `onlyIfAbsent`, false when the key already existed. */
  async set(key: string, value: string, expireAtMs: ExpireAtMs = undefined, onlyIfAbsent = false): Promise<boolean> {
    const args = ['SET', key, value];
    if (expireAtMs !== undefined) args.push('PXAT', String(Math.ceil(expireAtMs)));
    if (onlyIfAbsent) args.push('NX');
    return (await this.command(args)) !== null;
  }

  /** The value as stored; undefined when the key does not exist. */
  async get(key: string): Promise<string | undefined> {
    const reply = await this.command(['GET', key]);
    return typeof reply === 'string' ? reply : undefined;
  }

  /**
   * Writes `next` only if the key still holds exactly `expected` (one script, so no
   * other writer can come between the check and the write); false when it did not.
   * With `noting`, the change is noted in the policy change stream by the same script.
   */
  async replaceIfUnchanged(key: string, expected: string, next: string, noting?: PolicyChange): Promise<boolean> {
    if (noting !== undefined) return replaceNoting(this, noting, key, expected, next);
    return Number(await this.command(['EVAL', REPLACE_IF_UNCHANGED, '1', key, expected, next])) === 1;
  }

  setJson(key: string, value: unknown, expireAtMs: ExpireAtMs = undefined): Promise<boolean> {
    return this.set(key, JSON.stringify(value), expireAtMs);
  }

  async exists(key: string): Promise<boolean> {
    return Number(await this.command(['EXISTS', key])) > 0;
  }

  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return Number(await this.command(['DEL', ...keys]));
  }

  async sadd(key: string, member: string): Promise<void> {
    await this.command(['SADD', key, member]);
  }

  async srem(key: string, member: string): Promise<void> {
    await this.command(['SREM', key, member]);
  }

  async smembers(key: string): Promise<string[]> {
    const reply = await this.command(['SMEMBERS', key]);
    return Array.isArray(reply) ? reply.map(String) : [];
  }

  /** Adds a member scored by an epoch time, dropping members whose score has passed. */
  async zaddExpiring(key: string, member: string, score: number, now: number, options?: CommandOptions): Promise<void> {
    await this.command(['ZADD', key, String(score), member], options);
    await this.command(['ZREMRANGEBYSCORE', key, '-inf', `(${now}`], options);
  }

  /** Members whose score is at least `min`, lowest score first. */
  async zrangeFrom(key: string, min: number): Promise<string[]> {
    const reply = await this.command(['ZRANGE', key, String(min), '+inf', 'BYSCORE']);
    return Array.isArray(reply) ? reply.map(String) : [];
  }
}
