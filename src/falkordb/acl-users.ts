// One database ACL user per tenant (TENANT_ISOLATION=acl): its name, its password
// (derived, never stored), its rights, and the administrative commands that create,
// turn off, turn on and delete it on every node the gateway knows.

import { createHmac } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import { encodedTenantId, tenantKeyPattern } from '../tenancy/keys.js';
import type { Database, RespValue } from './database.js';
import { boundedCache } from '../bounded-cache.js';

/** Every tenant user's name starts with this, so operators can tell them apart from their own users. */
export const TENANT_USER_PREFIX = 'fmg-t-';

/**
 * The only commands a tenant user may run: what the tools send on a tenant's
 * connection (queries, read-only queries, plans, constraints, delete) and PING. The handshake sends
 * AUTH alone (no client name, no CLIENT SETINFO), which every user may run.
 */
export const TENANT_USER_COMMANDS = ['graph.query', 'graph.ro_query', 'graph.explain', 'graph.constraint', 'graph.delete', 'ping'] as const;

/** `acme` → `fmg-t-acme`; `a_b` → `fmg-t-a%5Fb` (the key-prefix encoding, so no two tenants share a user). */
export function tenantUserName(tenant: string): string {
  return TENANT_USER_PREFIX + encodedTenantId(tenant);
}

/** HMAC-SHA256(secret, user name) in hex: every instance with the same secret computes the same password. */
export function tenantUserPassword(secret: string, userName: string): string {
  return createHmac('sha256', secret).update(userName, 'utf8').digest('hex');
}

/**
 * The user's rules, each one resetting what it sets, so applying them again
 * converges any existing user on exactly these rights. On/off is left out on purpose:
 * re-applying the rules never turns a user the operator turned off back on.
 */
export function tenantUserRules(tenant: string, password: string): string[] {
  return [
    'resetpass', `>${password}`,
    'resetkeys', `~${tenantKeyPattern(tenant)}`,
    'resetchannels',
    'clearselectors',
    '-@all', ...TENANT_USER_COMMANDS.map((command) => `+${command}`),
  ];
}

export type TenantUserState = 'missing' | 'on' | 'off';

/** on/off from an ACL GETUSER reply (`null` when the user does not exist). */
export function userStateOf(reply: RespValue): TenantUserState {
  if (!Array.isArray(reply)) return 'missing';
  const flags = reply[reply.indexOf('flags') + 1];
  return Array.isArray(flags) && flags.includes('on') ? 'on' : 'off';
}

/** A server a tenant's user must exist on, as the gateway's own connection to it. */
export interface UserNode {
  /**
   * Who the node is: its address, plus anything that changes when it may have lost
   * its users (a replica that rejoined the rotation), so they are set up there again.
   */
  readonly id: string;
  readonly db: Pick<Database, 'sendCommand' | 'address'>;
  /** false for a read replica: a failure there is logged and retried later, not the caller's. */
  readonly required: boolean;
}

/** The nodes reachable now (the first one decides whether a user is on or off) and the addresses of the others. */
export interface UserNodes {
  reachable: readonly UserNode[];
  unreachable: readonly string[];
}

export interface TenantUsersOptions {
  secret: string;
  /**
   * The gateway's own connections to every node a tenant's user must exist on
   * (ACL rules are not replicated): the primary first, then read replicas, or
   * every node of a cluster.
   */
  nodes: () => UserNodes | Promise<UserNodes>;
  /** Commands the users get beyond TENANT_USER_COMMANDS (ASKING on a cluster, for slots being migrated). */
  extraCommands?: readonly string[];
  logger: Logger;
}

/** `[db]` as the node list of a single server. */
export function singleNode(db: Pick<Database, 'sendCommand' | 'address'>): UserNodes {
  return { reachable: [{ id: db.address, db, required: true }], unreachable: [] };
}

/** The tenants' database users on every node: provisioned on first use, repaired, turned off and on, deleted. */
export class TenantUsers {
  readonly #secret: string;
  readonly #nodes: () => UserNodes | Promise<UserNodes>;
  readonly #extra: readonly string[];
  readonly #logger: Logger;
  // (tenant, node id) pairs this process has set up; the promise is shared by concurrent first calls.
  readonly #provisioned = boundedCache<string, Promise<void>>(100_000);

  constructor(options: TenantUsersOptions) {
    this.#secret = options.secret;
    this.#nodes = options.nodes;
    this.#extra = options.extraCommands ?? [];
    this.#logger = options.logger;
  }

  credentials(tenant: string): { username: string; password: string } {
    const username = tenantUserName(tenant);
    return { username, password: tenantUserPassword(this.#secret, username) };
  }

  /**
   * Makes sure the tenant's user exists with current rights on every reachable node;
   * once per node (and per return of a replica), then cached. A replica that fails is
   * logged and tried again on the next call; any other node's failure is thrown.
   */
  async ensure(tenant: string): Promise<void> {
    const { reachable } = await this.#nodes();
    const [first, ...rest] = reachable;
    if (first === undefined) return;
    await this.#once(tenant, first, () => this.#provision(tenant, first));
    await Promise.all(
      rest.map((node) =>
        this.#once(tenant, node, () => this.#provision(tenant, node, first)).catch((error: unknown) =>
          this.#failedOn(tenant, node, error, 'database user of tenant not set up on a replica yet; retried on its next call'),
        ),
      ),
    );
  }

  /**
   * After the database refused the tenant's password: what the user's state is on
   * the first node, re-provisioned everywhere unless it is off (missing after a
   * restart without an ACL file, or a password from an earlier ACL_USER_SECRET).
   */
  async repair(tenant: string): Promise<TenantUserState> {
    this.#forget(tenant, (await this.#nodes()).reachable);
    const state = await this.state(tenant);
    if (state === 'off') return state;
    await this.ensure(tenant);
    return state;
  }

  /** The user's state on the first node. */
  async state(tenant: string): Promise<TenantUserState> {
    const [first] = (await this.#nodes()).reachable;
    if (first === undefined) return 'missing';
    return userStateOf(await admin(first.db, ['ACL', 'GETUSER', tenantUserName(tenant)]));
  }

  /** Turns the user off on every node (creating it off if missing) and closes its open connections there. */
  async disable(tenant: string): Promise<number> {
    let closed = 0;
    await this.#onEvery(tenant, 'turned off', async (node) => {
      await this.#setUser(node, tenant, ['off']);
      // `off` only refuses new logins; connections already logged in keep working until killed.
      closed += Number(await admin(node, ['CLIENT', 'KILL', 'USER', tenantUserName(tenant)]));
    });
    return closed;
  }

