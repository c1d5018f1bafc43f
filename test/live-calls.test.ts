import { describe, expect, it, layer } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber } from "effect"
import { Applied, End, Inject, Say } from "../src/LiveCalls/Domain.js"
import { LiveCalls } from "../src/LiveCalls/LiveCalls.js"
import { makeMailbox } from "../src/LiveCalls/Mailbox.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { holdLiveCall } from "./support/LiveCallFixtures.js"
import { eventually } from "./support/Eventually.js"
import { dial, frame, listed, MediaSuite, newCall, promise, sessions, startCall, waitForLog, waitUntilGone } from "./support/MediaCalls.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"

const ago = (ms: number) => new Date(Date.now() - ms)

const command = (streamSid: string, command: End | Inject | Say, tenantId?: string) =>
  Effect.flatMap(LiveCalls, (liveCalls) => liveCalls.command(streamSid, command, tenantId))

layer(MediaSuite(), { excludeTestServices: true })("live calls", (it) => {
  it.effect("the session listings read the ledger: a tenant's calls, or all for admins, oldest first", () =>
    Effect.gen(function*() {
      // Tenants of their own: other tests' calls do not show here.
      const mine = yield* putTenant("listing-a", { org_id: "org-a" })
      const other = yield* putTenant("listing-b", {})
      yield* holdLiveCall({
        tenantId: "listing-a",
        streamSid: "MZ-listed-new",
        startedAt: ago(10_000),
        direction: "outbound",
        from: "+15550008000",
        to: "+15551110002",
        orgId: "org-of-the-call"
      })
      yield* holdLiveCall({
        tenantId: "listing-a",
        streamSid: "MZ-listed-old",
        callSid: "CA-listed-old",
        startedAt: ago(60_000),
        from: "+15551110001",
        to: "+15550008000",
        agentName: "Front Desk",
        greeting: "Thanks for calling Acme."
      })
      yield* holdLiveCall({ tenantId: "listing-b", streamSid: "MZ-listed-other", startedAt: ago(30_000) })

      const listing = yield* request("GET", "/api/v1/sessions", { headers: mine })
      expect(listing.status).toBe(200)
      expectSpecSchema(listing.body, "SessionsListResponse")
      expect(listing.body).toEqual({
        ok: true,
        tenant: "listing-a",
        sessions: [
          {
            stream_sid: "MZ-listed-old",
            started_at: expect.any(String),
            call_type: "inbound",
            customer_phone: "+15551110001",
            agent_name: "Front Desk",
            greeting: "Thanks for calling Acme.",
            org_id: "org-a", // the tenant's, when the call has none of its own
            escalated: false,
            escalation_target: null
          },
          {
            stream_sid: "MZ-listed-new",
            started_at: expect.any(String),
            call_type: "outbound",
            customer_phone: "+15551110002",
            agent_name: null,
            greeting: null,
            org_id: "org-of-the-call",
            escalated: false,
            escalation_target: null
          }
        ]
      })
      const [older, newer] = listing.body.sessions.map((s: { started_at: string }) => Date.parse(s.started_at))
      expect(newer - older).toBeGreaterThanOrEqual(49_000)
      const theirs = yield* request("GET", "/api/v1/sessions", { headers: other })
      expect(theirs.body.sessions.map((s: { stream_sid: string }) => s.stream_sid)).toEqual(["MZ-listed-other"])

      const admin = yield* request("GET", "/api/v1/admin/sessions", { headers: adminHeaders })
      expect(admin.status).toBe(200)
      expectSpecSchema(admin.body, "AdminSessionsResponse")
      expect(admin.body.count).toBe(admin.body.sessions.length)
      const ours = admin.body.sessions.filter((s: { tenant: string }) => s.tenant.startsWith("listing-"))
      expect(ours.map((s: { stream_sid: string; tenant: string }) => [s.stream_sid, s.tenant])).toEqual([
        ["MZ-listed-old", "listing-a"],
        ["MZ-listed-other", "listing-b"],
        ["MZ-listed-new", "listing-a"]
      ])
      expect((yield* request("GET", "/api/v1/admin/sessions")).status).toBe(401)
      expect((yield* request("GET", "/api/v1/sessions")).status).toBe(401)
    }).pipe(Effect.scoped))

  it.effect("inject gives the model a system message without a response; say waits until the agent is done", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      let greeting: { responseId: string } | undefined
      fake.onResponseCreate = (connection) => {
        if (greeting === undefined) greeting = connection.reply({ audio: [frame(1)], hold: true })
        else connection.reply({ audio: [frame(2)], transcript: "Your order has shipped." })
      }
      const { callSid, client, streamSid, upstream } = yield* startCall()
      yield* promise(() => client.waitFor("the greeting, still going", () => client.of("media").length >= 1 && greeting))

      expect(yield* command(streamSid, new Inject({ text: "The caller is a premium customer." }))).toEqual({ _tag: "Applied" })
      const item = yield* promise(() =>
        fake.waitFor("the system message", () =>
          upstream.eventsOf("conversation.item.create").find((e) => e.item.role === "system"))
      )
      expect(item.item).toEqual({
        type: "message",
        role: "system",
        content: [{ type: "input_text", text: "The caller is a premium customer." }]
      })

      expect(yield* command(streamSid, new Say({ text: "Your order has shipped." }))).toEqual({ _tag: "Applied" })
      // Everything the service sent before this round trip has arrived: only the greeting was asked for.
      yield* promise(() => upstream.roundTrip())
      expect(upstream.eventsOf("response.create")).toHaveLength(1)
      upstream.send({ type: "response.done", response: { id: greeting!.responseId, status: "completed" } })
      const said = yield* promise(() =>
        fake.waitFor("the scripted response", () => upstream.eventsOf("response.create")[1])
      )
      expect(said.response.instructions).toContain("\"Your order has shipped.\"")
      yield* promise(() => client.waitFor("the agent saying it", () => client.of("media").length >= 2))
      expect(client.of("media")[1].media.payload).toBe(frame(2).toString("base64"))

      client.stop()
      const log = yield* waitForLog(callSid)
      expect(log.transcript.map((t: { content: string }) => t.content)).toContain("Your order has shipped.")
    }))

  it.effect("end closes the call through its normal ending: sockets closed, the record written once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(3)], transcript: "Hello!" })
      const { callSid, client, streamSid, upstream } = yield* startCall()
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))

      expect(yield* command(streamSid, new End({ reason: "supervisor hung up" }))).toEqual({ _tag: "Applied" })
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      yield* promise(() => fake.waitFor("the upstream closed", () => upstream.closed))
      const log = yield* waitForLog(callSid)
      expect(log).toMatchObject({ end_reason: "ended_by_command", status: "completed", stream_sid: streamSid })
      expect(log.transcript.map((t: { content: string }) => t.content)).toEqual(["Hello!"])
      yield* waitUntilGone(streamSid)
      expect(yield* listed(callSid)).toHaveLength(1)
      // The call has left: there is nobody to command any more.
      const after = yield* Effect.flip(command(streamSid, new End({ reason: "again" })))
      expect(after).toMatchObject({ _tag: "LiveCallNotFound", streamSid, status: 404 })
    }))

  it.effect("a media call's ledger row is made from the call: listed while it runs, with the start its record keeps", () =>
    Effect.gen(function*() {
      const { callSid, streamSid } = yield* startCall()
      const live = yield* eventually(sessions(), (list) => list.some((s) => s.stream_sid === streamSid))
      const row = live.find((s) => s.stream_sid === streamSid)
      expect(row).toEqual({
        stream_sid: streamSid,
        started_at: expect.any(String),
        call_type: "inbound",
        customer_phone: "+15551230001",
        agent_name: null,
        greeting: null,
        org_id: "org-acme",
        escalated: false,
        escalation_target: null
      })
      expect(yield* command(streamSid, new End({ reason: "done" }))).toEqual({ _tag: "Applied" })
      const log = yield* waitForLog(callSid)
      expect(log.end_reason).toBe("ended_by_command")
      // The row and the record are written from the same start, each made when written.
      expect(Number.isFinite(Date.parse(row.started_at))).toBe(true)
      expect(Date.parse(log.started_at)).toBe(Date.parse(row.started_at))
      yield* waitUntilGone(streamSid)
    }))

  it.scoped("commands reach only a call held here, of the right tenant; nothing is said before the agent joins", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      expect(yield* Effect.flip(command("MZ-nobody", new Say({ text: "Hello?" })))).toMatchObject({
        _tag: "LiveCallNotFound",
        message: "No live call with stream SID MZ-nobody"
      })

      // The upstream is slow to accept: the call is live, the agent not there yet. Accepts resume
      // whatever happens here, or the suite's shutdown would wait on a call that never starts.
      fake.pauseAccepts()
      yield* Effect.addFinalizer(() => Effect.sync(() => fake.resumeAccepts()))
      const attempts = fake.attempts
      const call = yield* newCall()
      const client = yield* dial(call)
      yield* promise(() => fake.waitFor("the upstream connection attempt", () => fake.attempts > attempts))
      // The upstream is opened while the stream token is spent: the call is held a moment later.
      const early = yield* eventually(
        Effect.either(command(call.streamSid, new Say({ text: "Hi" }), "acme")),
        Either.isRight,
        10_000
      )
      expect(Either.getOrThrow(early)).toEqual({ _tag: "Refused", reason: "the agent has not joined the call yet" })
      expect(yield* Effect.flip(command(call.streamSid, new Say({ text: "Hi" }), "listing-b"))).toMatchObject({
        _tag: "LiveCallNotFound"
      })
      expect(yield* command(call.streamSid, new End({ reason: "not needed" }))).toEqual({ _tag: "Applied" })
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      fake.resumeAccepts()
      expect((yield* waitForLog(call.callSid)).end_reason).toBe("ended_by_command")
    }))
})

