// Prometheus metrics: what the request path reports (tool calls, refusals,
// authentications, JWKS failures), kept in a registry of this instance's own.

import type { Principal } from '../auth/principal.js';
import type { GatewayError } from '../errors.js';
import type { ToolCallRecord } from '../tools/context.js';

export interface GatewayMetrics {
  /** One finished tool call. */
  toolCall(principal: Principal, record: ToolCallRecord): void;
  /** A request refused with a GatewayError (authentication, denial, rate limit, …); the principal when known. */
  requestRefused(error: GatewayError, principal: Principal | undefined): void;
  /** A request whose token passed every check. */
  authenticated(principal: Principal): void;
  /** The identity provider's key set could not be fetched. */
  jwksFailure(): void;
}

/** Metrics that go nowhere: for the CLI and stdio, which serve no /metrics. */
export const NO_METRICS: GatewayMetrics = {
  toolCall: () => undefined,
  requestRefused: () => undefined,
  authenticated: () => undefined,
  jwksFailure: () => undefined,
};
