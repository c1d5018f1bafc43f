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
  /** Made on the first injected message: most calls have none. */
  private injected: Array<string> | undefined = undefined
  /** The call's own voice failed: sessions are opened with the model speaking. */
  private audio = false

  constructor(private readonly plan: SessionPlan) {}

  /** The call's own voice failed: the model speaks from now on. Returns the session.update to send. */
  speakWithAudio(): string {
    this.audio = true
    return this.plan.audioSessionUpdate
  }

  /** Whether a session has opened: the agent has joined the call and greeted. */
  get joined(): boolean {
    return this.opened
  }

  /** Sends the opening through `send`; true when it asked for the greeting. */
  open(send: (message: string) => void, transcript: ReadonlyArray<TranscriptEntry>): boolean {
    send(this.audio ? this.plan.audioSessionUpdate : this.plan.sessionUpdate)
    if (!this.opened) {
      this.opened = true
      send(this.plan.greeting)
      return true
    }
    for (const message of this.injected ?? []) send(message)
    for (const turn of transcript) send(turn.role === "user" ? userText(turn.content) : assistantText(turn.content))
    return false
  }

  /** A system message added to the conversation: replacement sessions are told it too. */
  remember(message: string): void {
    ;(this.injected ??= []).push(message)
  }
}
