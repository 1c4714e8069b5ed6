// LRU caches bounded by their number of entries that take memory only as they fill.
// lru-cache preallocates its arrays for `max` entries when it is built (a 50,000-entry
// cache holds 1.2 MB before its first entry), and the gateway builds a dozen such caches
// at start whether or not a deployment ever uses them. The same bound kept as `maxSize`,
// every entry of size 1, evicts at the same count and grows with use.

import { LRUCache } from 'lru-cache';

const ONE = (): number => 1;

export type BoundedCacheOptions<K extends NonNullable<unknown>, V extends NonNullable<unknown>, FC> = Omit<LRUCache.OptionsMaxLimit<K, V, FC>, 'max' | 'maxSize' | 'sizeCalculation'>;

/** An LRU cache of at most `entries` entries, least recently used evicted first. */
export function boundedCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>, FC = unknown>(entries: number, options: BoundedCacheOptions<K, V, FC> = {}): LRUCache<K, V, FC> {
  return new LRUCache<K, V, FC>({ ...options, maxSize: entries, sizeCalculation: ONE } as LRUCache.Options<K, V, FC>);
}
