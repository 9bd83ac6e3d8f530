// Validates the objects `kubectl kustomize` rendered from one of deploy/k8s's kustomizations:
//   node validate-manifests.mjs [--require-tls] [--images DIR] RENDERED.yaml
// 1. each object against the Kubernetes API schema of its apiVersion and kind (the npm package
//    kubernetes-models, installed by tests/deploy/install-validator.sh; its schemas check types,
//    required fields and enums, not unknown fields);
// 2. what the schemas cannot know, from what Klaxon's services read:
//    - every secret a container reads (NAME or NAME_FILE, services' config loaders) is set, and
//      every *_FILE path is inside a mounted volume that has that file;
//    - every klaxon/NAME image is one scripts/images.sh builds (deploy/images/NAME.Containerfile);
//    - a namespace with workloads denies traffic by default and every pod has its own policy;
//    - with --require-tls (the prod overlay): every link's TLS and authentication settings.
// Prints each problem and exits 1 if there is any.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const modules = process.env.KLAXON_VALIDATOR_MODULES;
if (!modules) throw new Error("KLAXON_VALIDATOR_MODULES (tests/deploy/install-validator.sh) is unset");
const YAML = (await import(join(modules, "yaml/dist/index.js"))).default;

const args = process.argv.slice(2);
const requireTls = args.includes("--require-tls");
const imagesAt = args.indexOf("--images");
const imagesDir = imagesAt >= 0 ? args[imagesAt + 1] : null;
const file = args[args.length - 1];
// kubectl renders with YAML 1.1 in mind (0440 is octal there).
const objects = YAML.parseAllDocuments(readFileSync(file, "utf8"), { version: "1.1" })
  .map((doc) => doc.toJS())
  .filter((object) => object);

const problems = [];
const problem = (object, message) =>
  problems.push(`${object.kind}/${object.metadata?.name}: ${message}`);

// The secrets each container reads (common/runtime/service_runtime.cc, services/delivery/
// worker_main.cc, services/*/main.cc, services/audit/admin/admin_main.cc), as NAME or NAME_FILE.
const SECRETS = {
  ingress: ["KLAXON_PII_HMAC_KEY", "KLAXON_TRANSIT_KEYRING", "KLAXON_API_KEYS",
    "KLAXON_TWILIO_AUTH_TOKEN"],
  "sms-worker": ["KLAXON_PII_HMAC_KEY", "KLAXON_TRANSIT_KEYRING", "KLAXON_TWILIO_AUTH_TOKEN"],
  "voice-worker": ["KLAXON_PII_HMAC_KEY", "KLAXON_TRANSIT_KEYRING", "KLAXON_TWILIO_AUTH_TOKEN"],
  // KLAXON_CALLER_CALLBACKS is optional to audit, but deploy/k8s always mounts it (ADR 0028).
  audit: ["KLAXON_PII_HMAC_KEY", "KLAXON_TRANSIT_KEYRING", "KLAXON_API_KEYS", "KLAXON_PG_URL",
    "KLAXON_KEYRING", "KLAXON_BLIND_INDEX_KEY", "KLAXON_CALLER_CALLBACKS"],
  "audit-migrate": ["KLAXON_PG_URL"],
  "audit-retention": ["KLAXON_PG_URL"],
  "create-topics": [],
};
// The links each container uses, for --require-tls.
const LINKS = {
  ingress: ["grpc", "kafka", "redis"],
  "sms-worker": ["kafka", "redis"],
  "voice-worker": ["kafka", "redis"],
  audit: ["grpc", "kafka", "postgres"],
  "create-topics": ["kafka"],
  "audit-migrate": ["postgres"],
  "audit-retention": ["postgres"],
};
const TLS_SETTINGS = {
  grpc: { KLAXON_GRPC_TLS_CERT_FILE: null, KLAXON_GRPC_TLS_KEY_FILE: null,
    KLAXON_GRPC_TLS_CLIENT_CA_FILE: null },
  kafka: { KLAXON_KAFKA_SECURITY_PROTOCOL: "SASL_SSL", KLAXON_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KLAXON_KAFKA_SASL_USERNAME: null, KLAXON_KAFKA_SASL_PASSWORD_FILE: null,
    KLAXON_KAFKA_SSL_CA_FILE: null },
  redis: { KLAXON_REDIS_URL: "redis://127.0.0.1:6380", KLAXON_REDIS_USERNAME: null,
    KLAXON_REDIS_PASSWORD_FILE: null },
  postgres: { KLAXON_PG_SSLMODE: "verify-full", KLAXON_PG_SSLROOTCERT_FILE: null },
};

async function validateSchema(object) {
  const [group, version] = object.apiVersion.includes("/")
    ? object.apiVersion.split("/")
    : [null, object.apiVersion];
  const path = join(modules, "kubernetes-models", group ?? "", version, "index.js");
  if (!existsSync(path)) return problem(object, `no schema for apiVersion ${object.apiVersion}`);
  const model = (await import(path))[object.kind];
  if (!model) return problem(object, `no kind ${object.kind} in ${object.apiVersion}`);
  try {
    new model(object).validate();
  } catch (error) {
    problem(object, `invalid: ${error.message}`);
  }
}

