// The gateway's shared state, bundled: what the server and the CLI both open.

import type { Config } from '../config.js';
import type { Database } from '../falkordb/database.js';
import { AuditTrail } from '../observability/audit.js';
import type { Logger } from '../logger.js';
import { EnrolmentCodes } from './enrolments.js';
import { RefreshTokens } from './refresh.js';
import { StateStore } from './store.js';
import { TenantRegistry } from './tenants.js';
import { TokenLedger } from './tokens.js';

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
