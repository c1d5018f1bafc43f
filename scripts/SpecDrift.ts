/**
 * Compares the OpenAPI document we derive from the HttpApi with the contract in
 * spec/openapi.json: which operations exist, and for each implemented one whether its
 * operationId, parameters, request body, responses, security and schemas match.
 * Used by `npm run spec:coverage` and by test/spec-drift.test.ts.
 */
import * as fs from "node:fs"

type Json = Record<string, any>

export const loadSpec = (): Json =>
  JSON.parse(fs.readFileSync(new URL("../spec/openapi.json", import.meta.url), "utf8"))

const METHODS = ["get", "post", "put", "patch", "delete"] as const

/** Statuses we may document beyond the spec's, each for a reason listed in docs/spec-deviations.md. */
export const TOLERATED_EXTRA_STATUSES = new Set(["400", "429", "503"])
/** Per operation: 403 when a cost/abuse limit refuses the destination (docs/limits.md). */
const TOLERATED_EXTRA_BY_OPERATION: Record<string, ReadonlyArray<string>> = {
  make_call: ["403", "409"],
  start_translation_call: ["403"],
  /** 409 when the live call refuses the action (it is ending, the agent has not joined yet). */
  session_action: ["409"]
}

/**
 * Request parameters the spec leaves a free string whose values we list (an unknown value is a
 * 400 either way): `operationId parameter in:name`, each in docs/spec-deviations.md.
 */
const TOLERATED_PARAMETER_ENUMS = new Set(["list_voice_sessions query:sort"])

/**
 * Where the spec forgets the status its own security implies: 401 on any secured operation,
 * 404 ("admin endpoints disabled") on admin operations.
 */
const impliedBySecurity = (spec: Json, status: string) => {
  const schemes = securityNames(spec)
  return (status === "401" && schemes.size > 0) || (status === "404" && schemes.has("admin_key"))
}

export interface Operation {
  readonly key: string
  readonly method: string
  readonly path: string
  readonly spec: Json
  readonly ours: Json | undefined
}

export const operations = (spec: Json, ours: Json): ReadonlyArray<Operation> =>
  Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) =>
      item[method] === undefined ? [] : [{
        key: `${method.toUpperCase()} ${path}`,
        method,
        path,
        spec: item[method],
        ours: ours.paths?.[path]?.[method]
      }]
    )
  )

const refName = (schema: Json | undefined): string | undefined =>
  typeof schema?.$ref === "string" ? schema.$ref.split("/").pop() : undefined

/** The component names a response/body schema names (a $ref, or members of anyOf/oneOf). */
const refNames = (schema: Json | undefined): Array<string> => {
  if (schema === undefined) return []
  const direct = refName(schema)
  if (direct !== undefined) return [direct]
  return [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(refNames)
}

const params = (op: Json): Set<string> =>
  new Set((op.parameters ?? []).map((p: Json) => `${p.in}:${String(p.name).toLowerCase()}:${p.required === true}`))

const securityNames = (op: Json): Set<string> =>
  new Set((op.security ?? []).flatMap((s: Json) => Object.keys(s)))

const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x))

const show = (s: Set<string>) => `[${[...s].sort().join(", ")}]`

const isNullSchema = (schema: Json) => schema.type === "null" || (schema.enum?.length === 1 && schema.enum[0] === null)

/**
 * The values a schema allows when it is an enumeration (through `$ref`, `const`, and the
 * members of `anyOf`/`oneOf`; null aside: nullability is compared elsewhere), or undefined when
 * it is open. A client generated from the spec refuses a value outside the spec's enum.
 */
const enumValues = (doc: Json, schema: Json | undefined, depth = 0): Set<string> | undefined => {
  if (schema === undefined || depth > 8) return undefined
  const ref = refName(schema)
  if (ref !== undefined) return enumValues(doc, doc.components?.schemas?.[ref], depth + 1)
  if (Array.isArray(schema.enum)) return new Set(schema.enum.filter((v: unknown) => v !== null).map(String))
  if (schema.const !== undefined) return new Set([String(schema.const)])
  const members: Array<Json> = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].filter((m) => !isNullSchema(m))
  if (members.length === 0) return undefined
  const sets = members.map((m) => enumValues(doc, m, depth + 1))
  return sets.every((set) => set !== undefined) ? new Set(sets.flatMap((set) => [...set!])) : undefined
}

