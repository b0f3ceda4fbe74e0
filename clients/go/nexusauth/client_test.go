package nexusauth

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/timestamppb"

	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
	"github.com/nexus-broker/nexus/gen/go/nexus/v1/nexusv1connect"
)

// fakeNexus implements the few RPCs these tests call, in process, over h2c and HTTP/1.1.
type fakeNexus struct {
	nexusv1connect.UnimplementedTokenServiceHandler
	nexusv1connect.UnimplementedConnectionServiceHandler
	getTokens, creates atomic.Int32
	watchCursors       chan string // the resume cursor of every WatchConnection call
}

func notFound(id string) error {
	err := connect.NewError(connect.CodeNotFound, errors.New("connection not found"))
	detail, _ := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: "ERROR_REASON_CONNECTION_NOT_FOUND", Domain: "nexus", Metadata: map[string]string{"connection_id": id}})
	err.AddDetail(detail)
	return err
}

func (f *fakeNexus) GetToken(_ context.Context, req *connect.Request[nexusv1.GetTokenRequest]) (*connect.Response[nexusv1.GetTokenResponse], error) {
	f.getTokens.Add(1)
	switch req.Msg.GetConnectionId() {
	case "conn_missing":
		return nil, notFound("conn_missing")
	case "conn_busy":
		// Nexus's own UNAVAILABLE, whose message happens to read like a network failure.
		err := connect.NewError(connect.CodeUnavailable, errors.New("the provider: connection reset by peer"))
		detail, _ := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: "ERROR_REASON_PROVIDER_UNAVAILABLE", Domain: "nexus"})
		err.AddDetail(detail)
		return nil, err
	case "conn_key":
		return connect.NewResponse(&nexusv1.GetTokenResponse{Credential: &nexusv1.Credential{
			Strategy:    &nexusv1.Strategy{Type: nexusv1.StrategyType_STRATEGY_TYPE_API_KEY},
			Credentials: &nexusv1.Credential_ApiKey{ApiKey: &nexusv1.ApiKeyCredentials{ApiKey: "k"}},
		}}), nil
	}
	return connect.NewResponse(&nexusv1.GetTokenResponse{Credential: &nexusv1.Credential{
		Strategy:    &nexusv1.Strategy{Type: nexusv1.StrategyType_STRATEGY_TYPE_OAUTH2},
		Credentials: &nexusv1.Credential_Oauth2{Oauth2: &nexusv1.OAuth2Credentials{AccessToken: "at_" + req.Msg.GetConnectionId()}},
		ExpireTime:  timestamppb.New(time.Now().Add(time.Hour)),
	}}), nil
}

func (f *fakeNexus) CreateConnection(context.Context, *connect.Request[nexusv1.CreateConnectionRequest]) (*connect.Response[nexusv1.CreateConnectionResponse], error) {
	f.creates.Add(1)
	return connect.NewResponse(&nexusv1.CreateConnectionResponse{}), nil
}

func (f *fakeNexus) SubmitCredentials(context.Context, *connect.Request[nexusv1.SubmitCredentialsRequest]) (*connect.Response[nexusv1.SubmitCredentialsResponse], error) {
	err := connect.NewError(connect.CodeInvalidArgument, errors.New("credentials do not match the provider's schema"))
	info, _ := connect.NewErrorDetail(&errdetails.ErrorInfo{Reason: "ERROR_REASON_CREDENTIALS_INVALID", Domain: "nexus"})
	bad, _ := connect.NewErrorDetail(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: "credentials.api_key", Description: "is required"},
		{Field: `credentials.fields["x-y"]`, Description: "must be a string"},
	}})
	err.AddDetail(info)
	err.AddDetail(bad)
	return nil, err
}

func TestCredentialViolations(t *testing.T) {
	_, backend := startFake(t)
	nexus := NewClient(backend, "nxs_key")
	_, err := nexus.Connections.SubmitCredentials(context.Background(), connect.NewRequest(&nexusv1.SubmitCredentialsRequest{State: "s"}))
	var nerr *Error
	if !errors.As(err, &nerr) || !errors.Is(err, ErrInvalidArgument) || nerr.Reason != "CREDENTIALS_INVALID" {
		t.Fatalf("%#v", err)
	}
	want := []Violation{{"credentials.api_key", "is required"}, {`credentials.fields["x-y"]`, "must be a string"}}
	if len(nerr.Violations) != 2 || nerr.Violations[0] != want[0] || nerr.Violations[1] != want[1] {
		t.Fatalf("violations %v", nerr.Violations)
	}
}

