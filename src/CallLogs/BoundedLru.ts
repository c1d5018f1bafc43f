/**
 * Values by key within a budget of bytes (each value's size told by the caller), the least
 * recently read or written dropped first. A Map keeps insertion order: a read moves its key to
 * the end, so the first key is always the least recently used. Plain code: one replica's fiber
 * reads and writes it between two steps, never concurrently.
 */
export interface BoundedLru<V> {
  readonly get: (key: string) => V | undefined
  /** Holds `value` unless it alone is over the budget; drops the least recently used past it. */
  readonly set: (key: string, value: V, bytes: number) => void
  readonly delete: (key: string) => void
  /** The bytes held now (at most the budget) and how many values. */
  readonly usage: () => { readonly bytes: number; readonly entries: number }
}

export const makeBoundedLru = <V>(budgetBytes: number): BoundedLru<V> => {
  const held = new Map<string, { readonly value: V; readonly bytes: number }>()
  let bytes = 0

  const remove = (key: string) => {
    const entry = held.get(key)
    if (entry === undefined) return
    held.delete(key)
    bytes -= entry.bytes
  }

  return {
    get: (key) => {
      const entry = held.get(key)
      if (entry === undefined) return undefined
      held.delete(key)
      held.set(key, entry)
      return entry.value
    },
    set: (key, value, size) => {
      remove(key)
      if (size > budgetBytes) return
      held.set(key, { value, bytes: size })
      bytes += size
      for (const oldest of held.keys()) {
        if (bytes <= budgetBytes) break
        remove(oldest)
      }
    },
    delete: remove,
    usage: () => ({ bytes, entries: held.size })
  }
}
