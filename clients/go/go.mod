// The hand-written Go client: package nexusauth over the generated code, which is the
// module github.com/nexus-broker/nexus/gen/go (gen/, written by `npm run generate`).
// A release tags both modules at the version in clients/VERSION: clients/go/vX.Y.Z and
// gen/go/vX.Y.Z (docs/clients/go.md). The go directive is the documented minimum Go.
module github.com/nexus-broker/nexus/clients/go

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/nexus-broker/nexus/gen/go v0.1.0
	golang.org/x/oauth2 v0.38.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/aws/smithy-go v1.28.9 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261104224025-d1e00e9f33ab // indirect
)

// In this repository the generated module is the sibling directory. A program that
// requires this module does not see this line (replace applies to the main module only)
// and gets gen/go at the version required above.
replace github.com/nexus-broker/nexus/gen/go => ../../gen/go
