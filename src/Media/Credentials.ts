import { Effect, Layer } from "effect"
import { MediaStreamCredentials } from "./Api.js"

/** The credentials are checked by the handler (see `MediaStreamCredentials`); this only documents them. */
export const MediaStreamCredentialsLive = Layer.succeed(MediaStreamCredentials, {
  stream_token: () => Effect.void,
  bearer_auth: () => Effect.void
})
