import type { CompletedCall } from "../CallLogs/CallRecords.js"

/**
 * What a tool asked of the call (to end it, or that it was transferred to a person), or a
 * `Depart` command from outside it (a replica shutting down): end after the goodbye.
 */
export interface AgentAction {
  readonly kind: "end_call" | "escalated" | "ended_by_command"
  readonly reason: string | null
}

/**
 * The agent's own way out of a call (end_call, escalation). The tool's result arms it; the
 * response that follows (the goodbye, the hand-over line) is bound to it; once that
 * response is done the call ends as soon as its audio has played.
 */
export class Departure {
  action: AgentAction | undefined = undefined
  /** The bound response is done: the call ends once the caller has heard it. */
  afterPlayback = false
  private armed = false
  private responseId: string | undefined = undefined

  take(action: AgentAction): void {
    this.action = action
    this.armed = true
  }

  responseCreated(responseId: string): void {
    if (!this.armed) return
    this.armed = false
    this.responseId = responseId
  }

  /** Whether `responseId` was the departing response (from now on, `afterPlayback`). */
  responseDone(responseId: string): boolean {
    if (responseId !== this.responseId) return false
    this.afterPlayback = true
    return true
  }

  /** How the call ends because of the action, if there is one. */
  get endReason(): CompletedCall["endReason"] | undefined {
    if (this.action === undefined) return undefined
    return this.action.kind === "end_call" ? "end_call_tool" : this.action.kind
  }
}
