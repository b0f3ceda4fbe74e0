// Command go-release checks the Go modules' release layout and writes them, at the version
// of clients/VERSION, as a file-system module proxy (GOPROXY=file://DIR), so that a scratch
// module can `go get` them exactly as it would from a public proxy once the tags exist.
//
//	go run . -repo ../.. -proxy DIR   # check, then write DIR/<module>/@v/{list,vX.Y.Z.info,.mod,.zip}
//	go run . -repo ../.. -tags        # check, then print the two tags of the release
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

const (
	clientsPath = "github.com/nexus-broker/nexus/clients/go"
	genPath     = "github.com/nexus-broker/nexus/gen/go"
)

// modules: the module path and its directory, which is also its tag prefix.
var modules = []struct{ path, dir string }{
	{clientsPath, "clients/go"},
	{genPath, "gen/go"},
}

func main() {
	repo := flag.String("repo", ".", "the repository root")
	proxy := flag.String("proxy", "", "write a file-system module proxy into this directory")
	tags := flag.Bool("tags", false, "print the release's tags")
	flag.Parse()
	version, err := check(*repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-release:", err)
		os.Exit(1)
	}
	if *tags {
		for _, m := range modules {
			fmt.Printf("%s/%s\n", m.dir, version)
		}
	}
	if *proxy != "" {
		for _, m := range modules {
			if err := writeProxy(*proxy, m.path, filepath.Join(*repo, m.dir), version); err != nil {
				fmt.Fprintln(os.Stderr, "go-release:", err)
				os.Exit(1)
			}
		}
		fmt.Fprintf(os.Stderr, "go-release: %s and %s at %s in %s\n", clientsPath, genPath, version, *proxy)
	}
}

// check verifies what makes `go get <module>@vX.Y.Z` work once both tags exist, and returns
// "vX.Y.Z": each go.mod declares its module path and the same go directive, clients/go
// requires gen/go at exactly this version, and nexusauth.Version is clients/VERSION.
func check(repo string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(repo, "clients/VERSION"))
	if err != nil {
		return "", err
	}
	version := "v" + strings.TrimSpace(string(raw))
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return "", fmt.Errorf("clients/VERSION %q is not a semantic version X.Y.Z", raw)
	}
	var goVersion string
	for _, m := range modules {
		file := filepath.Join(repo, m.dir, "go.mod")
		data, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		mf, err := modfile.Parse(file, data, nil)
		if err != nil {
			return "", err
		}
		if mf.Module == nil || mf.Module.Mod.Path != m.path {
			return "", fmt.Errorf("%s: module path is not %s", file, m.path)
		}
		if major := semver.Major(version); major != "v0" && major != "v1" {
			return "", fmt.Errorf("%s: version %s needs the module path suffix /%s", file, version, major)
		}
		if mf.Go == nil {
			return "", fmt.Errorf("%s: no go directive", file)
		}
		if goVersion == "" {
			goVersion = mf.Go.Version
		} else if mf.Go.Version != goVersion {
			return "", fmt.Errorf("%s: go %s, but %s says go %s", file, mf.Go.Version, modules[0].dir, goVersion)
		}
		if m.path == clientsPath {
			found := false
			for _, r := range mf.Require {
				if r.Mod.Path == genPath {
					found = true
					if r.Mod.Version != version {
						return "", fmt.Errorf("%s requires %s %s; the release is %s", file, genPath, r.Mod.Version, version)
					}
				}
			}
			if !found {
				return "", fmt.Errorf("%s does not require %s", file, genPath)
			}
		}
	}
	src, err := os.ReadFile(filepath.Join(repo, "clients/go/nexusauth/version.go"))
	if err != nil {
		return "", err
	}
	if m := regexp.MustCompile(`const Version = "([^"]+)"`).FindSubmatch(src); m == nil || "v"+string(m[1]) != version {
		return "", errors.New("nexusauth.Version is not clients/VERSION")
	}
	return version, nil
}

// writeProxy lays out one module version as a GOPROXY serves it (the GOPROXY protocol:
// $base/$module/@v/list, $version.info, $version.mod, $version.zip).
func writeProxy(root, path, dir, version string) error {
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	at := filepath.Join(root, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := zip.CreateFromDir(&buf, module.Version{Path: path, Version: version}, dir); err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	info, _ := json.Marshal(map[string]any{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  goMod,
		version + ".zip":  buf.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
