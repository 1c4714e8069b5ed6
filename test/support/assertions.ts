// Assertions shared by several test files.

import assert from 'node:assert/strict';
import { GatewayError } from '../../src/errors.js';

/** Awaits a promise that must reject with a GatewayError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}
