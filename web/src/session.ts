import { createContext, useContext } from "react"
import { type ApiClient, clientFor } from "./api.js"

export interface DashboardTenant {
  readonly tenant_id: string
  readonly display_name: string | null
  readonly auth_token: string
}

/**
 * Who is signed in. An administrator holds the HttpOnly session cookie (the page never sees
 * it) and acts on a chosen tenant with that tenant's dashboard token from the bootstrap
 * endpoint; a tenant user holds one bearer credential (API key or dashboard token).
 */
export type Session =
  | { readonly kind: "admin"; readonly username: string; readonly tenants: ReadonlyArray<DashboardTenant> }
  | { readonly kind: "tenant"; readonly tenantId: string; readonly token: string }

export interface SessionState {
  readonly session: Session
  /** The tenant the tenant-scoped pages show. */
  readonly tenantId: string | undefined
  readonly chooseTenant: (tenantId: string) => void
  readonly signOut: () => void
  /** Re-reads the administrator's tenant list (after creating or deleting one). */
  readonly refreshTenants: () => Promise<void>
  /** Reports a request that failed because the sign-in ended. */
  readonly expired: () => void
}

export const SessionContext = createContext<SessionState | undefined>(undefined)

export const useSession = (): SessionState => {
  const state = useContext(SessionContext)
  if (state === undefined) throw new Error("useSession outside the signed-in console")
  return state
}

/** Client for admin endpoints (the cookie travels by itself). */
export const adminClient = (): ApiClient => clientFor(undefined)

/** Client for the chosen tenant's endpoints. */
export const useTenantClient = (): { readonly client: ApiClient; readonly tenantId: string } | undefined => {
  const { session, tenantId } = useSession()
  if (tenantId === undefined) return undefined
  if (session.kind === "tenant") return { client: clientFor(session.token), tenantId }
  const tenant = session.tenants.find((t) => t.tenant_id === tenantId)
  return tenant === undefined ? undefined : { client: clientFor(tenant.auth_token), tenantId }
}

/** The chosen tenant's bearer credential itself (for the live log WebSocket, which takes no client). */
export const useTenantToken = (): string | undefined => {
  const { session, tenantId } = useSession()
  if (tenantId === undefined) return undefined
  if (session.kind === "tenant") return session.token
  return session.tenants.find((t) => t.tenant_id === tenantId)?.auth_token
}

const TENANT_TOKEN = "stateset.console.tenantToken"
const TENANT_ID = "stateset.console.tenantId"

/** A tenant credential lives for the browser tab only (sessionStorage), never in a cookie. */
export const rememberTenant = (tenantId: string, token: string) => {
  sessionStorage.setItem(TENANT_TOKEN, token)
  sessionStorage.setItem(TENANT_ID, tenantId)
}
export const rememberedTenant = (): { tenantId: string; token: string } | undefined => {
  const token = sessionStorage.getItem(TENANT_TOKEN)
  const tenantId = sessionStorage.getItem(TENANT_ID)
  return token !== null && tenantId !== null ? { token, tenantId } : undefined
}
export const forgetTenant = () => {
  sessionStorage.removeItem(TENANT_TOKEN)
  sessionStorage.removeItem(TENANT_ID)
}
