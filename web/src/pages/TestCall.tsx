import type { AgentVersion } from "../../../src/Agents/Api.js"

export const TestCallButton = (_props: { agentId: string; versions: ReadonlyArray<AgentVersion> }) => null
