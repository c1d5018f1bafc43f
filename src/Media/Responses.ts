import * as Client from "./RealtimeEvents.js"

/**
 * When the model may be asked for a response. One at a time (the API refuses a second
 * while one is active or requested), none while tools run (their outputs go in first).
 * A request made meanwhile is owed and sent as soon as the model is free; a scripted line
 * (`say`) waits its turn the same way, after an owed reply.
 */
export class Responses {
  /** The response being generated, for barge-in to cancel. */
  active: string | undefined = undefined
  private requested = false
  private owed = false
  private toolsRunning = 0
  /** Instructions of scripted lines not yet asked for, in order (made with the first: most calls have none). */
  private scripted: Array<string> | undefined = undefined

  /** `upstream`: where the requests go (the bridge itself: no closure per call for it). */
  constructor(private readonly upstream: { sendUp(message: string): void }) {}

  /** Asks for a reply now, or as soon as the model is free. */
  request(): void {
    this.owed = true
    this.sendIfFree()
  }

  /** Asks for a response with these instructions, in turn. */
  script(instructions: string): void {
    ;(this.scripted ??= []).push(instructions)
    this.sendIfFree()
  }

  /** A session's opening message asked for the greeting. */
  greetingRequested(): void {
    this.requested = true
  }

  created(responseId: string): void {
    this.active = responseId
    this.requested = false
  }

  done(responseId: string): void {
    if (this.active === responseId) this.active = undefined
    this.sendIfFree()
  }

  toolStarted(): void {
    this.toolsRunning++
  }

  /** The caller asks for the reply to the tool's output (`request`). */
  toolFinished(): void {
    this.toolsRunning--
  }

  /** The upstream went away: what it was generating is owed to the next one. */
  lost(): void {
    if (this.active !== undefined || this.requested) this.owed = true
    this.active = undefined
    this.requested = false
  }

  /** A replacement upstream is open. */
  resumed(): void {
    this.sendIfFree()
  }

  private sendIfFree(): void {
    if (this.active !== undefined || this.requested || this.toolsRunning > 0) return
    if (this.owed) {
      this.owed = false
      this.requested = true
      return this.upstream.sendUp(Client.responseCreate())
    }
    const instructions = this.scripted?.shift()
    if (instructions === undefined) return
    this.requested = true
    this.upstream.sendUp(Client.responseCreate(instructions))
  }
}
