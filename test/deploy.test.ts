import { describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8")
/** JSON is YAML: the manifests are written as JSON (comment lines first) so they parse here without a YAML package. */
const manifest = (file: string): any => JSON.parse(read(file).split("\n").filter((line) => !line.startsWith("#")).join("\n"))

/** Every setting the service reads, from src/ (Config.string("X"), optionalSecret("X"), ...). */
const settingNames = () => {
  const names = new Set<string>()
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else for (const match of fs.readFileSync(full, "utf8").matchAll(/\("([A-Z][A-Z0-9_]+)"/g)) names.add(match[1]!)
    }
  }
  walk(path.join(ROOT, "src"))
  return names
}

describe("deployment files", () => {
  const known = settingNames()

  it("the Kubernetes example: two replicas, probes, a grace period covering the drain, a Service, a Secret", () => {
    const deployment = manifest("deploy/k8s/deployment.json")
    const secret = manifest("deploy/k8s/secret.json")
    const service = manifest("deploy/k8s/service.json")
    expect(deployment).toMatchObject({ apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: 2 } })
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    expect(container.readinessProbe.httpGet.path).toBe("/health/ready")
    expect(container.livenessProbe.httpGet.path).toBe("/health/live")
    const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]))
    const drain = Number(env.SHUTDOWN_CALL_DRAIN_SECONDS) + Number(env.SHUTDOWN_GRACE_SECONDS)
    expect(drain).toBeGreaterThanOrEqual(1800)
    // The drain, then the goodbyes (up to 20 s), then closing: SIGKILL must not come first.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(drain + 30)
    expect(pod.securityContext.runAsNonRoot).toBe(true)

    expect(secret).toMatchObject({ apiVersion: "v1", kind: "Secret" })
    expect(container.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }])
    expect(secret.stringData.DATABASE_URL).toMatch(/^postgres:\/\/.+@.+\/.+/)
    for (const name of [...Object.keys(secret.stringData), ...Object.keys(env)]) expect(known, name).toContain(name)

    expect(service).toMatchObject({ apiVersion: "v1", kind: "Service" })
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector)
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector)
    expect(container.ports.map((p: { name: string }) => p.name)).toContain(service.spec.ports[0].targetPort)
  })

  it("the compose file: PostgreSQL and two replicas behind a proxy that checks readiness", () => {
    const compose = manifest("deploy/compose.yaml")
    const services = compose.services
    expect(Object.keys(services).sort()).toEqual(["postgres", "proxy", "voice-a", "voice-b"])
    for (const name of ["voice-a", "voice-b"]) {
      const replica = services[name]
      expect(replica.environment.DATABASE_URL).toMatch(/@postgres:5432\//)
      expect(Number.parseInt(replica.stop_grace_period, 10)).toBeGreaterThanOrEqual(1830)
      for (const setting of Object.keys(replica.environment)) expect(known, setting).toContain(setting)
    }
    const caddyfile = read("deploy/Caddyfile")
    expect(caddyfile).toMatch(/reverse_proxy voice-a:5050 voice-b:5050/)
    expect(caddyfile).toMatch(/health_uri \/health\/ready/)
    expect(services.proxy.volumes[0]).toMatch(/^\.\/Caddyfile:/)
  })

  it("the Dockerfile: multi-stage, non-root, node dist/main.js, liveness healthcheck, SIGTERM", () => {
    const dockerfile = read("Dockerfile")
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2)
    expect(dockerfile).toMatch(/^USER node$/m)
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m)
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/health\/live/m)
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main.js"\]$/m)
    expect(dockerfile).toMatch(/^COPY --chown=node:node migrations \.\/migrations$/m)
  })
})
