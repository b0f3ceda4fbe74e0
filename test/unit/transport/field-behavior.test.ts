import type { DescMessage } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { file_nexus_v1_api_key } from '../../../gen/ts/nexus/v1/api_key_pb.js';
import { file_nexus_v1_auth } from '../../../gen/ts/nexus/v1/auth_pb.js';
import { file_nexus_v1_client } from '../../../gen/ts/nexus/v1/client_pb.js';
import { file_nexus_v1_connection } from '../../../gen/ts/nexus/v1/connection_pb.js';
import { file_nexus_v1_project } from '../../../gen/ts/nexus/v1/project_pb.js';
import { file_nexus_v1_provider } from '../../../gen/ts/nexus/v1/provider_pb.js';
import { file_nexus_v1_token } from '../../../gen/ts/nexus/v1/token_pb.js';
import { file_nexus_v1_webhook } from '../../../gen/ts/nexus/v1/webhook_pb.js';
import { FieldBehavior, fieldBehaviors } from '../../../src/transport/mappers/field-behavior.js';

// The google.api.field_behavior annotations in proto/nexus/v1, as the generated
// TypeScript carries them (the Go and Python code embed the same descriptors).
// CreateProvider ignoring every OUTPUT_ONLY field is in provider-routes.test.ts.

const FILES = [
  file_nexus_v1_api_key,
  file_nexus_v1_auth,
  file_nexus_v1_client,
  file_nexus_v1_connection,
  file_nexus_v1_project,
  file_nexus_v1_provider,
  file_nexus_v1_token,
  file_nexus_v1_webhook,
];
const messages: DescMessage[] = FILES.flatMap((f) =>
  f.messages.flatMap(function all(m): DescMessage[] {
    return [m, ...m.nestedMessages.flatMap(all)];
  }),
);
const behaviourOf = (message: string, field: string) => {
  const m = messages.find((x) => x.name === message);
  const f = m?.fields.find((x) => x.name === field);
  if (!f) throw new Error(`no field ${message}.${field}`);
  return fieldBehaviors(f);
};

describe('google.api.field_behavior', () => {
  it('marks the server-assigned fields of every resource OUTPUT_ONLY', () => {
    const resources = messages.filter((m) => m.fields.some((f) => f.name === 'create_time'));
    expect(resources.map((m) => m.name).sort()).toEqual([
      'ApiKey',
      'Client',
      'Connection',
      'Project',
      'Provider',
      'WebhookDelivery',
      'WebhookEndpoint',
      'WebhookSecretInfo',
    ]);
    for (const m of resources) {
      // An API key never changes (rotation makes a new one): it has no update_time.
      for (const name of ['id', 'create_time', 'update_time'].filter((n) => m.fields.some((f) => f.name === n))) {
        expect(behaviourOf(m.name, name), `${m.name}.${name}`).toEqual([FieldBehavior.OUTPUT_ONLY]);
      }
    }
  });

  it('marks write-only secrets INPUT_ONLY and their "is set" flags OUTPUT_ONLY', () => {
    for (const m of messages) {
      for (const f of m.fields) {
        if (f.name === 'client_secret_set') expect(fieldBehaviors(f), `${m.name}.${f.name}`).toEqual([FieldBehavior.OUTPUT_ONLY]);
        if (f.name === 'client_secret' && m.fields.some((x) => x.name === 'client_secret_set')) {
          expect(fieldBehaviors(f), `${m.name}.${f.name}`).toEqual([FieldBehavior.INPUT_ONLY]);
        }
      }
    }
  });

  it('marks what an update cannot change IMMUTABLE', () => {
    // ProviderService refuses `name` and `auth_type` in an update mask; ClientRegistry has no `type` in its mask.
    expect(behaviourOf('Provider', 'name')).toEqual([FieldBehavior.IMMUTABLE]);
    expect(behaviourOf('Provider', 'auth_type')).toEqual([FieldBehavior.IMMUTABLE]);
    expect(behaviourOf('Client', 'type')).toEqual([FieldBehavior.IMMUTABLE]);
    expect(behaviourOf('Project', 'name')).toEqual([FieldBehavior.IMMUTABLE]);
  });

  it('marks the resource key of every request that names one REQUIRED', () => {
    for (const m of messages.filter((x) => x.name.endsWith('Request'))) {
      for (const f of m.fields) {
        const isKey = (f.name === 'connection_id' && m.name !== 'ListConnectionsRequest') || (f.name === 'client_id' && /^(Get|Delete)Client/.test(m.name));
        if (isKey) expect(fieldBehaviors(f), `${m.name}.${f.name}`).toContain(FieldBehavior.REQUIRED);
      }
    }
    expect(behaviourOf('GetProviderRequest', 'provider')).toContain(FieldBehavior.REQUIRED);
    expect(behaviourOf('DeleteProviderRequest', 'provider')).toContain(FieldBehavior.REQUIRED);
    // WebhookService: every endpoint_id and delivery_id that names the resource acted on.
    for (const m of messages.filter((x) => x.name.endsWith('Request'))) {
      for (const f of m.fields.filter((x) => x.name === 'endpoint_id' || x.name === 'delivery_id')) {
        expect(fieldBehaviors(f), `${m.name}.${f.name}`).toContain(FieldBehavior.REQUIRED);
      }
    }
  });

  it('marks every field of a webhook delivery, and the server-set ones of an endpoint, OUTPUT_ONLY', () => {
    const delivery = messages.find((m) => m.name === 'WebhookDelivery')!;
    for (const f of delivery.fields) expect(fieldBehaviors(f), `WebhookDelivery.${f.name}`).toEqual([FieldBehavior.OUTPUT_ONLY]);
    for (const name of ['id', 'project_id', 'secrets', 'create_time', 'update_time']) {
      expect(behaviourOf('WebhookEndpoint', name), `WebhookEndpoint.${name}`).toEqual([FieldBehavior.OUTPUT_ONLY]);
    }
    expect(behaviourOf('WebhookEndpoint', 'url')).toEqual([FieldBehavior.REQUIRED]);
  });
});
