import { ItemTimes } from "./ItemTimes.js"
import type { RealtimeEvent } from "./RealtimeEvents.js"

/**
 * What a call leaves behind: the transcript, the tool calls and the per-turn latencies.
 * A turn starts when the caller stops speaking; its "LLM first token" is the first model
 * output of any kind after that, its "first audio" the first assistant audio sent to the
 * caller after that (end to end: VAD, model, network, our relay).
 */

/**
 * How much conversation a call's record keeps. A long call's transcript is tens of kilobytes;
 * past this, a flooding or broken upstream would make the record (and its search index, which is
 * linear in the text) cost seconds to write. Later lines still reach the live log stream.
 */
export const TRANSCRIPT_MAX_CHARS = 200_000

export interface TranscriptEntry {
  readonly role: "user" | "assistant"
  readonly content: string
  readonly timestamp: Date
}

export interface FunctionCallEntry {
  readonly name: string
  readonly arguments: unknown
  readonly result: unknown
  readonly durationMs: number
  readonly timestamp: Date
}

export interface TurnLatency {
  readonly llmFirstTokenMs: number | null
  readonly firstAudioMs: number | null
}

/** What a recorder with nothing of a kind yet answers (its lists are made with their first entry). */
const NONE: ReadonlyArray<never> = []

export class CallRecorder {
  // The lists are made with their first entry: a live call keeps its recorder for its whole
  // length, and three empty arrays were ~0.1 KB per call that has said nothing yet.
  private functionCallList: Array<FunctionCallEntry> | undefined = undefined
  private turnList: Array<TurnLatency> | undefined = undefined
  private entries: Array<TranscriptEntry> | undefined = undefined
  private keptChars = 0
  /** Characters of conversation past TRANSCRIPT_MAX_CHARS, not in the record. */
  omittedChars = 0
  // The three below are made on first use: a live call keeps its recorder for its whole
  // length, and a call that has not spoken yet (or never barges in) needs none of them.
  /** When each caller utterance (input item) started, for its transcript's timestamp. */
  private speechStartedAt: ItemTimes | undefined = undefined
  private assistantStartedAt: ItemTimes | undefined = undefined
  private turnStoppedAt = 0
  private llmFirstTokenMs: number | null = null
  /** The model's text is spoken by a voice of ours, which reports what it said (`spoken`). */
  spokenByVoice = false
  /** Where the latest assistant lines are, for a barge-in to cut what the voice said. */
  private lineAt: Map<string, TranscriptEntry> | undefined = undefined
  /** Told of each transcript entry as it is kept (the live log stream). */
  onEntry: { said(entry: TranscriptEntry): void } | undefined = undefined
  /** Hot-path flags, read before asking the clock. */
  awaitingToken = false
  awaitingAudio = false

  /** What the record learns from a model event (the bridge acts on the same events). */
  observe(event: RealtimeEvent, clock: { now(): number }): void {
    switch (event.type) {
      case "input_audio_buffer.speech_started":
        return this.callerStartedSpeaking(event.item_id, clock.now())
      case "input_audio_buffer.speech_stopped":
        return this.callerStoppedSpeaking(clock.now())
      case "response.output_audio_transcript.delta":
      case "response.audio_transcript.delta":
      case "response.output_text.delta":
      case "response.text.delta":
      case "response.function_call_arguments.delta":
      case "response.function_call_arguments.done":
        if (this.awaitingToken) this.modelOutput(clock.now())
        return
      case "response.output_audio_transcript.done":
      case "response.audio_transcript.done":
        return this.assistantSaid(event.item_id, event.transcript, clock.now())
      case "response.output_text.done":
      case "response.text.done":
        if (!this.spokenByVoice) this.assistantSaid(event.item_id, event.text, clock.now())
        return
      case "conversation.item.input_audio_transcription.completed":
        return this.userSaid(event.item_id, event.transcript, clock.now())
    }
  }

  callerStartedSpeaking(itemId: string | undefined, now: number): void {
    if (itemId !== undefined) (this.speechStartedAt ??= new ItemTimes()).set(itemId, now)
  }

