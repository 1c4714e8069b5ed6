// A flood of bad tokens must not cost the database anything: a token whose
// signature fails is refused by this instance alone. Tokens of an algorithm no
// tenant key can have (tenants sign with public keys; HS256 is the gateway's
// shared secret) never lead to a registry lookup, whichever tenant they name.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { connectDatabase } from '../src/falkordb/connection.js';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, testLogger, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { TEST_AUDIENCE, TEST_ISSUER } from './support/tokens.js';

let db: TestFalkorDB;
let gateway: RunningGateway;
let direct: Awaited<ReturnType<typeof connectDatabase>>;

before(async () => {
  db = await startTestFalkorDB();
  // Every bad token is checked (no per-address limit), as in a flood from many addresses.
  gateway = await startTestGateway(db.url, { AUTH_FAILURES_PER_MINUTE: '0' });
  direct = await connectDatabase({ url: db.url, connectTimeoutMs: 5000, logger: testLogger() });
});

after(async () => {
  await direct?.close();
  await gateway?.stop();
  await db?.cleanup();
});

/** How many times the server ran `command`, from INFO commandstats. */
async function calls(command: string): Promise<number> {
  const info = String(await direct.sendCommand(['INFO', 'commandstats']));
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'mi').exec(info);
  return match === null ? 0 : Number(match[1]);
}

describe('bad tokens', () => {
  it('a token with a wrong HS256 signature is refused without a read of the tenant registry, for any number of tenants', async () => {
    const secret = new TextEncoder().encode('not-the-gateway-secret-but-as-long-as-one-0123');
    const before = { get: await calls('get'), mget: await calls('mget') };
    for (let i = 0; i < 50; i++) {
      // Each names a tenant of its own (the tenant claim is `sub`), as a flood meant to miss every cache would.
      const forged = await new SignJWT({ scope: 'read' }).setProtectedHeader({ alg: 'HS256' }).setSubject(`flood-${i}`).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(secret);
      for (const token of [forged]) {
        const response = await fetch(`${gateway.url}/mcp`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
        });
        assert.equal(response.status, 401);
        await response.text();
      }
    }
    assert.equal((await calls('get')) - before.get, 0, 'registry reads (GET) for bad tokens');
    assert.equal((await calls('mget')) - before.mget, 0, 'revocation reads (MGET) for bad tokens');
  });
});
