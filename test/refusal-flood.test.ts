// A flood of bad tokens from one address: past AUTH_FAILURES_PER_MINUTE the address
// gets 429 before its tokens are checked, the audit trail keeps the first refusals and
// one summary instead of one event each, and a bystander tenant is served throughout.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RunningGateway } from '../src/main.js';
import { stateKeys } from '../src/state/keys.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { connectClient, mustCall } from './support/mcp.js';
import { signTestToken } from './support/tokens.js';

/** The flood comes from another loopback address than the bystander (Linux answers on all of 127/8). */
const ATTACKER_IP = '127.0.0.2';
const FLOOD = 1000;
const IN_FLIGHT = 16;
const FAILURES_PER_MINUTE = 50;
const AUDITED_PER_MINUTE = 10;
const BYSTANDER_CALLS = 30;

type Fields = Record<string, string>;

let db: TestFalkorDB;
let gateway: RunningGateway;
let bystander: Client;
let bystanderToken: string;
const attackerAgent = new Agent({ keepAlive: true, localAddress: ATTACKER_IP, maxSockets: IN_FLIGHT });

before(async () => {
  db = await startTestFalkorDB();
  gateway = await startTestGateway(db.url, {
    AUTH_FAILURES_PER_MINUTE: String(FAILURES_PER_MINUTE),
    AUDIT_REFUSALS_PER_MINUTE: String(AUDITED_PER_MINUTE),
    // Small enough that one event per refusal would trim the older events away.
    AUDIT_STREAM_MAXLEN: '200',
  });
  bystanderToken = await signTestToken('flood-bystander');
  bystander = await connectClient('http', gateway.url, bystanderToken);
});

after(async () => {
  attackerAgent.destroy();
  await bystander?.close();
  await gateway?.stop();
  await db?.cleanup();
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
}

/** POSTs an MCP initialize to /mcp from ATTACKER_IP. */
function fromAttacker(token: string): Promise<Answer> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } });
  return new Promise((resolve, reject) => {
    const req = request(`${gateway.url}/mcp`, {
      method: 'POST',
      agent: attackerAgent,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function streamEvents(key: string): Promise<Fields[]> {
  gateway.state.audit.summariseRefusals();
  await gateway.state.audit.flush();
  const reply = (await gateway.state.store.command(['XRANGE', key, '-', '+'])) as Array<[string, string[]]>;
  return reply.map(([, flat]) => {
    const fields: Fields = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return fields;
  });
}

describe('a flood of bad tokens from one address', () => {
  const answers: Answer[] = [];
  let bystanderErrors = 0;

  before(async () => {
    // Markers, audited before the flood: one in the gateway's own stream, one in the bystander's.
    await gateway.state.audit.record({ event: 'tenant_changed', actor: 'cli', detail: 'flood-marker' });
    await mustCall(bystander, 'falkordb_query', { graphName: 'g', query: 'CREATE (:Marker {n: 1})' });

    const bad = await Promise.all(Array.from({ length: 20 }, (_, i) => signTestToken(`flood-forged-${i}`, { secret: 'a-secret-the-gateway-does-not-know-32b' })));
    let sent = 0;
    const attacker = async () => {
      while (sent < FLOOD) {
        const token = sent % 3 === 0 ? `not-a-jwt-${sent}` : bad[sent % bad.length]!;
        sent += 1;
        answers.push(await fromAttacker(token));
      }
    };
    const bystanderCalls = async () => {
      for (let i = 0; i < BYSTANDER_CALLS; i++) {
        try {
          await mustCall(bystander, 'falkordb_query', { graphName: 'g', query: 'MATCH (m:Marker) RETURN count(m) AS n', readOnly: true });
        } catch {
          bystanderErrors += 1;
        }
      }
    };
    await Promise.all([bystanderCalls(), ...Array.from({ length: IN_FLIGHT }, attacker)]);
  });

  it('serves the bystander tenant without a single error', () => {
    assert.equal(bystanderErrors, 0);
  });

  it('answers 429 with Retry-After once the address is over its failure limit', () => {
    assert.equal(answers.length, FLOOD);
    const refused = answers.filter((a) => a.status === 401).length;
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(refused + limited.length, FLOOD, 'every answer is 401 or 429');
    // Requests already past the check when the limit was reached still get their 401.
    assert.ok(refused >= FAILURES_PER_MINUTE && refused < FAILURES_PER_MINUTE + IN_FLIGHT, `${refused} answers were 401`);
    for (const answer of limited) assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/);
  });

  it('keeps older audit events and writes the first refusals plus a summary, not one event each', async () => {
    const events = await streamEvents(stateKeys.audit());
    assert.ok(events.some((e) => e['detail'] === 'flood-marker'), 'the marker written before the flood was trimmed away');
    const attackers = events.filter((e) => e['clientIp'] === ATTACKER_IP);
    const single = attackers.filter((e) => e['event'] === 'auth_failure');
    const summaries = attackers.filter((e) => e['event'] === 'refusals_summarised');
    assert.equal(single.length, AUDITED_PER_MINUTE);
    assert.ok(summaries.length >= 1 && summaries.length <= 2, `${summaries.length} summaries`);
    const summarised = summaries.reduce((n, e) => n + Number(e['count']), 0);
    assert.equal(single.length + summarised, FLOOD, 'every refusal is written or counted in a summary');
    assert.match(summaries[0]!['detail'] ?? '', /AUTH_FAILURES_LIMITED=\d+/);
  });

  it('puts nothing of the flood in the bystander tenant\'s stream', async () => {
    const events = await streamEvents(stateKeys.tenantAudit('flood-bystander'));
    assert.ok(events.some((e) => e['event'] === 'query_success' && e['tool'] === 'falkordb_query'));
    assert.deepEqual(events.filter((e) => e['event'] !== 'query_success'), []);
  });

  it('lets a token this instance already accepted through from the limited address, and no other', async () => {
    assert.equal((await fromAttacker(bystanderToken)).status, 200);
    const fresh = await fromAttacker(await signTestToken('flood-newcomer'));
    assert.equal(fresh.status, 429, 'a token never seen is not checked while the address is over its limit');
  });
});
