import { Schema } from "effect"

export class CallbackTaskNotFound extends Schema.TaggedError<CallbackTaskNotFound>()("CallbackTaskNotFound", {
  id: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Callback task not found: ${this.id}`
  }
}

/**
 * A transition the task's state does not allow (claiming a completed task, unsnoozing one
 * that is not snoozed, claiming one another operator holds). 400: the spec lists no 409.
 */
export class InvalidTaskTransition extends Schema.TaggedError<InvalidTaskTransition>()("InvalidTaskTransition", {
  message: Schema.String
}) {
  readonly status = 400 as const
}
