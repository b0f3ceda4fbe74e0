package nexusauth

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ProxyTransport is an http.RoundTripper that sends every request through
// Nexus's credential-injecting proxy instead of to the provider:
// https://api.provider.com/x?y becomes {BaseURL}/proxy/{ConnectionID}/x?y,
// authenticated with APIKey (an API key or an end user's access token with the
// `tokens` scope). The agent never holds the provider's credential. Nexus's own
// errors carry the Nexus-Error response header (docs/proxy.md); the provider's
// answers come back as they are.
//
//	httpClient := &http.Client{Transport: &nexusauth.ProxyTransport{BaseURL: nexusURL, APIKey: key, ConnectionID: id}}
type ProxyTransport struct {
	// BaseURL is Nexus's base URL, e.g. https://nexus.example.com.
	BaseURL string
	// APIKey authenticates to Nexus (sent as Authorization: Bearer).
	APIKey string
	// ConnectionID names the connection whose credential Nexus applies.
	ConnectionID string
	// APIBaseURL, when the provider's API base has a path
	// (https://www.googleapis.com/calendar/v3), is stripped from request paths:
	// Nexus appends the rest to the provider's own api_base_url.
	APIBaseURL string
	// Base carries the rewritten request (default http.DefaultTransport).
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *ProxyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base, err := url.Parse(strings.TrimRight(t.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("nexusauth: ProxyTransport.BaseURL %q is not an absolute URL", t.BaseURL)
	}
	path := req.URL.EscapedPath()
	if t.APIBaseURL != "" {
		if prefix, err := url.Parse(t.APIBaseURL); err == nil {
			p := strings.TrimRight(prefix.EscapedPath(), "/")
			if p != "" && (path == p || strings.HasPrefix(path, p+"/")) {
				path = path[len(p):]
			}
		}
	}
	out := req.Clone(req.Context())
	target := *base
	target.RawPath = base.EscapedPath() + "/proxy/" + url.PathEscape(t.ConnectionID) + path
	target.Path, _ = url.PathUnescape(target.RawPath)
	target.RawQuery = req.URL.RawQuery
	out.URL = &target
	out.Host = ""
	out.Header.Del("X-Api-Key")
	out.Header.Set("Authorization", "Bearer "+t.APIKey)
	rt := t.Base
	if rt == nil {
		rt = http.DefaultTransport
	}
	return rt.RoundTrip(out)
}
