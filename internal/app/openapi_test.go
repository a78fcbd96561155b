package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/openapi"
	"github.com/quarrydev/quarry/internal/modules"
)

// loadDoc loads and validates a served API document as a client would.
func loadDoc(t *testing.T, body []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid document: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

func tagsOf(doc *openapi3.T) []module.Tag {
	var out []module.Tag
	for _, tag := range doc.Tags {
		out = append(out, module.Tag{Name: tag.Name, Description: tag.Description})
	}
	return out
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	js := srv.Do(http.MethodGet, "/openapi.json", nil)
	if js.Status != http.StatusOK || !hasMediaType(js, "application/json") {
		t.Fatalf("/openapi.json: %d %q", js.Status, js.Header.Get("Content-Type"))
	}
	doc := loadDoc(t, js.Body)
	if want := openapi.Tags(modules.All()); !slices.Equal(tagsOf(doc), want) {
		t.Errorf("tags %v, want the enabled modules' %v", tagsOf(doc), want)
	}
	if doc.Components.SecuritySchemes[openapi.SecurityScheme] == nil {
		t.Error("no bearer security scheme")
	}
	for _, op := range []string{"GET /api/v1/posts/{id}", "POST /api/v1/users", "GET /openapi.json", "GET /docs", "GET /livez"} {
		if !slices.Contains(openapi.Operations(doc), op) {
			t.Errorf("operation %s is not documented", op)
		}
	}

	// The YAML is the same document.
	yml := srv.Do(http.MethodGet, "/openapi.yaml", nil)
	if yml.Status != http.StatusOK || !hasMediaType(yml, "application/yaml") {
		t.Fatalf("/openapi.yaml: %d %q", yml.Status, yml.Header.Get("Content-Type"))
	}
	fromYAML := loadDoc(t, yml.Body)
	a, _ := json.Marshal(doc)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) {
		t.Error("/openapi.yaml and /openapi.json differ")
	}
}

func TestOpenAPIFollowsEnabledModules(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"ENABLED_MODULES": "users"}})
	doc := loadDoc(t, srv.Do(http.MethodGet, "/openapi.json", nil).Body)
	users, err := module.Select(modules.All(), []string{"users"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tagsOf(doc), openapi.Tags(users); !slices.Equal(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
	var usersPaths int
	for p := range doc.Paths.Map() {
		switch {
		case strings.HasPrefix(p, "/api/v1/users"):
			usersPaths++
		case strings.HasPrefix(p, "/api/v1/"):
			t.Errorf("path %s of a disabled module is documented", p)
		}
	}
	if usersPaths == 0 {
		t.Error("no users path documented")
	}
	for name := range doc.Components.Schemas {
		if strings.HasPrefix(name, "posts.") {
			t.Errorf("schema %s of a disabled module is documented", name)
		}
	}
}

func TestDocsCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"DOCS_ENABLED": "false"}})
	for _, p := range []string{"/openapi.json", "/openapi.yaml", "/docs", "/docs/docs.js"} {
		apptest.ExpectError(t, srv.Do(http.MethodGet, p, nil), http.StatusNotFound, "route_not_found")
	}
	for _, rt := range srv.App.Routes() {
		if rt.Module == "docs" {
			t.Errorf("%s %s is mounted with DOCS_ENABLED=false", rt.Method, rt.FullPath)
		}
	}
}

// TestEveryRouteIsDocumented checks the route table of every module in the registry
// against the document: each route has an operation id and a summary, and its
// operation documents its success status (with a body unless 204) and every status
// the route can answer with.
func TestEveryRouteIsDocumented(t *testing.T) {
	t.Parallel()
	cfg, mods := apptest.Config(t, apptest.Options{DatabaseURL: "postgres://nobody@127.0.0.1:1/none"})
	routes, err := app.RouteTable(cfg, mods, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi.New(routes, mods)
	if err != nil {
		t.Fatal(err)
	}
	perModule := map[string]int{}
	for _, rt := range routes {
		where := rt.Method + " " + rt.FullPath
		perModule[rt.Module]++
		if rt.OperationID == "" || rt.Summary == "" {
			t.Errorf("%s: operation id and summary are required", where)
		}
		item := doc.Paths.Value(openapi.Path(rt.FullPath))
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s: not in the document", where)
			continue
		}
		op := item.GetOperation(rt.Method)
		if op.OperationID != rt.OperationID || op.Summary != rt.Summary {
			t.Errorf("%s: documented as %q %q", where, op.OperationID, op.Summary)
		}
		if (rt.Tag == "") != (len(op.Tags) == 0) {
			t.Errorf("%s: tags %v for module tag %q", where, op.Tags, rt.Tag)
		}
		documented := op.Responses.Keys()
		var want []string
		for _, s := range rt.Statuses() {
			want = append(want, strconv.Itoa(s))
		}
		sort.Strings(want)
		if !slices.Equal(documented, want) {
			t.Errorf("%s: documented statuses %v, want %v", where, documented, want)
		}
		success := op.Responses.Status(rt.SuccessStatus())
		if success == nil || success.Value == nil {
			t.Errorf("%s: success status %d undocumented", where, rt.SuccessStatus())
			continue
		}
		if hasBody := len(success.Value.Content) > 0; hasBody != (rt.SuccessStatus() != http.StatusNoContent) {
			t.Errorf("%s: success response body documented: %v", where, hasBody)
		}
	}
	for _, m := range modules.All() {
		if m.Tag().Name == "" || m.Tag().Description == "" {
			t.Errorf("module %s: its tag needs a name and a description", m.Name())
		}
		if perModule[m.Name()] == 0 {
			t.Errorf("module %s mounts no route", m.Name())
		}
	}
}

