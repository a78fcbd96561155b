package openapi

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	swaggerui "github.com/swaggest/swgui/v5/static"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
)

// ui holds the docs page and the script that starts Swagger UI on it.
//
//go:embed ui
var ui embed.FS

// Media types the site serves.
const (
	TypeJSON = "application/json"
	TypeYAML = "application/yaml"
	TypeHTML = "text/html"
	TypeJS   = "text/javascript"
	TypeCSS  = "text/css"
	TypePNG  = "image/png"
)

// DocsCSP is the Content-Security-Policy of the docs page: scripts, styles, images and
// requests from this server only (images also as data: URIs, which Swagger UI's
// stylesheet uses for its icons); nothing from any other host.
const DocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is a file under /docs/.
type asset struct {
	contentType string
	fsys        fs.FS
	path        string
	gzipped     bool // stored gzip-compressed

	once  sync.Once
	plain []byte // the content, uncompressed
	gz    []byte // the content, gzip-compressed when stored so
	err   error
}

// load reads the asset once.
func (a *asset) load() error {
	a.once.Do(func() {
		b, err := fs.ReadFile(a.fsys, a.path)
		if err != nil {
			a.err = fmt.Errorf("docs asset %s: %w", a.path, err)
			return
		}
		if !a.gzipped {
			a.plain = b
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err == nil {
			a.plain, err = io.ReadAll(zr)
		}
		if err != nil {
			a.err = fmt.Errorf("docs asset %s: %w", a.path, err)
			return
		}
		a.gz = b
	})
	return a.err
}

// Site serves the API document as JSON and YAML, and the interactive docs: Swagger
// UI, embedded in the binary, so the page works offline and loads nothing from other
// hosts.
type Site struct {
	info   Info
	page   []byte
	assets map[string]*asset

	doc atomic.Pointer[published] // set by Publish
}

// published is the document of a route table, encoded on first request: encoding
// the whole document as JSON and YAML allocates many times its size, which a server
// that is never asked for it should not spend (nor keep as heap) at start-up.
type published struct {
	info   Info
	routes []httpx.MountedRoute
	tags   []module.Tag

	once       sync.Once
	json, yaml []byte
	err        error
}

// encode builds and encodes the document once; it returns the error of the first try.
func (p *published) encode() error {
	p.once.Do(func() {
		doc, err := Build(p.info, p.routes, p.tags)
		if err == nil {
			p.json, err = JSON(doc)
		}
		if err == nil {
			p.yaml, err = YAML(doc)
		}
		p.err = err
	})
	return p.err
}

// NewSite returns a Site for a document described by info. It fails when the
// embedded page cannot be rendered.
func NewSite(info Info) (*Site, error) {
	tmpl, err := template.ParseFS(ui, "ui/index.html")
	if err != nil {
		return nil, fmt.Errorf("docs page: %w", err)
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, info); err != nil {
		return nil, fmt.Errorf("docs page: %w", err)
	}
	s := &Site{info: info, page: page.Bytes(), assets: map[string]*asset{
		"docs.js":              {contentType: TypeJS, fsys: ui, path: "ui/docs.js"},
		"docs.css":             {contentType: TypeCSS, fsys: ui, path: "ui/docs.css"},
		"swagger-ui-bundle.js": {contentType: TypeJS, fsys: swaggerui.FS, path: "swagger-ui-bundle.js.gz", gzipped: true},
		"swagger-ui.css":       {contentType: TypeCSS, fsys: swaggerui.FS, path: "swagger-ui.css.gz", gzipped: true},
		"favicon-16x16.png":    {contentType: TypePNG, fsys: swaggerui.FS, path: "favicon-16x16.png"},
		"favicon-32x32.png":    {contentType: TypePNG, fsys: swaggerui.FS, path: "favicon-32x32.png"},
	}}
	return s, nil
}

// Publish serves the document of routes with the tags of mods (see New) from then
// on. It builds the document to fail now as Build does, and encodes it on the first
// request for it.
func (s *Site) Publish(routes []httpx.MountedRoute, mods []module.Module) error {
	tags := Tags(mods)
	if _, err := Build(s.info, routes, tags); err != nil {
		return err
	}
	s.doc.Store(&published{info: s.info, routes: routes, tags: tags})
	return nil
}

// errNotPublished answers requests served before Publish.
var errNotPublished = apperr.New(apperr.KindUnavailable, "docs_unavailable", "the API document is not built yet")

// Routes returns the site's routes, to mount at the root: GET /openapi.json,
// /openapi.yaml, /docs and /docs/{file}.
func (s *Site) Routes() []httpx.Route {
	return []httpx.Route{
		{
			Method: http.MethodGet, Path: "/openapi.json", OperationID: "getOpenAPIJSON",
			Summary:      "The API document (JSON)",
			Description:  "This OpenAPI 3.1 document, generated from the route table; it lists the enabled modules only.",
			Raw:          s.document(TypeJSON, func(p *published) []byte { return p.json }),
			ContentTypes: []string{TypeJSON},
		},
		{
			Method: http.MethodGet, Path: "/openapi.yaml", OperationID: "getOpenAPIYAML",
			Summary:      "The API document (YAML)",
			Description:  "The same document as /openapi.json, as YAML.",
			Raw:          s.document(TypeYAML, func(p *published) []byte { return p.yaml }),
			ContentTypes: []string{TypeYAML},
		},
		{
			Method: http.MethodGet, Path: "/docs", OperationID: "getDocs",
			Summary:      "Interactive API docs",
			Description:  "Swagger UI on this document, operations grouped by module. Everything it needs is served by this server.",
			Raw:          s.docsPage,
			ContentTypes: []string{TypeHTML},
		},
		{
			Method: http.MethodGet, Path: "/docs/:file", OperationID: "getDocsAsset",
			Summary:      "A file of the interactive docs",
			Description:  "The scripts, stylesheets and icons of /docs.",
			Errors:       []int{http.StatusNotFound},
			Raw:          s.asset,
			ContentTypes: []string{TypeJS, TypeCSS, TypePNG},
		},
	}
}

func (s *Site) document(contentType string, body func(*published) []byte) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := s.doc.Load()
		if p == nil {
			httpx.Fail(c, errNotPublished)
			return
		}
		if err := p.encode(); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Data(http.StatusOK, contentType+"; charset=utf-8", body(p))
	}
}

func (s *Site) docsPage(c *gin.Context) {
	c.Header("Content-Security-Policy", DocsCSP)
	c.Data(http.StatusOK, TypeHTML+"; charset=utf-8", s.page)
}

func (s *Site) asset(c *gin.Context) {
	a, ok := s.assets[c.Param("file")]
	if !ok {
		httpx.Fail(c, apperr.ErrNotFound)
		return
	}
	if err := a.load(); err != nil {
		httpx.Fail(c, err)
		return
	}
	contentType := a.contentType
	if !strings.HasPrefix(contentType, "image/") {
		contentType += "; charset=utf-8"
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	body := a.plain
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(c.Request) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
	}
	c.Data(http.StatusOK, contentType, body)
}

// acceptsGzip reports whether the request accepts a gzip-encoded response.
func acceptsGzip(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		coding, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
