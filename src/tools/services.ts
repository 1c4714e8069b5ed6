// The ToolServices of the network listener: every call counted against its
// tenant's rate (a POST's first call by the POST's own count), and recorded
// in the audit trail, the metrics and the usage counters.

import type { Admission } from '../admission/index.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { Config } from '../config/index.js';
import type { InFlight } from '../in-flight.js';
import type { Logger } from '../logger.js';
import type { AuditTrail } from '../observability/audit.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { CallTracer } from '../observability/tracing.js';
import type { UsageRecorder } from '../observability/usage.js';
import type { ToolServices } from './context.js';
import type { GraphAccess } from './graph-access.js';

export interface NetworkToolDeps {
  graphAccess: GraphAccess;
  limits: Config['query'];
  versions: { gateway: string; falkordb: string };
  logger: Logger;
  inFlight: Pick<InFlight, 'begin'>;
  admission: Pick<Admission, 'admitToolCall'>;
  policy: Pick<AccessPolicy, 'graphRules'>;
  audit: Pick<AuditTrail, 'toolCall'>;
  metrics: Pick<GatewayMetrics, 'toolCall'>;
  usage: UsageRecorder;
  /** The spans of tool calls; absent when tracing is off. */
  tracer?: CallTracer | undefined;
}

export function networkToolServices(deps: NetworkToolDeps): ToolServices {
  const { admission, audit, metrics, usage, policy } = deps;
  return {
    graphAccess: deps.graphAccess,
    limits: deps.limits,
    versions: deps.versions,
    logger: deps.logger,
    inFlight: deps.inFlight,
    admit: async (caller) => {
      // A call the request's own count covered was recorded as a request already.
      if (caller.prepaidCalls > 0) {
        caller.prepaidCalls -= 1;
        return;
      }
      await admission.admitToolCall(caller.principal);
      usage.request(caller.principal.tenant);
    },
    record: (caller, record) => {
      audit.toolCall(caller.principal, caller.clientIp, record);
      metrics.toolCall(caller.principal, record);
      usage.toolCall(caller.principal.tenant, record);
    },
    graphRules: (principal) => policy.graphRules(principal),
    tenantStats: usage.stats,
    tracer: deps.tracer,
  };
}
