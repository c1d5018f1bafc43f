import { type ReactNode, useCallback, useEffect, useId, useRef, useState } from "react"
import { ApiFailure } from "./api.js"
import { navigate } from "./router.js"
import { useSession } from "./session.js"

export interface Loaded<A> {
  readonly data: A | undefined
  readonly error: string | undefined
  readonly loading: boolean
  readonly reload: () => void
}

/** Loads `load()` when `deps` change; a 401 means the sign-in ended. */
export const useLoad = <A,>(load: () => Promise<A>, deps: ReadonlyArray<unknown>): Loaded<A> => {
  const { expired } = useSession()
  const [state, setState] = useState<{ data: A | undefined; error: string | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true
  })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setState((previous) => ({ ...previous, loading: true }))
    load().then(
      (data) => live && setState({ data, error: undefined, loading: false }),
      (error: unknown) => {
        if (!live) return
        if (error instanceof ApiFailure && error.status === 401) expired()
        setState((previous) => ({ data: previous.data, error: messageOf(error), loading: false }))
      }
    )
    return () => {
      live = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { ...state, reload }
}

/** Re-runs `reload` every `ms` while the page is visible. */
export const usePolling = (reload: () => void, ms: number) => {
  useEffect(() => {
    const timer = setInterval(() => document.visibilityState === "visible" && reload(), ms)
    return () => clearInterval(timer)
  }, [reload, ms])
}

export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** Runs an action, keeping its pending state and its error for the form that started it. */
export const useAction = () => {
  const { expired } = useSession()
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const act = useCallback(async <A,>(action: () => Promise<A>): Promise<A | undefined> => {
    setPending(true)
    setError(undefined)
    try {
      return await action()
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.status === 401) expired()
      setError(messageOf(failure))
      return undefined
    } finally {
      setPending(false)
    }
  }, [expired])
  return { pending, error, act, clearError: () => setError(undefined) }
}

export const ErrorText = ({ error }: { error: string | undefined }) =>
  error === undefined ? null : <p className="error" role="alert">{error}</p>

export const Page = ({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) => (
  <section className="page" aria-labelledby="page-title">
    <header className="page-head">
      <h1 id="page-title">{title}</h1>
      <div className="page-actions">{actions}</div>
    </header>
    {children}
  </section>
)

export const Link = ({ to, children, className }: { to: string; children: ReactNode; className?: string }) => (
  <a
    href={`/console${to}`}
    className={className}
    onClick={(event) => {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return
      event.preventDefault()
      navigate(to)
    }}
  >
    {children}
  </a>
)

export const Field = (
  { label, children, hint }: { label: string; children: (id: string) => ReactNode; hint?: string }
) => {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {hint === undefined ? null : <small>{hint}</small>}
    </div>
  )
}

/** A table whose rows may be empty; `empty` says what an empty list means. */
export const Table = <Row,>(
  { rows, columns, empty, rowKey, caption }: {
    rows: ReadonlyArray<Row> | undefined
    columns: ReadonlyArray<{ label: string; cell: (row: Row) => ReactNode; className?: string }>
    empty: string
    rowKey: (row: Row) => string
    caption: string
  }
) => (
  <div className="table-wrap">
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>{columns.map((column) => <th key={column.label} scope="col">{column.label}</th>)}</tr>
      </thead>
      <tbody>
        {rows === undefined
          ? <tr><td colSpan={columns.length} className="muted">Loading…</td></tr>
          : rows.length === 0
          ? <tr><td colSpan={columns.length} className="muted">{empty}</td></tr>
          : rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => <td key={column.label} className={column.className}>{column.cell(row)}</td>)}
            </tr>
          ))}
      </tbody>
    </table>
  </div>
)

/**
 * A button that asks first: the question in a modal dialog (focus trapped by the browser),
 * confirmed or cancelled by keyboard too.
 */
export const ConfirmButton = (
  { label, question, onConfirm, disabled, danger }: {
    label: string
    question: string
    onConfirm: () => void
    disabled?: boolean
    danger?: boolean
  }
) => {
  const dialog = useRef<HTMLDialogElement>(null)
  return (
    <>
      <button type="button" className={danger === true ? "danger" : undefined} disabled={disabled} onClick={() => dialog.current?.showModal()}>
        {label}
      </button>
      <dialog ref={dialog} aria-label={label}>
        <p>{question}</p>
        <div className="row">
          <button type="button" onClick={() => dialog.current?.close()}>Cancel</button>
          <button
            type="button"
            className={danger === true ? "danger" : "primary"}
            autoFocus
            onClick={() => {
              dialog.current?.close()
              onConfirm()
            }}
          >
            {label}
          </button>
        </div>
      </dialog>
    </>
  )
}

export const When = ({ at }: { at: string | Date | null | undefined }) => {
  if (at === null || at === undefined) return <span className="muted">—</span>
  const date = at instanceof Date ? at : new Date(at)
  return <time dateTime={date.toISOString()}>{date.toLocaleString()}</time>
}

export const Json = ({ value }: { value: unknown }) => <pre className="json">{JSON.stringify(value, null, 2)}</pre>

export const NeedsTenant = () => (
  <p className="muted">Choose a tenant in the bar above to see its data.</p>
)
