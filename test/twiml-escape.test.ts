import { describe, expect, it } from "vitest"
import { connectStream, escapeXml } from "../src/Twilio/Twiml.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"

/**
 * TwiML values are escaped (`escapeXml`), with a fast return for values that need nothing.
 * Read back with the tests' strict XML reader (an independent oracle): each value arrives as
 * sent, minus the characters XML 1.0 cannot carry.
 */
const values: Record<string, string> = {
  plain: "CA0123456789abcdef0123456789abcdef",
  "a stream token": `v1.${"eyJ0IjoiYmVuY2gi".repeat(10)}.${"a-b_c".repeat(8)}`,
  "each special character": `a&b<c>d"e'f`,
  "entities already": "&amp; &lt;",
  "control characters": "before\u0000\u0001\u0008\u000B\u000C\u000E\u001Fafter",
  "tab and newlines": "a\tb\nc\rd",
  "non-characters": "x\uFFFE\uFFFFy",
  unicode: "Jürgen 📞 “quoted”",
  "specials and controls together": "\u0007<&>\u001F",
  // One of a kind each: the fast return must see every one of them.
  ...Object.fromEntries([..."&<>\"'"].map((special) => [`only ${special}`, `O${special}Brien`])),
  "only a control character": "a\u0001b",
  "only a non-character": "a\uFFFEb",
  empty: ""
}

/** What XML 1.0 can carry of a value: without the characters escapeXml drops. */
const carried = (value: string) => value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")

describe("TwiML escaping", () => {
  it("every value reaches Twilio's parser as sent, less what XML cannot carry", () => {
    const parameters = Object.entries(values)
    const twiml = connectStream("wss://voice.example.com/media-stream?a=1&b=<2>", parameters)
    const root = parseXml(twiml)
    expect(streamParameters(root)).toEqual(Object.fromEntries(parameters.map(([name, value]) => [name, carried(value)])))
  })

  it("leaves a value with nothing to escape as it is, and escapes the five XML specials", () => {
    expect(escapeXml(values.plain!)).toBe(values.plain)
    expect(escapeXml(`a&b<c>d"e'f`)).toBe("a&amp;b&lt;c&gt;d&quot;e&apos;f")
    expect(escapeXml("\u0000&\uFFFF")).toBe("&amp;")
    const escaped: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;" }
    for (const [special, entity] of Object.entries(escaped)) expect(escapeXml(`O${special}Brien`)).toBe(`O${entity}Brien`)
    for (const dropped of ["\u0001", "\u001F", "\uFFFE", "\uFFFF"]) expect(escapeXml(`a${dropped}b`)).toBe("ab")
  })
})
