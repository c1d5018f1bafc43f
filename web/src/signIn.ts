import { run } from "./api.js"
import { clientFor } from "./api.js"
import { rememberTenant, type Session } from "./session.js"

/** The administrator's session from the cookie, with the tenants they may act on; undefined when signed out. */
export const adminSession = async (): Promise<Session | undefined> => {
  const client = clientFor(undefined)
  const status = await run(client.adminAuth.session())
  if (!status.authenticated || status.username === null) return undefined
  const bootstrap = await run(client.adminAuth.dashboardBootstrap())
  return {
    kind: "admin",
    username: status.username ?? "admin",
    tenants: bootstrap.tenants.map((t) => ({ tenant_id: t.tenant_id, display_name: t.display_name ?? null, auth_token: t.auth_token }))
  }
}

export const adminSignIn = async (username: string, password: string): Promise<Session> => {
  await run(clientFor(undefined).adminAuth.login({ payload: { username, password } }))
  const session = await adminSession()
  if (session === undefined) throw new Error("Signed in, but the session cookie was not kept (is the console served over the service's own address?)")
  return session
}

/** A tenant API key or dashboard token: `/status` names its tenant. */
export const tenantSession = async (token: string): Promise<Session> => {
  const status = await run(clientFor(token).health.status())
  const tenantId = status.tenant
  if (tenantId === null || tenantId === undefined) throw new Error("That credential does not belong to a tenant")
  rememberTenant(tenantId, token)
  return { kind: "tenant", tenantId, token }
}
