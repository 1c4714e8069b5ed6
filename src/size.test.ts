import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatewayError } from './errors.js';
import { formatSize, parseSize } from './size.js';

describe('parseSize', () => {
  it('reads plain bytes', () => {
    assert.equal(parseSize('1048576'), 1_048_576);
    assert.equal(parseSize('0'), 0);
    assert.equal(parseSize(' 42 '), 42);
  });

  it('reads binary units in any case', () => {
    assert.equal(parseSize('512MiB'), 512 * 1024 * 1024);
    assert.equal(parseSize('2gib'), 2 * 1024 ** 3);
    assert.equal(parseSize('1 KiB'), 1024);
    assert.equal(parseSize('1TiB'), 1024 ** 4);
  });

  it('reads decimal units as powers of 1000', () => {
    assert.equal(parseSize('2GB'), 2_000_000_000);
    assert.equal(parseSize('500kb'), 500_000);
    assert.equal(parseSize('3MB'), 3_000_000);
    assert.equal(parseSize('7b'), 7);
  });

  for (const bad of ['', 'lots', '1.5GB', '-1', '10 parsecs', '5 MiB extra', '99999999999TiB']) {
    it(`refuses ${JSON.stringify(bad)} with the forms it accepts`, () => {
      assert.throws(
        () => parseSize(bad, '--storage-quota'),
        (error: unknown) => isGatewayError(error) && error.code === 'REQUEST_INVALID' && error.message.startsWith('--storage-quota') && error.message.includes('512MiB'),
      );
    });
  }
});

describe('formatSize', () => {
  it('uses the largest binary unit', () => {
    assert.equal(formatSize(512 * 1024 * 1024), '512 MiB');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(100), '100 bytes');
    assert.equal(formatSize(1), '1 byte');
    assert.equal(formatSize(3 * 1024 ** 3), '3 GiB');
  });
});
