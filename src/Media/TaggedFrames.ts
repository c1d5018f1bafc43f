import { Either, type ParseResult, Schema } from "effect"

type Decode<A> = (input: unknown) => Either.Either<A, ParseResult.ParseError>

/** A union member told apart by a string literal field (a Struct or a Class). */
type Tagged<K extends string> = Schema.Schema.AnyNoContext & {
  readonly fields: { readonly [key in K]: { readonly literals: ReadonlyArray<string> } }
}

/** The frame's JSON value, or undefined when it is not JSON (the frame is skipped, as a schema's parse failure). */
const parsed = (frame: Buffer): unknown => {
  try {
    return JSON.parse(frame.toString("utf8"))
  } catch {
    return undefined
  }
}

/**
 * A union of JSON events told apart by one string field (Twilio's `event`, OpenAI's `type`),
 * decoded by the one member that field names, with that member's own schema. `parseJson` of
 * the whole union did the same work the long way for every control frame of a call: its
 * transformation and the union's dispatch around the member's decode, and for an event the
 * union does not hold (OpenAI's `session.created`, `session.updated`, `conversation.item.created`,
 * ...) a parse error built and dropped (bench/RESULTS.md, stop 37 setcpu). Same result: the
 * member's decoded value, or undefined for anything else. The members are the union's own, so
 * an event added to the union is decoded here too.
 */
export class TaggedFrames<A> {
  private constructor(private readonly tagField: string, private readonly decoders: ReadonlyMap<string, Decode<A>>) {}

  static of<K extends string, Members extends ReadonlyArray<Tagged<K>>>(
    union: Schema.Union<Members>,
    tagField: K
  ): TaggedFrames<Schema.Schema.Type<Members[number]>> {
    const decoders = new Map<string, Decode<Schema.Schema.Type<Members[number]>>>()
    for (const member of union.members) {
      const decode: Decode<Schema.Schema.Type<Members[number]>> = Schema.decodeUnknownEither(member)
      for (const tag of member.fields[tagField].literals) decoders.set(tag, decode)
    }
    return new TaggedFrames(tagField, decoders)
  }

  decode(frame: Buffer): A | undefined {
    const value = parsed(frame)
    if (typeof value !== "object" || value === null) return undefined
    const tag: unknown = (value as Record<string, unknown>)[this.tagField]
    const decode = typeof tag === "string" ? this.decoders.get(tag) : undefined
    if (decode === undefined) return undefined
    const decoded = decode(value)
    return Either.isRight(decoded) ? decoded.right : undefined
  }
}
