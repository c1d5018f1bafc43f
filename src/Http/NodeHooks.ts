import { Context } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"

/**
 * A path served straight off node's `request` event, before any Effect fiber is made for the
 * request (src/Twilio/PlainWebhook.ts). It either answers the request itself or calls `next`,
 * synchronously or later, which serves it as every other request is (a request fiber, the edge,
 * the router). It must not call `next` after it has written anything.
 */
export type RequestHook = (request: IncomingMessage, response: ServerResponse, next: () => void) => void

/** Where the app installs its request hook on our node server (src/Http/NodeServer.ts). At most one. */
export interface NodeHookSlots {
  request: RequestHook | undefined
}

export class NodeHooks extends Context.Tag("NodeHooks")<NodeHooks, NodeHookSlots>() {}
