import { Schema } from "effect"

export class AgentNotFound extends Schema.TaggedError<AgentNotFound>()("AgentNotFound", { agentId: Schema.String }) {
  readonly status = 404 as const
  override get message() {
    return `Agent not found: ${this.agentId}`
  }
}

export class AgentVersionNotFound extends Schema.TaggedError<AgentVersionNotFound>()("AgentVersionNotFound", {
  versionId: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Agent version not found: ${this.versionId}`
  }
}

export class AgentKeyTaken extends Schema.TaggedError<AgentKeyTaken>()("AgentKeyTaken", { agentKey: Schema.String }) {
  /** 400, not 409: the spec's create_agent answers conflicts as bad input. */
  readonly status = 400 as const
  override get message() {
    return `An agent with agent_key '${this.agentKey}' already exists for this tenant`
  }
}

/** Input that is well-formed JSON but breaks a rule (rollout sums, foreign versions, ...). */
export class InvalidAgentInput extends Schema.TaggedError<InvalidAgentInput>()("InvalidAgentInput", {
  message: Schema.String
}) {
  readonly status = 400 as const
}
