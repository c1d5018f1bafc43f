import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { type DatabaseUnavailable, orUnavailable } from "../Database/Errors.js"
import { Notifications } from "../Database/Notifications.js"
import { Agents } from "../Agents/Agents.js"
import { InvalidAgentInput } from "../Agents/Errors.js"
import { PhoneNumberRouteNotFound, PhoneNumberTaken } from "./Errors.js"
import type { PhoneNumberRouteDirection, UpsertPhoneNumberRoute } from "./Api.js"
import { RoutesRepo } from "./Repo.js"
import { Ids } from "../Ids.js"

/** Every replica hears "routes of tenant X changed" here (caches of number -> tenant listen). */
export const PHONE_ROUTES_CHANNEL = "phone_number_routes"

/** Where a dialled number goes: the owning tenant and the agent (and pinned version) that answers. */
export interface RouteLookup {
  readonly tenantId: string
  readonly routeId: string
  readonly agentId: string | null
  readonly agentVersionId: string | null
  readonly greeting: string | null
}

/**
 * Phone-number routes. A number+direction belongs to one tenant across the platform, so a
 * webhook can find the tenant from the number it was called on (`lookup`).
 */
export class PhoneNumberRoutes extends Effect.Service<PhoneNumberRoutes>()("PhoneNumberRoutes", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* RoutesRepo
    const agents = yield* Agents
    const notifications = yield* Notifications
    const ids = yield* Ids
    const announce = (tenantId: string) => notifications.notify(PHONE_ROUTES_CHANNEL, tenantId)

    const route = (tenantId: string, routeId: string) =>
      repo.find(tenantId, routeId).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new PhoneNumberRouteNotFound({ routeId })),
          onSome: Effect.succeed
        }))
      )

    const lookup = Effect.fn("PhoneNumberRoutes.lookup")(
      function*(
        phoneNumber: string,
        direction: PhoneNumberRouteDirection
      ): Effect.fn.Return<Option.Option<RouteLookup>, DatabaseUnavailable> {
        const found = yield* repo.findByNumber(phoneNumber, direction)
        return Option.map(found, (row): RouteLookup => ({
          tenantId: row.tenant_id,
          routeId: row.id,
          agentId: row.agent_id,
          agentVersionId: row.agent_version_id,
          greeting: row.greeting
        }))
      }
    )

    const list = Effect.fn("PhoneNumberRoutes.list")(function*(tenantId: string) {
      yield* agents.tenantExists(tenantId)
      return yield* repo.list(tenantId)
    })

    const upsert = Effect.fn("PhoneNumberRoutes.upsert")(function*(tenantId: string, input: UpsertPhoneNumberRoute) {
      yield* agents.tenantExists(tenantId)
      yield* agents.agent(tenantId, input.agent_id)
      const versionId = input.agent_version_id ?? null
      if (versionId !== null) {
        const version = yield* agents.version(tenantId, versionId).pipe(Effect.option)
        if (Option.isNone(version) || version.value.agent_id !== input.agent_id) {
          return yield* new InvalidAgentInput({
            message: `agent_version_id ${versionId} is not a version of agent ${input.agent_id}`
          })
        }
      }
      const write = {
        id: input.id ?? (yield* ids.uuid),
        tenantId,
        phoneNumber: input.phone_number,
        direction: input.direction,
        agentId: input.agent_id,
        agentVersionId: versionId,
        greeting: input.greeting ?? null
      }
      const taken = new PhoneNumberTaken({ phoneNumber: input.phone_number, direction: input.direction })
      const writtenId = yield* orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const holder = yield* repo.findByNumber(input.phone_number, input.direction)
        if (input.id === undefined || input.id === null) {
          const id = yield* repo.upsertByNumber(write)
          return id === undefined ? yield* Effect.fail(taken) : id
        }
        if (Option.isSome(holder) && holder.value.id !== input.id) {
          return yield* holder.value.tenant_id === tenantId
            ? new InvalidAgentInput({
              message: `${input.phone_number} (${input.direction}) is already routed by route ${holder.value.id}`
            })
            : taken
        }
        const id = yield* repo.updateById(write)
        return id === undefined ? yield* new PhoneNumberRouteNotFound({ routeId: input.id }) : id
      }).pipe(Effect.tap(() => announce(tenantId)))))
      return yield* route(tenantId, writtenId)
    })

    const remove = Effect.fn("PhoneNumberRoutes.remove")(function*(tenantId: string, routeId: string) {
      yield* agents.tenantExists(tenantId)
      const existing = yield* route(tenantId, routeId)
      yield* repo.remove(tenantId, routeId)
      yield* announce(tenantId)
      return existing
    })

    return { lookup, list, upsert, remove } as const
  }),
  dependencies: [RoutesRepo.Default, Agents.Default]
}) {}
