/** Our Twilio callback URLs of one transfer (signed by Twilio with the tenant's auth token). */
export const transferUrl = (
  publicBaseUrl: string,
  step: "result" | "answered" | "join",
  tenantId: string,
  transferId: string
): string =>
  `${publicBaseUrl}/twilio/transfer-${step}?tenant=${encodeURIComponent(tenantId)}&transfer=${encodeURIComponent(transferId)}`

/** How long a transferred call rings before it counts as unanswered. */
export const TRANSFER_TIMEOUT_SECONDS = 20

/** Twilio's outcomes of a dial nobody took. */
export const UNANSWERED = ["no-answer", "busy", "failed", "canceled"] as const
