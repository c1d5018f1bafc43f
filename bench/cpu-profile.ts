/**
 * A `--cpu-prof` profile and who owns its samples, for bench/profile-window.ts and
 * bench/profile-diff.ts. A sample's owner is the innermost frame of our src/ (tsx) or dist/ (the
 * build) on its stack, else the package, else node's own, else "(no frame of ours)".
 */
import * as fs from "node:fs"

export interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly url: string; readonly functionName: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}

export interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly endTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export const readProfile = (file: string): CpuProfile => JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile

/** The profile's nodes by id, each node's parent, and each node's owner (memoised). */
export const profileTree = (profile: CpuProfile) => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const ownerOf = new Map<number, string>()
  const owner = (id: number): string => {
    const known = ownerOf.get(id)
    if (known !== undefined) return known
    let ours = "(no frame of ours)"
    let pkg: string | undefined
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)!.callFrame.url
      const src = /\/(src|dist)\//.exec(url)
      if (src !== null && !url.includes("node_modules")) {
        ours = url.slice(src.index + src[0].length).replace(/\.(js|ts)$/, "")
        pkg = undefined
        break
      }
      pkg ??= /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith("node:") ? url : undefined)
    }
    const label = pkg ?? ours
    ownerOf.set(id, label)
    return label
  }
  return { byId, parent, owner }
}
