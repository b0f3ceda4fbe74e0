// An example agent using github.com/nexus-broker/nexus/clients/go (nexusauth over gRPC). It
// connects a user to every provider of the test environment, then calls each provider's API
// through nexusauth.Transport. Run by test/clients/go-client.test.ts, which plays the user;
// see the line protocol in test/clients/support.ts.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/nexus-broker/nexus/clients/go/nexusauth"
	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
)

var stdin = bufio.NewReader(os.Stdin)

func say(parts ...string) { fmt.Println(strings.Join(parts, " ")) }

func waitForUser() { _, _ = stdin.ReadString('\n') }

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, "fatal:", err)
		os.Exit(1)
	}
	return v
}

func main() {
	ctx := context.Background()
	nexus := nexusauth.NewClient(os.Getenv("NEXUS_ADDR"), os.Getenv("NEXUS_API_KEY"))
	returnURL := os.Getenv("NEXUS_RETURN_URL")
	testAPI := os.Getenv("TEST_API_URL")
	workspaceID := "go-agent-user"
	var static map[string]map[string]any
	must(0, json.Unmarshal([]byte(os.Getenv("NEXUS_STATIC_CREDENTIALS")), &static))
	connections := map[string]string{}
	var order []string

	// Static credentials: create the connection, then submit what the user typed.
	providers := make([]string, 0, len(static))
	for p := range static {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	for _, provider := range providers {
		created := must(nexus.Connections.CreateConnection(ctx, connect.NewRequest(&nexusv1.CreateConnectionRequest{
			WorkspaceId: workspaceID, Provider: &nexusv1.CreateConnectionRequest_ProviderName{ProviderName: provider}, ReturnUrl: returnURL,
		})))
		creds := must(structpb.NewStruct(static[provider]))
		submitted := must(nexus.Connections.SubmitCredentials(ctx, connect.NewRequest(&nexusv1.SubmitCredentialsRequest{State: created.Msg.GetState(), Credentials: creds})))
		connections[provider] = submitted.Msg.GetConnection().GetId()
		order = append(order, provider)
		say("connected", provider, submitted.Msg.GetConnection().GetId())
	}

	// OAuth2: the user consents in a browser.
	oauthProvider := os.Getenv("NEXUS_OAUTH_PROVIDER")
	created := must(nexus.Connections.CreateConnection(ctx, connect.NewRequest(&nexusv1.CreateConnectionRequest{
		WorkspaceId: workspaceID, Provider: &nexusv1.CreateConnectionRequest_ProviderName{ProviderName: oauthProvider}, ReturnUrl: returnURL,
	})))
	say("auth_url", created.Msg.GetAuthUrl())
	waitForUser()
	connections[oauthProvider] = created.Msg.GetConnection().GetId()
	order = append(order, oauthProvider)
	say("connected", oauthProvider, created.Msg.GetConnection().GetId())

	for _, provider := range []string{"key-header", "sigv4", oauthProvider} {
		tok := must(nexus.TokenSource(connections[provider]).Token(ctx))
		say("token", provider, tok.GetStrategy().GetType().String())
	}
	call := func(provider string) (int, error) {
		client := nexus.HTTPClient(connections[provider])
		req := must(http.NewRequestWithContext(ctx, http.MethodPost, testAPI+"/check/"+provider+"?q=a%20b&z=1", strings.NewReader(`{"hello":"world"}`)))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, res.Body)
		return res.StatusCode, nil
	}
	for _, provider := range order {
		say("call", provider, fmt.Sprint(must(call(provider))))
	}

	report := func(label string, err error) {
		var nerr *nexusauth.Error
		if err == nil || !errors.As(err, &nerr) {
			say("error", label, "none", fmt.Sprint(err))
			return
		}
		name := "Error"
		for _, s := range []struct {
			name string
			err  error
		}{{"ErrAttentionRequired", nexusauth.ErrAttentionRequired}, {"ErrNotFound", nexusauth.ErrNotFound}, {"ErrInvalidArgument", nexusauth.ErrInvalidArgument}} {
			if errors.Is(err, s.err) {
				name = s.name
				break
			}
		}
		say("error", label, name, nerr.Reason)
	}
	_, err := nexus.TokenSource("conn_00000000000000000000000000").Token(ctx)
	report("not_found", err)
	_, err = nexus.TokenSource("").Token(ctx)
	report("invalid_argument", err)

	say("await attention")
	waitForUser()
	_, err = call(oauthProvider)
	if errors.Is(err, nexusauth.ErrAttentionRequired) {
		// Show the user nexusauth.UserMessage and offer to reconnect.
	}
	report("attention_required", err)
	say("done")
}
