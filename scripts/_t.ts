import { Api, PublicApi, AdminApi } from "../src/Api.js"
import { makeOpenApiDocuments } from "../src/Docs/OpenApiDocuments.js"
const d = makeOpenApiDocuments({ full: Api, public: PublicApi, admin: AdminApi })
console.log(Object.keys(d.full.components.schemas))
console.log(JSON.stringify(d.full.paths["/health"].get.responses["200"]).slice(0,1500))
