import type { CompletedCall } from "../CallLogs/CallRecords.js"
import { CallRecorder } from "./CallRecorder.js"
import { type AudioDelta, base64ByteLength } from "./FastFrames.js"
import { Playback } from "./Playback.js"
import * as Client from "./RealtimeEvents.js"
import type { RealtimeEvent } from "./RealtimeEvents.js"
import type { RealtimeHandler, RealtimeSocket } from "./RealtimeSocket.js"
import type { TwilioHandler, TwilioSocket } from "./TwilioSocket.js"

/** What the bridge asks of the call's Effect side (everything slow or scheduled). */
export interface BridgeHooks {
  readonly now: () => number
  /** Runs a tool off the hot path; the outcome comes back through `toolFinished`. */
  readonly runTool: (callId: string, name: string, args: string) => void
  /** Opens a replacement upstream: back through `upstreamReady` or `upstreamFailed`. */
  readonly reconnect: () => void
  /** Starts the grace timer after an end_call/escalation reply; it calls `finishAction`. */
  readonly hangupSoon: () => void
  readonly ended: (reason: EndReason, message: string | null) => void
  readonly warn: (message: string) => void
}

/** The two messages that open every upstream session of this call. */
export interface SessionPlan {
  readonly sessionUpdate: string
  readonly greeting: string
}

export type EndReason = CompletedCall["endReason"]

type Action = { readonly kind: "end_call" | "escalated"; readonly reason: string | null }

/**
 * The realtime half of a call, plain callbacks on both sockets: caller audio up (queued
 * in order while no upstream is open), model audio down with playback marks, barge-in,
 * tool calls, one reconnect. Everything here is synchronous; slow work goes through hooks.
 */
export class Bridge implements TwilioHandler, RealtimeHandler {
  readonly recorder = new CallRecorder()
  action: Action | undefined = undefined
  private readonly playback = new Playback()
  private readonly queued: Array<string | Buffer>
  private readonly cancelled = new Set<string>()
  private upstream: RealtimeSocket | undefined = undefined
  private reconnectsLeft = 1
  private greeted = false
  private activeResponse: string | undefined = undefined
  private responseRequested = false
  private responseOwed = false
  private toolsRunning = 0
  private actionArmed = false
  private actionResponseId: string | undefined = undefined
  private hangupWhenPlayed = false
  private lastAudioItem = ""
  private done = false

  constructor(
    private readonly twilio: TwilioSocket,
    private readonly plan: SessionPlan,
    private readonly hooks: BridgeHooks,
    earlyAudio: ReadonlyArray<Buffer>
  ) {
    this.queued = earlyAudio.map((audio) => Client.appendAudio(audio, 0, audio.length))
  }

  // --- caller side -------------------------------------------------------------------------

  media(bytes: Buffer, start: number, end: number): void {
    if (this.upstream !== undefined) this.upstream.sendAudio(bytes, start, end)
    else if (!this.done) this.queued.push(Client.appendAudio(bytes, start, end))
  }

  mark(name: string): void {
    this.playback.acknowledged(name)
    if (this.hangupWhenPlayed && !this.playback.speaking) this.finishAction()
  }

  start(): void {}

  dtmf(digit: string): void {
    this.recorder.userSaid(undefined, `[DTMF ${digit}]`, this.hooks.now())
    this.sendUp(Client.userText(`The caller pressed the telephone keypad key "${digit}".`))
    this.requestResponse()
  }

  stop(): void {
    this.finish("stop", null)
  }

  closed(): void {
    this.finish("caller_hangup", null)
  }

  // --- model side --------------------------------------------------------------------------

  audio(delta: AudioDelta): void {
    if (this.done || (this.cancelled.size > 0 && this.cancelled.has(delta.responseId))) return
    const mark = this.playback.sent(delta.itemId, base64ByteLength(delta.bytes, delta.start, delta.end))
    this.twilio.sendMedia(delta.bytes, delta.start, delta.end, mark)
    if (delta.itemId !== this.lastAudioItem || this.recorder.awaitingAudio) {
      this.lastAudioItem = delta.itemId
      this.recorder.assistantAudio(delta.itemId, this.hooks.now())
    }
  }

