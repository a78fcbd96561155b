// Package openapi derives the OpenAPI 3.1 document of the API from its route table —
// paths, parameters, bodies, every status each route can answer with, tags and
// security — with no annotations, and serves it with interactive docs.
package openapi

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
)

// Version is the version of the API the document describes.
const Version = "1.0.0"

// Info is the document's title, version and introduction.
type Info struct {
	Title       string
	Version     string
	Description string
}

// DefaultInfo returns the Info of Quarry's API.
func DefaultInfo() Info {
	return Info{
		Title:   "Quarry API",
		Version: Version,
		Description: "Every JSON response is an envelope `{code, msg, data}`: `code` is `ok` on success and a stable " +
			"machine-readable string on failure, `data` the payload or the error details (the request id and, " +
			"for validation failures, each invalid field). Every response carries `X-Request-ID`. " +
			"Lists use keyset pagination: pass `next_cursor` back as `cursor`.",
	}
}

// The names the document gives to what every operation shares.
const (
	// SecurityScheme is the bearer token scheme of secured operations.
	SecurityScheme = "bearerAuth"
	// ErrorSchema is the component of the error envelope.
	ErrorSchema     = "ErrorEnvelope"
	headerRequestID = httpx.HeaderRequestID
	jsonType        = "application/json"
)

// SystemTag groups the routes of the server itself: health, metrics and the API
// document.
var SystemTag = module.Tag{Name: "system", Description: "The server itself: liveness, readiness, metrics and this document."}

// Tags returns the tags of mods, in their order, then SystemTag: the document's tag
// list.
func Tags(mods []module.Module) []module.Tag {
	out := make([]module.Tag, len(mods), len(mods)+1)
	for i, m := range mods {
		out[i] = m.Tag()
	}
	return append(out, SystemTag)
}

// New returns the document the server publishes for routes and the enabled modules
// mods: Build with DefaultInfo and the modules' tags.
func New(routes []httpx.MountedRoute, mods []module.Module) (*openapi3.T, error) {
	return Build(DefaultInfo(), routes, Tags(mods))
}

// Build returns the OpenAPI 3.1 document of routes, with tags as its tag list (each
// route's Tag must be one of them, or empty). It fails on a route whose request or
// response type cannot be described, on two routes with the same method and path,
// and on an unknown tag.
func Build(info Info, routes []httpx.MountedRoute, tags []module.Tag) (*openapi3.T, error) {
	// The first pass finds the types to name, the second builds with their names.
	first := newSchemaGen(nil)
	if _, err := build(first, info, routes, tags); err != nil {
		return nil, err
	}
	return build(newSchemaGen(assignNames(first.seen)), info, routes, tags)
}

func build(g *schemaGen, info Info, routes []httpx.MountedRoute, tags []module.Tag) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.1.0",
		Info:    &openapi3.Info{Title: info.Title, Version: info.Version, Description: info.Description},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas:   g.components,
			Responses: openapi3.ResponseBodies{},
			Headers:   sharedHeaders(),
			SecuritySchemes: openapi3.SecuritySchemes{
				SecurityScheme: &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
					Type: "http", Scheme: "bearer", BearerFormat: "JWT",
					Description: "An access token from the auth module, sent as `Authorization: Bearer <token>`.",
				}},
			},
		},
	}
	known := map[string]bool{}
	for _, t := range tags {
		if known[t.Name] {
			return nil, fmt.Errorf("openapi: tag %q listed twice", t.Name)
		}
		known[t.Name] = true
		doc.Tags = append(doc.Tags, &openapi3.Tag{Name: t.Name, Description: t.Description})
	}
	errEnvelope, err := g.errorEnvelope()
	if err != nil {
		return nil, err
	}
	for _, rt := range routes {
		where := rt.Method + " " + rt.FullPath
		if rt.Tag != "" && !known[rt.Tag] {
			return nil, fmt.Errorf("openapi: %s: tag %q is not among the document's tags", where, rt.Tag)
		}
		op, err := g.operation(rt, doc.Components.Responses, errEnvelope)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", where, err)
		}
		p := Path(rt.FullPath)
		item := doc.Paths.Value(p)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(p, item)
		}
		if item.GetOperation(rt.Method) != nil {
			return nil, fmt.Errorf("openapi: %s: declared twice", where)
		}
		item.SetOperation(rt.Method, op)
	}
	return doc, nil
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// Path returns the OpenAPI form of a gin path: /posts/:id becomes /posts/{id}.
func Path(ginPath string) string { return ginParam.ReplaceAllString(ginPath, "{$1}") }

