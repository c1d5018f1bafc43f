import { Option, Schema } from "effect"

/**
 * A tenant's operations settings, under `operations` in its configuration document:
 * `auto_tasks.<rule>: false` turns off a rule that makes tasks from calls, and `ticketing`
 * names the endpoint external reconciliation reads tickets from. Unreadable values read as
 * unset (the defaults), so a typo never stops calls from being recorded.
 */
const AutoTasks = Schema.Struct({
  voicemail_follow_up: Schema.optional(Schema.Boolean),
  customer_abandoned: Schema.optional(Schema.Boolean),
  human_follow_up_required: Schema.optional(Schema.Boolean),
  callback_scheduled: Schema.optional(Schema.Boolean)
})
export type AutoTaskRule = keyof typeof AutoTasks.Type

const Ticketing = Schema.Struct({
  /** `{external_reference_id}` in the URL is replaced by the task's ticket id. */
  url: Schema.String,
  source: Schema.optional(Schema.String),
  /** Sent as `Authorization: Bearer ...`; redacted in reads like every `*token*` key. */
  api_token: Schema.optional(Schema.String)
})
export type Ticketing = typeof Ticketing.Type

const decodeAuto = Schema.decodeUnknownOption(Schema.Struct({ operations: Schema.Struct({ auto_tasks: AutoTasks }) }))
const decodeTicketing = Schema.decodeUnknownOption(Schema.Struct({ operations: Schema.Struct({ ticketing: Ticketing }) }))

/** Whether `rule` makes tasks for this tenant (on unless the document says `false`). */
export const autoTaskEnabled = (document: unknown, rule: AutoTaskRule): boolean =>
  Option.match(decodeAuto(document), { onNone: () => true, onSome: (d) => d.operations.auto_tasks[rule] !== false })

export const ticketingOf = (document: unknown): Option.Option<Ticketing> =>
  Option.map(decodeTicketing(document), (d) => d.operations.ticketing)
