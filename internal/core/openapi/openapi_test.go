package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/openapi"
)

type widget struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind" enum:"round,square"`
	Next      *string   `json:"next" doc:"null on the last page"`
	Total     *int64    `json:"total,omitempty"`
	Tags      []string  `json:"tags"`
	Parent    *widget   `json:"parent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	secret    string
	Skipped   string `json:"-"`
}

type createWidget struct {
	Shop   int64    `uri:"shop" binding:"gt=0" doc:"shop id"`
	DryRun bool     `form:"dry_run"`
	Trace  string   `header:"X-Trace" json:"-" binding:"max=64"`
	Name   string   `json:"name" binding:"required,max=200"`
	Kind   *string  `json:"kind" binding:"omitnil,oneof=round square"`
	Email  string   `json:"email" binding:"omitempty,email"`
	Size   int      `json:"size" binding:"gte=1,lt=100"`
	Labels []string `json:"labels" binding:"max=5,dive,min=1,max=20"`
}

type patchWidget struct {
	ID   int64                  `uri:"id" binding:"gt=0"`
	Name httpx.Optional[string] `json:"name" binding:"omitnil,min=1,max=200"`
	Kind httpx.Optional[string] `json:"kind" binding:"omitnil,oneof=round square"`
	Note httpx.Nullable[string] `json:"note" binding:"omitnil,max=10"`
	Size httpx.Nullable[int64]  `json:"size" binding:"omitnil,gte=1"`
}

type listWidgets struct {
	Limit int     `form:"limit" binding:"omitempty,min=1,max=100"`
	Sort  string  `form:"sort" binding:"omitempty,oneof=id -id"`
	Owner *int64  `form:"owner" binding:"omitnil,gt=0"`
	Q     *string `form:"q"`
}

// widgetRoutes mounts a small API on a router and returns its route table.
func widgetRoutes(t *testing.T) []httpx.MountedRoute {
	t.Helper()
	r := httpx.NewRouter(gin.New(), httpx.NewValidator())
	err := r.Mount("widgets", "widgets", "/api/v1/widgets", []httpx.Route{
		{
			Method: http.MethodPost, Path: "/:shop", OperationID: "createWidget", Summary: "Create a widget",
			Status: http.StatusCreated, Errors: []int{http.StatusConflict}, Secured: true,
			Endpoint: httpx.Handle(func(*gin.Context, *createWidget) (widget, error) { return widget{}, nil }),
		},
		{
			Method: http.MethodGet, OperationID: "listWidgets", Summary: "List widgets",
			Endpoint: httpx.Handle(func(*gin.Context, *listWidgets) ([]widget, error) { return nil, nil }),
		},
		{
			Method: http.MethodPatch, Path: "/:shop/:id", OperationID: "patchWidget", Summary: "Change a widget",
			Endpoint: httpx.Handle(func(*gin.Context, *patchWidget) (widget, error) { return widget{}, nil }),
		},
		{
			Method: http.MethodDelete, Path: "/:shop/:id", OperationID: "deleteWidget", Summary: "Delete a widget",
			Status:   http.StatusNoContent,
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (struct{}, error) { return struct{}{}, nil }),
		},
	})
	if err == nil {
		err = r.Mount("site", "", "", []httpx.Route{{
			Method: http.MethodGet, Path: "/page", OperationID: "page", Summary: "A page",
			Raw: func(*gin.Context) {}, ContentTypes: []string{"text/html"},
		}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.Routes()
}

var widgetTags = []module.Tag{{Name: "widgets", Description: "Widgets."}}

func build(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi.Build(openapi.DefaultInfo(), widgetRoutes(t), widgetTags)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := openapi.JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Validate(context.Background()); err != nil {
		t.Fatalf("invalid document: %v\n%s", err, raw)
	}
	return loaded
}

// js renders a part of the document as compact JSON for comparisons.
func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSchemasFollowTypesAndBindingRules(t *testing.T) {
	doc := build(t)
	s := doc.Components.Schemas
	for name, want := range map[string]string{
		// What the server sends: exact, required unless omitempty, null only when not omitted.
		"openapi_test.widget": `{"additionalProperties":false,"properties":{` +
			`"created_at":{"format":"date-time","type":"string"},` +
			`"id":{"format":"int64","type":"integer"},` +
			`"kind":{"enum":["round","square"],"type":"string"},` +
			`"name":{"type":"string"},` +
			`"next":{"description":"null on the last page","type":["string","null"]},` +
			`"parent":{"$ref":"#/components/schemas/openapi_test.widget"},` +
			`"tags":{"items":{"type":"string"},"type":"array"},` +
			`"total":{"format":"int64","type":"integer"}},` +
			`"required":["id","name","kind","next","tags","created_at"],"type":"object"}`,
		// What clients send: open, constrained by the binding rules, pointers nullable,
		// and so are optional fields whose zero value the rules accept (JSON null
		// leaves them at it).
		"openapi_test.createWidget": `{"properties":{` +
			`"email":{"format":"email","type":["string","null"]},` +
			`"kind":{"enum":["round","square",null],"type":["string","null"]},` +
			`"labels":{"items":{"maxLength":20,"minLength":1,"type":"string"},"maxItems":5,"type":["array","null"]},` +
			`"name":{"maxLength":200,"minLength":1,"type":"string"},` +
			`"size":{"exclusiveMaximum":100,"format":"int64","minimum":1,"type":"integer"}},` +
			`"required":["name"],"type":"object"}`,
		// Merge-patch members: optional, constrained like their value, null only
		// where they are Nullable.
		"openapi_test.patchWidget": `{"properties":{` +
			`"kind":{"enum":["round","square"],"type":"string"},` +
			`"name":{"maxLength":200,"minLength":1,"type":"string"},` +
			`"note":{"maxLength":10,"type":["string","null"]},` +
			`"size":{"format":"int64","minimum":1,"type":["integer","null"]}},` +
			`"type":"object"}`,
	} {
		if got := js(t, s[name]); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}

	create := doc.Paths.Value("/api/v1/widgets/{shop}").Post
	if got, want := js(t, create.Parameters), `[{"description":"shop id","in":"path","name":"shop","required":true,"schema":{"exclusiveMinimum":0,"format":"int64","type":"integer"}},`+
		`{"in":"query","name":"dry_run","schema":{"type":"boolean"}},`+
		`{"in":"header","name":"X-Trace","schema":{"maxLength":64,"type":"string"}}]`; got != want {
		t.Errorf("create parameters:\n got %s\nwant %s", got, want)
	}
	if got, want := js(t, create.Security), `[{"bearerAuth":[]}]`; got != want {
		t.Errorf("security %s, want %s", got, want)
	}
	if got := create.Responses.Keys(); strings.Join(got, ",") != "201,400,408,409,413,422,500,503,504" {
		t.Errorf("create statuses %v", got)
	}
	if got, want := js(t, create.Responses.Status(201).Value.Content["application/json"].Schema), `{"additionalProperties":false,"properties":{"code":{"const":"ok","type":"string"},`+
		`"data":{"$ref":"#/components/schemas/openapi_test.widget"},"msg":{"type":"string"}},"required":["code","msg","data"],"type":"object"}`; got != want {
		t.Errorf("success envelope:\n got %s\nwant %s", got, want)
	}
	if got := js(t, create.Responses.Status(409)); got != `{"$ref":"#/components/responses/Conflict"}` {
		t.Errorf("409: %s", got)
	}

	list := doc.Paths.Value("/api/v1/widgets").Get
	// limit is omitempty: 0 skips its rules and reads as not given.
	if got, want := js(t, list.Parameters), `[{"in":"query","name":"limit","schema":{"format":"int64","maximum":100,"minimum":0,"type":"integer"}},`+
		`{"in":"query","name":"sort","schema":{"enum":["id","-id",""],"type":"string"}},`+
		`{"in":"query","name":"owner","schema":{"exclusiveMinimum":0,"format":"int64","type":"integer"}},`+
		`{"in":"query","name":"q","schema":{"type":"string"}}]`; got != want {
		t.Errorf("list parameters:\n got %s\nwant %s", got, want)
	}
	if list.Security != nil || list.RequestBody != nil {
		t.Error("list: no security and no body expected")
	}

	del := doc.Paths.Value("/api/v1/widgets/{shop}/{id}").Delete
	if len(del.Parameters) != 2 || del.Parameters[1].Value.Name != "id" || !del.Parameters[1].Value.Required {
		t.Errorf("path parameters the request type does not declare must be documented: %s", js(t, del.Parameters))
	}
	if c := del.Responses.Status(204).Value.Content; len(c) != 0 {
		t.Errorf("204 has a body: %s", js(t, c))
	}

	page := doc.Paths.Value("/page").Get
	if _, ok := page.Responses.Status(200).Value.Content["text/html"]; !ok || len(page.Tags) != 0 {
		t.Errorf("raw route: %s", js(t, page))
	}
	if len(doc.Tags) != 1 || doc.Tags[0].Name != "widgets" || doc.Tags[0].Description != "Widgets." {
		t.Errorf("tags %s", js(t, doc.Tags))
	}
	if got := js(t, doc.Components.SecuritySchemes[openapi.SecurityScheme].Value); !strings.Contains(got, `"bearerFormat":"JWT"`) || !strings.Contains(got, `"scheme":"bearer"`) {
		t.Errorf("security scheme %s", got)
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	var first []byte
	for range 5 {
		doc, err := openapi.Build(openapi.DefaultInfo(), widgetRoutes(t), widgetTags)
		if err != nil {
			t.Fatal(err)
		}
		y, err := openapi.YAML(doc)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = y
		} else if !bytes.Equal(first, y) {
			t.Fatal("two builds of the same routes differ")
		}
	}
	if !bytes.HasPrefix(first, []byte("openapi: 3.1.0\ninfo:\n")) {
		t.Errorf("YAML starts with %q", first[:40])
	}
	// The YAML holds the same document as the JSON.
	doc, _ := openapi.Build(openapi.DefaultInfo(), widgetRoutes(t), widgetTags)
	fromJSON, _ := openapi.JSON(doc)
	a, err := openapi3.NewLoader().LoadFromData(fromJSON)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openapi3.NewLoader().LoadFromData(first)
	if err != nil {
		t.Fatal(err)
	}
	if js(t, a) != js(t, b) {
		t.Error("YAML and JSON differ")
	}
}

func TestBuildRejectsMistakes(t *testing.T) {
	routes := widgetRoutes(t)
	if _, err := openapi.Build(openapi.DefaultInfo(), routes, nil); err == nil || !strings.Contains(err.Error(), `tag "widgets"`) {
		t.Errorf("a route tag outside the tag list: %v", err)
	}
	dup := append(widgetRoutes(t), routes[0])
	if _, err := openapi.Build(openapi.DefaultInfo(), dup, widgetTags); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("a route declared twice: %v", err)
	}
	bad := widgetRoutes(t)[:1]
	bad[0].Endpoint = httpx.Handle(func(*gin.Context, *struct{}) (chan int, error) { return nil, nil })
	if _, err := openapi.Build(openapi.DefaultInfo(), bad, widgetTags); err == nil || !strings.Contains(err.Error(), "cannot be written as JSON") {
		t.Errorf("an unencodable response: %v", err)
	}
}

func TestPath(t *testing.T) {
	for in, want := range map[string]string{"/a/:id": "/a/{id}", "/a/:id/b/:x_y": "/a/{id}/b/{x_y}", "/f/*rest": "/f/{rest}", "/": "/"} {
		if got := openapi.Path(in); got != want {
			t.Errorf("Path(%q) = %q, want %q", in, got, want)
		}
	}
}
