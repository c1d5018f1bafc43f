/** What the agent is told when the person did not take the call (a system message). */
export const unansweredInstruction = (status: string) =>
  `The transfer to a human agent was not answered (${status}). Tell the caller nobody was available ` +
  "right now, and offer to schedule a call back at a time they choose with the request_callback tool."

/** The agent's first words back on the line after an unanswered transfer. */
export const UNANSWERED_LINE =
  "I'm sorry, nobody was available to take your call just now. Would you like me to arrange for someone to call you back?"
