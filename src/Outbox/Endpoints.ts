import { Effect, Option, Redacted } from "effect"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { WebhookOutboxRepo } from "./Repo.js"

/** Where a tenant's events go and the secrets that sign them (current first). */
export interface WebhookEndpoint {
  readonly url: string
  readonly secrets: ReadonlyArray<string>
}

/** Whether a tenant's config has a webhook URL (its events, `voice.call.started` included, are delivered). */
export const hasWebhookUrl = (tenant: { readonly config: { readonly webhook_url?: string | undefined } }) =>
  tenant.config.webhook_url !== undefined

/**
 * A tenant's webhook endpoint as its config says now: none when it has no `webhook_url`,
 * is out of service, or its URL answered 410 Gone. Read through the tenant cache, which
 * every replica invalidates on a config change.
 */
export class WebhookEndpoints extends Effect.Service<WebhookEndpoints>()("WebhookEndpoints", {
  effect: Effect.gen(function*() {
    const tenants = yield* TenantCache
    const repo = yield* WebhookOutboxRepo

    const endpointOf = Effect.fn("WebhookEndpoints.endpointOf")(function*(tenantId: string) {
      const tenant = yield* tenants.get(tenantId)
      if (Option.isNone(tenant)) return Option.none<WebhookEndpoint>()
      const { webhook_secret, webhook_secret_previous, webhook_url } = tenant.value.config
      if (webhook_url === undefined) return Option.none<WebhookEndpoint>()
      if (yield* repo.isDisabled(tenantId, webhook_url)) return Option.none<WebhookEndpoint>()
      const secrets = [webhook_secret, webhook_secret_previous].flatMap((secret) =>
        secret === undefined ? [] : [Redacted.value(secret)]
      )
      return Option.some<WebhookEndpoint>({ url: webhook_url, secrets })
    })

    /** Whether the tenant has a webhook URL at all (the cached config only; no SQL). */
    const configured = (tenantId: string) =>
      Effect.map(tenants.get(tenantId), Option.exists(hasWebhookUrl))

    /** The tenant's webhook URL, from the cached config only (no SQL: whether it is disabled is not checked). */
    const urlOf = (tenantId: string) =>
      Effect.map(tenants.get(tenantId), Option.flatMapNullable((tenant) => tenant.config.webhook_url))

    return { endpointOf, configured, urlOf } as const
  }),
  dependencies: [WebhookOutboxRepo.Default]
}) {}
