import { useEffect, useState } from "react"

const BASE = "/console"

/** The path inside the console (`/calls/abc`), from the address bar. */
const current = () => {
  const path = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : "/"
  return path === "" ? "/" : path
}

export const navigate = (path: string) => {
  window.history.pushState(null, "", BASE + path)
  window.dispatchEvent(new PopStateEvent("popstate"))
}

export const useRoute = (): string => {
  const [path, setPath] = useState(current)
  useEffect(() => {
    const update = () => setPath(current())
    window.addEventListener("popstate", update)
    return () => window.removeEventListener("popstate", update)
  }, [])
  return path
}

/** Matches `/calls/:id` against a path; the named parts, or undefined. */
export const match = (pattern: string, path: string): Record<string, string> | undefined => {
  const want = pattern.split("/")
  const got = path.split("/")
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(got[i]!)
    else if (part !== got[i]) return undefined
  }
  return params
}
