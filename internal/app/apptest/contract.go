package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/core/openapi"
)

// contract checks exchanges against the API document of an app: the document built
// from its route table and enabled modules, as /openapi.json serves it, loaded back
// the way a client would load it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

// newContract builds, encodes, loads and validates the document of a. It fails when
// any of that fails: an invalid document fails every HTTP test.
func newContract(a *app.App) (*contract, error) {
	built, err := openapi.New(a.Routes(), a.Modules())
	if err != nil {
		return nil, err
	}
	raw, err := openapi.JSON(built)
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the API document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the API document is invalid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the API document: %w", err)
	}
	return &contract{doc: doc, router: router}, nil
}

// exchange is a request as sent (its body apart, so it can be read again) and the
// response it got.
type exchange struct {
	method, target string
	header         http.Header
	body           []byte
	resp           *Response
}

// request returns a fresh copy of the request, body included.
func (e exchange) request() *http.Request {
	r := httptest.NewRequest(e.method, e.target, bytes.NewReader(e.body))
	r.Header = e.header.Clone()
	return r
}

// check returns how the exchange departs from the document; nil when it conforms.
//
// The response is always checked: its status must be documented for the operation,
// its content type listed, its body must match the schema (responses allow no
// undocumented field) and its documented required headers must be present. The
// request is checked only when the response is a success: tests send invalid
// requests on purpose to get 400 or 422, but a success for a request the document
// forbids means the document is wrong.
//
// Exchanges that match no operation: a 404 (unknown path) or 405 (known path, other
// method) must carry the error envelope; any other answer is a violation. What the
// CORS middleware answers before routing is not checked: preflights (OPTIONS with
// Access-Control-Request-Method) and the bodiless 403 to an origin it refuses.
func (c *contract) check(e exchange) []string {
	if corsAnswer(e) {
		return nil
	}
	ctx := context.Background()
	req := e.request()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if e.resp.Status == http.StatusNotFound || e.resp.Status == http.StatusMethodNotAllowed {
			return c.checkErrorEnvelope(e.resp)
		}
		return []string{fmt.Sprintf("no documented operation (%v), yet the answer is %d", err, e.resp.Status)}
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	var problems []string
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 e.resp.Status,
		Header:                 e.resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(e.resp.Body)),
		Options:                opts,
	}
	if route.Operation.Responses.Status(e.resp.Status) == nil {
		problems = append(problems, fmt.Sprintf("response: status %d is not documented for %s (documented: %s)",
			e.resp.Status, route.Operation.OperationID, strings.Join(route.Operation.Responses.Keys(), ", ")))
	} else if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, "response: "+err.Error())
	}
	if r := route.Operation.Responses.Status(e.resp.Status); r != nil && r.Value != nil && len(r.Value.Content) == 0 && len(e.resp.Body) > 0 {
		problems = append(problems, fmt.Sprintf("response: status %d is documented without a body, yet it has one", e.resp.Status))
	}
	if e.resp.Status >= 200 && e.resp.Status < 300 {
		if err := openapi3filter.ValidateRequest(ctx, &openapi3filter.RequestValidationInput{
			Request: e.request(), PathParams: params, Route: route, Options: opts,
		}); err != nil {
			problems = append(problems, fmt.Sprintf("request (answered %d, so the document should allow it): %v", e.resp.Status, err))
		}
	}
	return problems
}

// corsAnswer reports whether the CORS middleware answered the exchange itself.
func corsAnswer(e exchange) bool {
	if e.header.Get("Origin") == "" {
		return false
	}
	preflight := e.method == http.MethodOptions && e.header.Get("Access-Control-Request-Method") != ""
	refused := e.resp.Status == http.StatusForbidden && len(e.resp.Body) == 0
	return preflight || refused
}

// checkErrorEnvelope checks a response outside any operation: JSON, the error
// envelope, the request id header.
func (c *contract) checkErrorEnvelope(resp *Response) []string {
	var problems []string
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		problems = append(problems, fmt.Sprintf("content type %q, want application/json", resp.Header.Get("Content-Type")))
	}
	if resp.Header.Get("X-Request-ID") == "" {
		problems = append(problems, "no X-Request-ID header")
	}
	var body any
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return append(problems, "body is not JSON: "+err.Error())
	}
	envelope := c.doc.Components.Schemas[openapi.ErrorSchema]
	if envelope == nil || envelope.Value == nil {
		return append(problems, "the document has no "+openapi.ErrorSchema)
	}
	if err := envelope.Value.VisitJSON(body, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		problems = append(problems, "body is not the error envelope: "+err.Error())
	}
	return problems
}
