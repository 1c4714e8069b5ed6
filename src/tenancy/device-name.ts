// What a device name may be: a short label an operator picks per laptop,
// workstation or runner, used in token claims and revocation keys.

import { GatewayError } from '../errors.js';

const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/** Returns the name unchanged, or throws REQUEST_INVALID saying the rule. */
export function validateDeviceName(value: unknown): string {
  if (typeof value !== 'string' || !DEVICE_NAME.test(value)) {
    const shown = typeof value === 'string' ? ` ${JSON.stringify(value.slice(0, 70))}` : '';
    throw new GatewayError(
      'REQUEST_INVALID',
      `The device name${shown} is not valid: use 1 to 64 characters of letters, digits, _ . @ -, starting with a letter or digit (e.g. alice-laptop).`,
    );
  }
  return value;
}
