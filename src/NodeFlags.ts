/**
 * The node flags every launch of the service carries: `npm start` (package.json), the image's
 * CMD (Dockerfile; deploy/ runs the image's command), the workers of SERVICE_WORKERS
 * (Cluster/Supervisor.ts) and the benchmarks. V8 sizes its heap when the process starts, so
 * these must be on node's command line; test/deploy.test.ts holds each launch command to this list.
 *
 * --max-semi-space-size=64: a young generation of 2 x 64 MB rather than V8's default (16 MB here,
 * smaller under a tight memory limit). A list page's garbage is short-lived; with the default the
 * service scavenged several times a second at 500 requests/s, each pause landing on the requests
 * queued behind it (bench/RESULTS.md, stop 34, has the figures).
 */
export const SERVICE_NODE_FLAGS: ReadonlyArray<string> = ["--max-semi-space-size=64"]

/** A flag's option name, `--max_semi_space_size=8` and `--max-semi-space-size` alike. */
const optionName = (flag: string) => flag.split("=")[0]!.replaceAll("_", "-")

/**
 * `execArgv` with each of SERVICE_NODE_FLAGS whose option it does not set already: a worker gets
 * them even from a primary started without them, and an operator's own value (e.g. a smaller
 * young generation under a tight memory limit) is kept rather than overridden.
 */
export const withServiceNodeFlags = (execArgv: ReadonlyArray<string>): Array<string> => {
  const set = new Set(execArgv.map(optionName))
  return [...execArgv, ...SERVICE_NODE_FLAGS.filter((flag) => !set.has(optionName(flag)))]
}
