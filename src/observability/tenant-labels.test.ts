import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTenantLabeler, OTHER_TENANTS } from './tenant-labels.js';

describe('tenant labels', () => {
  it('gives every tenant its own label with "all"', () => {
    const label = createTenantLabeler('all');
    assert.deepEqual(['acme', 'widgets', 'other-co'].map(label), ['acme', 'widgets', 'other-co']);
  });

  it('labels every tenant "other" with "none"', () => {
    const label = createTenantLabeler('none');
    assert.deepEqual(['acme', 'widgets'].map(label), [OTHER_TENANTS, OTHER_TENANTS]);
    assert.equal(OTHER_TENANTS, 'other');
  });

  it('keeps the first N distinct tenants seen and labels every later one "other"', () => {
    const label = createTenantLabeler(2);
    assert.deepEqual(['acme', 'acme', 'widgets', 'globex', 'initech'].map(label), ['acme', 'acme', 'widgets', 'other', 'other']);
  });

  it('never changes a tenant\'s label during the life of the process', () => {
    const label = createTenantLabeler(2);
    const seen = ['a', 'b', 'c', 'a', 'c', 'd', 'b', 'c', 'a'].map((tenant) => [tenant, label(tenant)] as const);
    const labels = new Map<string, Set<string>>();
    for (const [tenant, given] of seen) labels.set(tenant, (labels.get(tenant) ?? new Set()).add(given));
    assert.deepEqual(Object.fromEntries([...labels].map(([tenant, set]) => [tenant, [...set]])), { a: ['a'], b: ['b'], c: ['other'], d: ['other'] });
  });
});
