package nexusauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"google.golang.org/protobuf/types/known/durationpb"

	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
)

// TokenSource gets a connection's credentials with GetToken and caches them until
// RefreshMargin before they expire (static credentials, which do not expire, until
// Invalidate). Safe for concurrent use; concurrent callers share one request.
type TokenSource struct {
	client       *Client
	connectionID string
	// RefreshMargin: fetch new credentials when the cached ones expire within it (default 60s).
	RefreshMargin time.Duration
	mu            sync.Mutex
	cached        *nexusv1.Credential
}

// TokenSource returns the connection's cached token source: one per connection and Client,
// shared by every TokenSource and HTTPClient call for that connection (so by every
// http.Client they return), hence one GetToken per token lifetime however many clients
// the agent makes. Forget drops it.
func (c *Client) TokenSource(connectionID string) *TokenSource {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.sources[connectionID]; ok {
		return s
	}
	if c.sources == nil {
		c.sources = map[string]*TokenSource{}
	}
	s := &TokenSource{client: c, connectionID: connectionID, RefreshMargin: 60 * time.Second}
	c.sources[connectionID] = s
	return s
}

// Forget drops the connection's token source and its cached credentials (e.g. once the
// connection is deleted); the next TokenSource or HTTPClient call starts a new one.
func (c *Client) Forget(connectionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sources, connectionID)
}

// Token returns the connection's credentials, from the cache when fresh enough.
func (s *TokenSource) Token(ctx context.Context) (*nexusv1.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && s.fresh(s.cached) {
		return s.cached, nil
	}
	minRemaining := min(s.RefreshMargin+30*time.Second, time.Hour)
	res, err := s.client.Tokens.GetToken(ctx, connect.NewRequest(&nexusv1.GetTokenRequest{
		ConnectionId: s.connectionID,
		MinRemaining: durationpb.New(minRemaining),
	}))
	if err != nil {
		return nil, FromError(err)
	}
	s.cached = res.Msg.GetCredential()
	return s.cached, nil
}

// Refresh forces new credentials: RefreshToken for OAuth2 connections, a fresh GetToken for
// static ones. ErrAttentionRequired means the user must reconnect.
func (s *TokenSource) Refresh(ctx context.Context) (*nexusv1.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	previous := s.cached
	s.cached = nil
	if previous != nil && previous.GetStrategy().GetType() != nexusv1.StrategyType_STRATEGY_TYPE_OAUTH2 {
		res, err := s.client.Tokens.GetToken(ctx, connect.NewRequest(&nexusv1.GetTokenRequest{ConnectionId: s.connectionID}))
		if err != nil {
			return nil, FromError(err)
		}
		s.cached = res.Msg.GetCredential()
		return s.cached, nil
	}
	res, err := s.client.Tokens.RefreshToken(ctx, connect.NewRequest(&nexusv1.RefreshTokenRequest{ConnectionId: s.connectionID}))
	if err != nil {
		return nil, FromError(err)
	}
	s.cached = res.Msg.GetCredential()
	return s.cached, nil
}

// Invalidate drops the cached credentials.
func (s *TokenSource) Invalidate() {
	s.mu.Lock()
	s.cached = nil
	s.mu.Unlock()
}

func (s *TokenSource) fresh(t *nexusv1.Credential) bool {
	if t.GetExpireTime() == nil {
		return true
	}
	return time.Until(t.GetExpireTime().AsTime()) > s.RefreshMargin
}

var sigv4Headers = []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"}

// ApplyCredentials applies tok to req in place, according to its strategy. body is the
// request body (for AWS SigV4, which signs it); nil for none.
func ApplyCredentials(ctx context.Context, req *http.Request, tok *nexusv1.Credential, body []byte) error {
	switch c := tok.GetCredentials().(type) {
	case *nexusv1.Credential_Oauth2:
		req.Header.Set("Authorization", "Bearer "+c.Oauth2.GetAccessToken())
	case *nexusv1.Credential_Bearer:
		req.Header.Set("Authorization", "Bearer "+c.Bearer.GetToken())
	case *nexusv1.Credential_BasicAuth:
		raw := c.BasicAuth.GetUsername() + ":" + c.BasicAuth.GetPassword()
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(raw)))
	case *nexusv1.Credential_ApiKey:
		placement := tok.GetStrategy().GetApiKey()
		value := placement.GetPrefix() + c.ApiKey.GetApiKey()
		if placement.GetLocation() == nexusv1.ApiKeyLocation_API_KEY_LOCATION_QUERY {
			name := placement.GetName()
			if name == "" {
				name = "api_key"
			}
			q := req.URL.Query()
			q.Set(name, value)
			req.URL.RawQuery = q.Encode()
		} else {
			name := placement.GetName()
			if name == "" {
				name = "X-API-Key"
			}
			req.Header.Set(name, value)
		}
	case *nexusv1.Credential_AwsSigv4:
		for _, h := range sigv4Headers {
			req.Header.Del(h)
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{
			AccessKeyID:     c.AwsSigv4.GetAccessKeyId(),
			SecretAccessKey: c.AwsSigv4.GetSecretAccessKey(),
			SessionToken:    c.AwsSigv4.GetSessionToken(),
		}
		return v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.AwsSigv4.GetService(), c.AwsSigv4.GetRegion(), time.Now())
	default:
		return fmt.Errorf("nexus: unsupported strategy %s", tok.GetStrategy().GetType())
	}
	return nil
}

// Transport is an http.RoundTripper that injects a connection's credentials into every
// request. On a 401 from the provider it forces one refresh and retries once. Nexus errors
// come back from the http.Client call wrapping *Error (errors.Is(err, ErrAttentionRequired)).
type Transport struct {
	Source *TokenSource
	// Base is the transport that sends the requests (default http.DefaultTransport).
	Base http.RoundTripper
}

// HTTPClient returns an http.Client whose requests carry the connection's credentials,
// from the connection's shared TokenSource.
func (c *Client) HTTPClient(connectionID string) *http.Client {
	return &http.Client{Transport: &Transport{Source: c.TokenSource(connectionID)}}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	ctx := req.Context()
	send := func(tok *nexusv1.Credential) (*http.Response, error) {
		r := req.Clone(ctx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			r.ContentLength = int64(len(body))
		}
		if err := ApplyCredentials(ctx, r, tok, body); err != nil {
			return nil, err
		}
		return base.RoundTrip(r)
	}
	tok, err := t.Source.Token(ctx)
	if err != nil {
		return nil, err
	}
	res, err := send(tok)
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		return res, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if tok, err = t.Source.Refresh(ctx); err != nil {
		return nil, err
	}
	return send(tok)
}
