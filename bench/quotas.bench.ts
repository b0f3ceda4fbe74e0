/**
 * The call quotas' cost per authenticated call, in process: `Quotas.check`
 * (project quotas cached, two buckets) against a bare Map lookup, over
 * 10,000 keys and 1,000 addresses called round-robin. No server, no
 * database: the GetToken benchmark on a shared machine cannot resolve a
 * difference this small, this can.
 *
 *   npm run bench -- quotas
 */
import { ProjectQuotas } from '../src/domain/quotas/project-quotas.js';
import type { Principal } from '../src/domain/shared/principal.js';
import { Quotas } from '../src/transport/quotas.js';

const CALLS = 2_000_000;
const ROUNDS = 5;
const KEYS = 10_000;
const IPS = 1_000;

const principals: Principal[] = Array.from({ length: KEYS }, (_, i) => ({ projectId: `prj_${i % 10}`, keyId: `key_${i}`, scopes: new Set(['tokens']) }));
const ips = Array.from({ length: IPS }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
const limits = { keyRatePerSecond: 1_000_000, keyBurst: 10_000_000, ipRatePerSecond: 1_000_000, ipBurst: 10_000_000 };
const projectQuotas = new ProjectQuotas(
  {
    projectQuotas: {
      find: async () => null,
      findMany: async () => [],
      upsert: async () => {
        throw new Error('unused');
      },
    },
  },
  limits,
);
for (let p = 0; p < 10; p++) await projectQuotas.limitsOf(`prj_${p}`);
const quotas = new Quotas(projectQuotas, { replicas: 1 });
const map = new Map(principals.map((p) => [p.keyId, p]));

function time(label: string, body: (i: number) => void): number {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) body(i);
    samples.push(Number(process.hrtime.bigint() - started) / CALLS);
  }
  const median = samples.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
  console.log(`  ${label.padEnd(44)} ${median.toFixed(0).padStart(6)} ns/call (median of ${ROUNDS} x ${CALLS.toLocaleString('en')})`);
  return median;
}

let sink = 0;
console.log(`call quotas, ${KEYS.toLocaleString('en')} keys in 10 projects, ${IPS.toLocaleString('en')} addresses; node ${process.version}`);
const bare = time('Map.get (the floor)', (i) => {
  sink += map.get(principals[i % KEYS]!.keyId) ? 1 : 0;
});
const check = time('Quotas.check (cached project, 2 buckets)', (i) => {
  if (quotas.check(principals[i % KEYS]!, ips[i % IPS]!) !== undefined) throw new Error('not synchronous');
});
console.log(`  added per authenticated call: ${(check - bare).toFixed(0)} ns (${sink > 0 ? 'checked' : ''})`);
