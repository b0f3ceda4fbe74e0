"""protoc plugin for the gRPC Python stubs (*_pb2_grpc.py).

grpcio-tools compiles the grpc_python generator into its bundled protoc but ships no
standalone plugin binary, and buf only runs protoc's own generators (python, pyi, ...) as
`protoc_builtin`. This plugin bridges the two: it reads the CodeGeneratorRequest from buf,
hands the files to grpcio-tools' protoc with --grpc_python_out, and returns what that wrote
as the CodeGeneratorResponse. buf.gen.yaml runs it with the .tools/venv Python (see
scripts/install-generators.sh).
"""

import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL

    with tempfile.TemporaryDirectory() as tmp:
        descriptor_set = os.path.join(tmp, "request.binpb")
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        # proto_file is in dependency order, as --descriptor_set_in needs.
        with open(descriptor_set, "wb") as f:
            f.write(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())

        args = ["protoc", f"--descriptor_set_in={descriptor_set}", f"--grpc_python_out={out_dir}"]
        if request.parameter:
            args.append(f"--grpc_python_opt={request.parameter}")
        args.extend(request.file_to_generate)

        if protoc.main(args) != 0:
            response.error = "grpc_python generation failed (see the messages above)"
        else:
            names = []
            for dirpath, _, filenames in os.walk(out_dir):
                for filename in filenames:
                    names.append(os.path.relpath(os.path.join(dirpath, filename), out_dir))
            for name in sorted(names):
                with open(os.path.join(out_dir, name), encoding="utf-8") as f:
                    response.file.add(name=name.replace(os.sep, "/"), content=f.read())

    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    sys.exit(main())