// operation documents one route.
func (g *schemaGen) operation(rt httpx.MountedRoute, shared openapi3.ResponseBodies, errEnvelope *openapi3.SchemaRef) (*openapi3.Operation, error) {
	op := &openapi3.Operation{
		OperationID: rt.OperationID,
		Summary:     rt.Summary,
		Description: rt.Description,
		Responses:   openapi3.NewResponsesWithCapacity(len(rt.Statuses())),
	}
	if rt.Tag != "" {
		op.Tags = []string{rt.Tag}
	}
	if rt.Secured {
		op.Security = &openapi3.SecurityRequirements{{SecurityScheme: []string{}}}
	}
	in := rt.Endpoint.In
	if rt.Raw == nil && in == nil {
		return nil, fmt.Errorf("no endpoint")
	}
	params, err := g.parameters(in, rt.FullPath)
	if err != nil {
		return nil, err
	}
	op.Parameters = params
	if in != nil && len(jsonFields(in, request)) > 0 {
		body, err := g.schema(in, request)
		if err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
		op.RequestBody = &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{
			Required: true,
			Content:  openapi3.NewContentWithJSONSchemaRef(body),
		}}
	}
	success, err := g.success(rt)
	if err != nil {
		return nil, err
	}
	op.Responses.Set(strconv.Itoa(rt.SuccessStatus()), success)
	for _, status := range rt.Statuses()[1:] {
		name := responseName(status)
		if _, ok := shared[name]; !ok {
			shared[name] = &openapi3.ResponseRef{Value: errorResponse(status, errEnvelope)}
		}
		op.Responses.Set(strconv.Itoa(status), &openapi3.ResponseRef{Ref: "#/components/responses/" + name, Value: shared[name].Value})
	}
	return op, nil
}

// parameters documents the path and query fields of in (nil for none) and every path
// parameter of fullPath that in does not declare, as a string.
func (g *schemaGen) parameters(in reflect.Type, fullPath string) (openapi3.Parameters, error) {
	var out openapi3.Parameters
	declared := map[string]bool{}
	if in != nil {
		if in.Kind() != reflect.Struct {
			return nil, fmt.Errorf("request type %s must be a struct", in)
		}
		for i := range in.NumField() {
			f := in.Field(i)
			name, where := f.Tag.Get("uri"), openapi3.ParameterInPath
			if name == "" {
				name, where = f.Tag.Get("form"), openapi3.ParameterInQuery
			}
			if name == "" || !f.IsExported() {
				continue
			}
			t := f.Type
			for t.Kind() == reflect.Pointer {
				t = t.Elem() // an absent parameter is nil; none is ever null
			}
			s, err := g.schema(t, request)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			rs := parseBinding(f.Tag.Get("binding"))
			if err := applyRules(s, t, rs); err != nil {
				return nil, fmt.Errorf("parameter %s: %w", name, err)
			}
			declared[name] = where == openapi3.ParameterInPath
			out = append(out, &openapi3.ParameterRef{Value: &openapi3.Parameter{
				Name: name, In: where, Description: f.Tag.Get("doc"),
				Required: where == openapi3.ParameterInPath || rs.required,
				Schema:   s,
			}})
		}
	}
	for _, m := range ginParam.FindAllStringSubmatch(fullPath, -1) {
		if !declared[m[1]] {
			out = append(out, &openapi3.ParameterRef{Value: &openapi3.Parameter{
				Name: m[1], In: openapi3.ParameterInPath, Required: true,
				Schema: inline(&openapi3.Schema{Type: types("string")}),
			}})
		}
	}
	return out, nil
}

