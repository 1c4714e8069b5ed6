// What docs/troubleshooting.md documents, for tests that check the code against it.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './mcp.js';

/** The examples docs/troubleshooting.md gives in the Message line of `code`'s section. */
export function documentedMessages(code: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, 'docs', 'troubleshooting.md'), 'utf8');
  const section = text.split(new RegExp(`^### \`${code}\` \\(\\d{3}\\)$`, 'm'))[1]?.split(/^###? /m)[0] ?? '';
  const message = /- \*\*Message:\*\*([\s\S]*?)\n- \*\*/.exec(section)?.[1] ?? '';
  return [...message.matchAll(/``(.+?)``|`([^`]+)`/gs)].map((m) => (m[1] ?? m[2]!).replace(/\s*\n\s*/g, ' '));
}

/** The codes test/troubleshooting-messages-a.test.ts produces: start-up, authentication, authorisation. */
export const TROUBLESHOOTING_CODES_A = [
  'CONFIG_INVALID', 'DATABASE_UNREACHABLE', 'DATABASE_NOT_FALKORDB', 'DATABASE_CLUSTER_INVALID', 'DATABASE_LIMITS_MISSING',
  'DATABASE_PERMISSION_MISSING', 'SERVER_BINARY_MISSING', 'DATA_DIR_UNUSABLE', 'PORT_IN_USE', 'GATEWAY_MISMATCH',
  'TOKEN_MISSING', 'TOKEN_MALFORMED', 'TOKEN_SIGNATURE_INVALID', 'TOKEN_ALGORITHM_REFUSED', 'TOKEN_EXPIRED', 'TOKEN_NOT_YET_VALID',
  'TOKEN_ISSUER_INVALID', 'TOKEN_AUDIENCE_INVALID', 'TOKEN_CLAIM_INVALID', 'TOKEN_TENANT_MISSING', 'TOKEN_REVOKED', 'TOKEN_KEY_UNKNOWN',
  'QUERY_TOKEN_DISABLED', 'AUTH_FAILURES_LIMITED', 'SCOPE_MISSING', 'GRAPH_FORBIDDEN', 'SESSION_FORBIDDEN', 'ORIGIN_FORBIDDEN',
  'IP_FORBIDDEN', 'TENANT_DISABLED', 'TENANT_NOT_REGISTERED', 'DATABASE_ACCESS_DENIED', 'HOST_FORBIDDEN',
] as const;

/** The codes test/troubleshooting-messages-c.test.ts produces: tenant placement, dedicated instances, moves. */
export const TROUBLESHOOTING_CODES_C = ['TENANT_NOT_SERVED', 'TENANT_MOVING', 'TENANT_MOVE_LOST', 'DATABASE_TARGET_UNKNOWN'] as const;

/** The codes test/troubleshooting-messages-b.test.ts produces: admission, requests, queries, tenants, transfers, replication. */
export const TROUBLESHOOTING_CODES_B = [
  'RATE_LIMITED',
  'TOO_MANY_QUERIES',
  'SESSION_LIMIT',
  'STORAGE_QUOTA_EXCEEDED',
  'SESSION_UNKNOWN',
  'BODY_TOO_LARGE',
  'REQUEST_INVALID',
  'GRAPH_NAME_INVALID',
  'TENANT_ID_INVALID',
  'INVALID_ARGUMENT',
  'PARAMETERS_INVALID',
  'PARAMETERS_TOO_LARGE',
  'QUERY_TOO_LONG',
  'QUERY_FORBIDDEN',
  'QUERY_TOO_COMPLEX',
  'RESULT_TOO_DEEP',
  'RESULT_TOO_LARGE',
  'GRAPH_NOT_FOUND',
  'TENANT_NOT_FOUND',
  'TOKEN_NOT_FOUND',
  'STATE_CONFLICT',
  'STATE_RECORD_INVALID',
  'TENANT_EXISTS',
  'GRAPH_EXISTS',
  'TRANSFER_FILE_INVALID',
  'GRANT_INVALID',
  'QUERY_FAILED',
  'QUERY_MEMORY_EXCEEDED',
  'QUERY_TIMEOUT',
  'WRITE_NOT_REPLICATED',
  'WRITE_OUTCOME_UNKNOWN',
  'PRIMARY_UNAVAILABLE',
  'INTERNAL',
] as const;

/** Every code docs/troubleshooting.md gives a section of its own (`### \`CODE\` (status)`), in order. */
export function documentedCodes(): string[] {
  const text = readFileSync(path.join(REPO_ROOT, 'docs', 'troubleshooting.md'), 'utf8');
  return [...text.matchAll(/^#{2,4} `([A-Z_]+)` \(\d{3}\)[ \t]*$/gm)].map((m) => m[1]!);
}
