import { Effect } from "effect"
import * as dns from "node:dns"

/** Resolves a host name to every address it has (A and AAAA), as the system resolver does. */
export type Resolve = (hostname: string, callback: (error: Error | null, addresses: ReadonlyArray<dns.LookupAddress>) => void) => void

/**
 * Name resolution for outbound requests: the system resolver (which honours /etc/hosts),
 * replaceable so tests can make a name resolve to a private address.
 */
export class EgressResolver extends Effect.Service<EgressResolver>()("EgressResolver", {
  succeed: {
    resolve: ((hostname, callback) =>
      dns.lookup(hostname, { all: true, verbatim: true }, (error, addresses) => callback(error, addresses ?? []))) as Resolve
  }
}) {}
