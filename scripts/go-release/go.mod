// The Go release recipe (scripts/go-release.sh): builds module zips the way the Go module
// proxy serves them. A tool of this repository, never published.
module github.com/nexus-broker/nexus/scripts/go-release

go 1.26.0

require golang.org/x/mod v0.43.0
