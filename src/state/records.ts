// Records read back from the database server are checked like the
// environment: against a zod schema, with an error that names the record and
// the field that is wrong, and never quotes what the record holds.

import { z } from 'zod';
import { GatewayError } from '../errors.js';

/** A stored record's schema: an object, whose fields unknown to this version are kept as they are. */
export type RecordSchema = z.ZodObject;

/** Where a field sits in the record, as `allowIps[1]` or `graphRules.read`; the record itself when empty. */
function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the record itself';
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

function invalid(kind: string, key: string, problem: string): GatewayError {
  return new GatewayError(
    'STATE_RECORD_INVALID',
    `The ${kind} record stored at ${key} cannot be read: ${problem}. It was not written by this version of the gateway, or was changed by hand; correct it in the database, or restore the record from a backup.`,
    { key, kind },
  );
}

const LOOSE = new WeakMap<RecordSchema, RecordSchema>();

/** The schema that also keeps unknown fields, made once per schema. */
function loose(schema: RecordSchema): RecordSchema {
  let found = LOOSE.get(schema);
  if (found === undefined) {
    found = schema.loose();
    LOOSE.set(schema, found);
  }
  return found;
}

/**
 * Parses the stored text of a record. Fields this version does not know are
 * kept, so that a record written by a newer instance survives being rewritten
 * by an older one.
 */
export function parseRecord<S extends RecordSchema>(kind: string, key: string, text: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No cause: JSON.parse's message quotes the text, which is logged with it.
    throw invalid(kind, key, 'it is not JSON');
  }
  const parsed = loose(schema).safeParse(json);
  if (parsed.success) return parsed.data as z.output<S>;
  const issue = parsed.error.issues[0];
  // Zod's messages state the expected type or form, never the value found.
  throw invalid(kind, key, issue === undefined ? 'it does not match its schema' : describeIssue(issue));
}

/** `allowIps[1] is not an IP address or CIDR range`, `status: invalid option: expected one of …`. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const where = fieldPath(issue.path);
  // Our own messages continue the field's name ("is not …"); zod's are sentences of their own.
  return /^[a-z]/.test(issue.message) ? `${where} ${issue.message}` : `${where}: ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`;
}
