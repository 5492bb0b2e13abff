import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../lib/config.ts';
import { loadTopology, replicaPortOf } from '../../../lib/topology/loadTopology.ts';
import { SUBGRAPH_NAMES } from '../../../subgraphs/subgraphNames.ts';

const TOPOLOGY = loadTopology();
import { kubernetesTopology, topologyConfigMap, topologyEnv } from '../../../scripts/renderDeploymentTopology.ts';

// deploy/k8s validated offline against the Kubernetes 1.27 OpenAPI schemas (kubernetes-models
// ships them compiled for ajv), then checked for what the schemas cannot know: every component
// present with 2+ replicas, probes, requests, PDBs, ports that agree with each other and with the
// code's defaults, a topology that names real headless Services, and a config the code accepts.
const DIR = fileURLToPath(new URL('../../../deploy/k8s/', import.meta.url));
const MODELS = { Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, ConfigMap, Secret, Namespace } as const;
const API_VERSIONS: Record<keyof typeof MODELS, string> = {
  Deployment: 'apps/v1', Service: 'v1', PodDisruptionBudget: 'policy/v1', HorizontalPodAutoscaler: 'autoscaling/v2',
  NetworkPolicy: 'networking.k8s.io/v1', ConfigMap: 'v1', Secret: 'v1', Namespace: 'v1',
};

type Manifest = { apiVersion: string; kind: keyof typeof MODELS; metadata: { name: string }; [key: string]: any };
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const manifests: Array<Manifest & { file: string }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(DIR + file, 'utf8')).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return { ...(doc.toJS() as Manifest), file };
  }),
);
const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
const deployments = manifests.filter((m) => m.kind === 'Deployment');

/** Router, gateways and subgraphs: the name, port and admin port the code defaults to. */
const COMPONENTS = [
  { name: 'router', port: TOPOLOGY.router.port, admin: TOPOLOGY.router.adminPort, headless: false },
  ...Object.values(TOPOLOGY.supergraphs).map((s) => ({ name: `gateway-${s.name}`, port: s.gateway.port, admin: s.gateway.adminPort, headless: true })),
  ...SUBGRAPH_NAMES.map((s) => ({ name: s, port: replicaPortOf(TOPOLOGY, s, 0)!, admin: undefined, headless: true })),
];

