import { StrictMode, useCallback, useEffect, useMemo, useState } from "react"
import { createRoot } from "react-dom/client"
import { Shell } from "./Shell.js"
import { Login } from "./pages/Login.js"
import { adminSession, tenantSession } from "./signIn.js"
import { forgetTenant, rememberedTenant, type Session, SessionContext, type SessionState } from "./session.js"
import { adminClient } from "./session.js"
import { run } from "./api.js"
import "./styles.css"

const App = () => {
  const [session, setSession] = useState<Session | null | undefined>(undefined)
  const [tenantId, setTenantId] = useState<string | undefined>()
  const [notice, setNotice] = useState<string | undefined>()

  const signedIn = useCallback((next: Session) => {
    setSession(next)
    setNotice(undefined)
    setTenantId(next.kind === "tenant" ? next.tenantId : next.tenants[0]?.tenant_id)
  }, [])

  // On load: an admin cookie still valid, or a tenant credential kept for this tab.
  useEffect(() => {
    const resume = async () => {
      const admin = await adminSession().catch(() => undefined)
      if (admin !== undefined) return signedIn(admin)
      const remembered = rememberedTenant()
      if (remembered !== undefined) {
        const tenant = await tenantSession(remembered.token).catch(() => undefined)
        if (tenant !== undefined) return signedIn(tenant)
        forgetTenant()
      }
      setSession(null)
    }
    void resume()
  }, [signedIn])

  const state = useMemo((): SessionState | undefined => {
    if (session === null || session === undefined) return undefined
    return {
      session,
      tenantId,
      chooseTenant: setTenantId,
      signOut: () => {
        if (session.kind === "admin") void run(adminClient().adminAuth.logout()).catch(() => undefined)
        forgetTenant()
        setSession(null)
        setNotice("You are signed out.")
      },
      refreshTenants: async () => {
        const admin = await adminSession()
        if (admin === undefined || admin.kind !== "admin") return
        setSession(admin)
        // Keep the chosen tenant while it exists; otherwise show the first one.
        setTenantId((chosen) => admin.tenants.some((t) => t.tenant_id === chosen) ? chosen : admin.tenants[0]?.tenant_id)
      },
      expired: () => {
        forgetTenant()
        setSession(null)
        setNotice("Your session has ended. Sign in again.")
      }
    }
  }, [session, tenantId])

  if (session === undefined) return <main className="center muted" aria-busy="true">Loading…</main>
  if (state === undefined) return <Login onSignedIn={signedIn} notice={notice} />
  return (
    <SessionContext.Provider value={state}>
      <Shell />
    </SessionContext.Provider>
  )
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>
)
