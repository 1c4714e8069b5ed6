// Durations as operators write them (`90`, `15m`, `1h`, `30d`), for token
// lifetimes in the environment and on the command line; always whole seconds.

import { GatewayError } from './errors.js';

/** The forms parseDuration accepts, for messages that say what to write instead. */
export const DURATION_FORMS = '90 (seconds), 30s, 15m, 1h, 7d or 2w';

/** Largest first, so formatDuration picks the largest unit that divides exactly. */
const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['w', 7 * 24 * 3600],
  ['d', 24 * 3600],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
];
const SECONDS_PER_UNIT: ReadonlyMap<string, number> = new Map(UNITS);

/** Seconds in `text`, or undefined when it is not a positive duration in one unit. */
function secondsIn(text: string): number | undefined {
  const match = /^(\d+)([a-z]?)$/.exec(text.trim().toLowerCase());
  if (match === null) return undefined;
  const perUnit = match[2] === '' ? 1 : SECONDS_PER_UNIT.get(match[2]!);
  if (perUnit === undefined) return undefined;
  const seconds = Number(match[1]) * perUnit;
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}

/** `90` → 90, `15m` → 900, `2w` → 1209600; throws REQUEST_INVALID for anything else, including 0. */
export function parseDuration(text: string): number {
  const seconds = secondsIn(text);
  if (seconds === undefined) {
    throw new GatewayError(
      'REQUEST_INVALID',
      `${JSON.stringify(text.slice(0, 40))} is not a duration; write a whole number above zero with at most one unit: ${DURATION_FORMS}.`,
    );
  }
  return seconds;
}

/** 3600 → "1h", 2592000 → "30d", 5400 → "90m": the largest unit that divides exactly, so parseDuration reads it back. */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new RangeError(`formatDuration needs whole seconds, not ${seconds}`);
  if (seconds === 0) return '0s';
  const [unit, size] = UNITS.find(([, size]) => seconds % size === 0)!;
  return `${seconds / size}${unit}`;
}
