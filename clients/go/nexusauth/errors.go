package nexusauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// Sentinels for errors.Is on errors returned by this package (and by http.Client calls that
// go through Transport).
var (
	// ErrNotFound: the connection or provider does not exist (in this project).
	ErrNotFound = errors.New("nexus: not found")
	// ErrInvalidArgument: a request field is missing or malformed.
	ErrInvalidArgument = errors.New("nexus: invalid argument")
	// ErrUnauthenticated: the API key is wrong or lacks a scope.
	ErrUnauthenticated = errors.New("nexus: unauthenticated")
	// ErrUnavailable: the provider (or Nexus) failed for now; retry later.
	ErrUnavailable = errors.New("nexus: unavailable")
	// ErrAttentionRequired: the provider rejected the refresh; the user must reconnect.
	// Never retried: show it to the user (see UserMessage) and create a new connection.
	ErrAttentionRequired = errors.New("nexus: attention required")
)

// UserMessage is a sentence to show a user when ErrAttentionRequired occurs.
const UserMessage = "Access to this service has expired or was revoked. Please reconnect your account."

// Error is an error Nexus answered with.
type Error struct {
	// Code is the Connect / gRPC code.
	Code connect.Code
	// Reason is the ErrorInfo reason without "ERROR_REASON_", e.g. "CONNECTION_NOT_FOUND".
	Reason string
	// Message is the server's message.
	Message string
	// Metadata is the ErrorInfo metadata, e.g. "connection_id" or "field".
	Metadata map[string]string
	// Violations: for CREDENTIALS_INVALID (and any error with a google.rpc.BadRequest
	// detail), one entry per broken rule, e.g. {"credentials.api_key", "is required"}.
	Violations []Violation
	// Err is the underlying *connect.Error.
	Err *connect.Error
}

// Violation is one broken rule of a request: the field path and what is wrong with it
// (never the submitted value).
type Violation struct {
	// Field is the request field path: "credentials.api_key", `fields["x-y"]`, "fields.hosts[2]".
	Field string
	// Description is the rule that was broken.
	Description string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("nexus: %s: %s (%s)", e.Code, e.Message, e.Reason)
	}
	return fmt.Sprintf("nexus: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Is matches the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrAttentionRequired:
		return e.Reason == "ATTENTION_REQUIRED"
	case ErrNotFound:
		return e.Code == connect.CodeNotFound
	case ErrInvalidArgument:
		return e.Code == connect.CodeInvalidArgument
	case ErrUnauthenticated:
		return e.Code == connect.CodeUnauthenticated || e.Code == connect.CodePermissionDenied
	case ErrUnavailable:
		return e.Code == connect.CodeUnavailable
	}
	return false
}

// FromError turns an error from a Nexus RPC into an *Error. A network failure (refused,
// reset, closed, timed out at the socket) is an *Error with Code Unavailable
// (errors.Is(err, ErrUnavailable)); other errors are returned as is.
func FromError(err error) error {
	if err == nil {
		return nil
	}
	var typed *Error
	if errors.As(err, &typed) {
		return err
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		if !isNetworkError(err) {
			return err
		}
		ce = connect.NewError(connect.CodeUnavailable, err)
	}
	code := ce.Code()
	if (code == connect.CodeUnknown || code == connect.CodeCanceled) && isNetworkError(ce.Unwrap()) {
		// connect-go reports some transport failures as Unknown (a body cut off) or as
		// Canceled (a connection reset, which it reads as the peer going away).
		code = connect.CodeUnavailable
	}
	out := &Error{Code: code, Message: ce.Message(), Metadata: map[string]string{}, Err: ce}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		switch d := v.(type) {
		case *errdetails.ErrorInfo:
			if out.Reason == "" {
				out.Reason = strings.TrimPrefix(d.GetReason(), "ERROR_REASON_")
				for k, val := range d.GetMetadata() {
					out.Metadata[k] = val
				}
			}
		case *errdetails.BadRequest:
			for _, fv := range d.GetFieldViolations() {
				out.Violations = append(out.Violations, Violation{Field: fv.GetField(), Description: fv.GetDescription()})
			}
		}
	}
	return out
}

// isNetworkError: the call failed on the wire, not at Nexus.
func isNetworkError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || isConnectionReset(err) || errors.Is(err, syscall.ECONNREFUSED)
}

// isConnectionReset: the connection was reset or closed under the call (a keep-alive
// socket the server had just closed, an HTTP/2 connection lost, or one lost before the
// server's SETTINGS arrived: x/net/http2 then says "client conn could not be established",
// and the server never saw the request).
func isConnectionReset(err error) bool {
	var ce *connect.Error
	if errors.As(err, &ce) && (connect.IsWireError(ce) || (ce.Code() != connect.CodeUnavailable && ce.Code() != connect.CodeUnknown && ce.Code() != connect.CodeCanceled)) {
		return false // Nexus answered (even UNAVAILABLE: the caller decides)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "broken pipe", "server closed idle connection", "client connection lost", "http2: server sent GOAWAY", "http2: client conn could not be established", "unexpected EOF"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
