/**
 * A sampling heap profile (bench/setup-threads.ts `--alloc=FILE`, with `--alloc-promoted` for what
 * survived scavenges) by allocation site: each sample's bytes charged to the deepest frame of our
 * code on its stack (`dist/<Domain>/<Module>` function:line), else to its leaf's package; KB per call.
 *
 *   npx tsx bench/alloc-sites.ts FILE CALLS [--top=30] [--by=module|site]
 */
import * as fs from "node:fs"

interface CallFrame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface Node { readonly callFrame: CallFrame; readonly selfSize: number; readonly children: Array<Node> }

const [file, callsArg] = process.argv.slice(2).filter((a) => !a.startsWith("--"))
if (file === undefined || callsArg === undefined) throw new Error("usage: npx tsx bench/alloc-sites.ts FILE CALLS [--top=30]")
const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const top = Number(arg("top", "30"))
const bySite = arg("by", "site") === "site"
const calls = Number(callsArg)

const ours = (url: string) => url.includes("/dist/") && !url.includes("node_modules/")
const pkg = (url: string) => {
  const at = url.lastIndexOf("node_modules/")
  if (at < 0) return url === "" ? "(native)" : url.replace(/^.*\//, "")
  const parts = url.slice(at + 13).split("/")
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!
}
const site = (frame: CallFrame) => {
  const module = frame.url.slice(frame.url.lastIndexOf("/dist/") + 6).replace(/\.js$/, "")
  return bySite ? `${module} ${frame.functionName || "(anonymous)"}:${frame.lineNumber + 1}` : module
}

const totals = new Map<string, number>()
let all = 0
const walk = (node: Node, stack: Array<CallFrame>) => {
  stack.push(node.callFrame)
  if (node.selfSize > 0) {
    let charged: string | undefined
    for (let i = stack.length - 1; i >= 0 && charged === undefined; i--) if (ours(stack[i]!.url)) charged = site(stack[i]!)
    const key = charged ?? `[${pkg(node.callFrame.url)}] ${node.callFrame.functionName}`
    totals.set(key, (totals.get(key) ?? 0) + node.selfSize)
    all += node.selfSize
  }
  for (const child of node.children) walk(child, stack)
  stack.pop()
}
walk((JSON.parse(fs.readFileSync(file, "utf8")) as { head: Node }).head, [])
console.log(`${file}: ${(all / 1024 / calls).toFixed(1)} KB per call in all (${calls} calls)`)
for (const [key, bytes] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(bytes / 1024 / calls).toFixed(2).padStart(8)} KB  ${key}`)
}
