package app_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/openapi"
)

// Bounds of the contract fuzzer; QUARRY_FUZZ_SEED and QUARRY_FUZZ_CASES override the
// seed and the number of cases per operation (a failure prints the seed to replay).
const (
	fuzzDefaultSeed  = 20260101
	fuzzDefaultCases = 60
)

// TestContractFuzz is a property-based check of the API against its own document:
// for every documented operation it generates requests from the schemas — valid
// ones and ones broken in a single way (a missing or mistyped field, a value out of
// range, control characters, malformed JSON, a bad token, a bad request id…) —
// anonymous and signed in as a user and as an admin, and asserts of every answer: no
// 5xx; a status, content type, headers and body the document declares for the
// operation (apptest's contract check); the envelope, with the X-Request-ID of the
// response in every error body. The generator is seeded and runs in one goroutine
// on a fresh database, so a failure replays with the seed it prints.
func TestContractFuzz(t *testing.T) {
	t.Parallel()
	seed := envInt(t, "QUARRY_FUZZ_SEED", fuzzDefaultSeed)
	cases := envInt(t, "QUARRY_FUZZ_CASES", fuzzDefaultCases)
	srv := apptest.New(t, apptest.Options{Env: map[string]string{
		"RATE_LIMIT_DEFAULT":             "off",
		"AUTH_LOGIN_PER_ACCOUNT":         "off",
		"AUTH_LOGIN_PER_ADDRESS":         "off",
		"AUTH_LOGIN_PER_ACCOUNT_ADDRESS": "off",
		"PASSWORD_MEMORY_KIB":            "1024",
		"PASSWORD_ITERATIONS":            "1",
	}})
	built, err := openapi.New(srv.App.Routes(), srv.App.Modules())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := openapi.JSON(built)
	if err != nil {
		t.Fatal(err)
	}
	doc := loadDoc(t, raw)

	user := srv.SeedUser(t, "fuzz-user@example.com", "user")
	admin := srv.SeedUser(t, "fuzz-admin@example.com", "admin")
	principals := [][]string{nil, srv.Bearer(t, user), srv.Bearer(t, admin)}
	for i := range 5 { // something for ids to find
		srv.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": fmt.Sprintf("seed %d", i), "status": "published"}, principals[1+i%2]...)
	}

	g := &fuzzGen{rng: rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)), ids: []int64{user, admin, 1, 2, 3}}
	stats := fuzzStats{byStatus: map[int]int{}}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		methods := sortedKeys(item.Operations())
		for _, method := range methods {
			op := item.GetOperation(method)
			stats.operations++
			for n := range cases {
				c := g.request(path, method, op, principals)
				resp, problems := srv.Check(c.method, c.target, c.body, c.headers...)
				stats.count(resp.Status, c.valid)
				problems = append(problems, envelopeProblems(c.method, strings.HasPrefix(path, "/api/"), resp)...)
				// Readiness answers 503 by design until the server serves (Serve).
				if resp.Status >= 500 && op.OperationID != "readyz" {
					problems = append(problems, fmt.Sprintf("status %d", resp.Status))
				}
				if len(problems) > 0 {
					stats.failures++
					if stats.failures <= 20 {
						t.Errorf("contract fuzz (replay: QUARRY_FUZZ_SEED=%d QUARRY_FUZZ_CASES=%d go test -run TestContractFuzz ./internal/app), %s case %d [%s]:\n  %s %s %s\n  headers %q\n  answered %d %s\n  %s",
							seed, cases, op.OperationID, n, c.mutation, c.method, c.target, bodyText(c.body), c.headers,
							resp.Status, clipBody(resp.Body), strings.Join(problems, "\n  "))
					}
				}
			}
		}
	}
	t.Logf("contract fuzz: seed %d, %d operations × %d cases = %d requests (%d valid, %d broken); statuses %s; %d failures",
		seed, stats.operations, cases, stats.requests, stats.valid, stats.requests-stats.valid, stats.statuses(), stats.failures)
	if stats.operations < 20 {
		t.Errorf("only %d operations in the document", stats.operations)
	}
}