  /** Turns the user on again on every node (creating it if missing). */
  async enable(tenant: string): Promise<void> {
    await this.#onEvery(tenant, 'turned on', async (node) => {
      await this.#setUser(node, tenant, ['on']);
    });
  }

  /** Deletes the user on every node, which also closes its connections; true when it existed anywhere. */
  async remove(tenant: string): Promise<boolean> {
    let removed = false;
    await this.#onEvery(tenant, 'deleted', async (node) => {
      removed = Number(await admin(node, ['ACL', 'DELUSER', tenantUserName(tenant)])) > 0 || removed;
    });
    return removed;
  }

  /** ACL SETUSER with the current rules, after `flags` (on, off, or neither: an existing user keeps its state). */
  async #setUser(node: UserNode['db'], tenant: string, flags: readonly string[]): Promise<void> {
    const { username, password } = this.credentials(tenant);
    await admin(node, ['ACL', 'SETUSER', username, ...flags, ...tenantUserRules(tenant, password), ...this.#extra.map((command) => `+${command}`)]);
  }

  /** A change that failed on `node`: thrown when the node is required, else logged (a replica catches up later). */
  #failedOn(tenant: string, node: UserNode, error: unknown, message: string): void {
    if (node.required) throw error;
    this.#logger.warn({ tenant, node: node.db.address, reason: error instanceof Error ? error.message : String(error) }, message);
  }

  #once(tenant: string, node: UserNode, provision: () => Promise<void>): Promise<void> {
    const key = `${tenant}\u0000${node.id}`;
    let pending = this.#provisioned.get(key);
    if (pending === undefined) {
      pending = provision();
      this.#provisioned.set(key, pending);
      pending.catch(() => this.#provisioned.delete(key));
    }
    return pending;
  }

  #forget(tenant: string, reachable: readonly UserNode[]): void {
    for (const node of reachable) this.#provisioned.delete(`${tenant}\u0000${node.id}`);
  }

  /**
   * A change on every reachable node; a replica that fails or is unreachable is
   * logged (it follows the first node's on/off state when a gateway next sets the
   * user up there), any other failure is thrown.
   */
  async #onEvery(tenant: string, what: string, change: (node: UserNode['db']) => Promise<void>): Promise<void> {
    const { reachable, unreachable } = await this.#nodes();
    this.#forget(tenant, reachable);
    for (const node of reachable) {
      try {
        await change(node.db);
      } catch (error) {
        this.#failedOn(tenant, node, error, `database user of tenant not ${what} on a replica; it follows the primary when it is next set up there`);
      }
    }
    if (unreachable.length > 0) {
      this.#logger.warn({ tenant, nodes: unreachable }, `database user of tenant not ${what} on unreachable read replicas; each follows the primary when a gateway next sets the user up there`);
    }
  }

  /**
   * Sets the user up on `node`. On the first node (no `first`) a new user is created on and an
   * existing one keeps its on/off state; on any other node it takes the first node's on/off state
   * (it may have missed a disable or enable).
   */
  async #provision(tenant: string, node: UserNode, first?: UserNode): Promise<void> {
    const username = tenantUserName(tenant);
    let wanted: 'on' | 'off' | undefined;
    if (first !== undefined) wanted = userStateOf(await admin(first.db, ['ACL', 'GETUSER', username])) === 'off' ? 'off' : 'on';
    // Another instance may have created it a moment ago, or the operator turned it off.
    const state = userStateOf(await admin(node.db, ['ACL', 'GETUSER', username]));
    if (wanted === undefined && state === 'missing') wanted = 'on';
    await this.#setUser(node.db, tenant, wanted === undefined ? [] : [wanted]);
    if (state === 'missing') this.#logger.info({ tenant, user: username, node: node.db.address }, 'database user of tenant created');
    // Turned off here while it was on: connections made before are cut, as `tenant disable` does.
    if (wanted === 'off' && state === 'on') await admin(node.db, ['CLIENT', 'KILL', 'USER', username]);
  }
}

/** An administrative command; a refusal becomes a message naming the permission and never the password. */
async function admin(node: Pick<Database, 'sendCommand' | 'address'>, args: string[]): Promise<RespValue> {
  try {
    return await node.sendCommand(args);
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const what = `${args[0]} ${args[1]}`;
    if (/^NOPERM/.test(message)) {
      throw new GatewayError('DATABASE_PERMISSION_MISSING', `The gateway's database user may not run ${what} on ${node.address}, which TENANT_ISOLATION=acl needs; grant it (see docs/security.md).`, { command: what });
    }
    throw new GatewayError('DATABASE_UNREACHABLE', `${what} failed on ${node.address}: ${message.replace(/>[0-9a-f]{64}/g, '>…')}`, { address: node.address });
  }
}
