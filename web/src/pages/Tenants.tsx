import { Either, ParseResult, Schema } from "effect"
import { type FormEvent, useEffect, useState } from "react"
import { TenantConfigDocument } from "../../../src/Tenants/Domain.js"
import { run } from "../api.js"
import { navigate } from "../router.js"
import { adminClient, useSession } from "../session.js"
import { ConfirmButton, ErrorText, Field, Link, Page, Table, useAction, useLoad, When } from "../ui.js"

const decodeDocument = Schema.decodeUnknownEither(TenantConfigDocument)

/** The document typed in the editor, checked against the API's own schema before it is sent. */
const parseDocument = (text: string): Either.Either<typeof TenantConfigDocument.Type, string> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return Either.left(`Not valid JSON: ${(error as Error).message}`)
  }
  return Either.mapLeft(decodeDocument(value), (issue) => ParseResult.TreeFormatter.formatErrorSync(issue))
}

export const Tenants = () => {
  const { refreshTenants } = useSession()
  const tenants = useLoad(() => run(adminClient().tenants.list({ urlParams: { limit: 500 } })), [])
  const create = useAction()
  const [id, setId] = useState("")

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const done = await create.act(() =>
      run(adminClient().tenants.upsert({ path: { tenant_id: id }, headers: {}, payload: { tenant_id: id } }))
    )
    if (done !== undefined) {
      await refreshTenants()
      navigate(`/tenants/${encodeURIComponent(id)}`)
    }
  }

  return (
    <Page title="Tenants">
      <form className="inline-form" onSubmit={submit} aria-label="Create a tenant">
        <Field label="New tenant id" hint="Letters, digits, dashes and underscores">
          {(fieldId) => (
            <input id={fieldId} value={id} onChange={(e) => setId(e.target.value)} required maxLength={128} pattern="[A-Za-z0-9_.\-]+" />
          )}
        </Field>
        <button type="submit" className="primary" disabled={create.pending}>Create tenant</button>
      </form>
      <ErrorText error={create.error ?? tenants.error} />
      <Table
        caption="Tenants"
        rows={tenants.data?.tenants}
        rowKey={(t) => t.tenant_id}
        empty="No tenants yet."
        columns={[
          { label: "Tenant", cell: (t) => <Link to={`/tenants/${encodeURIComponent(t.tenant_id)}`}>{t.tenant_id}</Link> },
          { label: "Model", cell: (t) => String((t.config as Record<string, unknown>)?.model ?? "default") },
          { label: "ETag", cell: (t) => <code>{t.etag}</code> }
        ]}
      />
    </Page>
  )
}

/** How a document written back keeps its secrets (docs/spec-deviations.md, Redaction). */
const SECRETS_HINT = "Secrets show as [redacted]; leave a marker as it is to keep the stored secret. " +
  "A marker is matched to the same item (by its content or a unique id, name, key or url), not to its position. " +
  "Moving an item's URL to another host, or adding an item, needs its secret sent again."

