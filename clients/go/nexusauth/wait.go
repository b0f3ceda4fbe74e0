package nexusauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"connectrpc.com/connect"

	nexusv1 "github.com/nexus-broker/nexus/gen/go/nexus/v1"
)

// ErrConnectionEnded: WaitForConnection saw the connection reach a terminal status it was
// not waiting for (FAILED, REVOKED or ATTENTION_REQUIRED). The error is a *StatusError.
var ErrConnectionEnded = errors.New("nexus: connection ended")

// StatusError is WaitForConnection's answer when the connection reached a terminal status
// instead of a wanted one. errors.Is matches ErrConnectionEnded, and ErrAttentionRequired
// for ATTENTION_REQUIRED.
type StatusError struct {
	// Connection is the connection as last seen (its Status is the terminal one).
	Connection *nexusv1.Connection
	// Wanted are the statuses that were waited for.
	Wanted []nexusv1.ConnectionStatus
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("nexus: connection %s is %s, not %v", e.Connection.GetId(), e.Connection.GetStatus(), e.Wanted)
}

// Is matches ErrConnectionEnded, and ErrAttentionRequired for ATTENTION_REQUIRED.
func (e *StatusError) Is(target error) bool {
	return target == ErrConnectionEnded ||
		(target == ErrAttentionRequired && e.Connection.GetStatus() == nexusv1.ConnectionStatus_CONNECTION_STATUS_ATTENTION_REQUIRED)
}

var terminalStatuses = []nexusv1.ConnectionStatus{
	nexusv1.ConnectionStatus_CONNECTION_STATUS_FAILED,
	nexusv1.ConnectionStatus_CONNECTION_STATUS_REVOKED,
	nexusv1.ConnectionStatus_CONNECTION_STATUS_ATTENTION_REQUIRED,
}

// WaitForConnection watches one connection (WatchConnection) until it has one of the
// wanted statuses (default: ACTIVE) and returns it. A terminal status it was not waiting
// for (FAILED: the user denied consent or the exchange failed; REVOKED; ATTENTION_REQUIRED)
// ends the wait with the connection and a *StatusError (errors.Is ErrConnectionEnded).
// The timeout and cancellation are ctx's: past its deadline the error is an *Error with
// Code DeadlineExceeded (errors.Is(err, context.DeadlineExceeded) holds too). A dropped
// stream (UNAVAILABLE: a server restart, the network) is resumed from the last cursor;
// any other Nexus error (ErrNotFound for an unknown id, ErrUnauthenticated) ends the wait.
func (c *Client) WaitForConnection(ctx context.Context, connectionID string, wanted ...nexusv1.ConnectionStatus) (*nexusv1.Connection, error) {
	if len(wanted) == 0 {
		wanted = []nexusv1.ConnectionStatus{nexusv1.ConnectionStatus_CONNECTION_STATUS_ACTIVE}
	}
	cursor := ""
	backoff := 250 * time.Millisecond
	for {
		stream, err := c.Connections.WatchConnection(ctx, connect.NewRequest(&nexusv1.WatchConnectionRequest{
			ConnectionId: connectionID, ResumeCursor: cursor,
		}))
		if err == nil {
			for stream.Receive() {
				msg := stream.Msg()
				if hb := msg.GetHeartbeat(); hb != nil {
					cursor = hb.GetCursor()
					backoff = 250 * time.Millisecond
					continue
				}
				ev := msg.GetEvent()
				cursor = ev.GetCursor()
				conn := ev.GetConnection()
				if conn == nil {
					continue
				}
				if slices.Contains(wanted, conn.GetStatus()) {
					_ = stream.Close()
					return conn, nil
				}
				if slices.Contains(terminalStatuses, conn.GetStatus()) {
					_ = stream.Close()
					return conn, &StatusError{Connection: conn, Wanted: wanted}
				}
			}
			err = stream.Err()
			_ = stream.Close()
		}
		if ctx.Err() != nil {
			return nil, contextError(ctx)
		}
		switch {
		case err == nil || errors.Is(err, ErrUnavailable):
			// The server ended the stream (shutting down) or the network dropped it: resume.
		case connect.CodeOf(err) == connect.CodeFailedPrecondition && cursor != "":
			cursor = "" // the cursor expired: start over from a snapshot
		default:
			return nil, FromError(err)
		}
		select {
		case <-ctx.Done():
			return nil, contextError(ctx)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// contextError is ctx's error as an *Error: DeadlineExceeded or Canceled.
func contextError(ctx context.Context) error {
	code := connect.CodeCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = connect.CodeDeadlineExceeded
	}
	return FromError(connect.NewError(code, ctx.Err()))
}
