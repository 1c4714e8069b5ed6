// Creates and drops a graph's constraints with GRAPH.CONSTRAINT, which Cypher
// cannot do on FalkorDB. A unique constraint needs an exact-match (range) index
// on its properties: created here when it is missing. A new constraint is checked
// against the data in the background, so creating one waits for that check.

import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../errors.js';
import type { RespValue } from './database.js';
import { constraintSummaries, quotedName, type ConstraintSchema } from './graph-schema.js';
import { describeQueryError, translateQueryError } from './query-errors.js';
import type { ShapedReply } from './shape.js';

export interface ConstraintSpec {
  kind: 'unique' | 'mandatory';
  entity: 'node' | 'relationship';
  /** The node label or relationship type. */
  label: string;
  properties: string[];
}

export interface ConstraintCreated {
  /** false when the constraint was there already. */
  created: boolean;
  /** The exact-match index properties that had none got one (unique constraints only). */
  indexCreated: boolean;
  /** OPERATIONAL, or UNDER CONSTRUCTION when the check of the data outlasted the call's time. */
  status: string;
}

export interface ConstraintDeps {
  /** Sends one command to the graph's primary. */
  send(args: string[], timeoutMs: number): Promise<RespValue>;
  /** Runs one query on the graph's primary. */
  query(query: string, readOnly: boolean, timeoutMs: number): Promise<ShapedReply>;
}

const POLL_MS = 20;

function constraintArgs(action: 'CREATE' | 'DROP', key: string, spec: ConstraintSpec): string[] {
  return ['GRAPH.CONSTRAINT', action, key, spec.kind.toUpperCase(), spec.entity === 'node' ? 'NODE' : 'RELATIONSHIP', spec.label, 'PROPERTIES', String(spec.properties.length), ...spec.properties];
}