// success documents the success response: the envelope around Out, no body for 204,
// or the media types of a raw route.
func (g *schemaGen) success(rt httpx.MountedRoute) (*openapi3.ResponseRef, error) {
	status := rt.SuccessStatus()
	desc := http.StatusText(status)
	r := &openapi3.Response{Description: &desc, Headers: requestIDHeader()}
	if slices.Contains(rt.Statuses(), http.StatusTooManyRequests) {
		// Rate-limited routes tell every client where it stands.
		r.Headers[headerRateLimit] = sharedHeader(headerRateLimit)
		r.Headers[headerRateLimitPolicy] = sharedHeader(headerRateLimitPolicy)
	}
	switch {
	case rt.Raw != nil:
		if len(rt.ContentTypes) == 0 {
			return nil, fmt.Errorf("a raw route must list its content types")
		}
		r.Content = openapi3.Content{}
		for _, ct := range rt.ContentTypes {
			r.Content[ct] = openapi3.NewMediaType()
		}
	case status == http.StatusNoContent:
	default:
		data, err := g.data(rt.Endpoint.Out)
		if err != nil {
			return nil, fmt.Errorf("response: %w", err)
		}
		r.Content = openapi3.NewContentWithJSONSchemaRef(envelope(data))
	}
	return &openapi3.ResponseRef{Value: r}, nil
}

// data returns the schema of a success payload; struct{} is an empty object.
func (g *schemaGen) data(out reflect.Type) (*openapi3.SchemaRef, error) {
	if out == nil {
		return nil, fmt.Errorf("no response type")
	}
	return g.schema(out, response)
}

// envelope returns the success envelope schema around data.
func envelope(data *openapi3.SchemaRef) *openapi3.SchemaRef {
	no := false
	return inline(&openapi3.Schema{
		Type:                 types("object"),
		AdditionalProperties: openapi3.AdditionalProperties{Has: &no},
		Required:             []string{"code", "msg", "data"},
		Properties: openapi3.Schemas{
			"code": inline(&openapi3.Schema{Type: types("string"), Const: httpx.CodeOK}),
			"msg":  inline(&openapi3.Schema{Type: types("string")}),
			"data": data,
		},
	})
}

// errorEnvelope registers the error envelope and returns a reference to it.
func (g *schemaGen) errorEnvelope() (*openapi3.SchemaRef, error) {
	data, err := g.schema(reflect.TypeFor[httpx.ErrorData](), response)
	if err != nil {
		return nil, err
	}
	env := envelope(data).Value
	env.Description = "The body of every error response."
	env.Properties["code"] = inline(&openapi3.Schema{
		Type:        types("string"),
		Description: "A stable machine-readable error code, e.g. `post_not_found` or `validation_failed`.",
		Not:         inline(&openapi3.Schema{Const: httpx.CodeOK}),
	})
	g.components[ErrorSchema] = inline(env)
	return openapi3.NewSchemaRef(componentRefStart+ErrorSchema, env), nil
}

// responseName names the shared response of an error status: its status text without
// spaces, e.g. NotFound.
func responseName(status int) string {
	text := http.StatusText(status)
	if text == "" {
		return "Status" + strconv.Itoa(status)
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\'' {
			return -1
		}
		return r
	}, text)
}

