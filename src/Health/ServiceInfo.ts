import { Clock, Effect } from "effect"

export const SERVICE_VERSION = "0.1.0"

/** When this process started serving, for uptime figures. */
export class ServiceInfo extends Effect.Service<ServiceInfo>()("ServiceInfo", {
  effect: Effect.map(Clock.currentTimeMillis, (startedAt) => ({
    version: SERVICE_VERSION,
    uptimeSeconds: Effect.map(Clock.currentTimeMillis, (now) => Math.floor((now - startedAt) / 1000))
  }))
}) {}
