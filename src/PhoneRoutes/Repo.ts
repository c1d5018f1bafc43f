import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"
import { PhoneNumberTaken } from "./Errors.js"
import { PhoneNumberRoute, PhoneNumberRouteDirection } from "./Api.js"

export interface RouteWrite {
  readonly id: string
  readonly tenantId: string
  readonly phoneNumber: string
  readonly direction: PhoneNumberRouteDirection
  readonly agentId: string
  readonly agentVersionId: string | null
  readonly greeting: string | null
}

/** A route as Twilio webhooks need it: found by number across tenants. */
export const RouteTarget = Schema.Struct({
  id: Schema.String,
  tenant_id: Schema.String,
  agent_id: Schema.String,
  agent_version_id: Schema.NullOr(Schema.String),
  greeting: Schema.NullOr(Schema.String)
})

/** SQL for `phone_number_routes`; reads join the agent and the version a call would get without a rollout. */
export class RoutesRepo extends Effect.Service<RoutesRepo>()("RoutesRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const routeSelect = sql`
      select r.id, r.tenant_id, r.phone_number, r.direction, r.agent_id, a.agent_key, a.name as agent_name,
             r.agent_version_id, r.greeting, r.created_at, r.updated_at,
             rv.id as resolved_agent_version_id, rv.version_number as resolved_version_number
      from phone_number_routes r
      join agents a on a.id = r.agent_id
      left join agent_versions rv on rv.id = coalesce(r.agent_version_id, a.published_version_id)`

    const list = SqlSchema.findAll({
      Request: Schema.String,
      Result: PhoneNumberRoute,
      execute: (tenantId) => sql`${routeSelect} where r.tenant_id = ${tenantId} order by r.phone_number, r.direction`
    })

    const find = SqlSchema.findOne({
      Request: Schema.Struct({ tenantId: Schema.String, routeId: Schema.String }),
      Result: PhoneNumberRoute,
      execute: ({ routeId, tenantId }) => sql`${routeSelect} where r.tenant_id = ${tenantId} and r.id = ${routeId}`
    })

    const findByNumber = SqlSchema.findOne({
      Request: Schema.Struct({ phoneNumber: Schema.String, direction: Schema.String }),
      Result: RouteTarget,
      execute: ({ direction, phoneNumber }) =>
        sql`select id, tenant_id, agent_id, agent_version_id, greeting from phone_number_routes
            where phone_number = ${phoneNumber} and direction = ${direction}`
    })

    const columns = (route: RouteWrite) => ({
      id: route.id,
      tenant_id: route.tenantId,
      phone_number: route.phoneNumber,
      direction: route.direction,
      agent_id: route.agentId,
      agent_version_id: route.agentVersionId,
      greeting: route.greeting
    })

    /** Insert, or update this tenant's route for the same number and direction; the id of the row written. */
    const upsertByNumber = (route: RouteWrite) =>
      sql<{ id: string }>`insert into phone_number_routes ${sql.insert(columns(route))}
        on conflict (phone_number, direction) do update set
          agent_id = excluded.agent_id, agent_version_id = excluded.agent_version_id,
          greeting = excluded.greeting, updated_at = now()
        where phone_number_routes.tenant_id = excluded.tenant_id
        returning id`.pipe(Effect.map((rows) => rows[0]?.id))

    const updateById = (route: RouteWrite) =>
      sql<{ id: string }>`update phone_number_routes set
          phone_number = ${route.phoneNumber}, direction = ${route.direction}, agent_id = ${route.agentId},
          agent_version_id = ${route.agentVersionId}, greeting = ${route.greeting}, updated_at = now()
        where tenant_id = ${route.tenantId} and id = ${route.id}
        returning id`.pipe(Effect.map((rows) => rows[0]?.id))

    const remove = (tenantId: string, routeId: string) =>
      sql`delete from phone_number_routes where tenant_id = ${tenantId} and id = ${routeId}`

    /** Another route took the number between our check and the write. */
    const taken = (route: RouteWrite) => ({
      phone_number_routes_phone_number_direction_key: () =>
        new PhoneNumberTaken({ phoneNumber: route.phoneNumber, direction: route.direction })
    })

    return {
      list: (tenantId: string) => orUnavailable(list(tenantId)),
      /** None also for an id that is not a UUID: it cannot name a route. */
      find: (tenantId: string, routeId: string) => orNothing(find({ tenantId, routeId }), Option.none()),
      /** By the number a call came in on (webhook input, unauthenticated until the tenant is known). */
      findByNumber: (phoneNumber: string, direction: string) =>
        orNothing(findByNumber({ phoneNumber, direction }), Option.none()),
      upsertByNumber: (route: RouteWrite) => orRefused(upsertByNumber(route), taken(route)),
      updateById: (route: RouteWrite) => orRefused(updateById(route), taken(route)),
      remove: (tenantId: string, routeId: string) => orUnavailable(Effect.asVoid(remove(tenantId, routeId)))
    } as const
  })
}) {}
