/**
 * The benchmarks' reference RPC: `nexus.bench.EchoService/Echo` returns its
 * request's message. Its descriptor is built here at run time, so it never
 * reaches proto/ or gen/ (the published API) and needs no code generation.
 */
import { create, createFileRegistry, type DescMessage, type DescService, type MessageShape } from '@bufbuild/protobuf';
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';

const messageField = {
  name: 'message',
  jsonName: 'message',
  number: 1,
  type: FieldDescriptorProto_Type.STRING,
  label: FieldDescriptorProto_Label.OPTIONAL,
};

const file = create(FileDescriptorProtoSchema, {
  name: 'nexus/bench/echo.proto',
  package: 'nexus.bench',
  syntax: 'proto3',
  messageType: [
    { name: 'EchoRequest', field: [messageField] },
    { name: 'EchoResponse', field: [messageField] },
  ],
  service: [
    {
      name: 'EchoService',
      method: [{ name: 'Echo', inputType: '.nexus.bench.EchoRequest', outputType: '.nexus.bench.EchoResponse' }],
    },
  ],
});

const registry = createFileRegistry(file, () => undefined);

export const EchoService: DescService = registry.getService('nexus.bench.EchoService')!;
export const EchoRequestSchema: DescMessage = registry.getMessage('nexus.bench.EchoRequest')!;
export const EchoResponseSchema: DescMessage = registry.getMessage('nexus.bench.EchoResponse')!;

type EchoMessage = MessageShape<DescMessage> & { message: string };

/** For `createApp(..., { extraServices })`: the whole implementation is one copy. */
export function registerEcho(router: ConnectRouter): void {
  // The descriptor is only known at run time, so the implementation cannot be typed against it.
  const impl = { echo: (req: EchoMessage) => create(EchoResponseSchema, { message: req.message }) };
  router.service(EchoService, impl as never);
}
