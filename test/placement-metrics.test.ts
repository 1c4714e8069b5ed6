// The metrics of tenant placement, through a real scrape: which instance this
// is (instance_info), and whether each database target answers
// (database_target_up), for a target that answers, one that never did, and
// one that stops.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGateway } from '../src/main.js';
import { startTestFalkorDB, type TestFalkorDB } from './support/falkordb.js';
import { startTestGateway } from './support/gateway.js';
import { freeLoopbackPort } from './support/ports.js';
import { waitFor } from './support/topology.js';

let shared: TestFalkorDB;
let target: TestFalkorDB;
let gateway: RunningGateway;

before(async () => {
  [shared, target] = await Promise.all([startTestFalkorDB(), startTestFalkorDB()]);
  // Nothing listens there: the target is never reached.
  const nowhere = `redis://127.0.0.1:${await freeLoopbackPort()}`;
  gateway = await startTestGateway(shared.url, {
    DATABASE_TARGETS: 'answers,never',
    DATABASE_TARGET_ANSWERS_URL: target.url,
    DATABASE_TARGET_NEVER_URL: nowhere,
    FALKORDB_CONNECT_TIMEOUT_MS: '500',
    INSTANCE_NAME: 'gw-metrics-0',
    METRICS_PORT: '0',
  });
});

after(async () => {
  await gateway?.stop();
  await Promise.allSettled([shared?.cleanup(), target?.cleanup()]);
});

/** The value of the one sample of `name` whose labels are `labels`, written as in the text format. */
async function sample(name: string, labels: string): Promise<number | undefined> {
  assert.ok(gateway.metricsUrl !== undefined);
  const text = await (await fetch(gateway.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('placement metrics', () => {
  it('names the instance', async () => {
    assert.equal(await sample('falkordb_gateway_instance_info', 'instance_name="gw-metrics-0"'), 1);
  });

  it('says which database targets answer: 1 for the one that does, 0 for one never reached', async () => {
    await waitFor('the answering target reached', async () => ((await sample('falkordb_gateway_database_target_up', 'target="answers"')) === 1 ? true : undefined), 30_000);
    assert.equal(await sample('falkordb_gateway_database_target_up', 'target="never"'), 0);
  });

  it('turns to 0 when a target stops answering, and back to 1 when it is back', async () => {
    await target.stop();
    await waitFor('the stopped target down', async () => ((await sample('falkordb_gateway_database_target_up', 'target="answers"')) === 0 ? true : undefined), 30_000);
    await target.restart();
    await waitFor('the target up again', async () => ((await sample('falkordb_gateway_database_target_up', 'target="answers"')) === 1 ? true : undefined), 60_000);
  });
});
