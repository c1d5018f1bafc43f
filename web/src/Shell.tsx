import { Suspense } from "react"
import { match, useRoute } from "./router.js"
import { useSession } from "./session.js"
import { Link } from "./ui.js"
import { Tenants, TenantDetail } from "./pages/Tenants.js"
import { Agents, AgentDetail } from "./pages/Agents.js"
import { PhoneRoutes } from "./pages/PhoneRoutes.js"
import { LiveCalls } from "./pages/LiveCalls.js"
import { CallLogs, CallLogDetail } from "./pages/CallLogs.js"
import { VoiceSessions, VoiceSessionDetail } from "./pages/VoiceSessions.js"
import { Insights } from "./pages/Insights.js"
import { Callbacks } from "./pages/Callbacks.js"

interface NavItem {
  readonly to: string
  readonly label: string
  readonly adminOnly?: boolean
}

const NAV: ReadonlyArray<NavItem> = [
  { to: "/live", label: "Live calls" },
  { to: "/calls", label: "Call logs" },
  { to: "/sessions", label: "Voice sessions" },
  { to: "/insights", label: "Insights" },
  { to: "/callbacks", label: "Callbacks" },
  { to: "/agents", label: "Agents", adminOnly: true },
  { to: "/routes", label: "Phone routes", adminOnly: true },
  { to: "/tenants", label: "Tenants", adminOnly: true }
]

const pageFor = (path: string) => {
  let params: Record<string, string> | undefined
  if ((params = match("/tenants/:id", path))) return <TenantDetail tenantId={params.id!} />
  if ((params = match("/agents/:id", path))) return <AgentDetail agentId={params.id!} />
  if ((params = match("/calls/:id", path))) return <CallLogDetail id={params.id!} />
  if ((params = match("/sessions/:id", path))) return <VoiceSessionDetail id={params.id!} />
  switch (path) {
    case "/tenants":
      return <Tenants />
    case "/agents":
      return <Agents />
    case "/routes":
      return <PhoneRoutes />
    case "/calls":
      return <CallLogs />
    case "/sessions":
      return <VoiceSessions />
    case "/insights":
      return <Insights />
    case "/callbacks":
      return <Callbacks />
    default:
      return <LiveCalls />
  }
}

export const Shell = () => {
  const { session, tenantId, chooseTenant, signOut } = useSession()
  const path = useRoute()
  const admin = session.kind === "admin"
  return (
    <div className="shell">
      <a href="#main" className="skip">Skip to content</a>
      <header className="topbar">
        <span className="brand">StateSet Voice</span>
        {admin
          ? (
            <label className="tenant-picker">
              <span>Tenant</span>
              <select value={tenantId ?? ""} onChange={(event) => chooseTenant(event.target.value)}>
                {session.tenants.length === 0 ? <option value="">No tenants yet</option> : null}
                {session.tenants.map((t) => (
                  <option key={t.tenant_id} value={t.tenant_id}>{t.display_name ?? t.tenant_id}</option>
                ))}
              </select>
            </label>
          )
          : <span className="tenant-picker">Tenant <strong>{session.tenantId}</strong></span>}
        <span className="who">{admin ? session.username : "tenant user"}</span>
        <button type="button" onClick={signOut}>Sign out</button>
      </header>
      <nav aria-label="Console" className="sidebar">
        <ul>
          {NAV.filter((item) => admin || item.adminOnly !== true).map((item) => (
            <li key={item.to}>
              <Link to={item.to} className={path.startsWith(item.to) ? "active" : undefined}>{item.label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} className="content">
        <Suspense fallback={<p className="muted">Loading…</p>}>{pageFor(path)}</Suspense>
      </main>
    </div>
  )
}
