import { Schema } from "effect"

/** A task named a queue the tenant does not have. */
export class OperatorQueueNotFound extends Schema.TaggedError<OperatorQueueNotFound>()("OperatorQueueNotFound", {
  queueKey: Schema.String
}) {
  /** 400: the spec's task operations list no 404 for a queue, and the key came from the body. */
  readonly status = 400 as const
  override get message() {
    return `operator queue '${this.queueKey}' does not exist; create it with PUT /api/v1/operator-queues/${this.queueKey}`
  }
}

export class InvalidQueueInput extends Schema.TaggedError<InvalidQueueInput>()("InvalidQueueInput", {
  message: Schema.String
}) {
  readonly status = 400 as const
}
