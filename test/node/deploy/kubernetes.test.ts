import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { generateSigningKey } from '../../../dev/jwk'
import { originConfigSchema } from '../../../shared/config'
import { repoRoot } from '../../support/origin'

// deploy/kubernetes, validated offline against Kubernetes' own schemas (kubernetes-models:
// the API's OpenAPI schemas, v1.27) and cross-checked against the code it runs.
const dir = join(repoRoot, 'deploy/kubernetes')
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
}
// biome-ignore lint/suspicious/noExplicitAny: manifests are read as plain YAML.
const manifests: any[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()))
const one = (kind: string, name?: string) =>
  manifests.find((m) => m.kind === kind && (!name || m.metadata.name === name))

const validate = (manifest: { apiVersion: string; kind: string }) => {
  const Model = models[`${manifest.apiVersion}/${manifest.kind}`]
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`)
  new Model(manifest as never).validate()
}

describe('deploy/kubernetes', () => {
  it("every manifest is valid against Kubernetes' schemas (and a broken one is not)", () => {
    expect(manifests.length).toBeGreaterThanOrEqual(9)
    for (const m of manifests)
      expect(() => validate(m), `${m.kind} ${m.metadata?.name}`).not.toThrow()
    const broken = structuredClone(one('Deployment'))
    broken.spec.replicas = 'three'
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'http'
    expect(() => validate(broken)).toThrow()
  })

  it('runs what the code serves: probe paths, ports, env names, the drain within the grace period', async () => {
    const deployment = one('Deployment', 'plaza-origin')
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    const config = one('ConfigMap', 'plaza-origin').data
    const app = readFileSync(join(repoRoot, 'origin/app.ts'), 'utf8')
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const path = container[probe].httpGet.path
      expect(app).toContain(`app.get('${path}'`)
    }
    expect(container.livenessProbe.httpGet.path).toBe('/health')
    expect(container.readinessProbe.httpGet.path).toBe('/ready')
    const port = (name: string) =>
      container.ports.find((p: { name: string }) => p.name === name).containerPort
    expect(String(port('http'))).toBe(config.ORIGIN_PORT)
    expect(String(port('metrics'))).toBe(config.METRICS_PORT)
    const known = new Set(Object.keys(originConfigSchema.shape))
    const secret = one('Secret', 'plaza-origin-secrets').stringData
    for (const name of [...Object.keys(config), ...Object.keys(secret)])
      expect(known, name).toContain(name)
    // The ConfigMap's values as they are, the Secret's placeholders replaced by real-shaped ones.
    const filled = {
      ...config,
      DATABASE_URL: secret.DATABASE_URL,
      EDGE_SIGNING_SECRET: 'x'.repeat(40),
      JWT_SIGNING_KEY: (await generateSigningKey('k8s-test')).privateJwk,
    }
    expect(Object.keys(filled).sort()).toEqual(
      [...Object.keys(config), ...Object.keys(secret)].sort(),
    )
    expect(originConfigSchema.safeParse(filled).error?.issues ?? []).toEqual([])
    const preStop = Number(container.lifecycle.preStop.exec.command[1])
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
      preStop + Number(config.SHUTDOWN_TIMEOUT_MS) / 1000,
    )
    expect(pod.securityContext.runAsNonRoot).toBe(true)
    expect(container.resources).toEqual({
      requests: { cpu: '250m', memory: '256Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    })
    const prometheus = readFileSync(
      join(repoRoot, 'deploy/prometheus/prometheus.kubernetes.yml'),
      'utf8',
    )
    const headless = one('Service', 'plaza-origin-metrics')
    expect(headless.spec.clusterIP).toBe('None')
    expect(prometheus).toContain(
      `${headless.metadata.name}.${headless.metadata.namespace}.svc.cluster.local`,
    )
  })

  it("scales as the seeds say: 3 to 20 pods at CPU 70 % and memory 80 %, seed 003's cooldowns", () => {
    const hpa = one('HorizontalPodAutoscaler').spec
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([3, 20])
    const target = (name: string) =>
      hpa.metrics.find((m: { resource: { name: string } }) => m.resource.name === name).resource
        .target.averageUtilization
    expect([target('cpu'), target('memory')]).toEqual([70, 80])
    expect(hpa.behavior.scaleUp.policies[0].periodSeconds).toBe(300)
    expect(hpa.behavior.scaleDown.stabilizationWindowSeconds).toBe(600)
    expect(hpa.scaleTargetRef.name).toBe(one('Deployment').metadata.name)
  })
})