/** How the enum of `where` differs between the spec and ours, as readable lines. */
export const enumDrift = (spec: Json, ours: Json, where: string, theirs: Json | undefined, mine: Json | undefined) => {
  const [want, got] = [enumValues(spec, theirs), enumValues(ours, mine)]
  if (want === undefined && got === undefined) return []
  if (want === undefined) return [`${where} allows only ${show(got!)} where the spec allows any value`]
  if (got === undefined) return [`${where} allows any value where the spec allows only ${show(want)}`]
  const extra = [...got].filter((v) => !want.has(v))
  const lacking = [...want].filter((v) => !got.has(v))
  return [
    ...(extra.length > 0 ? [`${where} enum adds ${extra.sort().join(", ")}`] : []),
    ...(lacking.length > 0 ? [`${where} enum lacks ${lacking.sort().join(", ")}`] : [])
  ]
}

/**
 * The enum drift of a property or parameter; one naming the same component on both sides is
 * left to that component's own comparison, so each difference is said once.
 */
const useDrift = (spec: Json, ours: Json, where: string, theirs: Json | undefined, mine: Json | undefined) => {
  const named = refNames(mine)
  return refNames(theirs).some((name) => named.includes(name)) ? [] : enumDrift(spec, ours, where, theirs, mine)
}

/** A parameter's schema with a `$ref` (or a lone `allOf` member) followed, `null` left out of its type: a parameter is absent, never null. */
const parameterSchema = (doc: Json, schema: Json | undefined, depth = 0): Json => {
  if (schema === undefined || depth > 8) return {}
  const ref = refName(schema)
  if (ref !== undefined) return parameterSchema(doc, doc.components?.schemas?.[ref], depth + 1)
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1) return parameterSchema(doc, schema.allOf[0], depth + 1)
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter((t: unknown) => t !== undefined && t !== "null")
  return { ...schema, type: types.length === 1 ? types[0] : types.length === 0 ? undefined : types }
}

/** What a client generated from the spec checks a parameter against (besides an enum). */
const PARAMETER_CONSTRAINTS = ["type", "format", "minimum", "maximum", "minLength", "maxLength", "pattern"] as const

/**
 * How a parameter's constraints differ: each one the spec sets must be ours too (a client
 * generated from it sends only such values), and a `format` must not be ours alone.
 */
export const parameterConstraintDrift = (specDoc: Json, oursDoc: Json, where: string, theirs: Json | undefined, mine: Json | undefined) => {
  const [want, got] = [parameterSchema(specDoc, theirs), parameterSchema(oursDoc, mine)]
  return PARAMETER_CONSTRAINTS.flatMap((key) =>
    (want[key] !== undefined || (key === "format" && got[key] !== undefined)) &&
      JSON.stringify(want[key]) !== JSON.stringify(got[key])
      ? [`${where} ${key} ${JSON.stringify(got[key] ?? null)} != ${JSON.stringify(want[key] ?? null)}`]
      : []
  )
}

/** Differences of one implemented operation, as readable lines (the documents resolve its `$ref`s). */
export const operationDrift = ({ ours, spec }: Operation, specDoc: Json, oursDoc: Json): Array<string> => {
  if (ours === undefined) return []
  const issues: Array<string> = []
  if (ours.operationId !== spec.operationId) issues.push(`operationId ${ours.operationId} != ${spec.operationId}`)
  const [sp, op] = [params(spec), params(ours)]
  if (!sameSet(sp, op)) issues.push(`parameters ${show(op)} != ${show(sp)}`)
  for (const param of spec.parameters ?? []) {
    const mine = (ours.parameters ?? []).find((p: Json) =>
      p.in === param.in && String(p.name).toLowerCase() === String(param.name).toLowerCase()
    )
    const where = `${param.in}:${param.name}`
    const tolerated = TOLERATED_PARAMETER_ENUMS.has(`${spec.operationId} ${where}`) && enumValues(specDoc, param.schema) === undefined
    if (mine !== undefined && !tolerated) issues.push(...useDrift(specDoc, oursDoc, `parameter ${where}`, param.schema, mine.schema))
    if (mine !== undefined) issues.push(...parameterConstraintDrift(specDoc, oursDoc, `parameter ${where}`, param.schema, mine.schema))
  }
  const [ss, os] = [securityNames(spec), securityNames(ours)]
  if (!sameSet(ss, os)) issues.push(`security ${show(os)} != ${show(ss)}`)
  if (JSON.stringify(spec.tags ?? []) !== JSON.stringify(ours.tags ?? [])) {
    issues.push(`tags ${JSON.stringify(ours.tags)} != ${JSON.stringify(spec.tags)}`)
  }
  const specBody = spec.requestBody?.content ?? {}
  const ourBody = ours.requestBody?.content ?? {}
  for (const [type, content] of Object.entries<Json>(specBody)) {
    if (ourBody[type] === undefined) issues.push(`request body ${type} missing`)
    else {
      const want = refName(content.schema)
      if (want !== undefined && !refNames(ourBody[type].schema).includes(want)) {
        issues.push(`request body schema ${JSON.stringify(refNames(ourBody[type].schema))} != ${want}`)
      }
    }
  }
  const specStatuses = Object.keys(spec.responses ?? {})
  const ourStatuses = Object.keys(ours.responses ?? {})
  for (const status of specStatuses) {
    const theirs = spec.responses[status]
    const mine = ours.responses?.[status]
    if (mine === undefined) {
      issues.push(`response ${status} missing`)
      continue
    }
    for (const [type, content] of Object.entries<Json>(theirs.content ?? {})) {
      const want = refName(content.schema)
      if (want === undefined) continue
      const got = refNames(mine.content?.[type]?.schema)
      if (!got.includes(want)) issues.push(`response ${status} ${type} schema ${JSON.stringify(got)} != ${want}`)
    }
  }
  for (const status of ourStatuses) {
    const tolerated = TOLERATED_EXTRA_STATUSES.has(status) ||
      (TOLERATED_EXTRA_BY_OPERATION[String(ours.operationId)] ?? []).includes(status)
    if (!specStatuses.includes(status) && !tolerated && !impliedBySecurity(spec, status)) {
      issues.push(`response ${status} is not in the spec`)
    }
  }
  return issues
}

