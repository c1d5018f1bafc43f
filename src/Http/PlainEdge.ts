import { Clock, Context, DefaultServices, Effect, FiberId, type FiberRef, FiberRefs, type Runtime as R, Runtime } from "effect"
import type { IncomingMessage } from "node:http"
import { writeAccessLineWith } from "../Observability/JsonLog.js"
import { accessOf, type EdgeState } from "./EdgeState.js"
import { CurrentRequest, type RequestContext } from "./RequestContext.js"
import { resolveClientAddress, type TrustProxy } from "./TrustProxy.js"

/** A request served off node's own event: what the edge knows of it. */
export interface PlainRequest {
  readonly started: number
  /** The client's address (TRUST_PROXY applied): the request's remote address from the edge on. */
  readonly address: string
  readonly peer: string
  readonly context: RequestContext
  /** The runtime captured at layer build, with this request's context where a request fiber has it. */
  readonly runtime: R.Runtime<never>
}

/**
 * A request's edge data, its runtime made on first use: the webhook's answer runs on it, but a
 * media upgrade's answer runs no Effect (only a defect's envelope or a non-default logger's
 * access line needs it), and each runtime is a copy of every fiber ref (bench/RESULTS.md, stop 38 setupcpu).
 */
class Begun implements PlainRequest {
  private made: R.Runtime<never> | undefined = undefined

  constructor(
    readonly started: number,
    readonly peer: string,
    readonly address: string,
    readonly context: RequestContext,
    private readonly base: R.Runtime<never>
  ) {}

  get runtime(): R.Runtime<never> {
    return this.made ??= Runtime.make({
      context: Context.empty(),
      runtimeFlags: this.base.runtimeFlags,
      fiberRefs: FiberRefs.updateAs(this.base.fiberRefs, { fiberId: FiberId.none, fiberRef: CurrentRequest, value: this.context })
    })
  }
}

/**
 * The edge's per-request duties for the paths served off node's own events (no request fiber:
 * src/Twilio/PlainWebhook.ts, src/Media/PlainUpgrade.ts), over `EdgeState`'s plain functions
 * and the runtime captured when their layer was built (its clock, loggers and log level).
 */
export const makePlainEdge = (edge: EdgeState["Type"], trustProxy: TrustProxy, runtime: R.Runtime<never>) => {
  const clock = Context.get(FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices), Clock.Clock)
  const refOf = <A>(ref: FiberRef.FiberRef<A>) => FiberRefs.getOrDefault(runtime.fiberRefs, ref)

  /** The request's id, address and runtime, as the Effect edge gives its fiber. */
  const begin = (message: IncomingMessage): PlainRequest => {
    const peer = message.socket.remoteAddress ?? "unknown"
    const given = message.headers["x-request-id"]
    // Node joins a repeated x- header into one string; an array never comes, but the type allows it.
    const context = edge.contextFor(typeof given === "string" ? given : undefined)
    const started = clock.unsafeCurrentTimeMillis()
    const address = resolveClientAddress(trustProxy, peer, message.headers as Readonly<Record<string, string | undefined>>)
    return new Begun(started, peer, address, context, runtime)
  }

  /** The metrics and the access line of an answered request, as the Effect edge records them. */
  const answered = (request: PlainRequest, method: string, url: string, status: number, fiberId: number) => {
    const now = clock.unsafeCurrentTimeMillis()
    const elapsed = now - request.started
    edge.measure(method, status, elapsed)
    const { access, level } = accessOf(method, url, status, elapsed, request.address)
    if (writeAccessLineWith(refOf, fiberId, level, request.context, access, now)) return
    // Another logger is installed (tests, a custom setup): the line goes through Effect's logger, as the edge's does.
    request.context.access = access
    Runtime.runSync(request.runtime)(Effect.logWithLevel(level, "http request"))
    request.context.access = undefined
  }

  return { clock, begin, answered } as const
}
