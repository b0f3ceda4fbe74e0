package nexusauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"connectrpc.com/connect"
)

// ProxyTransport is an http.RoundTripper that sends every request through
// Nexus's credential-injecting proxy instead of to the provider:
// https://api.provider.com/x?y becomes {BaseURL}/proxy/{ConnectionID}/x?y,
// authenticated with APIKey (an API key or an end user's access token with the
// `tokens` scope). The agent never holds the provider's credential. Nexus's own
// errors (the Nexus-Error response header, docs/proxy.md) come back from the
// http.Client call as *Error, like Transport's (errors.Is(err, ErrAttentionRequired),
// ErrNotFound, ...); the provider's answers, errors included, come back as they are,
// streamed.
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
	res, err := rt.RoundTrip(out)
	if err != nil {
		return nil, FromError(err)
	}
	if res.Header.Get("Nexus-Error") == "" {
		return res, nil
	}
	defer res.Body.Close()
	return nil, proxyError(res)
}

// proxyError reads a Nexus error answer of the proxy: {"code", "reason", "message"}.
func proxyError(res *http.Response) error {
	var body struct {
		Code    string `json:"code"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	_ = json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&body)
	var code connect.Code
	if code.UnmarshalText([]byte(body.Code)) != nil {
		code = connect.CodeUnknown
	}
	reason := res.Header.Get("Nexus-Error")
	if body.Reason != "" {
		reason = body.Reason
	}
	if body.Message == "" {
		body.Message = res.Status
	}
	return &Error{
		Code:     code,
		Reason:   strings.TrimPrefix(reason, "ERROR_REASON_"),
		Message:  body.Message,
		Metadata: map[string]string{"http_status": strconv.Itoa(res.StatusCode)},
		Err:      connect.NewError(code, errors.New(body.Message)),
	}
}