func event(id string, status nexusv1.ConnectionStatus, cursor string) *nexusv1.WatchConnectionResponse {
	return &nexusv1.WatchConnectionResponse{Item: &nexusv1.WatchConnectionResponse_Event{Event: &nexusv1.ConnectionEvent{
		Connection: &nexusv1.Connection{Id: id, Status: status}, Cursor: cursor,
	}}}
}

func (f *fakeNexus) WatchConnection(ctx context.Context, req *connect.Request[nexusv1.WatchConnectionRequest], stream *connect.ServerStream[nexusv1.WatchConnectionResponse]) error {
	id := req.Msg.GetConnectionId()
	if f.watchCursors != nil {
		f.watchCursors <- req.Msg.GetResumeCursor()
	}
	pending := nexusv1.ConnectionStatus_CONNECTION_STATUS_PENDING
	switch id {
	case "conn_missing":
		return notFound(id)
	case "conn_consents", "conn_denies":
		_ = stream.Send(event(id, pending, "c1"))
		time.Sleep(50 * time.Millisecond)
		final := nexusv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE
		if id == "conn_denies" {
			final = nexusv1.ConnectionStatus_CONNECTION_STATUS_FAILED
		}
		return stream.Send(event(id, final, "c2"))
	case "conn_drops":
		// The first stream drops after the snapshot; the resumed one (cursor c1) sees ACTIVE.
		if req.Msg.GetResumeCursor() == "c1" {
			return stream.Send(event(id, nexusv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE, "c2"))
		}
		_ = stream.Send(event(id, pending, "c1"))
		return connect.NewError(connect.CodeUnavailable, errors.New("shutting down"))
	}
	_ = stream.Send(event(id, pending, "c1"))
	<-ctx.Done()
	return nil
}

func startFake(t *testing.T) (*fakeNexus, string) {
	t.Helper()
	f := &fakeNexus{}
	mux := http.NewServeMux()
	mux.Handle(nexusv1connect.NewTokenServiceHandler(f))
	mux.Handle(nexusv1connect.NewConnectionServiceHandler(f))
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// resetProxy forwards TCP to backend, except that it resets (RST) the first `resets`
// connections once the client has sent its request on them.
type resetProxy struct {
	ln       net.Listener
	accepted atomic.Int32
}

func startResetProxy(t *testing.T, backend string, resets int32) *resetProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &resetProxy{ln: ln}
	target := backend[len("http://"):]
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			n := p.accepted.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if n <= resets {
					_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
					_, _ = c.Read(make([]byte, 64<<10))
					time.Sleep(20 * time.Millisecond)
					_ = c.(*net.TCPConn).SetLinger(0) // close with RST
					return
				}
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return p
}

func (p *resetProxy) url() string { return "http://" + p.ln.Addr().String() }

func protocols() map[string][]Option {
	return map[string][]Option{"grpc": nil, "connect": {WithConnectProtocol()}}
}

func TestIdempotentCallIsRetriedOnceOnAResetConnection(t *testing.T) {
	for name, opts := range protocols() {
		t.Run(name, func(t *testing.T) {
			fake, backend := startFake(t)
			proxy := startResetProxy(t, backend, 1)
			nexus := NewClient(proxy.url(), "nxs_key", opts...)
			res, err := nexus.Tokens.GetToken(context.Background(), connect.NewRequest(&nexusv1.GetTokenRequest{ConnectionId: "conn_1"}))
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if got := res.Msg.GetCredential().GetOauth2().GetAccessToken(); got != "at_conn_1" {
				t.Fatalf("token %q", got)
			}
			if proxy.accepted.Load() != 2 || fake.getTokens.Load() != 1 {
				t.Fatalf("connections %d, GetToken calls at the server %d; want 2 and 1", proxy.accepted.Load(), fake.getTokens.Load())
			}
		})
	}
}