// inertHosts are the other hosts named in the embedded Swagger UI bundle, each only as
// inert data the page never requests: identifiers, link targets and error-message
// references. The page's Content-Security-Policy would block a request to any of them
// anyway; the list makes a new host in an upgraded bundle fail this test until
// someone has looked at it.
var inertHosts = map[string]string{
	"www.w3.org":           "XML and SVG namespace identifiers",
	"json-schema.org":      "JSON Schema dialect identifiers ($schema URIs)",
	"spec.openapis.org":    "the OpenAPI 3.1 dialect identifier",
	"datatracker.ietf.org": "RFC references in grammar comments",
	"www.rfc-editor.org":   "RFC references in grammar comments",
	"github.com":           "licence and deprecation-notice links in strings",
	"validator.swagger.io": "the default online validator, turned off by docs.js (validatorUrl: null)",
	"swagger.io":           "a base URL for resolving relative URLs, unused with an absolute document URL",
	"spdx.org":             "the link target built for an SPDX licence identifier",
	"example.com":          "sample values for hostname and email formats",
	"twitter.com":          "link targets the Markdown autolinker builds for @mentions and #hashtags",
	"www.facebook.com":     "link targets the Markdown autolinker builds for #hashtags",
	"instagram.com":        "link targets the Markdown autolinker builds for @mentions and #hashtags",
	"www.tiktok.com":       "link targets the Markdown autolinker builds for @mentions and #hashtags",
	"soundcloud.com":       "link targets the Markdown autolinker builds for @mentions",
	"redux.js.org":         "links in error messages",
	"reactjs.org":          "links in error messages",
	"fb.me":                "links in error messages",
	"vladimirgorej.com":    "a base URL for checking that a string parses as a URL",
	"base":                 "a base URL for sanitising URLs (https://base<random>)",
}

var (
	absoluteURL = regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+`)
	hostOfURL   = regexp.MustCompile(`(?i)https?://([a-z0-9.-]+)`)
	attrRef     = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	cssURL      = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")]*)`)
)

// TestDocsPageIsSelfContained checks that /docs loads nothing from another host: its
// Content-Security-Policy names no host; its HTML and stylesheets contain no absolute
// URL (a stylesheet's url() is a data: URI or a path on this server); docs.js contains
// none either; and the other hosts the vendored Swagger UI bundle names are all
// known to be inert (see inertHosts). Every file the page references is served.
func TestDocsPageIsSelfContained(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	page := srv.Do(http.MethodGet, "/docs", nil)
	if page.Status != http.StatusOK || !hasMediaType(page, "text/html") {
		t.Fatalf("/docs: %d %q", page.Status, page.Header.Get("Content-Type"))
	}
	csp := page.Header.Get("Content-Security-Policy")
	if csp != openapi.DocsCSP || strings.Contains(csp, "*") || strings.Contains(csp, "http") || strings.Contains(csp, "unsafe") {
		t.Errorf("/docs Content-Security-Policy %q, want %q with no host, wildcard or unsafe source", csp, openapi.DocsCSP)
	}
	if !strings.Contains(srv.Do(http.MethodGet, "/livez", nil).Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("other responses must keep the strict policy")
	}
	html := string(page.Body)
	if m := absoluteURL.FindString(html); m != "" {
		t.Errorf("/docs references %q", m)
	}
	refs := attrRef.FindAllStringSubmatch(html, -1)
	if len(refs) < 3 {
		t.Fatalf("/docs references %d files, expected its scripts and stylesheets", len(refs))
	}
	base, _ := url.Parse("/docs")
	for _, ref := range refs {
		u, err := url.Parse(ref[1])
		if err != nil || u.IsAbs() || u.Host != "" {
			t.Errorf("/docs references %q: want a path on this server", ref[1])
			continue
		}
		target := base.ResolveReference(u).String()
		r := srv.Do(http.MethodGet, target, nil)
		if r.Status != http.StatusOK {
			t.Errorf("%s (referenced by /docs): status %d", target, r.Status)
			continue
		}
		body := string(r.Body)
		switch {
		case hasMediaType(r, openapi.TypeCSS):
			if strings.Contains(body, "@import") {
				t.Errorf("%s imports another stylesheet", target)
			}
			for _, m := range cssURL.FindAllStringSubmatch(body, -1) {
				if v := strings.TrimSpace(m[1]); !strings.HasPrefix(v, "data:") && absoluteURL.MatchString(v) {
					t.Errorf("%s loads %q", target, v)
				}
			}
		case hasMediaType(r, openapi.TypeJS) && strings.HasSuffix(target, "/docs.js"):
			if m := absoluteURL.FindString(body); m != "" {
				t.Errorf("%s names %q", target, m)
			}
		case hasMediaType(r, openapi.TypeJS):
			for _, m := range hostOfURL.FindAllStringSubmatch(body, -1) {
				if _, ok := inertHosts[strings.ToLower(m[1])]; !ok {
					t.Errorf("%s names host %q: check that the page never requests it, then list it in inertHosts", target, m[1])
				}
			}
		}
	}
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/docs/nope.js", nil), http.StatusNotFound, "not_found")
}

