// Pure helpers of the connection: address redaction, module version decoding, backoff, failure sorting.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeConnectFailure, formatModuleVersion, redactAddress, retryDelayMs } from './connection.js';

describe('redactAddress', () => {
  it('removes the password and keeps the user, host and port', () => {
    assert.equal(redactAddress('redis://:s3cret@db.internal:6379'), 'redis://db.internal:6379');
    assert.equal(redactAddress('rediss://app:s3cret@db.internal:6380/2'), 'rediss://app@db.internal:6380/2');
    assert.equal(redactAddress('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
  });

  it('leaves a unix socket path as it is', () => {
    assert.equal(redactAddress('/var/run/falkordb.sock'), '/var/run/falkordb.sock');
  });

  it('never echoes a URL it cannot parse', () => {
    assert.doesNotMatch(redactAddress('redis://:pw@[bad'), /pw/);
  });
});

describe('formatModuleVersion', () => {
  it('decodes major*10000 + minor*100 + patch', () => {
    assert.equal(formatModuleVersion(41603), '4.16.3');
    assert.equal(formatModuleVersion(40211), '4.2.11');
  });
});

describe('retryDelayMs', () => {
  it('starts at 100 ms, doubles, and stays at 2 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 50].map(retryDelayMs), [100, 200, 400, 800, 1600, 2000, 2000]);
  });
});

describe('describeConnectFailure', () => {
  it('treats a refused connection as worth retrying', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.deepEqual(describeConnectFailure(refused), { kind: 'transient', reason: 'connection refused' });
  });

  it('unwraps the socket error node-redis wraps when it stops retrying', () => {
    const wrapped = Object.assign(new Error('reconnect strategy'), { socketError: Object.assign(new Error('x'), { code: 'ENOENT' }) });
    assert.equal(describeConnectFailure(wrapped).reason, 'no socket file at that path');
  });
});
