/**
 * One string per key, shared by the calls that make the same one (a URL, a default prompt): made
 * per call, each copy was kept for the call's length. Bounded: past `max` keys it starts over.
 */
export class SharedStrings {
  private readonly strings = new Map<string, string>()

  constructor(private readonly max: number) {}

  of(key: string, make: (key: string) => string): string {
    let text = this.strings.get(key)
    if (text === undefined) {
      if (this.strings.size >= this.max) this.strings.clear()
      this.strings.set(key, text = make(key))
    }
    return text
  }
}
