// Sizes as operators write them (`512MiB`, `2GB`, `1048576`), for storage
// quotas in the environment and on the command line; always whole bytes.

import { GatewayError } from './errors.js';

/** The forms parseSize accepts, for messages that say what to write instead. */
export const SIZE_FORMS = '1048576 (bytes), 512KiB, 512MiB, 2GiB, 1TiB, or the decimal 500KB, 500MB, 2GB, 1TB';

const BYTES_PER_UNIT: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['kb', 1000],
  ['mb', 1000 ** 2],
  ['gb', 1000 ** 3],
  ['tb', 1000 ** 4],
  ['kib', 1024],
  ['mib', 1024 ** 2],
  ['gib', 1024 ** 3],
  ['tib', 1024 ** 4],
]);

/** Largest first, so formatSize picks the largest binary unit that divides exactly. */
const BINARY_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['TiB', 1024 ** 4],
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

/** Bytes in `text`, or undefined when it is not a whole number with at most one known unit. */
function bytesIn(text: string): number | undefined {
  const match = /^(\d+)\s*([a-z]*)$/.exec(text.trim().toLowerCase());
  if (match === null) return undefined;
  const perUnit = BYTES_PER_UNIT.get(match[2]!);
  if (perUnit === undefined) return undefined;
  const bytes = Number(match[1]) * perUnit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `512MiB` → 536870912, `2GB` → 2000000000, `4096` → 4096, `0` → 0; throws REQUEST_INVALID for anything else. */
export function parseSize(text: string, label = 'The size'): number {
  const bytes = bytesIn(text);
  if (bytes === undefined) {
    throw new GatewayError('REQUEST_INVALID', `${label} ${JSON.stringify(text.slice(0, 40))} is not a size; write a whole number with at most one unit: ${SIZE_FORMS}.`);
  }
  return bytes;
}

/** 536870912 → "512 MiB", 1536 → "1.5 KiB", 100 → "100 bytes": for people, not for parseSize. */
export function formatSize(bytes: number): string {
  const unit = BINARY_UNITS.find(([, size]) => bytes >= size);
  if (unit === undefined) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const value = bytes / unit[1];
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${shown} ${unit[0]}`;
}