// TestDocsAssetsAreCompressed checks that the large vendored files go out
// gzip-encoded to clients that accept it.
func TestDocsAssetsAreCompressed(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	plain := srv.Do(http.MethodGet, "/docs/swagger-ui-bundle.js", nil)
	gz := srv.Do(http.MethodGet, "/docs/swagger-ui-bundle.js", nil, "Accept-Encoding", "gzip, deflate")
	if plain.Status != http.StatusOK || gz.Status != http.StatusOK {
		t.Fatalf("statuses %d %d", plain.Status, gz.Status)
	}
	if gz.Header.Get("Content-Encoding") != "gzip" || len(gz.Body) >= len(plain.Body) {
		t.Errorf("gzip: Content-Encoding %q, %d bytes (plain %d)", gz.Header.Get("Content-Encoding"), len(gz.Body), len(plain.Body))
	}
}

// liar is a module whose routes break their own documentation on purpose.
type liar struct{}

func (liar) Name() string { return "liar" }
func (liar) Tag() module.Tag {
	return module.Tag{Name: "liar", Description: "Routes that break their documentation."}
}
func (liar) Config() any        { return nil }
func (liar) Requires() []string { return nil }
func (liar) Routes(module.Deps) ([]httpx.Route, error) {
	type item struct {
		A string `json:"a"`
	}
	answer := func(status int, body any) gin.HandlerFunc {
		return func(c *gin.Context) { c.AbortWithStatusJSON(status, body) }
	}
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/conflict", OperationID: "liarConflict", Summary: "answers an undeclared 409",
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (item, error) {
				return item{}, apperr.ErrConflict
			})},
		{Method: http.MethodGet, Path: "/extra", OperationID: "liarExtra", Summary: "answers an undeclared field",
			Deps:     []gin.HandlerFunc{answer(http.StatusOK, gin.H{"code": "ok", "msg": "OK", "data": gin.H{"a": "x", "b": "y"}})},
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (item, error) { return item{}, nil })},
		{Method: http.MethodGet, Path: "/lenient", OperationID: "liarLenient", Summary: "accepts what it documents as invalid",
			Deps: []gin.HandlerFunc{answer(http.StatusOK, gin.H{"code": "ok", "msg": "OK", "data": gin.H{"a": "x"}})},
			Endpoint: httpx.Handle(func(*gin.Context, *struct {
				Q int `form:"q" binding:"required,max=5"`
			}) (item, error) {
				return item{}, nil
			})},
		{Method: http.MethodGet, Path: "/html", OperationID: "liarHTML", Summary: "answers another content type",
			Raw:          func(c *gin.Context) { c.Data(http.StatusOK, "text/html", []byte("<p>hi</p>")) },
			ContentTypes: []string{"text/plain"}},
	}, nil
}

// TestContractViolationsAreCaught checks the checker Server.Do runs: an undeclared
// status, an undeclared field, a success for a request the document forbids and an
// unlisted content type are each reported, and conforming exchanges are not.
func TestContractViolationsAreCaught(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{
		Modules: append(modules.All(), liar{}),
		Env:     map[string]string{"ENABLED_MODULES": "liar"},
	})
	for _, tc := range []struct {
		target, want string
	}{
		{"/api/v1/liar/conflict", "status 409 is not documented for liarConflict"},
		{"/api/v1/liar/extra", `additional properties 'b' not allowed`},
		{"/api/v1/liar/lenient?q=9", `parameter "q"`},
		{"/api/v1/liar/lenient", `parameter "q"`},
		{"/api/v1/liar/html", `"text/html"`},
	} {
		r, problems := srv.Check(http.MethodGet, tc.target, nil)
		if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
			t.Errorf("GET %s answered %d: problems %q, want one mentioning %s", tc.target, r.Status, problems, tc.want)
		}
	}
	// Conforming exchanges, and those outside any operation.
	for _, tc := range []struct{ method, target string }{
		{http.MethodGet, "/api/v1/liar/lenient?q=3"},
		{http.MethodGet, "/api/v1/nope"},
		{http.MethodDelete, "/api/v1/liar/extra"},
		{http.MethodGet, "/livez"},
	} {
		if r, problems := srv.Check(tc.method, tc.target, nil); len(problems) > 0 {
			t.Errorf("%s %s answered %d: %v", tc.method, tc.target, r.Status, problems)
		}
	}
}

func hasMediaType(r *apptest.Response, want string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == want
}
