package openapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/openapi"
)

// widgetModule is a module whose tag documents widgetRoutes.
type widgetModule struct{ module.Base }

func (widgetModule) Routes(module.Deps) ([]httpx.Route, error) { return nil, nil }

// siteEngine mounts site's routes on a gin engine.
func siteEngine(t *testing.T, site *openapi.Site) *gin.Engine {
	t.Helper()
	engine := gin.New()
	if err := httpx.NewRouter(engine, httpx.NewValidator()).Mount("docs", openapi.SystemTag.Name, "", site.Routes()); err != nil {
		t.Fatal(err)
	}
	return engine
}

func get(engine http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	engine.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// TestSiteServesThePublishedDocument checks that the site answers 503 before Publish,
// that Publish fails at once on a route table Build rejects, and that afterwards
// concurrent first requests all get the bytes JSON and YAML give for the document.
func TestSiteServesThePublishedDocument(t *testing.T) {
	site, err := openapi.NewSite(openapi.DefaultInfo())
	if err != nil {
		t.Fatal(err)
	}
	engine := siteEngine(t, site)
	w := get(engine, "/openapi.json")
	var body struct{ Code string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusServiceUnavailable || body.Code != "docs_unavailable" {
		t.Fatalf("before Publish: %d %s", w.Code, w.Body)
	}

	routes := widgetRoutes(t)
	if err := site.Publish(routes, nil); err == nil || !strings.Contains(err.Error(), `tag "widgets"`) {
		t.Fatalf("Publish of routes whose tag no module has: %v", err)
	}
	if w := get(engine, "/openapi.json"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("after a failed Publish: %d", w.Code)
	}

	mods := []module.Module{widgetModule{module.NewBase("widgets", "Widgets.", nil)}}
	if err := site.Publish(routes, mods); err != nil {
		t.Fatal(err)
	}
	doc, err := openapi.New(routes, mods)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := openapi.JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	wantYAML, err := openapi.YAML(doc)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		path, want, typ := "/openapi.json", wantJSON, openapi.TypeJSON
		if i%2 == 1 {
			path, want, typ = "/openapi.yaml", wantYAML, openapi.TypeYAML
		}
		wg.Go(func() {
			w := get(engine, path)
			if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), typ) || !bytes.Equal(w.Body.Bytes(), want) {
				t.Errorf("%s: %d %q, %d bytes, want %d", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len(), len(want))
			}
		})
	}
	wg.Wait()
}
