import { describe, expect, it } from "@effect/vitest"
import { Option } from "effect"
import { countryCode, destinationRefusal } from "../src/Limits/Destinations.js"

const home = { allowedCountryCodes: ["1"], allowPremium: false, allowSatellite: false }
const reason = (to: string, policy = home) => Option.getOrUndefined(Option.map(destinationRefusal(to, policy), (r) => r.reason))

describe("destination policy", () => {
  it("reads the country calling code of any E.164 number", () => {
    expect(["+15551234567", "+74951234567", "+447700900123", "+35312345678", "+8816123456789", "+8613812345678"]
      .map((n) => Option.getOrNull(countryCode(n)))).toEqual(["1", "7", "44", "353", "881", "86"])
    expect(Option.isNone(countryCode("5551234567"))).toBe(true)
  })

  it("refuses satellite, premium and foreign numbers, each with its reason and status", () => {
    expect(reason("+15557654321")).toBeUndefined()
    expect(reason("+881612345678")).toBe("satellite_destination")
    expect(reason("+8707712345678")).toBe("satellite_destination")
    expect(reason("+19005550100")).toBe("premium_destination")
    expect(reason("+447700900123")).toBe("destination_not_allowed")
    expect(reason("+449012345678", { ...home, allowedCountryCodes: ["44"] })).toBe("premium_destination")
    expect(Option.getOrThrow(destinationRefusal("+447700900123", home)).status).toBe(403)
  })

  it("explicit allowances open exactly what they name", () => {
    expect(reason("+447700900123", { ...home, allowedCountryCodes: ["*"] })).toBeUndefined()
    expect(reason("+19005550100", { ...home, allowPremium: true })).toBeUndefined()
    expect(reason("+881612345678", { ...home, allowSatellite: true })).toBeUndefined()
    expect(reason("+881612345678", { ...home, allowedCountryCodes: ["*"] })).toBe("satellite_destination")
    expect(reason("+15557654321", { ...home, allowedCountryCodes: [] })).toBe("destination_not_allowed")
  })
})
