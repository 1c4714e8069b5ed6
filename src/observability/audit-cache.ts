// What the audit trail works out once and reuses instead of once per event:
// the SHA-256 of a query text (agents send the same few queries again and
// again), and the ISO 8601 text of the current second.

import { LRUCache } from 'lru-cache';
import { sha256Hex } from './audit-event.js';

/** Query texts whose hash is kept; together at most QUERY_HASH_CACHE_CHARS characters. */
const QUERY_HASH_CACHE_ENTRIES = 4096;
const QUERY_HASH_CACHE_CHARS = 4 * 1024 * 1024;
/** A longer text is hashed each time: rare, and it would push out many short ones. */
const QUERY_HASH_CACHE_MAX_TEXT = 64 * 1024;
/** Characters of a hex SHA-256, counted with its text. */
const HEX_SHA256_LENGTH = 64;

/** The SHA-256 (hex) of query texts, each text hashed once while it stays in a bounded LRU. */
export class QueryHashes {
  readonly #cache = new LRUCache<string, string>({
    max: QUERY_HASH_CACHE_ENTRIES,
    maxSize: QUERY_HASH_CACHE_CHARS,
    sizeCalculation: (_hash, text) => text.length + HEX_SHA256_LENGTH,
  });

  of(text: string): string {
    if (text.length > QUERY_HASH_CACHE_MAX_TEXT) return sha256Hex(text);
    let hash = this.#cache.get(text);
    if (hash === undefined) {
      hash = sha256Hex(text);
      this.#cache.set(text, hash);
    }
    return hash;
  }
}

/** `new Date(ms).toISOString()`, with the text up to the second built once per second. */
export class IsoTimes {
  #second = Number.NaN;
  #prefix = '';

  of(ms: number): string {
    const whole = Math.floor(ms);
    const second = Math.floor(whole / 1000);
    if (second !== this.#second) {
      // `…T12:34:56.000Z` without `000Z`; also right for years past 9999 (`+010000-…`).
      const text = new Date(second * 1000).toISOString();
      this.#prefix = text.slice(0, -4);
      this.#second = second;
    }
    const milli = whole - second * 1000;
    return `${this.#prefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  }
}
