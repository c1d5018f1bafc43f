import { CallRecorder } from "./CallRecorder.js"
import type { BridgeHooks, EndReason, MediaTap } from "./BridgeHooks.js"
import { type AgentAction, Departure } from "./Departure.js"
import { type AudioDelta, base64ByteLength } from "./FastFrames.js"
import { Playback } from "./Playback.js"
import { Responses } from "./Responses.js"
import * as Client from "./RealtimeEvents.js"
import type { RealtimeEvent } from "./RealtimeEvents.js"
import type { RealtimeHandler, RealtimeSocket } from "./RealtimeSocket.js"
import { SessionOpening } from "./SessionOpening.js"
import type { SessionPlan } from "./SessionPlan.js"
import type { TwilioHandler, TwilioSocket } from "./TwilioSocket.js"
import type { ElevenLabsVoice, VoiceListener } from "../Voices/ElevenLabsVoice.js"

/**
 * The realtime half of a call, plain callbacks on both sockets: caller audio up (queued
 * in order while no upstream is open), model audio down with playback marks, barge-in,
 * tool calls, one reconnect, commands from outside (Commands.ts). All synchronous: slow
 * work goes through hooks. Its parts: when the model may be asked to respond
 * (`Responses`), what a new upstream session is told (`SessionOpening`), how the agent
 * leaves the call (`Departure`), what the record keeps (`CallRecorder`).
 */
export class Bridge implements TwilioHandler, RealtimeHandler, VoiceListener {
  readonly recorder = new CallRecorder()
  readonly departure = new Departure()
  private readonly playback = new Playback()
  /** What waits for an upstream, in order; dropped while one is open (made again if it is lost). */
  private queued: Array<string | Buffer> | undefined
  /** Responses cancelled on barge-in whose late output is dropped: made on the first. */
  private cancelled: Set<string> | undefined = undefined
  private readonly responses = new Responses(this)
  private readonly opening: SessionOpening
  private upstream: RealtimeSocket | undefined = undefined
  private reconnectsLeft = 1
  private lastAudioItem = ""
  private done = false
  /** Speaks the model's text (ElevenLabs); undefined: the model's own audio. */
  private voice: ElevenLabsVoice | undefined = undefined
  /** Set only while someone listens to the call: otherwise one check per frame. */
  tap: MediaTap | undefined = undefined

  constructor(
    private readonly twilio: TwilioSocket,
    plan: SessionPlan,
    private readonly hooks: BridgeHooks,
    earlyAudio: ReadonlyArray<Buffer>
  ) {
    this.opening = new SessionOpening(plan)
    this.queued = earlyAudio.length === 0 ? undefined : earlyAudio.map((audio) => Client.appendAudio(audio, 0, audio.length))
  }

  /** The model answers in text (see `sessionPlan`) and `voice` speaks it. */
  speakWith(voice: ElevenLabsVoice): void {
    this.voice = voice
    this.recorder.spokenByVoice = true
    voice.listen(this)
  }

  // --- caller side -------------------------------------------------------------------------

  media(bytes: Buffer, start: number, end: number): void {
    if (this.upstream !== undefined) this.upstream.sendAudio(bytes, start, end)
    else if (!this.done) (this.queued ??= []).push(Client.appendAudio(bytes, start, end))
    else return void this.hooks.telemetry.droppedUp++
    this.hooks.telemetry.framesUp++
    if (this.tap !== undefined) this.tap.caller(bytes, start, end)
  }

  mark(name: string): void {
    this.playback.acknowledged(name)
    if (this.departure.afterPlayback && !this.playback.speaking) this.finishAction()
  }

  start(): void {}

  dtmf(digit: string): void {
    this.hooks.telemetry.dtmf()
    this.recorder.userSaid(undefined, `[DTMF ${digit}]`, this.hooks.now())
    this.sendUp(Client.userText(`The caller pressed the telephone keypad key "${digit}".`))
    this.responses.request()
  }

  stop(): void {
    this.finish("stop", null)
  }