const collectRefs = (node: unknown, into: Set<string>) => {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, into))
  else if (typeof node === "object" && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") into.add(value.split("/").pop()!)
      else collectRefs(value, into)
    }
  }
}

/** Component schemas the spec uses for these operations, transitively. */
const referencedComponents = (spec: Json, ops: ReadonlyArray<Operation>) => {
  const names = new Set<string>()
  ops.forEach((op) => collectRefs(op.spec, names))
  let size = -1
  while (size !== names.size) {
    size = names.size
    for (const name of [...names]) collectRefs(spec.components.schemas[name], names)
  }
  return names
}

/** Differences between the spec's component schemas and ours, for those implemented operations use. */
export const componentDrift = (spec: Json, ours: Json, ops: ReadonlyArray<Operation>): Array<string> => {
  const issues: Array<string> = []
  for (const name of [...referencedComponents(spec, ops)].sort()) {
    const theirs = spec.components.schemas[name]
    const mine = ours.components?.schemas?.[name]
    if (mine === undefined) {
      issues.push(`schema ${name} missing`)
      continue
    }
    issues.push(...enumDrift(spec, ours, `schema ${name}`, theirs, mine))
    if (theirs.properties === undefined) continue
    const theirProps = new Set(Object.keys(theirs.properties))
    const myProps = new Set(Object.keys(mine.properties ?? {}))
    const missing = [...theirProps].filter((p) => !myProps.has(p))
    const extra = [...myProps].filter((p) => !theirProps.has(p))
    if (missing.length > 0) issues.push(`schema ${name} lacks ${missing.join(", ")}`)
    if (extra.length > 0) issues.push(`schema ${name} adds ${extra.join(", ")}`)
    const [theirRequired, myRequired] = [new Set<string>(theirs.required ?? []), new Set<string>(mine.required ?? [])]
    if (!sameSet(theirRequired, myRequired)) issues.push(`schema ${name} required ${show(myRequired)} != ${show(theirRequired)}`)
    for (const prop of [...theirProps].filter((p) => myProps.has(p))) {
      const [theirProp, myProp] = [theirs.properties[prop], mine.properties[prop]]
      issues.push(...useDrift(spec, ours, `schema ${name}.${prop}`, theirProp, myProp))
      if (theirProp.items !== undefined || myProp.items !== undefined) {
        issues.push(...useDrift(spec, ours, `schema ${name}.${prop}[]`, theirProp.items, myProp.items))
      }
    }
  }
  return issues
}

export interface DriftReport {
  readonly total: number
  readonly implemented: ReadonlyArray<Operation>
  readonly missing: ReadonlyArray<Operation>
  readonly drift: ReadonlyArray<string>
}

export const compare = (spec: Json, ours: Json): DriftReport => {
  const all = operations(spec, ours)
  const implemented = all.filter((op) => op.ours !== undefined)
  const drift = [
    ...implemented.flatMap((op) => operationDrift(op, spec, ours).map((issue) => `${op.key} (${op.spec.operationId}): ${issue}`)),
    ...componentDrift(spec, ours, implemented)
  ]
  return { total: all.length, implemented, missing: all.filter((op) => op.ours === undefined), drift }
}
