import { Option } from "effect"
import type { ResolvedAgentVersion } from "../Agents/VersionResolution.js"
import { resolvePrompt } from "../Prompts/Library.js"
import type { ToolDefinition } from "../Tools/FunctionRegistry.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { responseCreate, sessionUpdate } from "./RealtimeEvents.js"
import { SharedStrings } from "./SharedStrings.js"

const DEFAULT_VOICE = "alloy"
const TRANSCRIPTION_MODEL = "whisper-1"

/**
 * What the agent is for this call: the agent version wins, then the tenant config, then
 * defaults; a greeting chosen for the call itself (its phone route) wins over both.
 */
export interface AgentSettings {
  readonly model: string
  readonly voice: string
  readonly instructions: string
  readonly greeting: string | null
  /** The prompt-library key the instructions came from, for the call log (null: none). */
  readonly systemPromptKey: string | null
}

/**
 * The call's instructions: the version's prompt key, then its own instructions, then the
 * tenant's prompt key, then the tenant's instructions. A key that no longer names a prompt
 * (the prompt was removed after it was checked) is skipped.
 */
const instructionsOf = (tenant: TenantConfig, version: ResolvedAgentVersion | undefined) => {
  const fromKey = (key: string | null | undefined) =>
    key === null || key === undefined ? undefined : Option.getOrUndefined(Option.map(resolvePrompt(tenant, key), (text) => ({ text, key })))
  return fromKey(version?.config.system_prompt_key) ??
    (version?.config.instructions === null || version?.config.instructions === undefined
      ? undefined
      : { text: version.config.instructions, key: null }) ??
    fromKey(tenant.system_prompt_key) ??
    (tenant.instructions === undefined ? undefined : { text: tenant.instructions, key: null })
}

/** By tenant name: the default prompt, one string shared by the tenant's calls. */
const defaults = new SharedStrings(1024)
const defaultInstructions = (name: string) =>
  defaults.of(name, () => `You are the phone assistant for ${name}. Keep answers short and friendly: this is a phone call.`)

export const agentSettings = (
  tenant: TenantConfig,
  version: ResolvedAgentVersion | undefined,
  defaultModel: string,
  callGreeting: string | null = null,
  agentName: string | null = null
): AgentSettings => {
  const name = tenant.display_name ?? tenant.tenant_id
  const chosen = instructionsOf(tenant, version)
  const instructions = chosen?.text ?? defaultInstructions(name)
  return {
    model: version?.config.realtime_model ?? tenant.model ?? defaultModel,
    voice: version?.config.voice ?? tenant.voice ?? DEFAULT_VOICE,
    // A name chosen for the call (make-call's agent_name) is how the agent introduces itself.
    instructions: agentName === null ? instructions : `${instructions}\n\nYour name is ${JSON.stringify(agentName)}.`,
    greeting: callGreeting ?? version?.config.greeting ?? tenant.greeting ?? null,
    systemPromptKey: chosen?.key ?? null
  }
}

/** The two messages that open every upstream session of this call. */
export interface SessionPlan {
  readonly sessionUpdate: string
  readonly greeting: string
  /** The model speaking itself: the session of a call whose own voice (ElevenLabs) failed. */
  readonly audioSessionUpdate: string
}

/** Who turns the model's replies into sound: the model (audio) or a voice of ours fed its text. */
export type ModelOutput = "audio" | "text"

/**
 * The GA `session.update` (mu-law in and out so audio passes through untouched, server VAD,
 * caller transcription, the tenant's tools) and the greeting the agent opens with. Written
 * when a session opens, from the settings and tools the call keeps anyway: kept as text, the
 * `session.update` (instructions and tools' schemas) was ~2 KB per live call (bench/RESULTS.md).
 */
class CallSessionPlan implements SessionPlan {
  constructor(
    private readonly settings: AgentSettings,
    private readonly tools: ReadonlyArray<ToolDefinition>,
    private readonly output: ModelOutput
  ) {}

  get sessionUpdate(): string {
    return session(this.settings, this.tools, this.output)
  }

  get audioSessionUpdate(): string {
    return session(this.settings, this.tools, "audio")
  }

  get greeting(): string {
    return responseCreate(
      this.settings.greeting === null
        ? "Greet the caller briefly and ask how you can help."
        : `Greet the caller by saying exactly: ${JSON.stringify(this.settings.greeting)}`
    )
  }
}

export const sessionPlan = (
  settings: AgentSettings,
  tools: ReadonlyArray<ToolDefinition>,
  output: ModelOutput = "audio"
): SessionPlan => new CallSessionPlan(settings, tools, output)

/** A session.update's text and what it was written from (the tools are the memo's key). */
interface WrittenUpdate {
  readonly model: string
  readonly instructions: string
  readonly voice: string
  readonly output: ModelOutput
  readonly text: string
}

/** Texts kept per tool list: one per agent version, voice and output a tenant's calls use at once. */
const MAX_UPDATES_PER_TOOLS = 8

/**
 * By the tenant's tool list (one array per tenant config, FunctionRegistry `toolsOf`, dropped
 * with it): the session.update texts its calls sent. Each call of an agent sends the same ~2 KB
 * (its instructions and the tools' schemas), written again per call before (bench/RESULTS.md,
 * stop 38 setupcpu); shared by the tenant's calls, not kept per call.
 */
const writtenUpdates = new WeakMap<ReadonlyArray<ToolDefinition>, Array<WrittenUpdate>>()

const session = (settings: AgentSettings, tools: ReadonlyArray<ToolDefinition>, output: ModelOutput): string => {
  const { instructions, model, voice } = settings
  let written = writtenUpdates.get(tools)
  const found = written?.find((update) =>
    update.output === output && update.model === model && update.voice === voice && update.instructions === instructions
  )
  if (found !== undefined) return found.text
  const text = writeSession(settings, tools, output)
  if (written === undefined) writtenUpdates.set(tools, written = [])
  if (written.length >= MAX_UPDATES_PER_TOOLS) written.shift()
  written.push({ model, instructions, voice, output, text })
  return text
}

const writeSession = (settings: AgentSettings, tools: ReadonlyArray<ToolDefinition>, output: ModelOutput): string =>
  sessionUpdate({
    type: "realtime",
    model: settings.model,
    instructions: settings.instructions,
    output_modalities: [output],
    audio: {
      input: {
        format: { type: "audio/pcmu" },
        transcription: { model: TRANSCRIPTION_MODEL },
        turn_detection: { type: "server_vad" }
      },
      output: { format: { type: "audio/pcmu" }, voice: settings.voice }
    },
    tools: tools.map((tool) => ({
      type: "function",
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters
    })),
    tool_choice: "auto"
  })
