import { Context } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Duplex } from "node:stream"

/**
 * A path served straight off node's `request` event, before any Effect fiber is made for the
 * request (src/Twilio/PlainWebhook.ts). It either answers the request itself or calls `next`,
 * synchronously or later, which serves it as every other request is (a request fiber, the edge,
 * the router). It must not call `next` after it has written anything.
 */
export type RequestHook = (request: IncomingMessage, response: ServerResponse, next: () => void) => void

/** The same for node's `upgrade` event (src/Media/PlainUpgrade.ts). */
export type UpgradeHook = (request: IncomingMessage, socket: Duplex, head: Buffer, next: () => void) => void

/** Where the app installs its hooks on our node server (src/Http/NodeServer.ts). At most one of each. */
export interface NodeHookSlots {
  request: RequestHook | undefined
  upgrade: UpgradeHook | undefined
}

export const emptyHookSlots = (): NodeHookSlots => ({ request: undefined, upgrade: undefined })

export class NodeHooks extends Context.Tag("NodeHooks")<NodeHooks, NodeHookSlots>() {}
