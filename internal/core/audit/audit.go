// Package audit writes the audit log: one row of audit_events per state-changing
// action, with who did it (the request's actor), from where (request id, client
// address, user agent), what it touched, the state before and after, and whether it
// succeeded.
//
// An event is written in the transaction of the change it records (Record takes that
// transaction), so a change never commits without its event and a rolled-back change
// leaves none. Failed attempts, which change nothing, are recorded on their own with
// RecordAlone. Before and after are stored as JSON objects with sensitive values
// redacted (see Redact). Reading the log is the audit module's business; writing it
// works whichever modules are enabled.
package audit

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Outcome says whether an audited action succeeded.
type Outcome string

// Outcomes.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// maxUserAgent is the longest user agent stored, in bytes; longer ones are cut (the
// column's check allows 512 characters), so a client's header never fails a write.
const maxUserAgent = 512

// ErrInvalidEntry reports an Entry that cannot be recorded: a malformed action or
// resource type, an unknown outcome, or a before/after that is not a JSON object. It
// is a programming error, not a client's.
var ErrInvalidEntry = errors.New("audit: invalid entry")

var (
	actionPattern       = regexp.MustCompile(`^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$`)
	resourceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Entry is one audited action.
type Entry struct {
	// Action is "<resource or module>.<verb>", e.g. "post.create", "auth.login".
	Action string
	// ResourceType names the kind of resource acted on, e.g. "post", "user".
	ResourceType string
	// ResourceID identifies the resource; "" when there is none (e.g. a batch, or a
	// failed sign-in for an unknown account).
	ResourceID string
	// ActorID is who acted. 0 means the request's authenticated user (reqctx); when
	// that is 0 too, the actor is anonymous (NULL). Set it when the request proves
	// who the actor is by other means than a bearer token, e.g. a sign-in.
	ActorID int64
	// Before is the state before the action (nil for a create), After the state
	// after it (nil for a delete). Each must encode to a JSON object; sensitive
	// values are redacted.
	Before, After any
	// Outcome is Success when empty.
	Outcome Outcome
}

// ID formats a numeric resource id for Entry.ResourceID.
func ID(id int64) string { return strconv.FormatInt(id, 10) }

// Record appends e to the audit log with q, the queries of the transaction of the
// change it records (db.Store.InTx): both commit or neither does. The actor, request id, client address and user agent
// come from ctx's reqctx.Info; the time is the transaction's. Errors: ErrInvalidEntry
// (wrapped) when e cannot be recorded or its before/after cannot be encoded; the
// insert's error, which leaves the transaction unusable, so the caller must roll back.
func Record(ctx context.Context, q db.Querier, e Entry) error {
	p, err := params(ctx, e)
	if err != nil {
		return err
	}
	if err := q.CreateAuditEvent(ctx, p); err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, db.Translate(err))
	}
	return nil
}

// RecordAlone appends e in a transaction of its own on s, for attempts that failed
// and changed nothing (e.g. a wrong password), so nothing else is to commit with it.
// Errors: as for Record, and the transaction's (see db.Store.InTx).
func RecordAlone(ctx context.Context, s *db.Store, e Entry) error {
	return s.InTx(ctx, func(q db.Querier) error { return Record(ctx, q, e) })
}

// params checks e and builds the row for it. Errors: ErrInvalidEntry, wrapped.
func params(ctx context.Context, e Entry) (sqlc.CreateAuditEventParams, error) {
	outcome := e.Outcome
	if outcome == "" {
		outcome = Success
	}
	switch {
	case !actionPattern.MatchString(e.Action):
		return sqlc.CreateAuditEventParams{}, fmt.Errorf("%w: action %q is not <resource>.<verb> in lower case", ErrInvalidEntry, e.Action)
	case !resourceTypePattern.MatchString(e.ResourceType):
		return sqlc.CreateAuditEventParams{}, fmt.Errorf("%w: %s: resource type %q", ErrInvalidEntry, e.Action, e.ResourceType)
	case outcome != Success && outcome != Failure:
		return sqlc.CreateAuditEventParams{}, fmt.Errorf("%w: %s: outcome %q", ErrInvalidEntry, e.Action, outcome)
	}
	before, err := encode(e.Before)
	if err != nil {
		return sqlc.CreateAuditEventParams{}, fmt.Errorf("%w: %s: before: %w", ErrInvalidEntry, e.Action, err)
	}
	after, err := encode(e.After)
	if err != nil {
		return sqlc.CreateAuditEventParams{}, fmt.Errorf("%w: %s: after: %w", ErrInvalidEntry, e.Action, err)
	}
	o := OriginOf(ctx, e.ActorID)
	return sqlc.CreateAuditEventParams{
		ActorID:      o.ActorID,
		Action:       e.Action,
		ResourceType: e.ResourceType,
		ResourceID:   nonEmpty(e.ResourceID),
		Before:       before,
		After:        after,
		RequestID:    o.RequestID,
		ClientIp:     o.ClientIP,
		UserAgent:    o.UserAgent,
		Outcome:      string(outcome),
	}, nil
}

// Origin is who an audited action comes from and where: the actor and the request's
// id, client address and user agent, as the columns of audit_events hold them (nil is
// NULL).
type Origin struct {
	ActorID   *int64
	RequestID *string
	ClientIP  *netip.Addr
	UserAgent *string
}

// OriginOf returns the origin of an action in ctx by actor (0 means the request's
// authenticated user, and anonymous when there is none), for statements that write
// their audit event themselves, e.g. an insert and its event in one statement.
func OriginOf(ctx context.Context, actor int64) Origin {
	info := reqctx.From(ctx)
	if actor == 0 {
		actor = info.ActorID
	}
	return Origin{
		ActorID:   nonZero(actor),
		RequestID: nonEmpty(info.RequestID),
		ClientIP:  clientAddr(info.ClientIP),
		UserAgent: nonEmpty(cleanText(info.UserAgent, maxUserAgent)),
	}
}

// encode returns the redacted JSON object of v, or nil (SQL NULL) for nil. Errors:
// v cannot be encoded, or is not an object.
func encode(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := Redact(v)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || b[0] != '{' {
		if string(b) == "null" {
			return nil, nil // a nil pointer or map: no state
		}
		return nil, fmt.Errorf("must encode to a JSON object, got %.20s", b)
	}
	return b, nil
}

// clientAddr parses the client address; anything that is not an IP address (e.g.
// outside a request) is stored as NULL.
func clientAddr(s string) *netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil
	}
	a = a.Unmap()
	return &a
}

// cleanText returns s as PostgreSQL text accepts it: valid UTF-8 without NUL bytes,
// cut to at most n bytes without splitting a character.
func cleanText(s string, n int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func nonZero(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
