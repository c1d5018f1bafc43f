import { describe, expect, it } from "@effect/vitest"
import { carriesUrlSecrets, redactQuerySecrets, redactUrlsIn, redactUrlSecrets } from "../src/Http/UrlSecrets.js"

const M = "[redacted]"

describe("credentials in URLs", () => {
  it("a password (to the authority's last @) and secret query values are replaced; the rest stays to the letter", () => {
    expect(redactUrlSecrets("https://user:p@ss:word@Hooks.Example.com:8443/a/b?x=1&token=abc&Api-Key=k#frag?token=f", M))
      .toBe("https://user:[redacted]@Hooks.Example.com:8443/a/b?x=1&token=[redacted]&Api-Key=[redacted]#frag?token=f")
    expect(redactUrlSecrets("https://h.example/p?key=1&sig=2&signature=3&access_token=4&keys=5&monkey=6", M))
      .toBe("https://h.example/p?key=[redacted]&sig=[redacted]&signature=[redacted]&access_token=[redacted]&keys=5&monkey=6")
    expect(redactUrlSecrets("https://:@h.example/p?token=", M)).toBe("https://:@h.example/p?token=")
  })

  it("a parameter whose name is percent-encoded is read as the receiving server decodes it", () => {
    expect(redactUrlSecrets("https://h.example/p?api%5Fkey=k1&%74oken=t1&%6Bey=k2&x%5Fid=7&bad%ZZname=v", M))
      .toBe("https://h.example/p?api%5Fkey=[redacted]&%74oken=[redacted]&%6Bey=[redacted]&x%5Fid=7&bad%ZZname=v")
    expect(carriesUrlSecrets("https://h.example/hook?Api%2DKey=live")).toBe(true)
  })

  it("a user without a password is the credential itself, and an @ in the user does not hide the password", () => {
    // GitHub-style `https://<token>@host`, Stripe-style `https://<api key>:@host`: what node's client sends as Basic auth.
    expect(redactUrlSecrets("https://ghp_0123456789abcdef@h.example/repo", M)).toBe("https://[redacted]@h.example/repo")
    expect(redactUrlSecrets("https://sk_live_0123456789:@api.example/v1", M)).toBe("https://[redacted]:@api.example/v1")
    expect(redactUrlSecrets("https://a@b:hidden@h.example/", M)).toBe("https://a@b:[redacted]@h.example/")
    expect(redactUrlSecrets("https://:only-password@h.example/", M)).toBe("https://:[redacted]@h.example/")
    expect(redactUrlSecrets("https://h.example/p@q?x=1", M)).toBe("https://h.example/p@q?x=1")
    for (const url of ["https://ghp_0123456789abcdef@h.example/repo", "https://a@b:hidden@h.example/"]) {
      expect(carriesUrlSecrets(url)).toBe(true)
      expect(new URL(redactUrlSecrets(url, M)).password + new URL(redactUrlSecrets(url, M)).username).not.toMatch(/ghp_|hidden/)
    }
    expect(redactUrlsIn("Transport error (POST https://ghp_0123456789abcdef@h.example/run)", M))
      .toBe("Transport error (POST https://[redacted]@h.example/run)")
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
