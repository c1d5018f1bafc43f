import { Schema } from "effect"
import { Uuid } from "../Http/Schemas.js"

/** Ids in paths are plain strings on the wire; anything that is not a UUID cannot name a row. */
export const isUuid = Schema.is(Uuid)
