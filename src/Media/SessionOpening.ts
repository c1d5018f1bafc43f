import type { TranscriptEntry } from "./CallRecorder.js"
import { assistantText, userText } from "./RealtimeEvents.js"
import type { SessionPlan } from "./SessionPlan.js"

/**
 * What each upstream session of a call is told as it opens: the plan's `session.update`,
 * then the greeting (the first session) or, for a replacement that knows nothing, the
 * conversation so far: the system messages injected into it, then the transcript.
 */
export class SessionOpening {
  private opened = false
  private readonly injected: Array<string> = []
  private session: string

  constructor(private readonly plan: SessionPlan) {
    this.session = plan.sessionUpdate
  }

  /** The call's own voice failed: the model speaks from now on. Returns the session.update to send. */
  speakWithAudio(): string {
    this.session = this.plan.audioSessionUpdate
    return this.session
  }

  /** Whether a session has opened: the agent has joined the call and greeted. */
  get joined(): boolean {
    return this.opened
  }

  /** Sends the opening through `send`; true when it asked for the greeting. */
  open(send: (message: string) => void, transcript: ReadonlyArray<TranscriptEntry>): boolean {
    send(this.session)
    if (!this.opened) {
      this.opened = true
      send(this.plan.greeting)
      return true
    }
    for (const message of this.injected) send(message)
    for (const turn of transcript) send(turn.role === "user" ? userText(turn.content) : assistantText(turn.content))
    return false
  }

  /** A system message added to the conversation: replacement sessions are told it too. */
  remember(message: string): void {
    this.injected.push(message)
  }
}
