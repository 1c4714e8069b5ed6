// The gateway's error vocabulary: one class, a stable `code` per failure, and the
// single table that maps each code to what HTTP and MCP clients are told.

export const ERROR_CODES = {
  // configuration and start-up (never reach a tenant)
  CONFIG_INVALID: 500,
  DATABASE_UNREACHABLE: 503,
  // a tenant placed on a database target this instance has no configuration for
  DATABASE_TARGET_UNKNOWN: 503,
  DATABASE_NOT_FALKORDB: 503,
  DATABASE_CLUSTER_INVALID: 503,
  DATABASE_PERMISSION_MISSING: 500,
  DATABASE_LIMITS_MISSING: 500,
  SERVER_BINARY_MISSING: 500,
  DATA_DIR_UNUSABLE: 500,
  PORT_IN_USE: 500,
  // the CLI's environment differs from the running gateway's (never reaches a tenant)
  GATEWAY_MISMATCH: 500,
  // authentication: 401 with WWW-Authenticate
  TOKEN_MISSING: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_SIGNATURE_INVALID: 401,
  TOKEN_ALGORITHM_REFUSED: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_ISSUER_INVALID: 401,
  TOKEN_AUDIENCE_INVALID: 401,
  TOKEN_CLAIM_INVALID: 401,
  TOKEN_TENANT_MISSING: 401,
  TOKEN_REVOKED: 401,
  TOKEN_KEY_UNKNOWN: 401,
  QUERY_TOKEN_DISABLED: 401,
  // authorisation
  SCOPE_MISSING: 403,
  GRAPH_FORBIDDEN: 403,
  SESSION_FORBIDDEN: 403,
  ORIGIN_FORBIDDEN: 403,
  IP_FORBIDDEN: 403,
  TENANT_DISABLED: 403,
  TENANT_NOT_REGISTERED: 403,
  TENANT_NOT_SERVED: 403,
  DATABASE_ACCESS_DENIED: 403,
  HOST_FORBIDDEN: 403,
  // admission
  RATE_LIMITED: 429,
  AUTH_FAILURES_LIMITED: 429,
  TOO_MANY_QUERIES: 503,
  SESSION_LIMIT: 429,
  STORAGE_QUOTA_EXCEEDED: 403,
  // requests and tool arguments
  SESSION_UNKNOWN: 404,
  BODY_TOO_LARGE: 413,
  REQUEST_INVALID: 400,
  INVALID_ARGUMENT: 400,
  GRAPH_NAME_INVALID: 400,
  TENANT_ID_INVALID: 400,
  PARAMETERS_INVALID: 400,
  PARAMETERS_TOO_LARGE: 400,
  QUERY_TOO_LONG: 400,
  QUERY_FORBIDDEN: 400,
  QUERY_TOO_COMPLEX: 400,
  RESULT_TOO_DEEP: 400,
  RESULT_TOO_LARGE: 400,
  GRAPH_NOT_FOUND: 404,
  TENANT_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  TENANT_EXISTS: 409,
  STATE_CONFLICT: 409,
  // tenant placement: a move's switch-over refuses writes for a moment; a move that lost its lease
  TENANT_MOVING: 503,
  TENANT_MOVE_LOST: 409,
  // a record in the gateway state that this version cannot read (changed by hand, or by another program)
  STATE_RECORD_INVALID: 500,
  GRAPH_EXISTS: 409,
  TRANSFER_FILE_INVALID: 400,
  GRANT_INVALID: 400,
  QUERY_FAILED: 400,
  QUERY_TIMEOUT: 504,
  QUERY_MEMORY_EXCEEDED: 400,
  // replication (FALKORDB_SENTINELS)
  WRITE_NOT_REPLICATED: 503,
  WRITE_OUTCOME_UNKNOWN: 503,
  // read replicas (FALKORDB_REPLICA_URLS): the primary is down, reads still served
  PRIMARY_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a stable code and a message that says what to do. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** Extra, non-secret facts for logs and HTTP error bodies (e.g. the scope that was missing). */
  readonly details: Readonly<Record<string, string>>;

  /**
   * `options.cause` keeps what went wrong underneath (a database reply, a bug's
   * TypeError) for the log; it never reaches the caller.
   */
  constructor(code: ErrorCode, message: string, details: Record<string, string> = {}, options: { cause?: unknown } = {}) {
    // An expected failure: the message says what happened, a stack would not, and capturing
    // one is most of what building the error costs (every refused request builds one).
    // The cause keeps its own stack.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'GatewayError';
    this.code = code;
    this.details = Object.freeze({ ...details });
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** Wraps anything thrown into a GatewayError without leaking internals to the caller; the original stays its cause. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('INTERNAL', 'The gateway hit an unexpected error; the request was not completed. Try again, and tell the operator if it persists.', {}, { cause: error });
}

// Failures of the database layer whose own wording names the server (its address,
// a node of the cluster, the sentinels): right for the operator's start-up output
// and log, wrong for a tenant, who is told only that the service is down.
const DATABASE_FAULTS: ReadonlySet<ErrorCode> = new Set([
  'DATABASE_UNREACHABLE',
  'DATABASE_NOT_FALKORDB',
  'DATABASE_CLUSTER_INVALID',
  'DATABASE_PERMISSION_MISSING',
  'DATABASE_LIMITS_MISSING',
  'DATABASE_TARGET_UNKNOWN',
]);

/** The message a tenant sees for `error`: the error's own, or for a database fault a fixed one that names no server. */
export function tenantFacingMessage(error: GatewayError): string {
  if (!DATABASE_FAULTS.has(error.code)) return error.message;
  return "The database behind this gateway is unavailable now. Try again shortly; if it lasts, tell the gateway's operator (its log and /readyz say why).";
}
