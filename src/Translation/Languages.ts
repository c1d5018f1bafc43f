/**
 * The languages a translation call can interpret between: ISO 639-1 codes (optionally with
 * a region, `pt-BR`) whose names go into the interpreter's instructions. A short list the
 * realtime models speak well; anything else is refused up front rather than mistranslated.
 */
const NAMES: Readonly<Record<string, string>> = {
  ar: "Arabic",
  de: "German",
  en: "English",
  es: "Spanish",
  fr: "French",
  hi: "Hindi",
  it: "Italian",
  ja: "Japanese",
  ko: "Korean",
  nl: "Dutch",
  pl: "Polish",
  pt: "Portuguese",
  ru: "Russian",
  sv: "Swedish",
  tr: "Turkish",
  uk: "Ukrainian",
  vi: "Vietnamese",
  zh: "Chinese"
}

export const SUPPORTED_LANGUAGES: ReadonlyArray<string> = Object.keys(NAMES)

const TAG = /^([a-z]{2})(?:-([a-z]{2}))?$/i

/** `es`, `ES`, `pt-br` -> `es`, `es`, `pt-BR`; undefined when not a supported language. */
export const normalizeLanguage = (value: string): string | undefined => {
  const match = TAG.exec(value.trim())
  if (match === null) return undefined
  const base = match[1]!.toLowerCase()
  if (NAMES[base] === undefined) return undefined
  return match[2] === undefined ? base : `${base}-${match[2].toUpperCase()}`
}

/** `pt-BR` -> "Portuguese (BR)". Only for normalized tags. */
export const languageName = (tag: string): string => {
  const [base, region] = tag.split("-")
  const name = NAMES[base!] ?? tag
  return region === undefined ? name : `${name} (${region})`
}
