import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditFacts } from './audit-event.js';
import { RefusalSummary } from './refusal-summary.js';

const refusal = (clientIp: string, errorCode: string, tenant?: string): AuditFacts => ({
  event: 'auth_failure', clientIp, path: '/mcp', errorCode, ...(tenant === undefined ? {} : { tenant }),
});

describe('RefusalSummary', () => {
  it('writes the first refusals of an address one by one, then one summary with the count per code', () => {
    const emitted: AuditFacts[] = [];
    const summary = new RefusalSummary(2, (facts) => emitted.push(facts));
    const admitted = ['A', 'A', 'A', 'B', 'A'].map((code) => summary.admit(refusal('10.0.0.1', `TOKEN_${code}`)));
    assert.deepEqual(admitted, [true, true, false, false, false]);
    summary.close();
    assert.deepEqual(emitted, [{ event: 'refusals_summarised', clientIp: '10.0.0.1', count: 3, detail: '3 refusals past the first 2 of the minute: TOKEN_A=2 TOKEN_B=1' }]);
  });

  it('counts each address, and each verified tenant, on its own', () => {
    const emitted: AuditFacts[] = [];
    const summary = new RefusalSummary(1, (facts) => emitted.push(facts));
    assert.equal(summary.admit(refusal('10.0.0.1', 'TOKEN_MALFORMED')), true);
    assert.equal(summary.admit(refusal('10.0.0.2', 'TOKEN_MALFORMED')), true);
    assert.equal(summary.admit(refusal('10.0.0.1', 'TOKEN_REVOKED', 'acme')), true);
    assert.equal(summary.admit(refusal('10.0.0.1', 'TOKEN_REVOKED', 'acme')), false);
    summary.close();
    assert.deepEqual(emitted.map((e) => [e.tenant, e.clientIp, e.errorCode, e.count]), [['acme', '10.0.0.1', 'TOKEN_REVOKED', 1]]);
  });

  it('starts a new window after a summary: the next refusals are written again', () => {
    const emitted: AuditFacts[] = [];
    const summary = new RefusalSummary(1, (facts) => emitted.push(facts));
    summary.admit(refusal('10.0.0.1', 'TOKEN_MALFORMED'));
    assert.equal(summary.admit(refusal('10.0.0.1', 'TOKEN_MALFORMED')), false);
    summary.summarise();
    assert.equal(emitted.length, 1);
    assert.equal(summary.admit(refusal('10.0.0.1', 'TOKEN_MALFORMED')), true);
    summary.close();
    assert.equal(emitted.length, 1, 'a window with nothing held back writes no summary');
  });
});
