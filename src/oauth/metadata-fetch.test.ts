// The metadata-document fetch's own refusal of special-use addresses, before any connection.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataAddressPrivate, metadataAddressRefusal, metadataFetch } from './metadata-fetch.js';

describe('metadataFetch', () => {
  const strict = metadataFetch(false);

  it('refuses loopback, private, link-local and IPv4-mapped hosts, naming only the host', async () => {
    for (const url of ['https://127.0.0.1:8443/c.json', 'https://[::1]/c.json', 'https://10.1.2.3/c.json', 'https://192.168.0.9/c.json', 'https://169.254.169.254/latest', 'https://[fd00::1]/c.json', 'https://[::ffff:127.0.0.1]/c.json', 'https://localhost/c.json']) {
      await assert.rejects(strict(url), (error: unknown) => {
        assert.ok(error instanceof MetadataAddressPrivate, url);
        assert.match(error.message, /loopback or private address.*OAUTH_METADATA_PRIVATE_ADDRESSES=true/);
        assert.doesNotMatch(error.message, /c\.json|latest/);
        return true;
      });
    }
  });

  it('is found under the errors the provider wraps it in', () => {
    const refusal = new MetadataAddressPrivate('127.0.0.1');
    const wrapped = new Error('client_id metadata document fetch failed', { cause: refusal });
    assert.equal(metadataAddressRefusal(wrapped), refusal);
    assert.equal(metadataAddressRefusal(new Error('fetch failed', { cause: new Error('ECONNREFUSED') })), undefined);
    assert.equal(metadataAddressRefusal(undefined), undefined);
  });
});
