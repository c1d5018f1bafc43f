import { describe, expect, it } from "@effect/vitest"
import { carriesUrlSecrets, redactQuerySecrets, redactUrlsIn, redactUrlSecrets } from "../src/Http/UrlSecrets.js"

const M = "[redacted]"

describe("credentials in URLs", () => {
  it("a password (to the authority's last @) and secret query values are replaced; the rest stays to the letter", () => {
    expect(redactUrlSecrets("https://user:p@ss:word@Hooks.Example.com:8443/a/b?x=1&token=abc&Api-Key=k#frag?token=f", M))
      .toBe("https://user:[redacted]@Hooks.Example.com:8443/a/b?x=1&token=[redacted]&Api-Key=[redacted]#frag?token=f")
    expect(redactUrlSecrets("https://h.example/p?key=1&sig=2&signature=3&access_token=4&keys=5&monkey=6", M))
      .toBe("https://h.example/p?key=[redacted]&sig=[redacted]&signature=[redacted]&access_token=[redacted]&keys=5&monkey=6")
    expect(redactUrlSecrets("https://user@h.example/p?token=", M)).toBe("https://user@h.example/p?token=")
  })

  it("text that is not a URL, and URLs without a credential, are unchanged", () => {
    for (const text of ["hello ?token=abc", "https://h.example/path/token/abc", "mailto:someone@example.com", ""]) {
      expect(redactUrlSecrets(text, M)).toBe(text)
      expect(carriesUrlSecrets(text)).toBe(false)
    }
    expect(carriesUrlSecrets("https://u:p@h.example/")).toBe(true)
  })

  it("a query alone, and URLs inside a message", () => {
    expect(redactQuerySecrets("auth_token=t&limit=5", "REDACTED")).toBe("auth_token=REDACTED&limit=5")
    expect(redactUrlsIn("Transport error (POST https://h.example/run?token=abc&v=2)", M))
      .toBe("Transport error (POST https://h.example/run?token=[redacted]&v=2)")
  })
})
