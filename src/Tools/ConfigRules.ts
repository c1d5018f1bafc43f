import { missingPrompt } from "../Prompts/Library.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { BUILT_IN_TOOL_NAMES } from "./BuiltInNames.js"

const builtIns = new Set<string>(BUILT_IN_TOOL_NAMES)

/**
 * Rules across keys of a tenant document, checked when it is written (never on a stored one,
 * which would put a running tenant out of service): the prompt key names a prompt, and tool
 * names are unique and do not shadow the service's own tools. Each problem names its key.
 */
export const configProblems = (config: TenantConfig): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (config.system_prompt_key !== undefined) {
    const missing = missingPrompt(config, config.system_prompt_key, "system_prompt_key")
    if (missing !== undefined) problems.push(missing)
  }
  const seen = new Set<string>()
  for (const [index, tool] of (config.tools ?? []).entries()) {
    if (builtIns.has(tool.name)) problems.push(`tools.${index}.name ${tool.name} is a built-in tool's name; choose another`)
    else if (seen.has(tool.name)) problems.push(`tools.${index}.name ${tool.name} is used by another tool`)
    seen.add(tool.name)
  }
  // The tenant's servers must be able to tell our requests from anyone's.
  if (config.webhook_secret === undefined) {
    if ((config.tools ?? []).length > 0) problems.push("tools need webhook_secret: requests to tenant tools are signed with it")
    if (config.email !== undefined) problems.push("email needs webhook_secret: requests to the email endpoint are signed with it")
  }
  return problems
}

/** Every URL of the document the service will call, with its key (each passes the egress check when written). */
export const outboundUrlsOf = (config: TenantConfig): ReadonlyArray<readonly [string, string]> => [
  ...(config.webhook_url === undefined ? [] : [["webhook_url", config.webhook_url] as const]),
  ...(config.tools ?? []).map((tool, index) => [`tools.${index}.url`, tool.url] as const),
  ...(config.email === undefined ? [] : [["email.url", config.email.url] as const])
]
