import { Config } from "effect"

/** An integer setting with a default, at least `min`; a value below it stops the start with this message. */
export const atLeast = (name: string, fallback: number, min: number, message = `${name} must be ${min} or more`) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message, validation: (n) => n >= min })
  )

export const positiveInt = (name: string, fallback: number) => atLeast(name, fallback, 1, `${name} must be a positive integer`)

export const nonNegativeInt = (name: string, fallback: number) =>
  atLeast(name, fallback, 0, `${name} must be a non-negative integer`)
