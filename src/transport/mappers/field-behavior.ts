import { getOption, hasOption, type DescField } from '@bufbuild/protobuf';
import { FieldBehavior, field_behavior } from '../../../gen/ts/google/api/field_behavior_pb.js';

/** The `google.api.field_behavior` annotations of a field (proto/nexus/v1), empty when it has none. */
export function fieldBehaviors(field: DescField): FieldBehavior[] {
  return hasOption(field, field_behavior) ? getOption(field, field_behavior) : [];
}

/** Set by the server, ignored in requests (AIP-203). */
export function isOutputOnly(field: DescField): boolean {
  return fieldBehaviors(field).includes(FieldBehavior.OUTPUT_ONLY);
}

export { FieldBehavior };
