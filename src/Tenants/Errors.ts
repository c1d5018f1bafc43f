import { Schema } from "effect"

export class TenantNotFound extends Schema.TaggedError<TenantNotFound>()("TenantNotFound", {
  tenantId: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Tenant not found: ${this.tenantId}`
  }
}

export class InvalidTenantConfig extends Schema.TaggedError<InvalidTenantConfig>()("InvalidTenantConfig", {
  message: Schema.String
}) {
  readonly status = 400 as const
}

export class TenantEtagMismatch extends Schema.TaggedError<TenantEtagMismatch>()("TenantEtagMismatch", {
  tenantId: Schema.String,
  current: Schema.NullOr(Schema.String)
}) {
  readonly status = 412 as const
  override get message() {
    return this.current === null
      ? `If-Match given but tenant ${this.tenantId} does not exist`
      : `If-Match does not match the current ETag ${this.current} of tenant ${this.tenantId}`
  }
}
