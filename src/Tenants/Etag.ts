import { createHash } from "node:crypto"
import { isJsonObject, type TenantDocument } from "./Domain.js"

// Kept apart from Domain.ts: the wire schemas there are bundled into the browser console,
// which has no node:crypto.

const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (isJsonObject(value)) {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/** A strong ETag over the document's content (key order does not matter). */
export const computeEtag = (document: TenantDocument): string =>
  `"${createHash("sha256").update(canonicalJson(document)).digest("hex").slice(0, 32)}"`
