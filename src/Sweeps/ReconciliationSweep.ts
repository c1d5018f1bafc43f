import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Duration, Effect, Option, Schema } from "effect"
import { CallbackTasks } from "../CallbackTasks/CallbackTasks.js"
import type { CallbackTask } from "../CallbackTasks/Schemas.js"
import { type Ticketing, ticketingOf } from "../CallbackTasks/TenantSettings.js"
import { orUnavailable } from "../Database/Errors.js"
import { GuardedHttpClient } from "../Egress/GuardedHttpClient.js"
import { failureText } from "../Http/UrlSecrets.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { REDACTED } from "../Tenants/Domain.js"
import { SweepsRepo } from "./Repo.js"
import { eachCandidate, type SweepOptions, tenantScope } from "./Run.js"
import { ExternalCallbackTaskReconciliationItem, ExternalCallbackTaskReconciliationResult } from "./Schemas.js"

/** A ticket is looked at again no sooner than this after the last look (by any replica). */
export const RECHECK_SECONDS = 60
const TICKET_TIMEOUT = Duration.seconds(10)
const CLOSED = ["closed", "resolved", "solved", "completed", "done"]

/** What the tenant's ticket endpoint answers (extra fields ignored). */
const Ticket = Schema.Struct({
  status: Schema.optional(Schema.NullOr(Schema.String)),
  assignee: Schema.optional(Schema.NullOr(Schema.String))
})

class ReconcileFailed extends Schema.TaggedError<ReconcileFailed>()("ReconcileFailed", { message: Schema.String }) {}

const empty = new ExternalCallbackTaskReconciliationResult({
  attempted_tenants: 0, evaluated_tenants: 0, candidate_tasks: 0, unchanged_tasks: 0, reconciled_tasks: 0,
  webhooks_enqueued: 0, items: [], failures: []
})

const referenceOf = (task: CallbackTask): string => {
  const metadata = task.metadata as Record<string, unknown>
  return String(metadata.external_reference_id)
}

/**
 * External reconciliation: a live task whose `metadata.external_reference_id` names a ticket
 * is refreshed from the tenant's ticket endpoint (`operations.ticketing.url`) through the
 * guarded client. A closed ticket completes the task; the ticket's assignee is copied.
 */
export class ReconciliationSweep extends Effect.Service<ReconciliationSweep>()("ReconciliationSweep", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SweepsRepo
    const cache = yield* TenantCache
    const tasks = yield* CallbackTasks
    const tenants = yield* TenantCache
    const { client } = yield* GuardedHttpClient

    /** Marks the look (so another replica skips the ticket for RECHECK_SECONDS) and returns the task. */
    const begin = (tenantId: string, id: string, at: Date) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const claimed = yield* repo.claim("reconcile", tenantId, id, at, RECHECK_SECONDS)
        if (Option.isNone(claimed)) return Option.none()
        yield* repo.markChecked(tenantId, id, at)
        return Option.some(claimed.value.task)
      })))

    const fetchTicket = (ticketing: Ticketing, reference: string) => {
      const url = ticketing.url.replaceAll("{external_reference_id}", encodeURIComponent(reference))
      return client.execute(
        HttpClientRequest.get(url).pipe(
          HttpClientRequest.acceptJson,
          ticketing.api_token === undefined ? (r) => r : HttpClientRequest.bearerToken(ticketing.api_token)
        )
      ).pipe(
        Effect.flatMap((response) =>
          response.status >= 200 && response.status < 300
            ? Effect.flatMap(response.json, Schema.decodeUnknown(Ticket)).pipe(
              Effect.mapError(() => new ReconcileFailed({ message: "ticket endpoint answered something other than a ticket" }))
            )
            : Effect.fail(new ReconcileFailed({ message: `ticket endpoint answered HTTP ${response.status}` }))
        ),
        Effect.scoped,
        Effect.timeoutFail({ duration: TICKET_TIMEOUT, onTimeout: () => new ReconcileFailed({ message: "ticket endpoint did not answer in time" }) }),
        // The client's message names the URL, which may hold the tenant's credential (`?token=`).
        Effect.mapError((error) =>
          error._tag === "ReconcileFailed" ? error : new ReconcileFailed({ message: failureText(error, REDACTED, url) })
        )
      )
    }

    const apply = (task: CallbackTask, ticket: typeof Ticket.Type, emit: boolean) =>
      Effect.gen(function*() {
        const at = new Date(yield* Clock.currentTimeMillis)
        const closed = ticket.status !== null && ticket.status !== undefined && CLOSED.includes(ticket.status.toLowerCase())
        const assignee = ticket.assignee ?? null
        const changes: Record<string, unknown> = { external_status: ticket.status ?? null }
        if (assignee !== null && assignee !== task.assigned_to) changes.assigned_to = assignee
        if (closed) Object.assign(changes, { status: "completed", completed_at: at })
        const changed = closed || "assigned_to" in changes
        // The task may have been completed by an operator meanwhile: then nothing to do.
        const after = yield* tasks.change(task.tenant_id, task.id, (locked) =>
          Effect.succeed(locked.status === "completed" || locked.status === "canceled" || !changed ? null : changes), emit)
        return { after, changed: emit && after.updated_at.getTime() > task.updated_at.getTime() }
      })

    const handle = (tenantId: string, id: string, at: Date, emit: boolean) =>
      Effect.gen(function*() {
        const task = yield* begin(tenantId, id, at)
        if (Option.isNone(task)) return Option.none()
        const tenant = yield* tenants.get(tenantId)
        const ticketing = Option.flatMap(tenant, (t) => ticketingOf(t.document))
        if (Option.isNone(ticketing)) return yield* new ReconcileFailed({ message: "tenant has no operations.ticketing.url" })
        const reference = referenceOf(task.value)
        const ticket = yield* fetchTicket(ticketing.value, reference)
        const { after, changed } = yield* apply(task.value, ticket, emit)
        return Option.some(new ExternalCallbackTaskReconciliationItem({
          tenant_id: tenantId,
          task_id: id,
          source: ticketing.value.source ?? "external",
          external_reference_id: reference,
          external_status: ticket.status ?? null,
          external_assignee: ticket.assignee ?? null,
          previous_status: task.value.status,
          status: after.status,
          previous_assigned_to: task.value.assigned_to ?? null,
          assigned_to: after.assigned_to ?? null,
          webhook_enqueued: changed
        }))
      })

    const sweep = Effect.fn("ReconciliationSweep.sweep")(function*(options: SweepOptions) {
      const scope = yield* tenantScope(cache, options.authToken)
      if (Option.isNone(scope)) return empty
      const at = new Date(yield* Clock.currentTimeMillis)
      const candidates = yield* orUnavailable(repo.candidates("reconcile", at, scope.value, options.limit, RECHECK_SECONDS))
      const tally = yield* eachCandidate(candidates, (c) => handle(c.tenant_id, c.id, at, options.emitWebhooks))
      const reconciled = tally.items.filter((item) => item.status !== item.previous_status || item.assigned_to !== item.previous_assigned_to)
      return new ExternalCallbackTaskReconciliationResult({
        attempted_tenants: scope.value === null ? tally.attemptedTenants : 1,
        evaluated_tenants: tally.evaluatedTenants,
        candidate_tasks: candidates.length,
        reconciled_tasks: reconciled.length,
        unchanged_tasks: tally.items.length - reconciled.length,
        webhooks_enqueued: tally.items.filter((item) => item.webhook_enqueued).length,
        items: tally.items,
        failures: tally.failures
      })
    })

    return { sweep } as const
  }),
  dependencies: [SweepsRepo.Default]
}) {}
