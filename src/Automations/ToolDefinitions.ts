import type { TenantConfig } from "../Tenants/Config.js"
import type { SmsKind } from "../Tenants/ToolSettings.js"

/** The automations the agent can call as tools (FunctionRegistry), offered when the tenant set them up. */

interface Definition {
  readonly name: string
  readonly description: string
  readonly parameters: Record<string, unknown>
}

const text = (description: string) => ({ type: "string", description })

export const SMS_TOOLS: ReadonlyArray<{ readonly kind: SmsKind; readonly definition: Definition }> = [
  {
    kind: "tracking",
    definition: {
      name: "send_tracking_sms",
      description: "Text the caller their order's tracking details.",
      parameters: { type: "object", properties: { order_id: text("The order to track"), carrier: text("Carrier, when known"), tracking_number: text("Tracking number, when known") }, required: ["order_id"] }
    }
  },
  {
    kind: "issue_intake",
    definition: {
      name: "send_issue_intake_sms",
      description: "Text the caller a link to a form where they can describe their issue.",
      parameters: { type: "object", properties: { issue: text("A few words about the issue") } }
    }
  },
  {
    kind: "phone_order",
    definition: {
      name: "send_phone_order_sms",
      description: "Text the caller a confirmation of the order they placed on this call.",
      parameters: { type: "object", properties: { order_id: text("The order's id") }, required: ["order_id"] }
    }
  },
  {
    kind: "post_call_survey",
    definition: {
      name: "send_post_call_survey_sms",
      description: "Text the caller a short satisfaction survey link.",
      parameters: { type: "object", properties: {} }
    }
  },
  {
    kind: "troubleshooting",
    definition: {
      name: "send_troubleshooting_sms",
      description: "Text the caller the troubleshooting steps discussed.",
      parameters: { type: "object", properties: { steps: { type: "array", items: { type: "string" }, description: "The steps, in order" } } }
    }
  }
]

export const EMAIL_TOOL: Definition = {
  name: "send_loop_followup_email",
  description: "Send the caller a follow-up email about this call.",
  parameters: { type: "object", properties: { email: text("The caller's email address"), reason: text("What the follow-up is about") } }
}

export const ESCALATION_NEED_TOOL: Definition = {
  name: "evaluate_escalation_need",
  description: "Assess from the conversation so far whether the caller should be transferred to a person, and why.",
  parameters: { type: "object", properties: {} }
}

/** SMS tools when the tenant configured `sms`, email when `email`, escalation need when it has somewhere to escalate. */
export const automationTools = (config: TenantConfig): ReadonlyArray<Definition> => [
  ...(config.sms === undefined ? [] : SMS_TOOLS.map((tool) => tool.definition)),
  ...(config.email === undefined ? [] : [EMAIL_TOOL]),
  ...(config.escalation?.number === undefined && config.escalation_number === undefined ? [] : [ESCALATION_NEED_TOOL])
]
