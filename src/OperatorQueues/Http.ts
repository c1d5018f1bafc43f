import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asApiErrors } from "../Http/ErrorMapping.js"
import { OperatorQueues } from "./OperatorQueues.js"

export const OperatorQueuesHttp = HttpApiBuilder.group(Api, "operatorQueues", (handlers) =>
  Effect.gen(function*() {
    const queues = yield* OperatorQueues
    const tenant = Effect.map(CurrentTenant, (t) => t.tenantId)
    return handlers
      .handle("list", () => Effect.flatMap(tenant, queues.list).pipe(asApiErrors))
      .handle("stats", () => Effect.flatMap(tenant, queues.stats).pipe(asApiErrors))
      .handle("upsert", ({ path, payload }) =>
        Effect.flatMap(tenant, (id) => queues.upsert(id, path.queue_key, payload)).pipe(asApiErrors))
  }))
