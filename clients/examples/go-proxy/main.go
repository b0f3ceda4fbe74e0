// An agent that reaches a provider's API only through Nexus's proxy (nexusauth.ProxyTransport),
// driven by test/clients/go-proxy.test.ts against a live Nexus and a local provider API:
// a streamed download, a streamed upload, and Nexus's own refusals as typed errors. First,
// one GetToken through a TCP proxy that resets the first connection (the reset retry). It
// prints one line per step and waits for a line on stdin where the test has to act.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"connectrpc.com/connect"

	"github.com/nexus-broker/nexus/clients/go/nexusauth"
	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
)

func main() {
	stdin := bufio.NewReader(os.Stdin)

	// GetToken through a TCP proxy that resets the first connection: retried once, succeeds.
	resetting := nexusauth.NewClient(os.Getenv("NEXUS_RESET_URL"), os.Getenv("NEXUS_API_KEY"))
	tok, err := resetting.Tokens.GetToken(context.Background(), connect.NewRequest(&nexusv1.GetTokenRequest{ConnectionId: os.Getenv("CONNECTION_ID")}))
	if err != nil {
		fail(err)
	}
	fmt.Println("token after reset", tok.Msg.GetCredential().GetStrategy().GetType())
	client := &http.Client{Transport: &nexusauth.ProxyTransport{
		BaseURL:      os.Getenv("NEXUS_URL"),
		APIKey:       os.Getenv("NEXUS_API_KEY"),
		ConnectionID: os.Getenv("CONNECTION_ID"),
		APIBaseURL:   "https://api.example.com/v2",
	}}

	// Download: each line is printed as it arrives (the API holds the second one back
	// until the test has seen the first printed).
	res, err := client.Get("https://api.example.com/v2/stream?lines=2")
	if err != nil {
		fail(err)
	}
	lines := bufio.NewReader(res.Body)
	for {
		line, err := lines.ReadString('\n')
		if line != "" {
			fmt.Println("got", strings.TrimSpace(line))
		}
		if err != nil {
			break
		}
	}
	res.Body.Close()
	fmt.Println("download", res.StatusCode, res.Header.Get("X-Ratelimit-Remaining"))

	// Upload of unknown length: the second part is written only once the test says the API
	// has received the first.
	body, writer := io.Pipe()
	go func() {
		fmt.Fprintln(writer, "part 1")
		fmt.Println("sent part 1")
		_, _ = stdin.ReadString('\n')
		fmt.Fprintln(writer, "part 2")
		writer.Close()
	}()
	res, err = client.Post("https://api.example.com/v2/upload", "text/plain", body)
	if err != nil {
		fail(err)
	}
	answer, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println("upload", res.StatusCode, strings.TrimSpace(string(answer)))

	// The provider's own errors come back as responses, untouched.
	res, err = client.Get("https://api.example.com/v2/teapot")
	if err != nil {
		fail(err)
	}
	res.Body.Close()
	fmt.Println("provider", res.StatusCode)

	// The test marks the connection ATTENTION_REQUIRED: Nexus refuses, typed.
	fmt.Println("await attention")
	_, _ = stdin.ReadString('\n')
	_, err = client.Get("https://api.example.com/v2/stream?lines=1")
	var nerr *nexusauth.Error
	if errors.As(err, &nerr) {
		fmt.Println("error", nerr.Code, nerr.Reason, nerr.Metadata["http_status"], errors.Is(err, nexusauth.ErrAttentionRequired))
	} else {
		fmt.Println("error untyped", err)
	}
	fmt.Println("done")
}

func fail(err error) {
	fmt.Println("fatal", err)
	os.Exit(1)
}