/** `unique constraint on (:Person).email`, in the caller's own words. */
export function describeConstraint(spec: ConstraintSpec): string {
  const on = spec.entity === 'node' ? `(:${spec.label})` : `[:${spec.label}]`;
  return `${spec.kind} constraint on ${on} (${spec.properties.join(', ')})`;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A GRAPH.CONSTRAINT refusal: a missing graph or a key of another type as the query errors say them, anything else as FalkorDB said it. */
function refusal(error: unknown, spec: ConstraintSpec): GatewayError {
  const translated = translateQueryError(error);
  if (translated.code !== 'QUERY_FAILED') return translated;
  return new GatewayError('QUERY_FAILED', `Could not change the ${describeConstraint(spec)}: ${describeQueryError(messageOf(error), undefined)}`, { origin: 'database' }, { cause: error });
}

function pattern(spec: ConstraintSpec, label: string): string {
  return spec.entity === 'node' ? `(x:${label})` : `()-[x:${label}]-()`;
}

/** Names Cypher can quote, or INVALID_ARGUMENT: a name with a backtick cannot be written in an index query. */
function quoted(name: string, what: string): string {
  const q = quotedName(name);
  if (q === undefined) throw new GatewayError('INVALID_ARGUMENT', `${what}: a name with a backtick (\`) cannot be used here.`);
  return q;
}

/** Range indexes on the spec's properties that have none; returns the properties that got one. */
async function createSupportingIndex(deps: ConstraintDeps, spec: ConstraintSpec, timeoutMs: number): Promise<string[]> {
  const label = quoted(spec.label, 'label');
  const created: string[] = [];
  for (const property of spec.properties) {
    try {
      await deps.query(`CREATE INDEX FOR ${pattern(spec, label)} ON (x.${quoted(property, 'properties')})`, false, timeoutMs);
      created.push(property);
    } catch (error) {
      if (!/already indexed/i.test(messageOf(error))) throw error;
    }
  }
  return created;
}

const sameConstraint = (spec: ConstraintSpec) => (c: ConstraintSchema) =>
  c.kind === spec.kind && c.entity === spec.entity && c.label === spec.label && [...c.properties].sort().join('\u0000') === [...spec.properties].sort().join('\u0000');

async function statusOf(deps: ConstraintDeps, spec: ConstraintSpec, timeoutMs: number): Promise<string | undefined> {
  const reply = await deps.query('CALL db.constraints()', true, timeoutMs);
  return constraintSummaries(reply.rows).find(sameConstraint(spec))?.status;
}

function brokenByData(spec: ConstraintSpec): GatewayError {
  const what = spec.entity === 'node' ? `nodes labelled ${spec.label}` : `relationships of type ${spec.label}`;
  const how =
    spec.kind === 'unique'
      ? `two or more ${what} share the same value${spec.properties.length > 1 ? 's' : ''} of ${spec.properties.join(', ')}`
      : `some ${what} lack ${spec.properties.join(' or ')}`;
  return new GatewayError('QUERY_FAILED', `The graph's data breaks the ${describeConstraint(spec)}: ${how}. Nothing was created; fix the data (falkordb_query) and create the constraint again.`);
}

/**
 * Creates the constraint (a unique one with the exact-match index it needs) and
 * waits, within `timeoutMs`, until FalkorDB has checked it against the data. One
 * the data breaks is dropped again, with any index made for it, and refused.
 */
export async function createConstraint(deps: ConstraintDeps, key: string, spec: ConstraintSpec, timeoutMs: number): Promise<ConstraintCreated> {
  const deadline = performance.now() + timeoutMs;
  const left = () => Math.max(1, Math.floor(deadline - performance.now()));
  const create = async (): Promise<'created' | 'exists' | 'needs index'> => {
    try {
      await deps.send(constraintArgs('CREATE', key, spec), left());
      return 'created';
    } catch (error) {
      const message = messageOf(error);
      if (/already exists/i.test(message)) return 'exists';
      if (/missing supporting exact-match index/i.test(message)) return 'needs index';
      throw refusal(error, spec);
    }
  };
  let outcome = await create();
  let indexed: string[] = [];
  if (outcome === 'needs index') {
    indexed = await createSupportingIndex(deps, spec, left());
    outcome = await create();
    if (outcome === 'needs index') {
      throw new GatewayError(
        'QUERY_FAILED',
        `The ${describeConstraint(spec)} needs an exact-match (range) index on each of its properties, and one of them has only another kind (full-text or vector). Add a range index (CREATE INDEX FOR ${pattern(spec, spec.label)} ON (x.property)) and try again.`,
      );
    }
  }
  for (;;) {
    const status = await statusOf(deps, spec, left());
    if (status === 'FAILED') {
      if (outcome === 'created') await dropCreated(deps, key, spec, indexed, left());
      throw outcome === 'created'
        ? brokenByData(spec)
        : new GatewayError('QUERY_FAILED', `The ${describeConstraint(spec)} exists but FAILED: the graph's data breaks it. Drop it with falkordb_drop_constraint, fix the data and create it again.`);
    }
    if (status === 'OPERATIONAL' || status === undefined || performance.now() + POLL_MS >= deadline) {
      return { created: outcome === 'created', indexCreated: indexed.length > 0, status: status ?? 'OPERATIONAL' };
    }
    await sleep(POLL_MS);
  }
}

/** Undoes a constraint the data broke, and the index made for it; what cannot be undone stays, visible in the schema. */
async function dropCreated(deps: ConstraintDeps, key: string, spec: ConstraintSpec, indexed: readonly string[], timeoutMs: number): Promise<void> {
  await deps.send(constraintArgs('DROP', key, spec), timeoutMs).catch(() => undefined);
  for (const property of indexed) {
    await deps.query(`DROP INDEX FOR ${pattern(spec, quoted(spec.label, 'label'))} ON (x.${quoted(property, 'properties')})`, false, timeoutMs).catch(() => undefined);
  }
}

/** Drops the constraint; false when there was none. Its supporting index stays (queries may use it). */
export async function dropConstraint(deps: ConstraintDeps, key: string, spec: ConstraintSpec, timeoutMs: number): Promise<boolean> {
  try {
    await deps.send(constraintArgs('DROP', key, spec), timeoutMs);
    return true;
  } catch (error) {
    if (/no such constraint/i.test(messageOf(error))) return false;
    throw refusal(error, spec);
  }
}