export const TenantDetail = ({ tenantId }: { tenantId: string }) => {
  const { refreshTenants, chooseTenant, session } = useSession()
  const known = session.kind === "admin" && session.tenants.some((t) => t.tenant_id === tenantId)
  // The tenant on screen is the one the other pages show next.
  useEffect(() => {
    if (known) chooseTenant(tenantId)
  }, [known, tenantId, chooseTenant])
  const tenant = useLoad(() => run(adminClient().tenants.get({ path: { tenant_id: tenantId } })), [tenantId])
  const keys = useLoad(() => run(adminClient().tenantApiKeys.list({ path: { tenant_id: tenantId } })), [tenantId])
  const save = useAction()
  const keyAction = useAction()
  const [draft, setDraft] = useState<string | undefined>()
  const [problem, setProblem] = useState<string | undefined>()
  const [saved, setSaved] = useState(false)
  const [label, setLabel] = useState("")
  const [shownToken, setShownToken] = useState<string | undefined>()

  const text = draft ?? (tenant.data === undefined ? "" : JSON.stringify(tenant.data.config, null, 2))

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setSaved(false)
    const parsed = parseDocument(text)
    if (Either.isLeft(parsed)) return setProblem(parsed.left)
    setProblem(undefined)
    const client = adminClient()
    // The server validates too (and names the field); the ETag guards against a concurrent edit.
    const done = await save.act(async () => {
      const check = await run(client.tenants.validate({ payload: parsed.right }))
      if (!check.ok) throw new Error(check.error ?? "The configuration is not valid")
      return run(client.tenants.upsert({
        path: { tenant_id: tenantId },
        headers: { "if-match": tenant.data?.etag },
        payload: parsed.right
      }))
    })
    if (done !== undefined) {
      setDraft(undefined)
      setSaved(true)
      tenant.reload()
    }
  }

  const createKey = async (event: FormEvent) => {
    event.preventDefault()
    const created = await keyAction.act(() =>
      run(adminClient().tenantApiKeys.create({ path: { tenant_id: tenantId }, payload: { label: label === "" ? null : label } }))
    )
    if (created !== undefined) {
      setShownToken(created.created.token)
      setLabel("")
      keys.reload()
    }
  }

  return (
    <Page
      title={`Tenant ${tenantId}`}
      actions={
        <ConfirmButton
          label="Delete tenant"
          danger
          question={`Delete tenant ${tenantId} and its configuration? Its calls stop resolving to it.`}
          onConfirm={async () => {
            const done = await save.act(() => run(adminClient().tenants.delete({ path: { tenant_id: tenantId } })))
            if (done !== undefined) {
              await refreshTenants()
              navigate("/tenants")
            }
          }}
        />
      }
    >
      <form onSubmit={submit} aria-label="Tenant configuration">
        <Field label="Configuration document (JSON)" hint={SECRETS_HINT}>
          {(id) => (
            <textarea
              id={id}
              className="code"
              rows={18}
              spellCheck={false}
              value={text}
              onChange={(e) => {
                setDraft(e.target.value)
                setSaved(false)
              }}
            />
          )}
        </Field>
        <ErrorText error={problem ?? save.error ?? tenant.error} />
        {saved ? <p role="status" className="ok">Saved.</p> : null}
        <div className="row">
          <button type="submit" className="primary" disabled={save.pending || tenant.data === undefined}>Save</button>
          <button type="button" onClick={() => setDraft(undefined)} disabled={draft === undefined}>Discard changes</button>
        </div>
      </form>

      <h2>API keys</h2>
      {shownToken === undefined ? null : (
        <div className="notice" role="status">
          <p>Copy this key now: it is shown once and stored only as a hash.</p>
          <code className="token" data-testid="new-api-key">{shownToken}</code>
          <button type="button" onClick={() => setShownToken(undefined)}>I have copied it</button>
        </div>
      )}
      <form className="inline-form" onSubmit={createKey} aria-label="Create an API key">
        <Field label="Label">{(id) => <input id={id} value={label} onChange={(e) => setLabel(e.target.value)} maxLength={200} />}</Field>
        <button type="submit" disabled={keyAction.pending}>Create API key</button>
      </form>
      <ErrorText error={keyAction.error ?? keys.error} />
      <Table
        caption="API keys"
        rows={keys.data?.api_keys}
        rowKey={(k) => k.id}
        empty="No API keys."
        columns={[
          { label: "Prefix", cell: (k) => <code>{k.key_prefix}…</code> },
          { label: "Label", cell: (k) => k.label ?? "" },
          { label: "Created", cell: (k) => <When at={k.created_at} /> },
          { label: "Last used", cell: (k) => <When at={k.last_used_at} /> },
          {
            label: "State",
            cell: (k) =>
              k.revoked_at != null ? <span>revoked <When at={k.revoked_at} /></span> : (
                <ConfirmButton
                  label="Revoke"
                  danger
                  question={`Revoke key ${k.key_prefix}…? Clients using it stop working at once.`}
                  onConfirm={async () => {
                    await keyAction.act(() => run(adminClient().tenantApiKeys.revoke({ path: { tenant_id: tenantId, key_id: k.id } })))
                    keys.reload()
                  }}
                />
              )
          }
        ]}
      />
    </Page>
  )
}
