/**
 * Whether a conversation needs a person, from rules over its transcript: the caller asking
 * for one, the agent failing again and again, the caller's frustration. Pure; each signal
 * found is a reason in the answer, so the score is explained.
 */

export interface Turn {
  readonly role: string
  readonly content: string
}

export interface EscalationAssessment {
  readonly needs_escalation: boolean
  readonly score: number
  readonly reasons: ReadonlyArray<string>
  readonly signals: {
    readonly explicit_request: boolean
    readonly repeated_failures: number
    readonly negative_sentiment: number
  }
  readonly turns_analyzed: number
}

const ASKS_FOR_PERSON =
  /\b(speak|talk|transfer|connect|put me through|get me)\b.{0,40}\b(human|person|agent|representative|someone|manager|supervisor|operator|staff)\b|\b(real person|live agent|human being|representative|operator)\b/i
const AGENT_FAILED =
  /\b(sorry|apologi[sz]e|i (can't|cannot|am unable to|don't know|do not know)|not able to|didn't (catch|understand)|could you repeat|i'm not sure)\b/i
const NEGATIVE =
  /\b(angry|frustrat\w*|ridiculous|terrible|useless|awful|stupid|worst|unacceptable|complain\w*|lawyer|hate|annoy\w*|fed up|waste of time|not helping|doesn't work|does not work)\b/i

export const ESCALATION_THRESHOLD = 0.5

const normalise = (text: string) => text.toLowerCase().replace(/[^a-z0-9 ]/g, "").replace(/\s+/g, " ").trim()

const quote = (text: string) => JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)

/** Scores `turns` (the caller's are role "user"); `note` is the automation's `reason`, read like a caller's words. */
export const assessEscalation = (turns: ReadonlyArray<Turn>, note?: string | null): EscalationAssessment => {
  const reasons: Array<string> = []
  const caller = turns.filter((turn) => turn.role === "user").map((turn) => turn.content)
  const agent = turns.filter((turn) => turn.role === "assistant").map((turn) => turn.content)

  const request = [...caller, ...(note === undefined || note === null ? [] : [note])].find((text) => ASKS_FOR_PERSON.test(text))
  if (request !== undefined) reasons.push(`the caller asked for a person: ${quote(request)}`)

  const agentFailures = agent.filter((text) => AGENT_FAILED.test(text)).length
  const seen = new Map<string, number>()
  for (const text of caller.map(normalise).filter((text) => text.length >= 8)) seen.set(text, (seen.get(text) ?? 0) + 1)
  const repeats = [...seen.values()].reduce((total, count) => total + Math.max(0, count - 1), 0)
  const failures = agentFailures + repeats
  if (agentFailures >= 2) reasons.push(`the agent could not help ${agentFailures} times`)
  if (repeats >= 1) reasons.push(`the caller repeated themselves ${repeats} time${repeats === 1 ? "" : "s"}`)

  const negative = caller.filter((text) => NEGATIVE.test(text))
  if (negative.length > 0) reasons.push(`the caller sounds frustrated: ${quote(negative[0]!)}`)

  const score = Math.min(
    1,
    (request === undefined ? 0 : 0.6) +
      (failures >= 2 ? 0.3 + 0.1 * Math.min(2, failures - 2) : 0) +
      Math.min(0.4, 0.2 * negative.length)
  )
  const rounded = Math.round(score * 100) / 100
  if (reasons.length === 0) reasons.push("no request for a person, repeated failures or frustration found")
  return {
    needs_escalation: rounded >= ESCALATION_THRESHOLD,
    score: rounded,
    reasons,
    signals: { explicit_request: request !== undefined, repeated_failures: failures, negative_sentiment: negative.length },
    turns_analyzed: turns.length
  }
}