func TestIdempotentCallIsRetriedOnlyOnce(t *testing.T) {
	fake, backend := startFake(t)
	proxy := startResetProxy(t, backend, 2)
	nexus := NewClient(proxy.url(), "nxs_key")
	_, err := nexus.Tokens.GetToken(context.Background(), connect.NewRequest(&nexusv1.GetTokenRequest{ConnectionId: "conn_1"}))
	var nerr *Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &nerr) {
		t.Fatalf("err %#v, want an *Error matching ErrUnavailable", err)
	}
	if proxy.accepted.Load() != 2 || fake.getTokens.Load() != 0 {
		t.Fatalf("connections %d, calls %d; want 2 and 0", proxy.accepted.Load(), fake.getTokens.Load())
	}
}

func TestNexusAnswersAreNotRetried(t *testing.T) {
	fake, backend := startFake(t)
	nexus := NewClient(backend, "nxs_key")
	_, err := nexus.Tokens.GetToken(context.Background(), connect.NewRequest(&nexusv1.GetTokenRequest{ConnectionId: "conn_busy"}))
	var nerr *Error
	if !errors.As(err, &nerr) || nerr.Reason != "PROVIDER_UNAVAILABLE" || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("%#v", err)
	}
	if fake.getTokens.Load() != 1 {
		t.Fatalf("%d GetToken calls, want 1: an answer of Nexus is not retried", fake.getTokens.Load())
	}
}

func TestACallWithSideEffectsIsNotRetried(t *testing.T) {
	for name, opts := range protocols() {
		t.Run(name, func(t *testing.T) {
			fake, backend := startFake(t)
			proxy := startResetProxy(t, backend, 1)
			nexus := NewClient(proxy.url(), "nxs_key", opts...)
			_, err := nexus.Connections.CreateConnection(context.Background(), connect.NewRequest(&nexusv1.CreateConnectionRequest{WorkspaceId: "w"}))
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("err %v, want ErrUnavailable", err)
			}
			if proxy.accepted.Load() != 1 || fake.creates.Load() != 0 {
				t.Fatalf("connections %d, creates %d; want 1 and 0", proxy.accepted.Load(), fake.creates.Load())
			}
		})
	}
}

// An HTTP/2 connection reset before the server's SETTINGS arrived fails with x/net/http2's
// "client conn could not be established" (which of the two errors a reset gives depends on
// timing): it is a reset like the others, so an idempotent call is retried on it.
func TestConnectionLostDuringHTTP2SetupCountsAsReset(t *testing.T) {
	err := connect.NewError(connect.CodeUnavailable, errors.New("http2: client conn could not be established"))
	if !isConnectionReset(err) {
		t.Fatal("a connection lost during HTTP/2 setup is not treated as a reset")
	}
	if isConnectionReset(connect.NewError(connect.CodeUnavailable, errors.New("nexus is overloaded"))) {
		t.Fatal("an UNAVAILABLE without a reset is treated as one")
	}
}

func TestNetworkFailuresAreUnavailable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	nexus := NewClient("http://"+addr, "nxs_key")
	_, err := nexus.Tokens.GetToken(context.Background(), connect.NewRequest(&nexusv1.GetTokenRequest{ConnectionId: "c"}))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unary: %v", err)
	}
	stream, err := nexus.Connections.WatchConnection(context.Background(), connect.NewRequest(&nexusv1.WatchConnectionRequest{ConnectionId: "c"}))
	if err == nil {
		for stream.Receive() {
		}
		err = stream.Err()
	}
	var nerr *Error
	if !errors.As(err, &nerr) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("stream: %#v", err)
	}
}

func TestStreamErrorsAreTyped(t *testing.T) {
	for name, opts := range protocols() {
		t.Run(name, func(t *testing.T) {
			_, backend := startFake(t)
			nexus := NewClient(backend, "nxs_key", opts...)
			stream, err := nexus.Connections.WatchConnection(context.Background(), connect.NewRequest(&nexusv1.WatchConnectionRequest{ConnectionId: "conn_missing"}))
			if err != nil {
				t.Fatal(err)
			}
			for stream.Receive() {
				t.Fatal("no message expected")
			}
			var nerr *Error
			if err := stream.Err(); !errors.As(err, &nerr) || !errors.Is(err, ErrNotFound) {
				t.Fatalf("stream.Err() = %#v, want *Error matching ErrNotFound", err)
			}
			if nerr.Reason != "CONNECTION_NOT_FOUND" || nerr.Metadata["connection_id"] != "conn_missing" {
				t.Fatalf("reason %q metadata %v", nerr.Reason, nerr.Metadata)
			}
		})
	}
}

