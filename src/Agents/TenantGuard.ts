import { Effect, Option } from "effect"
import { TenantNotFound } from "../Tenants/Errors.js"
import { TenantCache } from "../TenantCache/TenantCache.js"

/** Admin paths under /admin/tenants/{tenant_id}/... answer 404 for a tenant that does not exist. */
export const requireTenant = (tenantId: string) =>
  Effect.flatMap(TenantCache, (cache) => cache.get(tenantId)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(new TenantNotFound({ tenantId })),
      onSome: (tenant) => Effect.succeed(tenant)
    }))
  )