  event(event: RealtimeEvent): void {
    if (this.done) return
    switch (event.type) {
      case "input_audio_buffer.speech_started":
        this.recorder.callerStartedSpeaking(event.item_id, this.hooks.now())
        return this.bargeIn()
      case "input_audio_buffer.speech_stopped":
        return this.recorder.callerStoppedSpeaking(this.hooks.now())
      case "response.created":
        this.activeResponse = event.response.id
        this.responseRequested = false
        if (this.actionArmed) {
          this.actionArmed = false
          this.actionResponseId = event.response.id
        }
        return
      case "response.done":
        return this.responseDone(event.response.id)
      case "response.output_audio.done":
      case "response.audio.done": {
        const mark = this.playback.flush()
        if (mark !== undefined) this.twilio.sendMark(mark)
        return
      }
      case "response.output_audio_transcript.delta":
      case "response.audio_transcript.delta":
      case "response.output_text.delta":
      case "response.text.delta":
      case "response.function_call_arguments.delta":
        if (this.recorder.awaitingToken) this.recorder.modelOutput(this.hooks.now())
        return
      case "response.output_audio_transcript.done":
      case "response.audio_transcript.done":
        return this.recorder.assistantSaid(event.item_id, event.transcript, this.hooks.now())
      case "response.output_text.done":
      case "response.text.done":
        return this.recorder.assistantSaid(event.item_id, event.text, this.hooks.now())
      case "conversation.item.input_audio_transcription.completed":
        return this.recorder.userSaid(event.item_id, event.transcript, this.hooks.now())
      case "response.function_call_arguments.done":
        if (this.recorder.awaitingToken) this.recorder.modelOutput(this.hooks.now())
        this.toolsRunning++
        return this.hooks.runTool(event.call_id, event.name, event.arguments)
      case "error":
        return this.hooks.warn(`OpenAI Realtime error: ${event.error.message}`)
    }
  }

  lost(reason: string): void {
    if (this.done) return
    this.upstream = undefined
    this.twilio.reads.writesTo(undefined)
    const tail = this.playback.detachItems()
    if (tail !== undefined) this.twilio.sendMark(tail)
    // A reply that was being generated is lost with the socket: ask the new one for it.
    if (this.activeResponse !== undefined || this.responseRequested) this.responseOwed = true
    this.activeResponse = undefined
    this.responseRequested = false
    this.upstreamFailed(reason)
  }

  // --- from the Effect side ------------------------------------------------------------------

  upstreamReady(socket: RealtimeSocket): void {
    if (this.done) return socket.close()
    socket.send(this.plan.sessionUpdate)
    if (this.greeted) {
      for (const turn of this.recorder.transcript) {
        socket.send(turn.role === "user" ? Client.userText(turn.content) : Client.assistantText(turn.content))
      }
    } else {
      this.greeted = true
      socket.send(this.plan.greeting)
      this.responseRequested = true
    }
    for (const message of this.queued) socket.send(message)
    this.queued.length = 0
    this.upstream = socket
    socket.reads.writesTo(this.twilio.writer)
    this.twilio.reads.writesTo(socket.writer)
    if (this.responseOwed && this.toolsRunning === 0) this.sendResponseCreate()
    socket.attach(this)
  }

  upstreamFailed(reason: string): void {
    if (this.done) return
    if (this.reconnectsLeft === 0) {
      // No model to apologise with: stop any queued speech and end the stream cleanly.
      this.twilio.sendClear()
      return this.finish("upstream_failure", reason)
    }
    this.reconnectsLeft--
    this.hooks.warn(`${reason}; reconnecting once`)
    this.hooks.reconnect()
  }

  toolFinished(callId: string, output: unknown, action: Action | undefined): void {
    this.toolsRunning--
    if (this.done) return
    this.sendUp(Client.functionCallOutput(callId, output))
    if (action !== undefined) {
      this.action = action
      this.actionArmed = true
    }
    this.requestResponse()
  }

  finishAction(): void {
    if (this.action !== undefined) this.finish(this.action.kind === "end_call" ? "end_call_tool" : "escalated", null)
  }

  finish(reason: EndReason, message: string | null): void {
    if (this.done) return
    this.done = true
    this.recorder.closeTurn()
    this.hooks.ended(reason, message)
  }

  /** The upstream socket in use, for closing it when the call ends. */
  get currentUpstream(): RealtimeSocket | undefined {
    return this.upstream
  }

  // --- internals -----------------------------------------------------------------------------

  private bargeIn(): void {
    const interruption = this.playback.interrupt()
    if (interruption.clear) this.twilio.sendClear()
    for (const cut of interruption.truncations) this.sendUp(Client.truncateItem(cut.itemId, cut.audioEndMs))
    if (this.activeResponse !== undefined) {
      this.cancelled.add(this.activeResponse)
      this.sendUp(Client.responseCancel())
    }
  }

  private responseDone(responseId: string): void {
    this.cancelled.delete(responseId)
    if (this.activeResponse === responseId) this.activeResponse = undefined
    if (responseId === this.actionResponseId) {
      this.hangupWhenPlayed = true
      const mark = this.playback.flush()
      if (mark !== undefined) this.twilio.sendMark(mark)
      if (!this.playback.speaking) return this.finishAction()
      this.hooks.hangupSoon()
    }
    if (this.responseOwed && this.toolsRunning === 0 && this.activeResponse === undefined) this.sendResponseCreate()
  }

  private requestResponse(): void {
    if (this.activeResponse !== undefined || this.responseRequested || this.toolsRunning > 0) {
      this.responseOwed = true
    } else {
      this.sendResponseCreate()
    }
  }

  private sendResponseCreate(): void {
    this.responseOwed = false
    this.responseRequested = true
    this.sendUp(Client.responseCreate())
  }

  private sendUp(message: string | Buffer): void {
    if (this.upstream !== undefined) this.upstream.send(message)
    else if (!this.done) this.queued.push(message)
  }
}
