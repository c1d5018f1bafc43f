/** Replaces `process.stdout.write` until `restore()`: each call's text is kept in `written`, nothing is printed. */
export const recordStdoutWrites = () => {
  const written: Array<string> = []
  const original = process.stdout.write
  process.stdout.write = ((chunk: string) => {
    written.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  return { written, restore: () => void (process.stdout.write = original) }
}
