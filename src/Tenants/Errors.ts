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

/** The stored document no longer decodes: to the runtime the tenant does not exist until it is fixed. */
export class TenantConfigUnreadable extends Schema.TaggedError<TenantConfigUnreadable>()("TenantConfigUnreadable", {
  tenantId: Schema.String,
  problems: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Tenant ${this.tenantId} is out of service: its stored config no longer decodes (${this.problems}); PUT a corrected document`
  }
}