// envelopeProblems checks what every answer carries: an X-Request-ID; a JSON
// envelope with code, msg and data when there is a body (successes of routes outside
// /api — the document, the docs, metrics — have their own formats, which the
// contract check covers); and, in an error, the same request id in data.request_id.
func envelopeProblems(method string, api bool, resp *apptest.Response) []string {
	id := resp.Header.Get("X-Request-ID")
	if id == "" {
		return []string{"no X-Request-ID header"}
	}
	if method == http.MethodHead || resp.Status == http.StatusNoContent || len(resp.Body) == 0 {
		return nil
	}
	if !api && resp.Status < 400 {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return []string{fmt.Sprintf("content type %q, want the JSON envelope", resp.Header.Get("Content-Type"))}
	}
	var env struct {
		Code *string `json:"code"`
		Msg  *string `json:"msg"`
		Data *struct {
			RequestID string `json:"request_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &env); err != nil || env.Code == nil || env.Msg == nil {
		return []string{"body is not the envelope"}
	}
	if resp.Status >= 400 && (env.Data == nil || env.Data.RequestID != id) {
		return []string{fmt.Sprintf("error body request id differs from the header's %q", id)}
	}
	return nil
}

// fuzzStats counts what the fuzzer sent and got.
type fuzzStats struct {
	operations, requests, valid, failures int
	byStatus                              map[int]int
}

func (s *fuzzStats) count(status int, valid bool) {
	s.requests++
	if valid {
		s.valid++
	}
	s.byStatus[status]++
}

func (s *fuzzStats) statuses() string {
	codes := make([]int, 0, len(s.byStatus))
	for c := range s.byStatus {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, s.byStatus[c])
	}
	return strings.Join(parts, " ")
}

// fuzzCase is one generated request.
type fuzzCase struct {
	method, target string
	body           any // nil, a string sent as is, or a value sent as JSON
	headers        []string
	valid          bool
	mutation       string // what was broken, "valid" when nothing
}

// fuzzGen generates requests from an operation's schemas with a seeded source.
type fuzzGen struct {
	rng *rand.Rand
	ids []int64 // ids likely to exist
}

// request returns a request for op at path: valid half the time, otherwise broken in
// one way, chosen at random.
func (g *fuzzGen) request(path, method string, op *openapi3.Operation, principals [][]string) fuzzCase {
	c := fuzzCase{method: method, valid: true, mutation: "valid"}
	if p := principals[g.rng.IntN(len(principals))]; p != nil {
		c.headers = append(c.headers, p...)
	}
	breakIt := g.rng.IntN(2) == 0
	var candidates []string
	if breakIt {
		candidates = append(candidates, "token", "request-id", "query-unknown")
		if op.RequestBody != nil {
			candidates = append(candidates, "body-missing", "body-malformed", "body-array", "body-field")
		}
		for _, p := range op.Parameters {
			candidates = append(candidates, p.Value.In+":"+p.Value.Name)
		}
	}
	mutation := ""
	if len(candidates) > 0 {
		mutation = candidates[g.rng.IntN(len(candidates))]
		c.valid, c.mutation = false, mutation
	}

	target := path
	query := url.Values{}
	for _, ref := range op.Parameters {
		p := ref.Value
		var v string
		switch {
		case mutation == p.In+":"+p.Name:
			v = g.badScalar(p.Schema.Value)
		case p.In == "path":
			v = g.paramValue(p.Schema.Value)
		case !p.Required && g.rng.IntN(2) == 0:
			continue
		default:
			v = g.paramValue(p.Schema.Value)
		}
		if p.In == "path" {
			target = strings.Replace(target, "{"+p.Name+"}", url.PathEscape(v), 1)
		} else if p.In == "query" {
			query.Add(p.Name, v)
		}
	}
	if mutation == "query-unknown" {
		query.Add("no_such_param", "1")
	}
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	c.target = target

	if op.RequestBody != nil {
		schema := op.RequestBody.Value.Content.Get("application/json").Schema.Value
		switch mutation {
		case "body-missing":
			c.body = nil
		case "body-malformed":
			c.body = []string{`{`, `{"a":`, `nul`, `{"x":1}}`, "\x00", `"just a string"`}[g.rng.IntN(6)]
		case "body-array":
			c.body = "[]"
		case "body-field":
			c.body = g.brokenObject(schema)
		default:
			c.body = g.value(schema, 0)
		}
	}
	switch mutation {
	case "token":
		c.headers = append(c.headers, "Authorization", []string{"Bearer garbage", "Basic YTpi", "Bearer ", "Bearer a.b.c"}[g.rng.IntN(4)])
	case "request-id":
		c.headers = append(c.headers, "X-Request-ID", []string{"has space", strings.Repeat("x", 300), "<script>", "ok-id-123"}[g.rng.IntN(4)])
	}
	return c
}

// paramValue returns a valid value for a path or query parameter.
func (g *fuzzGen) paramValue(s *openapi3.Schema) string {
	if s.Type.Is("integer") && g.rng.IntN(2) == 0 {
		return strconv.FormatInt(g.ids[g.rng.IntN(len(g.ids))], 10)
	}
	return scalarText(g.value(s, 0))
}

// badScalar returns a text that a parameter of schema s does not accept.
func (g *fuzzGen) badScalar(s *openapi3.Schema) string {
	bad := []string{"", "abc", "-1", "0", "99999999999999999999", "1.5", "%00", "\x01", strings.Repeat("z", 600), "null", "' OR 1=1 --"}
	if s.Max != nil {
		bad = append(bad, strconv.FormatFloat(*s.Max+1, 'f', -1, 64))
	}
	return bad[g.rng.IntN(len(bad))]
}

func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		b, _ := json.Marshal(x)
		return strings.Trim(string(b), `"`)
	}
}

// brokenObject returns a valid value of schema s with one field missing, mistyped,
// out of range or full of control characters.
func (g *fuzzGen) brokenObject(s *openapi3.Schema) any {
	obj, ok := g.value(s, 0).(map[string]any)
	props := sortedKeys(s.Properties)
	if !ok || len(props) == 0 {
		return map[string]any{"unexpected": true}
	}
	name := props[g.rng.IntN(len(props))]
	switch g.rng.IntN(5) {
	case 0:
		delete(obj, name)
	case 1:
		obj[name] = []any{map[string]any{"nested": 1}}
	case 2:
		obj[name] = "ctl\x00\x01\x7f" + strings.Repeat("é", g.rng.IntN(300))
	case 3:
		obj[name] = 1e21
	default:
		obj[name] = nil
	}
	return obj
}

// value returns a value that schema s accepts, with optional properties present half
// the time.
func (g *fuzzGen) value(s *openapi3.Schema, depth int) any {
	if s == nil {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[g.rng.IntN(len(s.Enum))]
	}
	for _, alts := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if len(alts) > 0 {
			return g.value(alts[g.rng.IntN(len(alts))].Value, depth+1)
		}
	}
	switch {
	case s.Type.Includes("object") || len(s.Properties) > 0:
		obj := map[string]any{}
		for _, name := range sortedKeys(s.Properties) { // in a fixed order, so a seed replays
			if slices.Contains(s.Required, name) || (depth < 3 && g.rng.IntN(2) == 0) {
				obj[name] = g.value(s.Properties[name].Value, depth+1)
			}
		}
		return obj
	case s.Type.Includes("array"):
		n := int(s.MinItems) + g.rng.IntN(3)
		if s.MaxItems != nil {
			n = min(n, int(*s.MaxItems))
		}
		out := make([]any, n)
		for i := range out {
			out[i] = g.value(s.Items.Value, depth+1)
		}
		return out
	case s.Type.Includes("integer"):
		lo, hi := 1.0, 1000.0
		if s.Min != nil {
			lo = *s.Min
		}
		if s.Max != nil {
			hi = *s.Max
		}
		if hi < lo {
			hi = lo
		}
		return int64(lo) + g.rng.Int64N(int64(hi-lo)+1)
	case s.Type.Includes("number"):
		return float64(g.rng.IntN(1000)) / 10
	case s.Type.Includes("boolean"):
		return g.rng.IntN(2) == 0
	case s.Type.Includes("string"):
		return g.text(s)
	}
	return nil
}

// text returns a string s accepts: by format, else letters within the length bounds.
func (g *fuzzGen) text(s *openapi3.Schema) string {
	switch s.Format {
	case "email":
		return fmt.Sprintf("fuzz%d@example.com", g.rng.IntN(1_000_000))
	case "date-time":
		return time.Date(2026, 1, 1+g.rng.IntN(28), g.rng.IntN(24), 0, 0, 0, time.UTC).Format(time.RFC3339)
	}
	lo := int(s.MinLength)
	hi := lo + 16
	if s.MaxLength != nil {
		hi = min(hi, int(*s.MaxLength))
	}
	n := lo + g.rng.IntN(hi-lo+1)
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = letters[g.rng.IntN(len(letters)-1)] // no trailing spaces from the last one
	}
	return string(b)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

func bodyText(b any) string {
	switch x := b.(type) {
	case nil:
		return "(no body)"
	case string:
		return strconv.Quote(x)
	default:
		raw, _ := json.Marshal(x)
		return string(raw)
	}
}

func clipBody(b []byte) string {
	if len(b) > 500 {
		return string(b[:500]) + "…"
	}
	return string(b)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
