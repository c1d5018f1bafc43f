import { Schema } from "effect"

export class ApiKeyNotFound extends Schema.TaggedError<ApiKeyNotFound>()("ApiKeyNotFound", {
  tenantId: Schema.String,
  keyId: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `API key ${this.keyId} not found for tenant ${this.tenantId}`
  }
}

export class InvalidApiKeyLabel extends Schema.TaggedError<InvalidApiKeyLabel>()("InvalidApiKeyLabel", {
  message: Schema.String
}) {
  readonly status = 400 as const
}