describe("a call's mailbox", () => {
  it.effect("applies commands one at a time in order; once closed, every command waiting or to come is refused", () =>
    Effect.gen(function*() {
      const mailbox = yield* makeMailbox
      const applied: Array<string> = []
      const first = yield* Effect.fork(mailbox.handle.send(new Say({ text: "one" })))
      const second = yield* Effect.fork(mailbox.handle.send(new Inject({ text: "two" })))
      yield* Effect.yieldNow()
      const gate = yield* Deferred.make<void>()
      const serving = yield* Effect.fork(mailbox.serve((command) =>
        Effect.sync(() => {
          applied.push(command._tag)
          return new Applied()
        }).pipe(Effect.zipLeft(Deferred.await(gate)))
      ))
      // The first command is being applied (held at the gate); the second waits its turn.
      const third = yield* Effect.fork(mailbox.handle.send(new End({ reason: "three" })))
      yield* Effect.yieldNow()
      expect(applied).toEqual(["Say"])
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(first)).toEqual(new Applied())
      expect(yield* Fiber.join(second)).toEqual(new Applied())
      expect(yield* Fiber.join(third)).toEqual(new Applied())
      expect(applied).toEqual(["Say", "Inject", "End"])

      yield* Fiber.interrupt(serving)
      const waiting = yield* Effect.fork(mailbox.handle.send(new Say({ text: "nobody serves me" })))
      yield* Effect.yieldNow()
      yield* mailbox.close
      expect(yield* Fiber.join(waiting)).toEqual({ _tag: "Refused", reason: "the call has ended" })
      expect(yield* mailbox.handle.send(new Say({ text: "too late" }))).toEqual({ _tag: "Refused", reason: "the call has ended" })
    }))
})
