// The gateway's shared state, bundled with the audit trail that writes into it:
// what the server and the CLI both open. It sits above state/ and observability/,
// which it joins.

import type { Config } from './config/index.js';
import type { Database } from './falkordb/database.js';
import { AuditTrail } from './observability/audit.js';
import type { Logger } from './logger.js';
import { EnrolmentCodes } from './state/enrolments.js';
import { RefreshTokens } from './state/refresh.js';
import { StateStore } from './state/store.js';
import { TenantRegistry } from './state/tenants.js';
import { TokenLedger } from './state/tokens.js';

export interface GatewayState {
  store: StateStore;
  tenants: TenantRegistry;
  ledger: TokenLedger;
  refresh: RefreshTokens;
  enrolments: EnrolmentCodes;
  audit: AuditTrail;
}

export function openGatewayState(db: Database, logger: Logger, audit: Config['audit'], now: () => number = Date.now): GatewayState {
  const store = new StateStore(db);
  const ledger = new TokenLedger(store, now);
  return {
    store,
    tenants: new TenantRegistry(store, now),
    ledger,
    refresh: new RefreshTokens(store, ledger, now),
    enrolments: new EnrolmentCodes(store, now),
    audit: new AuditTrail(store, logger, audit, now),
  };
}
