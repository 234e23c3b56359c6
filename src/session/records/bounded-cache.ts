/**
 * A map with a fixed number of entries that forgets the least recently used first, for the in-process
 * caches of the /api hot path. A Map keeps insertion order, so re-inserting an entry makes it the most
 * recent; to spare the hot path a delete and an insert on every hit, an entry is re-inserted only once
 * it has drifted into the older half of the map (an entry read since then is never the one evicted).
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; tick: number }>();
  private tick = 0;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error('maxEntries must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.tick - entry.tick >= this.maxEntries >> 1) {
      entry.tick = ++this.tick;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, tick: ++this.tick });
    if (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