func TestWaitForConnection(t *testing.T) {
	_, backend := startFake(t)
	nexus := NewClient(backend, "nxs_key")
	ctx := context.Background()

	conn, err := nexus.WaitForConnection(ctx, "conn_consents")
	if err != nil || conn.GetStatus() != nexusv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE {
		t.Fatalf("consents: %v %v", conn, err)
	}
	conn, err = nexus.WaitForConnection(ctx, "conn_consents", nexusv1.ConnectionStatus_CONNECTION_STATUS_PENDING)
	if err != nil || conn.GetStatus() != nexusv1.ConnectionStatus_CONNECTION_STATUS_PENDING {
		t.Fatalf("waiting for PENDING: %v %v", conn, err)
	}

	conn, err = nexus.WaitForConnection(ctx, "conn_denies")
	var serr *StatusError
	if !errors.Is(err, ErrConnectionEnded) || !errors.As(err, &serr) || errors.Is(err, ErrAttentionRequired) {
		t.Fatalf("denies: %v", err)
	}
	if conn.GetStatus() != nexusv1.ConnectionStatus_CONNECTION_STATUS_FAILED || serr.Connection.GetId() != "conn_denies" {
		t.Fatalf("denies: %v %v", conn, serr.Connection)
	}

	if _, err = nexus.WaitForConnection(ctx, "conn_missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = nexus.WaitForConnection(short, "conn_stays_pending")
	var nerr *Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &nerr) || nerr.Code != connect.CodeDeadlineExceeded {
		t.Fatalf("timeout: %#v", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("the timeout took %s", waited)
	}
}

func TestWaitForConnectionResumesADroppedStream(t *testing.T) {
	fake, backend := startFake(t)
	fake.watchCursors = make(chan string, 10)
	nexus := NewClient(backend, "nxs_key")
	conn, err := nexus.WaitForConnection(context.Background(), "conn_drops")
	if err != nil || conn.GetStatus() != nexusv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE {
		t.Fatalf("%v %v", conn, err)
	}
	if first, second := <-fake.watchCursors, <-fake.watchCursors; first != "" || second != "c1" {
		t.Fatalf("cursors %q %q, want \"\" then c1", first, second)
	}
}

func TestOneTokenSourcePerConnection(t *testing.T) {
	fake, backend := startFake(t)
	var auths []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer api.Close()
	nexus := NewClient(backend, "nxs_key")
	if nexus.TokenSource("conn_1") != nexus.TokenSource("conn_1") || nexus.TokenSource("conn_1") == nexus.TokenSource("conn_2") {
		t.Fatal("TokenSource is not one per connection")
	}
	for range 3 {
		res, err := nexus.HTTPClient("conn_1").Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if fake.getTokens.Load() != 1 {
		t.Fatalf("%d GetToken calls for three HTTPClient calls, want 1", fake.getTokens.Load())
	}
	nexus.Forget("conn_1")
	res, err := nexus.HTTPClient("conn_1").Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if fake.getTokens.Load() != 2 || auths[0] != "Bearer at_conn_1" || auths[3] != auths[0] {
		t.Fatalf("after Forget: %d GetToken calls, auths %v", fake.getTokens.Load(), auths)
	}
}

func TestOAuth2TokenSource(t *testing.T) {
	_, backend := startFake(t)
	var auth string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { auth = r.Header.Get("Authorization") }))
	defer api.Close()
	nexus := NewClient(backend, "nxs_key")
	ctx := context.Background()
	var ts oauth2.TokenSource = nexus.TokenSource("conn_1").OAuth2(ctx)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at_conn_1" || tok.Type() != "Bearer" || !tok.Valid() {
		t.Fatalf("token %+v", tok)
	}
	if left := time.Until(tok.Expiry); left < 58*time.Minute || left > 59*time.Minute {
		t.Fatalf("expiry in %s, want one hour less the 60 s margin", left)
	}
	res, err := oauth2.NewClient(ctx, ts).Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if auth != "Bearer at_conn_1" {
		t.Fatalf("Authorization %q", auth)
	}
	if _, err := nexus.TokenSource("conn_key").OAuth2(ctx).Token(); err == nil {
		t.Fatal("an API-key connection gave an oauth2.Token")
	}
	if _, err := nexus.TokenSource("conn_missing").OAuth2(ctx).Token(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}
