// A small read-through cache with a time-to-live, for lookups on the hot path (clients at
// /token) whose changes may take a few seconds to reach every instance.
export class TtlCache<V> {
  #entries = new Map<string, { value: V; until: number }>()

  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(key: string, load: (key: string) => Promise<V>): Promise<V> {
    const hit = this.#entries.get(key)
    const t = this.now()
    if (hit && hit.until > t) return hit.value
    const value = await load(key)
    // Map keeps insertion order: dropping the oldest entry bounds memory under a flood of ids.
    if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(key, { value, until: t + this.ttlMs })
    return value
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }
}
