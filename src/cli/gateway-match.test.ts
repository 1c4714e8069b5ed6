import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GatewayPresence, NewGatewayPresence } from '../auth/gateways.js';
import { differences } from './gateway-match.js';

const here: NewGatewayPresence = {
  url: 'http://127.0.0.1:3003',
  database: 'redis://127.0.0.1:6379',
  version: '0.1.0',
  devMode: false,
  signingKid: 'kid-new',
  acceptedKids: ['kid-new'],
  jwks: false,
  issuer: 'falkordb-mcp-gateway',
  audience: 'falkordb-mcp-gateway',
  tenantClaim: 'sub',
  requireRegistration: false,
};
const gateway: GatewayPresence = { ...here, instance: 'i', host: 'h', pid: 1, startedAt: 0 };

describe('differences between this environment and a running gateway', () => {
  it('finds none when they match', () => {
    assert.deepEqual(differences(here, gateway), []);
  });

  it('accepts a key the gateway keeps as a previous key', () => {
    const rotated = { ...gateway, signingKid: 'kid-newer', acceptedKids: ['kid-newer', 'kid-new'] };
    assert.deepEqual(differences(here, rotated).filter((d) => d.refusesTokens), []);
  });

  it('calls a key the gateway does not verify a refusal, naming AUTH_SIGNING_KEY_FILE', () => {
    const found = differences({ ...here, signingKid: 'kid-dev', acceptedKids: ['kid-dev'], devMode: true }, gateway);
    assert.deepEqual(found.map((d) => [d.variable, d.refusesTokens]), [['AUTH_SIGNING_KEY_FILE', true]]);
  });

  it('does not call a key refused when the gateway also verifies through an identity provider it cannot list', () => {
    const found = differences({ ...here, signingKid: 'kid-other', acceptedKids: ['kid-other'] }, { ...gateway, jwks: true });
    assert.equal(found.some((d) => d.refusesTokens), false);
  });

  it('tells a different registration rule apart from one that refuses tokens', () => {
    const found = differences(here, { ...gateway, requireRegistration: true, audience: 'other' });
    assert.deepEqual(found.map((d) => [d.variable, d.refusesTokens]), [['AUTH_AUDIENCE', true], ['TENANTS_REQUIRE_REGISTRATION', false]]);
  });
});
