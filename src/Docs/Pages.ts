/** The static HTML of the docs hub, the quickstart and the Swagger UI shell. */

const layout = (title: string, body: string) => `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${title}</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #1d2330; }
    code, pre { background: #f3f5f8; border-radius: 4px; }
    pre { padding: .8rem 1rem; overflow-x: auto; }
    a { color: #2453d6; }
    li { margin: .3rem 0; }
  </style>
</head>
<body>
${body}
</body>
</html>`

export const docsHubPage = layout("StateSet Voice API docs", `
<h1>StateSet Voice API</h1>
<p>Phone calls arrive through Twilio, stream their audio to this service and talk to your AI agent over the
OpenAI Realtime API. These documents describe everything you can call.</p>
<ul>
  <li><a href="/getting-started">Quickstart</a>: get a tenant and an API key, then place a call.</li>
  <li><a href="/swagger-ui">Swagger UI</a>: try requests interactively (pick a document at the top).</li>
  <li><a href="/api-docs/public.json">Public API (OpenAPI 3.1)</a>: tenant endpoints, Twilio webhooks, health.</li>
  <li><a href="/api-docs/admin.json">Admin API (OpenAPI 3.1)</a>: tenants, API keys, diagnostics.</li>
  <li><a href="/api-docs/openapi.json">Full document</a>: both of the above, for client generators.</li>
</ul>
<h2>Authentication</h2>
<ul>
  <li>Tenant endpoints: <code>Authorization: Bearer &lt;api key&gt;</code>.</li>
  <li>Admin endpoints: <code>x-admin-key: &lt;ADMIN_API_KEY&gt;</code>, or a browser session from <code>POST /api/v1/admin/auth/login</code>.</li>
  <li>Twilio webhooks: Twilio's <code>X-Twilio-Signature</code>, checked with the tenant's Twilio auth token.</li>
</ul>
<p>Every response carries an <code>x-request-id</code>; quote it when you contact support.</p>
`)

export const gettingStartedPage = (baseUrl: string) => layout("StateSet Voice quickstart", `
<h1>Quickstart</h1>
<p>Below, <code>$BASE</code> is <code>${baseUrl}</code> and <code>$ADMIN_KEY</code> is the service's <code>ADMIN_API_KEY</code>.</p>
<h2>1. Create a tenant</h2>
<pre>curl -X PUT $BASE/api/v1/admin/tenants/acme \\
  -H "x-admin-key: $ADMIN_KEY" -H "content-type: application/json" \\
  -d '{"tenant_id":"acme","org_id":"org_acme","voice":"alloy",
       "twilio":{"account_sid":"AC…","auth_token":"…","from_number":"+15555550100"}}'</pre>
<p>Secrets you send (tokens, passwords, keys) are stored but never shown again: reads return <code>[redacted]</code>;
write a marker back unchanged to keep its secret (list items are matched by content or a unique id, name, key or url; a marker that matches no stored item, or whose item's URL moved to another host, is refused: send that secret again).
Use the returned <code>ETag</code> with <code>If-Match</code> to update safely.</p>
<h2>2. Issue an API key</h2>
<pre>curl -X POST $BASE/api/v1/admin/tenants/acme/api-keys \\
  -H "x-admin-key: $ADMIN_KEY" -H "content-type: application/json" -d '{"label":"backend"}'</pre>
<p>The response's <code>created.token</code> is shown only this once; store it in your secret manager.</p>
<h2>3. Call the API as the tenant</h2>
<pre>curl $BASE/status -H "Authorization: Bearer $TOKEN"</pre>
<h2>4. Take a call</h2>
<p>Point your Twilio number's voice webhook at <code>$BASE/api/v1/incoming-call</code> (HTTP POST).
The service answers with TwiML that streams the call to <code>/media-stream</code>, where your agent talks to the caller.
To place a call, <code>POST /api/v1/make-call</code> with the tenant's bearer key.</p>
<p>Next: the <a href="/docs">docs hub</a> and the <a href="/swagger-ui">Swagger UI</a>.</p>
`)

export const swaggerPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>StateSet Voice API - Swagger UI</title>
  <link rel="stylesheet" href="/swagger-ui/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/swagger-ui/swagger-ui-standalone-preset.js"></script>
  <script src="/swagger-ui/init.js"></script>
</body>
</html>`

export const swaggerInit = `window.onload = () => {
  window.ui = SwaggerUIBundle({
    urls: [
      { url: "/api-docs/public.json", name: "Public API" },
      { url: "/api-docs/admin.json", name: "Admin API" },
      { url: "/api-docs/openapi.json", name: "Full API" }
    ],
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  })
}`
