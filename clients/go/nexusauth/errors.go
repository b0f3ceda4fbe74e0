package nexusauth

import (
	"errors"
	"fmt"
	"strings"

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
	// Err is the underlying *connect.Error.
	Err *connect.Error
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("nexus: %s: %s (%s)", e.Code, e.Message, e.Reason)
	}
	return fmt.Sprintf("nexus: %s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

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

// FromError turns an error from a Nexus RPC into an *Error (other errors are returned as is).
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
		return err
	}
	out := &Error{Code: ce.Code(), Message: ce.Message(), Metadata: map[string]string{}, Err: ce}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			continue
		}
		if info, ok := v.(*errdetails.ErrorInfo); ok {
			out.Reason = strings.TrimPrefix(info.GetReason(), "ERROR_REASON_")
			for k, val := range info.GetMetadata() {
				out.Metadata[k] = val
			}
			break
		}
	}
	return out
}
