import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { ApiKeys } from "./ApiKeys.js"
import { AdminCreatedTenantApiKeyResponse, AdminTenantApiKeyResponse, AdminTenantApiKeysResponse, CreatedTenantApiKey } from "./Api.js"

export const TenantApiKeysHttp = HttpApiBuilder.group(Api, "tenantApiKeys", (handlers) =>
  Effect.gen(function*() {
    const apiKeys = yield* ApiKeys
    return handlers
      .handle("list", ({ path }) =>
        apiKeys.list(path.tenant_id).pipe(
          Effect.map((keys) => new AdminTenantApiKeysResponse({ ok: true, count: keys.length, api_keys: keys })),
          asAdminErrors
        ))
      .handle("create", ({ path, payload }) =>
        apiKeys.create(path.tenant_id, payload.label ?? null).pipe(
          Effect.map(({ metadata, token }) =>
            new AdminCreatedTenantApiKeyResponse({
              ok: true,
              created: new CreatedTenantApiKey({ api_key: metadata, token })
            })
          ),
          asAdminErrors
        ))
      .handle("revoke", ({ path }) =>
        apiKeys.revoke(path.tenant_id, path.key_id).pipe(
          Effect.map((key) => new AdminTenantApiKeyResponse({ ok: true, api_key: key })),
          asAdminErrors
        ))
  }))
