package nexusauth

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"connectrpc.com/connect"

	"github.com/nexus-broker/nexus/gen/go/nexus/v1/nexusv1connect"
)

// Client holds the generated Nexus service clients, authenticated with an API key.
// Their errors are *Error values (see FromError and the Err* sentinels).
type Client struct {
	Providers   nexusv1connect.ProviderServiceClient
	Connections nexusv1connect.ConnectionServiceClient
	Tokens      nexusv1connect.TokenServiceClient

	mu      sync.Mutex
	sources map[string]*TokenSource
}

type options struct {
	httpClient  connect.HTTPClient
	connectOpts []connect.ClientOption
	protocol    string
}

// Option configures NewClient.
type Option func(*options)

// WithHTTPClient sets the HTTP client used to reach Nexus.
func WithHTTPClient(c connect.HTTPClient) Option { return func(o *options) { o.httpClient = c } }

// WithConnectProtocol talks the Connect protocol over HTTP/1.1 instead of gRPC.
func WithConnectProtocol() Option { return func(o *options) { o.protocol = "connect" } }

// WithClientOptions adds connect-go client options.
func WithClientOptions(opts ...connect.ClientOption) Option {
	return func(o *options) { o.connectOpts = append(o.connectOpts, opts...) }
}

// NewClient returns clients for Nexus at baseURL (e.g. "http://localhost:8080"), sending
// apiKey as a bearer token. By default it speaks gRPC: over cleartext HTTP/2 (h2c) for
// http:// URLs, over TLS for https:// URLs.
func NewClient(baseURL, apiKey string, opts ...Option) *Client {
	o := &options{protocol: "grpc"}
	for _, opt := range opts {
		opt(o)
	}
	if !strings.Contains(baseURL, "://") {
		baseURL = "http://" + baseURL
	}
	if o.httpClient == nil {
		o.httpClient = defaultHTTPClient(baseURL, o.protocol)
	}
	clientOpts := []connect.ClientOption{connect.WithInterceptors(authInterceptor(apiKey))}
	if o.protocol == "grpc" {
		clientOpts = append(clientOpts, connect.WithGRPC())
	}
	clientOpts = append(clientOpts, o.connectOpts...)
	return &Client{
		Providers:   nexusv1connect.NewProviderServiceClient(o.httpClient, baseURL, clientOpts...),
		Connections: nexusv1connect.NewConnectionServiceClient(o.httpClient, baseURL, clientOpts...),
		Tokens:      nexusv1connect.NewTokenServiceClient(o.httpClient, baseURL, clientOpts...),
	}
}

func defaultHTTPClient(baseURL, protocol string) *http.Client {
	if protocol != "grpc" || strings.HasPrefix(baseURL, "https://") {
		return &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:   &protocols,
		DialContext: (&net.Dialer{}).DialContext,
	}}
}

// authInterceptor sends the API key on every call (unary and streaming), turns
// failures into *Error (unary calls and streams alike: a stream's Err() is an *Error),
// and retries an idempotent unary call once when its connection was reset.
func authInterceptor(apiKey string) connect.Interceptor {
	return &apiKeyInterceptor{apiKey: apiKey}
}

type apiKeyInterceptor struct{ apiKey string }

func (i *apiKeyInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if i.apiKey != "" {
			req.Header().Set("Authorization", "Bearer "+i.apiKey)
		}
		res, err := next(ctx, req)
		if err != nil && idempotent(req.Spec().Procedure) && isConnectionReset(err) && ctx.Err() == nil {
			// A keep-alive socket the server (or a proxy) had just closed: the call never
			// reached Nexus, or it did and had no side effect. Once, on a fresh connection.
			res, err = next(ctx, req)
		}
		if err != nil {
			return nil, FromError(err)
		}
		return res, nil
	}
}

// idempotent: the calls that are safe to send twice (Get*, List*; GetToken included).
func idempotent(procedure string) bool {
	method := procedure[strings.LastIndex(procedure, "/")+1:]
	return strings.HasPrefix(method, "Get") || strings.HasPrefix(method, "List")
}

func (i *apiKeyInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if i.apiKey != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+i.apiKey)
		}
		return typedStreamConn{conn}
	}
}

// typedStreamConn turns a stream's failures into *Error, as for unary calls: the error
// of Send, Receive (so the stream's Err()) and CloseResponse.
type typedStreamConn struct{ connect.StreamingClientConn }

func (c typedStreamConn) Send(msg any) error {
	return streamError(c.StreamingClientConn.Send(msg))
}

func (c typedStreamConn) Receive(msg any) error {
	return streamError(c.StreamingClientConn.Receive(msg))
}

func (c typedStreamConn) CloseResponse() error {
	return streamError(c.StreamingClientConn.CloseResponse())
}

// streamError keeps io.EOF (the end of a stream, or Send's "look at Receive") as it is.
func streamError(err error) error {
	var ce *connect.Error
	if err == nil || (errors.Is(err, io.EOF) && !errors.As(err, &ce)) {
		return err
	}
	return FromError(err)
}

func (i *apiKeyInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
