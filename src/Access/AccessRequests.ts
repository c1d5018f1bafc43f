import { Effect, Schema } from "effect"
import type { ApiAccessRequestInput } from "./Api.js"
import { AccessRequestsRepo } from "./Repo.js"
import { Ids } from "../Ids.js"

export class InvalidAccessRequest extends Schema.TaggedError<InvalidAccessRequest>()("InvalidAccessRequest", {
  message: Schema.String
}) {
  readonly status = 400 as const
}

/** Mailbox providers anyone can sign up to: not a business address. */
const FREE_MAIL_DOMAINS = new Set([
  "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "hotmail.com", "outlook.com", "live.com", "msn.com",
  "aol.com", "icloud.com", "me.com", "mac.com", "proton.me", "protonmail.com", "gmx.com", "gmx.net", "mail.com",
  "yandex.com", "yandex.ru", "qq.com", "163.com", "126.com", "zoho.com", "tutanota.com", "hey.com", "fastmail.com"
])

const EMAIL = /^[^\s@]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/
const WEBSITE = /^(https?:\/\/)?([A-Za-z0-9-]+\.)+[A-Za-z]{2,}(\/\S*)?$/
const PHONE = /^\+?[0-9 ().-]{7,20}$/

export interface Submission {
  readonly input: ApiAccessRequestInput
  readonly remoteAddress: string | null
  readonly userAgent: string | null
}

const clean = (value: string | null | undefined) =>
  value === null || value === undefined || value.trim() === "" ? null : value.trim()

const validate = (input: ApiAccessRequestInput): string | undefined => {
  const required: Array<[string, string, number]> = [
    ["company_name", input.company_name, 200],
    ["contact_name", input.contact_name, 200],
    ["use_case", input.use_case, 5000]
  ]
  for (const [name, value, max] of required) {
    if (value.trim() === "") return `${name} is required`
    if (value.length > max) return `${name} must be at most ${max} characters`
  }
  const email = input.work_email.trim().toLowerCase()
  if (!EMAIL.test(email) || FREE_MAIL_DOMAINS.has(email.split("@")[1]!)) {
    return "work_email must be a valid business email"
  }
  const website = clean(input.website)
  if (website !== null && !WEBSITE.test(website)) return "website must be a valid URL"
  const phone = clean(input.phone)
  if (phone !== null && !PHONE.test(phone)) return "phone must be a valid phone number"
  for (const [name, value] of [["role", input.role], ["timeline", input.timeline], [
    "expected_monthly_minutes",
    input.expected_monthly_minutes
  ]] as const) {
    if (value !== null && value !== undefined && value.length > 200) return `${name} must be at most 200 characters`
  }
  return undefined
}

/** Intake of access requests from prospects; bots filling the honeypot are answered but not stored. */
export class AccessRequests extends Effect.Service<AccessRequests>()("AccessRequests", {
  effect: Effect.gen(function*() {
    const repo = yield* AccessRequestsRepo
    const ids = yield* Ids

    const submit = Effect.fn("AccessRequests.submit")(function*({ input, remoteAddress, userAgent }: Submission) {
      const id = yield* ids.uuid
      if (clean(input.company_website_confirm) !== null) {
        yield* Effect.logInfo("access request honeypot filled; not stored")
        return id
      }
      const problem = validate(input)
      if (problem !== undefined) return yield* new InvalidAccessRequest({ message: problem })
      yield* repo.insert({
        id,
        company_name: input.company_name.trim(),
        contact_name: input.contact_name.trim(),
        work_email: input.work_email.trim().toLowerCase(),
        phone: clean(input.phone),
        role: clean(input.role),
        website: clean(input.website),
        use_case: input.use_case.trim(),
        expected_monthly_minutes: clean(input.expected_monthly_minutes),
        timeline: clean(input.timeline),
        source: "api",
        metadata: {},
        remote_addr: remoteAddress,
        user_agent: userAgent
      })
      return id
    })

    const list = Effect.fn("AccessRequests.list")(function*(status: string | null, limit: number, offset: number) {
      const [requests, count] = yield* Effect.all([repo.page(status, limit, offset), repo.count(status)], {
        concurrency: 2
      })
      return { requests, count }
    })

    return { submit, list } as const
  }),
  dependencies: [AccessRequestsRepo.Default]
}) {}
