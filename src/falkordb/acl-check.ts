// Start-up check for TENANT_ISOLATION=acl: may the gateway's own database user do
// everything the second layer needs? Asked with ACL DRYRUN, so nothing is changed.

import { GatewayError } from '../errors.js';
import { GATEWAY_STATE_PREFIX } from '../tenancy/keys.js';
import { TENANT_USER_PREFIX } from './acl-users.js';
import type { Database } from './database.js';

const PROBE_USER = `${TENANT_USER_PREFIX}start-up-check`;
// Shaped like a tenant graph key (`<encoded id>_<graph>`), never one that exists.
const PROBE_GRAPH = 'start-up-check_g';
const PROBE_STATE = `${GATEWAY_STATE_PREFIX}start-up-check`;

/** What the gateway's own user runs in acl mode, each with the permission an operator grants for it. */
export const GATEWAY_USER_NEEDS: ReadonlyArray<{ args: string[]; grant: string }> = [
  { args: ['ACL', 'SETUSER', PROBE_USER], grant: '+acl|setuser' },
  { args: ['ACL', 'GETUSER', PROBE_USER], grant: '+acl|getuser' },
  { args: ['ACL', 'DELUSER', PROBE_USER], grant: '+acl|deluser' },
  { args: ['CLIENT', 'KILL', 'USER', PROBE_USER], grant: '+client|kill' },
  { args: ['GRAPH.QUERY', PROBE_GRAPH, 'RETURN 1'], grant: '+graph.query and the tenants\' keys (~*)' },
  { args: ['GRAPH.RO_QUERY', PROBE_GRAPH, 'RETURN 1'], grant: '+graph.ro_query' },
  { args: ['GRAPH.DELETE', PROBE_GRAPH], grant: '+graph.delete' },
  // The storage quota is measured on the gateway's own connection, so tenant users need no such right.
  { args: ['GRAPH.MEMORY', 'USAGE', PROBE_GRAPH], grant: '+graph.memory' },
  { args: ['SCAN', '0'], grant: '+scan' },
  { args: ['GET', PROBE_STATE], grant: `+@read and the gateway state keys (~${GATEWAY_STATE_PREFIX}*)` },
  { args: ['SET', PROBE_STATE, '1'], grant: `+@write and the gateway state keys (~${GATEWAY_STATE_PREFIX}*)` },
];

function refused(node: Pick<Database, 'address'>, problem: string, grant: string, user: string | undefined): GatewayError {
  const who = user === undefined ? "the gateway's database user" : `the gateway's database user "${user}"`;
  return new GatewayError(
    'DATABASE_PERMISSION_MISSING',
    `TENANT_ISOLATION=acl needs ${who} on ${node.address} to manage the tenants' users, but ${problem}. Grant it (${grant}), e.g. ACL SETUSER ${user ?? 'USER'} ${grant.split(' ')[0]}, or set TENANT_ISOLATION=prefix.`,
    { permission: grant.split(' ')[0] ?? grant },
  );
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).replace(/^NOPERM\s*/, '');

/** Throws DATABASE_PERMISSION_MISSING naming the first missing permission, on the first node that lacks one. */
export async function checkGatewayUserRights(nodes: ReadonlyArray<Pick<Database, 'sendCommand' | 'address'>>): Promise<void> {
  for (const node of nodes) {
    let user: string;
    try {
      user = String(await node.sendCommand(['ACL', 'WHOAMI']));
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw refused(node, `the server refused ACL WHOAMI (${message(error)})`, '+acl|whoami', undefined);
    }
    for (const need of GATEWAY_USER_NEEDS) {
      let answer: unknown;
      try {
        answer = await node.sendCommand(['ACL', 'DRYRUN', user, ...need.args]);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw refused(node, `the server refused ACL DRYRUN, which the start-up check uses (${message(error)})`, '+acl|dryrun', user);
      }
      if (answer !== 'OK') throw refused(node, `the server says: ${String(answer)}`, need.grant, user);
    }
  }
}