function podSpecOf(object) {
  switch (object.kind) {
    case "Deployment":
    case "Job":
      return object.spec?.template;
    case "CronJob":
      return object.spec?.jobTemplate?.spec?.template;
    default:
      return null;
  }
}

const configMaps = new Map(
  objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o.data ?? {}]));

// The environment a container sees: its envFrom ConfigMaps, then its own env.
function environmentOf(object, container) {
  const env = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!configMaps.has(name)) problem(object, `${container.name} reads a missing ConfigMap ${name}`);
    Object.assign(env, configMaps.get(name) ?? {});
  }
  for (const variable of container.env ?? []) env[variable.name] = variable.value ?? "";
  return env;
}

// Whether `path` is a file of a volume mounted in `container`.
function fileMounted(volumes, container, path) {
  for (const mount of container.volumeMounts ?? []) {
    const prefix = mount.mountPath.replace(/\/$/, "") + "/";
    if (!path.startsWith(prefix)) continue;
    const volume = volumes.find((v) => v.name === mount.name);
    const source = volume?.secret ?? volume?.configMap;
    if (!source) continue;
    // Without items every key of the Secret or ConfigMap is a file: trust the name.
    if (!source.items) return true;
    if (source.items.some((item) => item.path === path.slice(prefix.length))) return true;
  }
  return false;
}

function checkPod(object) {
  const template = podSpecOf(object);
  if (!template) return;
  const spec = template.spec ?? {};
  const volumes = spec.volumes ?? [];
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const env = environmentOf(object, container);
    for (const [name, value] of Object.entries(env)) {
      if (name.endsWith("_FILE") && !fileMounted(volumes, container, value)) {
        problem(object, `${container.name}: ${name}=${value} is not a file of any mounted volume`);
      }
    }
    for (const secret of SECRETS[container.name] ?? []) {
      if (!(secret in env) && !(`${secret}_FILE` in env)) {
        problem(object, `${container.name} reads ${secret} (or ${secret}_FILE), which is not set`);
      }
    }
    const image = container.image?.match(/^klaxon\/([^:@]+)/)?.[1];
    if (image && imagesDir && !existsSync(join(imagesDir, `${image}.Containerfile`))) {
      problem(object, `${container.name}: no ${imagesDir}/${image}.Containerfile builds klaxon/${image}`);
    }
    if (requireTls) checkLinks(object, spec, container, env);
  }
}

function checkLinks(object, spec, container, env) {
  for (const link of LINKS[container.name] ?? []) {
    for (const [name, wanted] of Object.entries(TLS_SETTINGS[link])) {
      if (!env[name] || (wanted !== null && env[name] !== wanted)) {
        problem(object, `${container.name}: ${link} needs ${name}${wanted ? `=${wanted}` : ""}` +
          ` (has ${JSON.stringify(env[name] ?? null)})`);
      }
    }
    if (link === "grpc" && env.KLAXON_GRPC_PLAINTEXT === "true") {
      problem(object, `${container.name}: KLAXON_GRPC_PLAINTEXT=true`);
    }
    if (link === "redis" && !(spec.initContainers ?? []).some((c) =>
      c.restartPolicy === "Always" && c.image?.startsWith("klaxon/stunnel"))) {
      problem(object, `${container.name}: Redis needs the klaxon/stunnel sidecar`);
    }
  }
}

function selects(selector, labels) {
  if (!selector) return false;
  const matchLabels = Object.entries(selector.matchLabels ?? {});
  const ok = matchLabels.every(([key, value]) => labels[key] === value);
  return ok && (selector.matchExpressions ?? []).every((e) =>
    e.operator === "In" ? e.values.includes(labels[e.key]) :
    e.operator === "NotIn" ? !e.values.includes(labels[e.key]) :
    e.operator === "Exists" ? e.key in labels : !(e.key in labels));
}

function checkNetworkPolicies() {
  const workloads = objects.filter(podSpecOf);
  if (workloads.length === 0) return;
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  const denyAll = policies.some((p) => Object.keys(p.spec?.podSelector ?? {}).length === 0 &&
    !p.spec.ingress && !p.spec.egress &&
    ["Ingress", "Egress"].every((type) => p.spec.policyTypes?.includes(type)));
  if (!denyAll) problems.push("no NetworkPolicy denies all traffic by default");
  for (const workload of workloads) {
    const labels = podSpecOf(workload).metadata?.labels ?? {};
    // A policy of its own: one that names the pod (not only every Klaxon pod) and opens egress.
    const own = policies.some((p) => selects(p.spec?.podSelector, labels) && p.spec.egress &&
      Object.keys(p.spec.podSelector).length > 0 &&
      !("app.kubernetes.io/part-of" in (p.spec.podSelector.matchLabels ?? {})));
    if (!own) problem(workload, "no NetworkPolicy opens this pod's own egress");
  }
}

for (const object of objects) await validateSchema(object);
objects.forEach(checkPod);
checkNetworkPolicies();

if (problems.length > 0) {
  console.error(`${file}: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`${file}: ${objects.length} objects valid`);
