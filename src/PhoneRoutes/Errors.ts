import { Schema } from "effect"

export class PhoneNumberRouteNotFound extends Schema.TaggedError<PhoneNumberRouteNotFound>()("PhoneNumberRouteNotFound", {
  routeId: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Phone number route not found: ${this.routeId}`
  }
}

export class PhoneNumberTaken extends Schema.TaggedError<PhoneNumberTaken>()("PhoneNumberTaken", {
  phoneNumber: Schema.String,
  direction: Schema.String
}) {
  /** 400, not 409: the spec's upsert_phone_number_route answers conflicts as bad input. */
  readonly status = 400 as const
  override get message() {
    return `${this.phoneNumber} (${this.direction}) is already routed by another tenant`
  }
}
