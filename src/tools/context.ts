// What every tool handler gets: who is calling (from a verified token only) and
// the handles it may use. Built per request by the transport layer.

import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import type { GraphClient } from '../falkordb/graphs.js';

export interface ToolContext {
  principal: Principal;
  graphs: GraphClient;
  limits: Config['query'];
  versions: { gateway: string; falkordb: string };
}