  callerStoppedSpeaking(now: number): void {
    this.closeTurn()
    this.turnStoppedAt = now
    this.llmFirstTokenMs = null
    this.awaitingToken = true
    this.awaitingAudio = true
  }

  modelOutput(now: number): void {
    if (!this.awaitingToken) return
    this.awaitingToken = false
    this.llmFirstTokenMs = now - this.turnStoppedAt
  }

  /** Returns the turn this audio closed, if it closed one. */
  assistantAudio(itemId: string, now: number): TurnLatency | undefined {
    const started = this.assistantStartedAt ??= new ItemTimes()
    if (!started.has(itemId)) started.set(itemId, now)
    if (!this.awaitingAudio) return undefined
    this.modelOutput(now)
    this.awaitingAudio = false
    const turn = { llmFirstTokenMs: this.llmFirstTokenMs, firstAudioMs: now - this.turnStoppedAt }
    ;(this.turnList ??= []).push(turn)
    return turn
  }

  userSaid(itemId: string | undefined, text: string, now: number): void {
    const at = itemId === undefined ? undefined : this.speechStartedAt?.get(itemId)
    this.add("user", text, at ?? now)
  }

  assistantSaid(itemId: string, text: string, now: number): void {
    this.add("assistant", text, this.assistantStartedAt?.get(itemId) ?? now)
    this.assistantStartedAt?.delete(itemId)
  }

  /** What the voice said of an item: all of it, or (barge-in) the words the caller heard. */
  spoken(itemId: string, text: string, now: number): void {
    const lineAt = this.lineAt ??= new Map()
    const line = lineAt.get(itemId)
    const at = line?.timestamp.getTime() ?? this.assistantStartedAt?.get(itemId) ?? now
    const index = line === undefined || this.entries === undefined ? -1 : this.entries.indexOf(line)
    if (index !== -1) {
      this.entries!.splice(index, 1)
      this.keptChars -= line!.content.length
    }
    this.assistantStartedAt?.delete(itemId)
    lineAt.delete(itemId)
    const entry = this.keep("assistant", text.trim(), at)
    if (entry === undefined) return
    lineAt.set(itemId, entry)
    if (lineAt.size > 8) lineAt.delete(lineAt.keys().next().value!)
  }

  toolCalled(entry: FunctionCallEntry): void {
    ;(this.functionCallList ??= []).push(entry)
  }

  get functionCalls(): ReadonlyArray<FunctionCallEntry> {
    return this.functionCallList ?? NONE
  }

  /** Each answered turn's latencies, in order. */
  get turnLatencies(): ReadonlyArray<TurnLatency> {
    return this.turnList ?? NONE
  }

  /** The conversation in spoken order (a caller's transcript can arrive after the reply). */
  get transcript(): ReadonlyArray<TranscriptEntry> {
    return this.entries === undefined ? NONE : [...this.entries].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())
  }

  /** Ends the open turn: kept if the model answered at all, dropped if VAD fired for nothing. */
  closeTurn(): void {
    if (this.awaitingAudio && !this.awaitingToken) {
      ;(this.turnList ??= []).push({ llmFirstTokenMs: this.llmFirstTokenMs, firstAudioMs: null })
    }
    this.awaitingToken = false
    this.awaitingAudio = false
  }

  private add(role: TranscriptEntry["role"], content: string, at: number): void {
    const text = content.trim()
    if (text === "") return
    const kept = this.keep(role, text, at)
    this.onEntry?.said(kept !== undefined && kept.content === text ? kept : { role, content: text, timestamp: new Date(at) })
  }

  /** Keeps a line in the record while the budget lasts (cut to what is left of it). */
  private keep(role: TranscriptEntry["role"], text: string, at: number): TranscriptEntry | undefined {
    if (text === "") return undefined
    const room = TRANSCRIPT_MAX_CHARS - this.keptChars
    if (text.length > room) this.omittedChars += text.length - Math.max(room, 0)
    if (room <= 0) return undefined
    const entry: TranscriptEntry = { role, content: text.length > room ? text.slice(0, room) : text, timestamp: new Date(at) }
    this.keptChars += entry.content.length
    ;(this.entries ??= []).push(entry)
    return entry
  }
}
