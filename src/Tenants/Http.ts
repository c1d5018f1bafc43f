import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Option } from "effect"
import { Api } from "../Api.js"
import { AppConfig } from "../Config.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { setResponseHeader } from "../Http/Headers.js"
import {
  AdminTenantItem,
  ListTenantsResponse,
  TenantMutationResponse,
  TenantResponse,
  ValidateTenantResponse
} from "./Api.js"
import { isJsonObject, redactSecrets, type StoredTenant } from "./Domain.js"
import { Limits } from "../Limits/Limits.js"
import { runtimeView } from "./Runtime.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { Tenants } from "./Tenants.js"
import { TenantNotFound } from "./Errors.js"

const tenantResponse = (tenant: StoredTenant, config: unknown) =>
  setResponseHeader("etag", tenant.etag).pipe(
    Effect.as(new TenantResponse({ ok: true, tenant_id: tenant.tenantId, etag: tenant.etag, config }))
  )

export const TenantsHttp = HttpApiBuilder.group(Api, "tenants", (handlers) =>
  Effect.gen(function*() {
    const tenants = yield* Tenants
    const cache = yield* TenantCache
    const platform = yield* AppConfig
    const limits = yield* Limits
    const asObject = (view: unknown) => isJsonObject(view) ? view : {}

    return handlers
      .handle("list", ({ urlParams }) =>
        tenants.list(urlParams.limit ?? 50, urlParams.offset ?? 0).pipe(
          Effect.map(({ count, tenants }) =>
            new ListTenantsResponse({
              ok: true,
              count,
              tenants: tenants.map((t) =>
                new AdminTenantItem({ tenant_id: t.tenantId, etag: t.etag, config: redactSecrets(t.document) })
              )
            })
          ),
          asAdminErrors
        ))
      .handle("validate", ({ payload }) =>
        tenants.validate(payload).pipe(
          Effect.map((tenant) => new ValidateTenantResponse({ ok: true, error: null, runtime: runtimeView(tenant, platform) })),
          asAdminErrors
        ))
      .handle("get", ({ path }) =>
        tenants.get(path.tenant_id).pipe(
          Effect.flatMap((tenant) => tenantResponse(tenant, redactSecrets(tenant.document))),
          asAdminErrors
        ))
      .handle("upsert", ({ headers, path, payload }) =>
        tenants.upsert(path.tenant_id, payload, Option.fromNullable(headers["if-match"])).pipe(
          Effect.tap((tenant) => setResponseHeader("etag", tenant.etag)),
          Effect.as(new TenantMutationResponse({ ok: true, tenant_id: path.tenant_id })),
          asAdminErrors
        ))
      .handle("delete", ({ path }) =>
        tenants.remove(path.tenant_id).pipe(
          Effect.as(new TenantMutationResponse({ ok: true, tenant_id: path.tenant_id })),
          asAdminErrors
        ))
      .handle("runtime", ({ path }) =>
        tenants.runnable(path.tenant_id).pipe(
          // Usage against every cost/abuse limit rides along (docs/limits.md, docs/spec-deviations.md).
          Effect.flatMap((tenant) =>
            Effect.flatMap(limits.usage(tenant), (usage) =>
              tenantResponse(tenant, { ...asObject(runtimeView(tenant, platform)), limits: usage }))),
          asAdminErrors
        ))
      .handle("patchRuntimeConfig", ({ headers, path, payload }) =>
        tenants.patchRuntime(path.tenant_id, payload, Option.fromNullable(headers["if-match"])).pipe(
          Effect.flatMap((tenant) => tenantResponse(tenant, runtimeView(tenant, platform))),
          asAdminErrors
        ))
      .handle("reload", ({ path }) =>
        cache.reload(path.tenant_id).pipe(
          Effect.flatMap(Option.match({
            onNone: () => Effect.fail(new TenantNotFound({ tenantId: path.tenant_id })),
            onSome: (tenant) => tenantResponse(tenant, redactSecrets(tenant.document))
          })),
          asAdminErrors
        ))
  }))
