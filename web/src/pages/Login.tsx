import { type FormEvent, useState } from "react"
import { messageOf } from "../ui.js"
import { adminSignIn, tenantSession } from "../signIn.js"
import type { Session } from "../session.js"

export const Login = ({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice: string | undefined }) => {
  const [mode, setMode] = useState<"admin" | "tenant">("admin")
  const [error, setError] = useState<string | undefined>()
  const [pending, setPending] = useState(false)

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    setPending(true)
    setError(undefined)
    try {
      onSignedIn(
        mode === "admin"
          ? await adminSignIn(String(form.get("username") ?? ""), String(form.get("password") ?? ""))
          : await tenantSession(String(form.get("token") ?? "").trim())
      )
    } catch (failure) {
      setError(messageOf(failure))
    } finally {
      setPending(false)
    }
  }

  return (
    <main className="login">
      <h1>StateSet Voice</h1>
      {notice === undefined ? null : <p className="notice" role="status">{notice}</p>}
      <div role="tablist" aria-label="Sign in as" className="tabs">
        <button type="button" role="tab" aria-selected={mode === "admin"} onClick={() => setMode("admin")}>Administrator</button>
        <button type="button" role="tab" aria-selected={mode === "tenant"} onClick={() => setMode("tenant")}>Tenant</button>
      </div>
      <form onSubmit={submit} aria-label={mode === "admin" ? "Administrator sign-in" : "Tenant sign-in"}>
        {mode === "admin"
          ? (
            <>
              <div className="field">
                <label htmlFor="username">Username</label>
                <input id="username" name="username" autoComplete="username" required maxLength={200} />
              </div>
              <div className="field">
                <label htmlFor="password">Password</label>
                <input id="password" name="password" type="password" autoComplete="current-password" required maxLength={500} />
              </div>
            </>
          )
          : (
            <div className="field">
              <label htmlFor="token">API key or dashboard token</label>
              <input id="token" name="token" type="password" autoComplete="off" required maxLength={500} />
              <small>Kept for this browser tab only.</small>
            </div>
          )}
        {error === undefined ? null : <p className="error" role="alert">{error}</p>}
        <button type="submit" className="primary" disabled={pending}>{pending ? "Signing in…" : "Sign in"}</button>
      </form>
    </main>
  )
}
