import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { servesTenants } from './tenant-id.js';

describe('servesTenants (SERVE_TENANTS)', () => {
  it('serves every tenant when unset', () => {
    assert.equal(servesTenants(undefined), undefined);
  });

  it('serves exact ids and patterns, nothing else', () => {
    const serves = servesTenants(['acme', 'prem-*']);
    assert.ok(serves);
    for (const tenant of ['acme', 'prem-', 'prem-1', 'prem-a-b']) assert.equal(serves(tenant), true, tenant);
    for (const tenant of ['acme2', 'Acme', 'xacme', 'prem', 'other', '*', '']) assert.equal(serves(tenant), false, tenant);
  });

  it('takes `*` in an exact id position literally only as a pattern: `*` alone serves everyone', () => {
    const serves = servesTenants(['*']);
    assert.ok(serves);
    assert.equal(serves('anything'), true);
  });

  it('excludes what a `!` entry matches, whatever else matches it', () => {
    const serves = servesTenants(['*', '!acme', '!vip-*']);
    assert.ok(serves);
    assert.equal(serves('bob'), true);
    assert.equal(serves('acme'), false);
    assert.equal(serves('vip-1'), false);
    assert.equal(serves('acme-2'), true);
  });

  it('with only exclusions serves every other tenant', () => {
    const serves = servesTenants(['!acme']);
    assert.ok(serves);
    assert.equal(serves('bob'), true);
    assert.equal(serves('acme'), false);
  });
});
