/** The service's own tools: a tenant tool may not take one of these names (it would shadow it). */
export const BUILT_IN_TOOL_NAMES = [
  "escalate_call_to_human",
  "end_call",
  "request_callback",
  "check_business_hours",
  "evaluate_escalation_need",
  "send_tracking_sms",
  "send_issue_intake_sms",
  "send_phone_order_sms",
  "send_post_call_survey_sms",
  "send_troubleshooting_sms",
  "send_loop_followup_email"
] as const
