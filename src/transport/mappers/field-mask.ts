import { isFieldSet, type DescMessage, type MessageShape } from '@bufbuild/protobuf';

/**
 * The paths an Update RPC changes (AIP-134): the update_mask when it names
 * any, else the mutable fields the request sets (a non-default scalar, a
 * non-empty list, a present message). An omitted mask never resets a field
 * the caller left out; clearing a field takes a mask naming it.
 */
export function impliedMask<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  mask: readonly string[] | undefined,
  mutable: readonly string[],
): string[] {
  if (mask && mask.length > 0) return [...mask];
  return schema.fields.filter((f) => mutable.includes(f.name) && isFieldSet(message, f)).map((f) => f.name);
}
