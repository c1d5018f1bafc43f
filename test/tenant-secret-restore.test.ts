import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { redactSecrets } from "../src/Tenants/Domain.js"
import { restoreRedactedSecrets } from "../src/Tenants/SecretRestore.js"

/** What a PUT of `edit(read)` stores, or why it is refused. */
const writeBack = (stored: unknown, edit: (read: any) => unknown = (read) => read) =>
  restoreRedactedSecrets(edit(redactSecrets(stored)), stored)

describe("restoreRedactedSecrets", () => {
  it("gives back the stored document for a document as read, lists of look-alikes included", () => {
    const stored = {
      tenant_id: "t",
      twins: [{ api_key: "a" }, { api_key: "b" }, { api_key: "a" }],
      hooks: ["https://h.example/in?token=one", "https://h.example/in?token=two"],
      nested: [{ name: "x", items: [{ id: 1, secret: "s1" }, { id: 2, secret: "s2" }] }]
    }
    expect(writeBack(stored)).toEqual(Either.right(stored))
  })

  it("pairs items nested in lists by what they are", () => {
    const stored = { groups: [{ name: "x", items: [{ id: 1, secret: "s1" }, { id: 2, secret: "s2" }] }, { name: "y", items: [] }] }
    const restored = writeBack(stored, (read) => ({
      groups: [read.groups[1], { ...read.groups[0], note: "edited", items: [{ ...read.groups[0].items[1], label: "two" }] }]
    }))
    expect(restored).toEqual(Either.right({
      groups: [{ name: "y", items: [] }, { name: "x", note: "edited", items: [{ id: 2, secret: "s2", label: "two" }] }]
    }))
  })

  it("keeps one of several identical stored items; refuses one of look-alikes with different secrets", () => {
    expect(writeBack({ keys: [{ api_key: "same" }, { api_key: "same" }] }, (read) => ({ keys: [read.keys[0]] })))
      .toEqual(Either.right({ keys: [{ api_key: "same" }] }))
    const refused = writeBack({ keys: [{ api_key: "a" }, { api_key: "b" }] }, (read) => ({ keys: [read.keys[0]] }))
    expect(Either.isLeft(refused) && refused.left).toContain("config.keys[0].api_key")
  })

  it("trusts the first identity key an item has: a new id is a new item whatever its name", () => {
    const stored = { items: [{ id: "a", name: "crm", token: "t-a" }] }
    expect(writeBack(stored, (read) => ({ items: [{ ...read.items[0], label: "x" }] })))
      .toEqual(Either.right({ items: [{ id: "a", name: "crm", token: "t-a", label: "x" }] }))
    const refused = writeBack(stored, (read) => ({ items: [{ ...read.items[0], id: "b" }] }))
    expect(Either.isLeft(refused) && refused.left).toContain("config.items[0].token")
  })

  it("names odd keys so they can be found, and every unmatched place", () => {
    const refused = restoreRedactedSecrets({ "x-y": { api_key: "[redacted]" }, list: [{ password: "[redacted]" }] }, {})
    expect(Either.isLeft(refused) && refused.left).toContain('config["x-y"].api_key')
    expect(Either.isLeft(refused) && refused.left).toContain("config.list[0].password")
  })

  it("keeps a marker only while its object's URLs name the same hosts (the document itself aside)", () => {
    const stored = {
      webhook_url: "https://hooks.example.com/in",
      auth_token: "legacy-token-0123456789",
      crm: { url: "https://crm.example.com/v1", api_key: "crm-key" },
      kafka: { topic: "calls", password: "kafka-pass" }
    }
    const moved = writeBack(stored, (read) => ({ ...read, crm: { ...read.crm, url: "https://crm.example.net/v1" } }))
    expect(Either.isLeft(moved) && moved.left).toContain("config.crm.api_key is \"[redacted]\" but config.crm.url now names another host")
    const added = writeBack(stored, (read) => ({ ...read, kafka: { ...read.kafka, endpoint: "https://collector.example.net" } }))
    expect(Either.isLeft(added) && added.left).toContain("config.kafka.password")
    // Another path on the same host, a URL removed, the top-level webhook moved: kept.
    expect(writeBack(stored, (read) => ({
      ...read,
      webhook_url: "https://other.example.org/in",
      crm: { ...read.crm, url: "https://crm.example.com/v2" },
      kafka: { password: read.kafka.password }
    }))).toEqual(Either.right({
      ...stored,
      webhook_url: "https://other.example.org/in",
      crm: { url: "https://crm.example.com/v2", api_key: "crm-key" },
      kafka: { password: "kafka-pass" }
    }))
  })
  it("keeps no marker at any depth below an object whose URL moved or was added", () => {
    const stored = {
      hook: { url: "https://a.example/hook", auth: { token: "tok-a", scheme: { password: "deep" } }, headers: [{ name: "x", value_secret: "h1" }] },
      relay: { auth: { token: "tok-r" } }
    }
    const moved = writeBack(stored, (read) => ({ ...read, hook: { ...read.hook, url: "https://b.example/hook" } }))
    const problems = Either.isLeft(moved) ? moved.left : ""
    expect(problems).toContain("config.hook.auth.token is \"[redacted]\" but config.hook.url now names another host")
    expect(problems).toContain("config.hook.auth.scheme.password")
    expect(problems).toContain("config.hook.headers[0].value_secret")
    const gained = writeBack(stored, (read) => ({ ...read, relay: { ...read.relay, endpoint: "https://c.example/in" } }))
    expect(Either.isLeft(gained) && gained.left).toContain("config.relay.auth.token is \"[redacted]\" but config.relay.endpoint now names another host")
    // Same host, another path: every secret below it kept; a nested secret sent again with the new host is taken.
    expect(writeBack(stored, (read) => ({ ...read, hook: { ...read.hook, url: "https://a.example/v2" } })))
      .toEqual(Either.right({ ...stored, hook: { ...stored.hook, url: "https://a.example/v2" } }))
    const resent = {
      ...stored,
      hook: { url: "https://b.example/hook", auth: { token: "tok-b", scheme: { password: "deep-b" } }, headers: [{ name: "x", value_secret: "h2" }] }
    }
    expect(writeBack(stored, (read) => ({ ...read, hook: resent.hook }))).toEqual(Either.right(resent))
  })
})
