/** `npm run spec:coverage`: implemented/total operations, what is missing, and what differs from the spec. */
import { AdminApi, Api, PublicApi } from "../src/Api.js"
import { makeOpenApiDocuments } from "../src/Docs/OpenApiDocuments.js"
import { compare, loadSpec } from "./SpecDrift.js"

const documents = makeOpenApiDocuments({ full: Api, public: PublicApi, admin: AdminApi })
const report = compare(loadSpec(), documents.full)

if (report.missing.length > 0) {
  console.log(`Not implemented (${report.missing.length}):`)
  for (const op of report.missing) console.log(`  ${op.key}  [${op.spec.operationId}]`)
}
if (report.drift.length > 0) {
  console.log(`\nDiffers from the spec (${report.drift.length}):`)
  for (const line of report.drift) console.log(`  ${line}`)
}
console.log(`\nImplemented ${report.implemented.length}/${report.total} operations; ${report.drift.length} differences.`)
