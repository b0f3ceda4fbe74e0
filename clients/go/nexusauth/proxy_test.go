package nexusauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A stand-in for Nexus's /proxy route: the rewrite, the key and the streamed body are what it checks.
func TestProxyTransportRewritesToTheProxy(t *testing.T) {
	var gotPath, gotQuery, gotAuth, gotBody string
	nexus := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotAuth = r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Ratelimit-Remaining", "4")
		w.WriteHeader(201)
	}))
	defer nexus.Close()
	client := &http.Client{Transport: &ProxyTransport{BaseURL: nexus.URL, APIKey: "nxs_key", ConnectionID: "conn_1", APIBaseURL: "https://www.googleapis.com/calendar/v3"}}
	req, _ := http.NewRequest("POST", "https://www.googleapis.com/calendar/v3/calendars/a%2Fb/events?maxResults=5", strings.NewReader("hello"))
	req.Header.Set("Authorization", "Bearer provider-token")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 201 || res.Header.Get("X-Ratelimit-Remaining") != "4" {
		t.Fatalf("status %d headers %v", res.StatusCode, res.Header)
	}
	if gotPath != "/proxy/conn_1/calendars/a%2Fb/events" || gotQuery != "maxResults=5" {
		t.Fatalf("path %q query %q", gotPath, gotQuery)
	}
	if gotAuth != "Bearer nxs_key" || gotBody != "hello" {
		t.Fatalf("auth %q body %q", gotAuth, gotBody)
	}
}
