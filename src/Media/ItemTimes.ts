/**
 * When conversation items started, by item id (the transcript's timestamps). Few are open at
 * once (a model item's time is taken when its line is written), so the first is kept in two
 * fields and a Map is made only while more are open: a Map per call (its table) was ~0.2 KB per
 * live call for what is usually one entry.
 */
export class ItemTimes {
  private id: string | undefined = undefined
  private at = 0
  private more: Map<string, number> | undefined = undefined

  get(id: string): number | undefined {
    return id === this.id ? this.at : this.more?.get(id)
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  set(id: string, at: number): void {
    if (id === this.id) this.at = at
    else if (this.id === undefined && this.more?.has(id) !== true) {
      this.id = id
      this.at = at
    } else (this.more ??= new Map()).set(id, at)
  }

  delete(id: string): void {
    if (id === this.id) this.id = undefined
    else if (this.more?.delete(id) === true && this.more.size === 0) this.more = undefined
  }
}
