// Package nexusauth is the hand-written layer over the generated Nexus clients
// (github.com/nexus-broker/nexus/gen/go/nexus/v1): an authenticated client, typed errors,
// a cached token source and an http.RoundTripper that injects a connection's credentials.
// It is not generated: it is the module github.com/nexus-broker/nexus/clients/go, outside
// gen/ (which `npm run generate` deletes and rewrites whole).
package nexusauth

// Version is the client version; it moves together with the proto API (clients/VERSION).
const Version = "0.1.0"
