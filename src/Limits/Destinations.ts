import { Option } from "effect"
import { type LimitRefused, refused } from "./Errors.js"

/**
 * Country calling codes are prefix-free (ITU-T E.164): the one-digit codes are 1 and 7, the
 * two-digit ones below, every other code has three digits. That is enough to read the code
 * of any E.164 number without a full numbering-plan table.
 */
const TWO_DIGIT = new Set([
  "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
  "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
  "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98"
])

/** The country calling code of an E.164 number ("+4420..." -> "44"), None if it is not one. */
export const countryCode = (e164: string): Option.Option<string> => {
  const digits = /^\+([1-9]\d{6,14})$/.exec(e164)?.[1]
  if (digits === undefined) return Option.none()
  if (digits.startsWith("1") || digits.startsWith("7")) return Option.some(digits[0]!)
  const two = digits.slice(0, 2)
  return Option.some(TWO_DIGIT.has(two) ? two : digits.slice(0, 3))
}

/**
 * Satellite and international-network codes (ITU "global services"): billed at several
 * dollars a minute and the classic toll-fraud target. 870 Inmarsat, 881 global mobile
 * satellite (Iridium, Globalstar, Thuraya), 882/883 international networks.
 */
const SATELLITE = ["+870", "+881", "+882", "+883"]

/**
 * Premium-rate (revenue-share) ranges, by the national numbering plans:
 * NANP 900 (US/Canada pay-per-call), UK 09 (Ofcom premium rate), Germany 0900 and 0137
 * (premium and mass-traffic), France 089 (Arcep "numéros à valeur ajoutée" highest tier),
 * Australia 1900 (ACMA premium), Italy 899, Spain 803/806/807 (tarificación adicional).
 */
const PREMIUM = [
  "+1900", "+4490", "+4491", "+4498", "+49900", "+49137", "+3389", "+61190", "+39899", "+34803", "+34806", "+34807"
]

export interface DestinationPolicy {
  /** Country calling codes without "+", or "*" for any. */
  readonly allowedCountryCodes: ReadonlyArray<string>
  readonly allowPremium: boolean
  readonly allowSatellite: boolean
}

/** Why `to` may not be dialled or texted under `policy`, or None when it may. */
export const destinationRefusal = (to: string, policy: DestinationPolicy): Option.Option<LimitRefused> => {
  if (SATELLITE.some((prefix) => to.startsWith(prefix)) && !policy.allowSatellite) {
    return Option.some(refused("satellite_destination",
      `${to} is a satellite or international-network number; these are refused unless limits.allow_satellite is true`))
  }
  if (PREMIUM.some((prefix) => to.startsWith(prefix)) && !policy.allowPremium) {
    return Option.some(refused("premium_destination",
      `${to} is a premium-rate number; these are refused unless limits.allow_premium is true`))
  }
  const code = Option.getOrElse(countryCode(to), () => "?")
  if (policy.allowedCountryCodes.includes("*") || policy.allowedCountryCodes.includes(code)) return Option.none()
  // Satellite codes allowed explicitly need no country-code entry as well.
  if (policy.allowSatellite && SATELLITE.some((prefix) => to.startsWith(prefix))) return Option.none()
  const allowed = policy.allowedCountryCodes.length === 0 ? "none" : policy.allowedCountryCodes.map((c) => `+${c}`).join(", ")
  return Option.some(refused("destination_not_allowed",
    `${to} is in country code +${code}, which this tenant may not call (allowed: ${allowed}; set limits.allowed_country_codes)`))
}