  closed(): void {
    this.finish("caller_hangup", null)
  }

  // --- model side --------------------------------------------------------------------------

  audio(delta: AudioDelta): void {
    if (this.done || this.cancelled?.has(delta.responseId) === true) return void this.hooks.telemetry.droppedDown++
    this.hooks.telemetry.framesDown++
    const mark = this.playback.sent(delta.itemId, base64ByteLength(delta.bytes, delta.start, delta.end))
    this.twilio.sendMedia(delta.bytes, delta.start, delta.end, mark)
    if (this.tap !== undefined) this.tap.agent(delta.bytes, delta.start, delta.end)
    if (delta.itemId !== this.lastAudioItem || this.recorder.awaitingAudio) {
      this.lastAudioItem = delta.itemId
      const now = this.hooks.now()
      this.hooks.telemetry.agentAudio(now, this.recorder.assistantAudio(delta.itemId, now))
    }
  }

  event(event: RealtimeEvent): void {
    if (this.done) return
    this.recorder.observe(event, this.hooks)
    switch (event.type) {
      case "input_audio_buffer.speech_started":
        return this.bargeIn()
      case "response.created":
        this.responses.created(event.response.id)
        return this.departure.responseCreated(event.response.id)
      case "response.done":
        return this.responseDone(event.response.id)
      case "response.output_audio.done":
      case "response.audio.done":
        return this.markItemEnd()
      case "response.output_text.delta":
      case "response.text.delta":
        if (event.delta === undefined || event.item_id === undefined || this.cancelled?.has(event.response_id ?? "") === true) return
        return this.voice?.text(event.response_id ?? "", event.item_id, event.delta)
      case "response.function_call_arguments.done":
        this.responses.toolStarted()
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
    this.responses.lost()
    this.hooks.telemetry.upstreamFailed("lost")
    this.upstreamFailed(reason)
  }

  // --- from the Effect side ------------------------------------------------------------------

  /**
   * An upstream is open: the session is opened on it, what waited for it is sent and the
   * caller's audio goes to it from now on. The model is heard (`hear`) at once, or, with
   * `heard` false (the call's stream token is still being spent), only once the call is held:
   * until then what it says is held by the socket, and nothing reaches the caller.
   */
  upstreamReady(socket: RealtimeSocket, heard = true): void {
    if (this.done) return socket.close()
    socket.writer.batch()
    if (this.opening.open((message) => socket.send(message), this.recorder.transcript)) {
      this.responses.greetingRequested()
    }
    if (this.queued !== undefined) for (const message of this.queued) socket.send(message)
    this.queued = undefined
    socket.writer.flush()
    this.upstream = socket
    this.twilio.reads.writesTo(socket.writer)
    this.responses.resumed()
    if (heard) this.hear(socket)
  }

  /**
   * The model is heard: what it said while the call was not yet held reaches the call now, in
   * order (the recorder, tools, the caller), in one write to the caller; then as it comes.
   */
  hear(socket: RealtimeSocket): void {
    // Ended (its socket closed) or replaced meanwhile: nothing of it is for the caller.
    if (this.done || this.upstream !== socket) return
    socket.reads.writesTo(this.twilio.writer)
    this.twilio.writer.hold()
    try {
      socket.attach(this)
    } finally {
      this.twilio.writer.release()
    }
  }

  upstreamFailed(reason: string): void {
    if (this.done) return
    if (this.reconnectsLeft === 0) {
      // No model to apologise with: stop any queued speech and end the stream cleanly.
      this.twilio.sendClear()
      this.finish("upstream_failure", reason)
      return
    }
    this.reconnectsLeft--
    this.hooks.warn(`${reason}; reconnecting once`)
    this.hooks.reconnect()
  }

  toolFinished(callId: string, output: unknown, action: AgentAction | undefined): void {
    this.responses.toolFinished()
    if (this.done) return
    this.sendUp(Client.functionCallOutput(callId, output))
    if (action !== undefined) this.departure.take(action)
    this.responses.request()
  }

  finishAction(): void {
    const reason = this.departure.endReason
    if (reason !== undefined) this.finish(reason, null)
  }

  /** Ends the call (once): false when it had already ended. */
  finish(reason: EndReason, message: string | null): boolean {
    if (this.done) return false
    this.done = true
    this.voice?.close()
    this.recorder.closeTurn()
    this.hooks.ended(reason, message)
    return true
  }

  // --- for commands from outside the call (see Commands.ts) ------------------------------

  /** Adds a system message to the conversation, for this session and any replacement. */
  inject(text: string): void {
    const message = Client.systemText(text)
    this.opening.remember(message)
    this.sendUp(message)
  }

  /** The agent says `text`, once it has finished what it is saying. */
  say(text: string): void {
    this.responses.script(Client.sayExactly(text))
  }

  /** Why nothing can be added to the conversation now, if so. */
  get silenced(): string | undefined {
    if (this.done) return "the call has already ended"
    if (this.departure.action !== undefined) return "the call is being ended or transferred"
    if (!this.opening.joined) return "the agent has not joined the call yet"
  }

  /** The upstream socket in use, for closing it when the call ends. */
  get currentUpstream(): RealtimeSocket | undefined {
    return this.upstream
  }

  // --- internals -----------------------------------------------------------------------------

  private bargeIn(): void {
    const interruption = this.playback.interrupt()
    if (interruption.clear) {
      this.twilio.sendClear()
      this.tap?.clear()
    }
    if (this.voice === undefined) {
      for (const cut of interruption.truncations) this.sendUp(Client.truncateItem(cut.itemId, cut.audioEndMs))
    }
    if (interruption.clear || this.responses.active !== undefined) this.hooks.telemetry.bargeIn()
    this.cancelActive()
    // Text items have no audio to truncate: each is replaced by the words the caller heard.
    for (const message of this.voice?.interrupt(interruption.truncations, this.recorder, this.hooks.now()) ?? []) this.sendUp(message)
  }

  private responseDone(responseId: string): void {
    this.cancelled?.delete(responseId)
    if (this.departure.responseDone(responseId)) {
      this.markItemEnd()
      if (!this.playback.speaking && !this.voice?.busy) return this.finishAction()
      this.hooks.hangupSoon()
    }
    this.voice?.responseDone(responseId)
    this.responses.done(responseId)
  }

  // --- from the voice (ElevenLabs) ---------------------------------------------------------

  voiceAudio(delta: AudioDelta): void {
    this.audio(delta)
  }

  voiceFinished(itemId: string, text: string): void {
    if (this.done) return
    this.markItemEnd()
    this.recorder.spoken(itemId, text, this.hooks.now())
  }

  /** ElevenLabs failed: the model speaks the rest of the call, starting with the unspoken reply. */
  voiceFailed(reason: string): void {
    const voice = this.voice
    if (this.done || voice === undefined) return
    this.voice = undefined
    this.recorder.spokenByVoice = false
    const unspoken = voice.abandon()
    this.markItemEnd()
    this.sendUp(this.opening.speakWithAudio())
    this.cancelActive()
    for (const itemId of unspoken) this.sendUp(Client.deleteItem(itemId))
    this.responses.request()
    this.hooks.voiceFellBack(reason)
  }

  /** Cancels the response being generated, if any; its late output is dropped. */
  private cancelActive(): void {
    const active = this.responses.active
    if (active === undefined) return
    ;(this.cancelled ??= new Set()).add(active)
    this.sendUp(Client.responseCancel())
  }

  /** A mark right after the audio sent so far: the item's audio is complete. */
  private markItemEnd(): void {
    const mark = this.playback.flush()
    if (mark !== undefined) this.twilio.sendMark(mark)
  }

  /** A client event to the model now, or queued in order until an upstream is open. */
  sendUp(message: string | Buffer): void {
    if (this.upstream !== undefined) this.upstream.send(message)
    else if (!this.done) (this.queued ??= []).push(message)
  }
}
