import { Ajv2020 } from "ajv/dist/2020.js"
import formats from "ajv-formats"
import * as fs from "node:fs"
import { expect } from "vitest"

const spec = JSON.parse(fs.readFileSync(new URL("../../spec/openapi.json", import.meta.url), "utf8"))

const ajv = new Ajv2020({ strict: false, allErrors: true })
// ajv-formats is CommonJS: its callable is the module itself or its `default`.
const addFormats = ((formats as unknown as { default?: typeof formats }).default ?? formats)
addFormats(ajv)
ajv.addSchema({ $id: "spec", components: spec.components })

/** Asserts that `body` is valid against the spec's component schema `name`. */
export const expectSpecSchema = (body: unknown, name: string) => {
  if (spec.components.schemas[name] === undefined) throw new Error(`spec has no component ${name}`)
  const validate = ajv.getSchema(`spec#/components/schemas/${name}`)!
  const valid = validate(body)
  expect(valid, `${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`).toBe(true)
}