describe('deploy/k8s', () => {
  it('is valid against the Kubernetes schemas, document by document', () => {
    expect(manifests.length).toBeGreaterThan(30);
    for (const manifest of manifests) {
      const { file, ...doc } = manifest;
      const Model = MODELS[doc.kind];
      expect(Model, `${file}: unknown kind ${doc.kind}`).toBeDefined();
      expect(doc.apiVersion, `${file}: ${doc.kind}`).toBe(API_VERSIONS[doc.kind]);
      expect(() => new Model(doc as never).validate(), `${file}: ${doc.kind} ${doc.metadata.name}`).not.toThrow();
    }
  });

  it('lets the schemas catch a broken manifest (the validator is not a no-op)', () => {
    const broken = structuredClone(find('Deployment', 'orders')!);
    broken.spec.replicas = 'two';
    delete broken.spec.selector;
    expect(() => new Deployment(broken as never).validate()).toThrow(/replicas must be integer|must have required property 'selector'/);
  });

  it('runs every component as a Deployment of 2+ replicas with probes, requests and a PodDisruptionBudget', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(COMPONENTS.map((c) => c.name).sort());
    for (const { name, port, admin } of COMPONENTS) {
      const deployment = find('Deployment', name)!;
      expect(deployment.spec.replicas, name).toBeGreaterThanOrEqual(2);
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
      const [container] = deployment.spec.template.spec.containers;
      const env = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
      expect(env.PORT, name).toBe(String(port));
      expect(env.ADMIN_PORT, name).toBe(admin === undefined ? undefined : String(admin));
      const ports = Object.fromEntries(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
      expect(ports, name).toEqual(admin === undefined ? { http: port } : { http: port, admin });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
      expect(container.resources.limits.memory).toEqual(expect.any(String));
      expect(container.envFrom.map((e: Record<string, { name: string }>) => Object.values(e)[0].name)).toEqual(['supergraph-config', 'supergraph-topology', 'supergraph-secrets']);
      if (admin !== undefined) expect(deployment.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(admin) });
      const budget = find('PodDisruptionBudget', name)!;
      expect(budget.spec.minAvailable).toBe(1);
      expect(budget.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    }
  });

  it('puts gateways and subgraphs behind headless Services that select their pods on the right port', () => {
    for (const { name, port, headless } of COMPONENTS) {
      const service = find('Service', name)!;
      expect(service, name).toBeDefined();
      expect(service.spec.clusterIP === 'None', name).toBe(headless);
      expect(service.spec.selector).toEqual(find('Deployment', name)!.spec.selector.matchLabels);
      expect(service.spec.ports).toContainEqual({ name: 'http', port, targetPort: 'http' });
    }
  });

  it('names, in its topology, exactly the headless Services of the manifests', () => {
    const rendered = parse(topologyConfigMap());
    expect(find('ConfigMap', 'supergraph-topology')).toMatchObject({ data: rendered.data });
    expect(rendered.data).toEqual(topologyEnv(kubernetesTopology({ namespace: 'supergraph' })));
    for (const value of Object.values(rendered.data as Record<string, string>)) {
      const url = new URL(value.replace(/^dns\+/, ''));
      const [service, namespace, svc] = url.hostname.split('.');
      expect([namespace, svc]).toEqual(['supergraph', 'svc']);
      expect(find('Service', service)?.spec.clusterIP, value).toBe('None');
      expect(find('Service', service)!.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(url.port));
    }
    // Rendering for another namespace moves every URL there.
    const elsewhere = Object.values(topologyEnv(kubernetesTopology({ namespace: 'shop', clusterDomain: 'corp.local' })));
    expect(elsewhere.filter((u) => !u.includes('.shop.svc.corp.local:'))).toEqual([]);
  });

  it('is a configuration every component accepts, with PostgreSQL and Redis as external dependencies by URL', () => {
    const env = { ...find('ConfigMap', 'supergraph-config')!.data, ...find('ConfigMap', 'supergraph-topology')!.data, ...find('Secret', 'supergraph-secrets')!.stringData };
    const config = loadConfig(env);
    // With an inference backend configured (config.yaml's commented lines), its key comes from the Secret.
    expect(loadConfig({ ...env, CHAT_BACKEND_URL: 'https://inference.example.internal/v1', CHAT_BACKEND_API_KEY: 'k' }).chat.backendUrl).toBeDefined();
    expect(config.database.url).toMatch(/^postgres:\/\//);
    expect(config.cache.redisUrl).toMatch(/^redis-sentinel:\/\//);
    expect(config.router.gatewayUrls.commerce[0]).toMatch(/^dns\+http:\/\/gateway-commerce\./);
    expect(config.host).toBe('0.0.0.0');
    expect(config.router.graphiql).toBe(false); // NODE_ENV=production
    // Secrets stay out of the ConfigMaps.
    for (const key of ['INTERNAL_SECRET', 'DATABASE_URL', 'REDIS_URL', 'CHAT_BACKEND_API_KEY']) expect(find('ConfigMap', 'supergraph-config')!.data).not.toHaveProperty(key);
  });

  it('lists every manifest in kustomization.yaml, the Secret example excepted', () => {
    const kustomization = parse(readFileSync(DIR + 'kustomization.yaml', 'utf8'));
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'secret.example.yaml').sort());
    expect(kustomization.images).toContainEqual(expect.objectContaining({ name: 'supergraph' }));
    for (const deployment of deployments) expect(deployment.spec.template.spec.containers[0].image).toMatch(/^supergraph:/);
  });
});