// errorMeaning explains the error statuses the HTTP layer answers with.
var errorMeaning = map[int]string{
	http.StatusBadRequest:            "The request cannot be read: malformed JSON, a missing body or an invalid cursor.",
	http.StatusUnauthorized:          "A valid bearer token is required (or the credentials are wrong).",
	http.StatusForbidden:             "The caller may not do this.",
	http.StatusNotFound:              "The resource does not exist or may not be seen.",
	http.StatusConflict:              "The change conflicts with the current state, e.g. a duplicate.",
	http.StatusRequestTimeout:        "The request body was not received within BODY_READ_TIMEOUT.",
	http.StatusRequestEntityTooLarge: "The request body exceeds BODY_LIMIT.",
	http.StatusUnprocessableEntity:   "Validation failed: `data.fields` lists each invalid field with a reason and a message.",
	http.StatusTooManyRequests:       "Too many attempts: retry after `Retry-After` seconds.",
	http.StatusInternalServerError:   "An unexpected error; the details are in the server's log under the request id.",
	http.StatusServiceUnavailable:    "Overloaded or unavailable: retry after `Retry-After` seconds.",
	http.StatusGatewayTimeout:        "The request's deadline (REQUEST_TIMEOUT) passed.",
}

// errorResponse documents an error status: the error envelope, the request id and
// the headers that come with that status.
func errorResponse(status int, errEnvelope *openapi3.SchemaRef) *openapi3.Response {
	desc := errorMeaning[status]
	if desc == "" {
		desc = http.StatusText(status)
	}
	headers := requestIDHeader()
	switch status {
	case http.StatusTooManyRequests:
		headers["Retry-After"] = sharedHeader("Retry-After")
		headers[headerRateLimit] = sharedHeader(headerRateLimit)
		headers[headerRateLimitPolicy] = sharedHeader(headerRateLimitPolicy)
	case http.StatusServiceUnavailable:
		headers["Retry-After"] = sharedHeader("Retry-After")
	case http.StatusUnauthorized:
		headers["WWW-Authenticate"] = sharedHeader("WWW-Authenticate")
	}
	return &openapi3.Response{
		Description: &desc,
		Headers:     headers,
		Content:     openapi3.NewContentWithJSONSchemaRef(errEnvelope),
	}
}

// sharedHeaders returns the response headers components.
func sharedHeaders() openapi3.Headers {
	header := func(desc string, required bool, s *openapi3.Schema) *openapi3.HeaderRef {
		return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: desc, Required: required, Schema: inline(s),
		}}}
	}
	one := 1.0
	return openapi3.Headers{
		headerRequestID: header("Identifies the request in the server's logs; a sane incoming one is kept.",
			true, &openapi3.Schema{Type: types("string")}),
		"Retry-After": header("Seconds to wait before retrying.",
			false, &openapi3.Schema{Type: types("integer"), Min: &one}),
		"WWW-Authenticate": header("The authentication scheme to use (Bearer).",
			false, &openapi3.Schema{Type: types("string")}),
		headerRateLimitPolicy: header("The client's rate-limit policy, draft-ietf-httpapi-ratelimit-headers-11: "+
			"`\"<policy>\";q=<quota>;w=<window seconds>`. Absent when the route's module is not limited.",
			false, &openapi3.Schema{Type: types("string")}),
		headerRateLimit: header("Where the client stands under its policy: `\"<policy>\";r=<remaining>;t=<seconds until the quota is whole>`.",
			false, &openapi3.Schema{Type: types("string")}),
	}
}

// The rate-limit headers (draft-ietf-httpapi-ratelimit-headers-11).
const (
	headerRateLimit       = "RateLimit"
	headerRateLimitPolicy = "RateLimit-Policy"
)

func sharedHeader(name string) *openapi3.HeaderRef {
	return &openapi3.HeaderRef{Ref: "#/components/headers/" + name, Value: sharedHeaders()[name].Value}
}

func requestIDHeader() openapi3.Headers {
	return openapi3.Headers{headerRequestID: sharedHeader(headerRequestID)}
}

// Operations returns the "METHOD path" of every operation of doc, sorted.
func Operations(doc *openapi3.T) []string {
	var out []string
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+p)
		}
	}
	slices.Sort(out)
	return out
}
