import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request, serverSuite } from "./support/TestServer.js"

const valid = {
  company_name: "Acme Health",
  contact_name: "Jordan Lee",
  work_email: "Jordan.Lee@acme.example",
  use_case: "Inbound scheduling and missed-call recovery for regional clinics.",
  website: "https://acme.example",
  phone: "+15555550123",
  role: "VP Operations",
  timeline: "30 days",
  expected_monthly_minutes: "10000-50000"
}

serverSuite()("API access requests", (it) => {
  it.effect("accepts a request (202) and stores it with the caller's address and user agent", () =>
    Effect.gen(function*() {
      const res = yield* request("POST", "/api/v1/access-requests", {
        json: valid,
        headers: { "user-agent": "Mozilla/5.0 test", "x-forwarded-for": "203.0.113.10" }
      })
      expect(res.status).toBe(202)
      expectSpecSchema(res.body, "ApiAccessRequestSubmitResponse")
      expect(res.body.ok).toBe(true)

      const list = yield* request("GET", "/api/v1/admin/api-access-requests", { headers: adminHeaders })
      expect(list.status).toBe(200)
      expectSpecSchema(list.body, "AdminApiAccessRequestsResponse")
      const stored = list.body.requests.filter((r: { id: string }) => r.id === res.body.request_id)
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({
        work_email: "jordan.lee@acme.example",
        status: "open",
        remote_addr: "203.0.113.10",
        user_agent: "Mozilla/5.0 test",
        reviewed_at: null
      })
    }))

  it.effect("rejects invalid requests with a message the requester can act on", () =>
    Effect.gen(function*() {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...valid, work_email: "jordan@gmail.com" }, "work_email must be a valid business email"],
        [{ ...valid, work_email: "not-an-email" }, "work_email must be a valid business email"],
        [{ ...valid, company_name: "  " }, "company_name is required"],
        [{ ...valid, website: "not a site" }, "website must be a valid URL"],
        [{ ...valid, use_case: "x".repeat(5001) }, "use_case must be at most 5000 characters"]
      ]
      for (const [body, message] of cases) {
        const res = yield* request("POST", "/api/v1/access-requests", { json: body })
        expect(res.status, message).toBe(400)
        expectSpecSchema(res.body, "ApiAccessRequestErrorResponse")
        expect(res.body).toEqual({ ok: false, error: message })
      }
      const { contact_name: _, ...missing } = valid
      const noContact = yield* request("POST", "/api/v1/access-requests", { json: missing })
      expect(noContact.status).toBe(400)
      expectSpecSchema(noContact.body, "ApiAccessRequestErrorResponse")
      expect(noContact.body.error).toContain("contact_name")
      const wrongType = yield* request("POST", "/api/v1/access-requests", { json: { ...valid, phone: 5 } })
      expect(wrongType.status).toBe(400)
      expect(wrongType.body.error).toContain("phone")
    }))

  it.effect("a filled honeypot is answered 202 but not stored", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const count = sql<{ count: number }>`select count(*)::int as count from access_requests`.pipe(
        Effect.map((rows) => rows[0]!.count)
      )
      const before = yield* count
      const res = yield* request("POST", "/api/v1/access-requests", {
        json: { ...valid, company_website_confirm: "http://spam.example" }
      })
      expect(res.status).toBe(202)
      expectSpecSchema(res.body, "ApiAccessRequestSubmitResponse")
      expect(yield* count).toBe(before)
    }))

  it.effect("the admin list filters by status and pages", () =>
    Effect.gen(function*() {
      yield* request("POST", "/api/v1/access-requests", { json: { ...valid, company_name: "Still Open Co" } })
      yield* request("POST", "/api/v1/access-requests", { json: { ...valid, company_name: "Approved Co" } })
      const sql = yield* SqlClient.SqlClient
      yield* sql`update access_requests set status = 'approved', reviewed_at = now() where company_name = 'Approved Co'`
      const names = (body: { requests: Array<{ company_name: string }> }) => body.requests.map((r) => r.company_name)
      const open = yield* request("GET", "/api/v1/admin/api-access-requests?status=open", { headers: adminHeaders })
      expect(names(open.body)).toContain("Still Open Co")
      expect(names(open.body)).not.toContain("Approved Co")
      const approved = yield* request("GET", "/api/v1/admin/api-access-requests?status=approved", { headers: adminHeaders })
      expectSpecSchema(approved.body, "AdminApiAccessRequestsResponse")
      expect(names(approved.body)).toEqual(["Approved Co"])
      expect(approved.body.requests[0].reviewed_at).not.toBeNull()
      const all = yield* request("GET", "/api/v1/admin/api-access-requests", { headers: adminHeaders })
      const page = yield* request("GET", "/api/v1/admin/api-access-requests?limit=1&offset=1", { headers: adminHeaders })
      expect(page.body.count).toBe(all.body.count)
      expect(page.body.requests).toEqual([all.body.requests[1]])
      expect((yield* request("GET", "/api/v1/admin/api-access-requests?limit=0", { headers: adminHeaders })).status).toBe(400)
      expect((yield* request("GET", "/api/v1/admin/api-access-requests")).status).toBe(401)
    }))
})
