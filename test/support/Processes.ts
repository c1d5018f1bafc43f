import * as fs from "node:fs"

/** A process's children as the kernel lists them (none once it has exited). */
export const childPids = (pid: number): Array<number> => {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter((s) => s !== "").map(Number)
  } catch {
    return []
  }
}

/** Every process below `pid`, children before grandchildren. */
export const descendantPids = (pid: number): Array<number> => {
  const found: Array<number> = []
  for (let next = childPids(pid); next.length > 0; next = next.flatMap(childPids)) found.push(...next)
  return found
}

/** The words a process was started with (`/proc/<pid>/cmdline`), e.g. `["node", "--flag", "dist/main.js"]`. */
export const commandLine = (pid: number): Array<string> => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((word) => word !== "")
  } catch {
    return []
  }
}
