// The slice of a node-redis client that rate-limiter-flexible's RateLimiterRedis
// uses to count (`useRedisPackage: true`: one EVAL per consume), sent through
// the gateway's own Database so counting shares its connection, reconnects and
// fail-fast behaviour instead of opening a second client. On a cluster the
// script runs on the shard of its first key; each limiter script uses one key.

import type { Database, RespValue } from '../falkordb/database.js';

export interface ScriptClient {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<RespValue>;
}

export function scriptClient(db: Pick<Database, 'sendCommand'>): ScriptClient {
  return {
    eval: (script, { keys, arguments: args }) => db.sendCommand(['EVAL', script, String(keys.length), ...keys, ...args]),
  };
}
