// How the scalars of a `--compact` reply read, for every reader of one (tool
// results and the tenant export): doubles FalkorDB prints as `-nan`/`inf`,
// 32-bit floats, and temporal values, which arrive as epoch seconds.

/** The doubles a JSON number cannot carry (-0 reads back as 0), by name. */
export type NonFiniteFloat = 'NaN' | 'Infinity' | '-Infinity' | '-0';

/** The name of a double FalkorDB printed as `-nan`, `inf`, `-inf` or `-0`; undefined for any other. */
export function nonFiniteFloat(printed: string): NonFiniteFloat | undefined {
  if (/^-?nan$/i.test(printed)) return 'NaN';
  if (/^inf(inity)?$/i.test(printed)) return 'Infinity';
  if (/^-inf(inity)?$/i.test(printed)) return '-Infinity';
  if (printed === '-0') return '-0';
  return undefined;
}

/** A 32-bit float (point coordinates, vector elements): any print of 9 digits or more carries it exactly. */
export function float32(printed: unknown): number {
  return Math.fround(Number(printed));
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

/** ISO 8601 years: four digits from 0 to 9999, signed beyond. */
function year(y: number): string {
  if (y >= 0 && y <= 9999) return pad(y, 4);
  return `${y < 0 ? '-' : '+'}${pad(y, 4)}`;
}

function utc(seconds: number): Date {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new Error(`a temporal value of ${seconds} seconds is out of range`);
  return date;
}

// FalkorDB keeps every temporal value as one count of seconds: a local date-time
// as if it were UTC, a date at midnight, a time on 1900-01-01, and a duration as
// 1970-01-01 plus the duration (so its parts are the calendar parts of that date,
// which is also what FalkorDB's own `d.years`, `d.months`, … report).
const TIME_EPOCH = -2208988800;

/** A local date-time, `YYYY-MM-DDTHH:MM:SS`: no zone, as FalkorDB keeps none. */
export function localDateTimeText(seconds: number): string {
  const d = utc(seconds);
  return `${year(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A date, `YYYY-MM-DD`. */
export function dateText(seconds: number): string {
  const text = localDateTimeText(seconds);
  return text.slice(0, text.indexOf('T'));
}

/** A local time, `HH:MM:SS`. */
export function localTimeText(seconds: number): string {
  const s = (((seconds - TIME_EPOCH) % 86400) + 86400) % 86400;
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** A duration, ISO 8601 `PnYnMnDTnHnMnS` with zero parts left out (`PT0S` for none). */
export function durationText(seconds: number): string {
  const d = utc(seconds);
  const [y, mo, dd, h, mi, s] = [d.getUTCFullYear() - 1970, d.getUTCMonth(), d.getUTCDate() - 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const datePart = `${y ? `${y}Y` : ''}${mo ? `${mo}M` : ''}${dd ? `${dd}D` : ''}`;
  const timePart = `${h ? `${h}H` : ''}${mi ? `${mi}M` : ''}${s ? `${s}S` : ''}`;
  return datePart === '' && timePart === '' ? 'PT0S' : `P${datePart}${timePart === '' ? '' : `T${timePart}`}`;
}
