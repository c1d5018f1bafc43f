import { useState } from "react"
import type { AgentVersion } from "../../../src/Agents/Api.js"
import { Field } from "../ui.js"

type Line = { readonly kind: "same" | "removed" | "added"; readonly text: string }

/** Line diff by longest common subsequence (instructions are at most a few hundred lines). */
export const diffLines = (before: string, after: string): ReadonlyArray<Line> => {
  const a = before.split("\n")
  const b = after.split("\n")
  const lengths = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lengths[i]![j] = a[i] === b[j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!)
    }
  }
  const lines: Array<Line> = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push({ kind: "same", text: a[i]! })
      i++
      j++
    } else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) lines.push({ kind: "removed", text: a[i++]! })
    else lines.push({ kind: "added", text: b[j++]! })
  }
  while (i < a.length) lines.push({ kind: "removed", text: a[i++]! })
  while (j < b.length) lines.push({ kind: "added", text: b[j++]! })
  return lines
}

const SETTINGS = ["agent_name", "greeting", "voice", "realtime_model", "chat_model", "assistant_profile"] as const

export const VersionCompare = ({ versions }: { versions: ReadonlyArray<AgentVersion> }) => {
  const [left, setLeft] = useState(versions[1]?.id ?? "")
  const [right, setRight] = useState(versions[0]?.id ?? "")
  const a = versions.find((v) => v.id === left)
  const b = versions.find((v) => v.id === right)
  const picker = (label: string, value: string, set: (id: string) => void) => (
    <Field label={label}>
      {(id) => (
        <select id={id} value={value} onChange={(e) => set(e.target.value)}>
          {versions.map((v) => <option key={v.id} value={v.id}>v{v.version_number} ({v.status})</option>)}
        </select>
      )}
    </Field>
  )
  return (
    <section aria-labelledby="compare-title">
      <h2 id="compare-title">Compare versions</h2>
      <div className="inline-form">
        {picker("From", left, setLeft)}
        {picker("To", right, setRight)}
      </div>
      {a === undefined || b === undefined ? null : (
        <>
          <table>
            <caption className="visually-hidden">Settings</caption>
            <thead><tr><th scope="col">Setting</th><th scope="col">v{a.version_number}</th><th scope="col">v{b.version_number}</th></tr></thead>
            <tbody>
              {SETTINGS.map((key) => (
                <tr key={key} className={a.config[key] === b.config[key] ? undefined : "changed"}>
                  <th scope="row">{key}</th>
                  <td>{a.config[key] ?? "—"}</td>
                  <td>{b.config[key] ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Instructions</h3>
          <pre className="diff" aria-label="Instructions difference">
            {diffLines(a.config.instructions ?? "", b.config.instructions ?? "").map((line, index) => (
              <div key={index} className={line.kind}>{line.kind === "added" ? "+ " : line.kind === "removed" ? "- " : "  "}{line.text}</div>
            ))}
          </pre>
        </>
      )}
    </section>
  )
}
