package app

import (
	"context"
	"embed"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"riverqueue.com/riverui"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/jobs"
)

// consoleFiles are the administration sign-in page and its script and stylesheet.
//
//go:embed console
var consoleFiles embed.FS

const (
	// consolePath is where River's UI is mounted.
	consolePath = "/admin/jobs"
	// adminCookie carries an administrator's access token for /admin/ pages.
	adminCookie = "quarry_admin"
)

// consoleCSP is the Content-Security-Policy of the administration pages: everything
// from this server only, no other host, no inline script. River's UI (React Flow,
// Headless UI) positions elements with style attributes (style-src-attr) and adds a
// few fixed <style> elements, allowed by their hashes (style-src-elem); a River UI
// upgrade that adds another shows as a blocked style in `make docs-check`.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; " +
	"style-src-elem 'self' " + consoleStyleHashes + "; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// consoleStyleHashes are the hashes of the <style> elements River's UI v0.22.0 adds.
const consoleStyleHashes = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' " +
	"'sha256-BicNZWNtbYKj2V3j74FYcaQTBvROlOLIE/QxwNX0g8o=' 'sha256-EVR5MeV1/WXCpQNrsT2clL2VL8RWGKpyh9DqR5e/SGU=' " +
	"'sha256-Nqnn8clbgv+5l0PgxcTOldg8mkMKrFn4TvPL+rYUUGg=' 'sha256-TLhT4WppGETslNOij7i7f0lOWIAda/mb166cdt4pU4c=' " +
	"'sha256-aMSnssTqaoNpTk32u2oPxKO5Ax7Tl0xshnLOe8xkKRY=' 'sha256-coEkSiSRsfjmSYFX1wAm2i/YbpXUmgjD3rowIYf2iJU=' " +
	"'sha256-gfONnZSbJF84/MyzuWjwAuVDxHO6n3FzTeXIDySDjGI=' 'sha256-skqujXORqzxt1aE0NNXxujEanPTX6raoqSscTV/Ww/Y=' " +
	"'sha256-uNvnAa7qdaIXNhgZQPKqU7NME1iFHdErPhFfjvzCATo='"

// errCrossSite answers a state-changing console request authenticated by the cookie
// that did not come from this server's own pages.
var errCrossSite = apperr.New(apperr.KindForbidden, "cross_site_request", "the request did not come from this server's pages")

// console serves the jobs console: River's UI and its JSON API under /admin/jobs,
// for administrators only, and the sign-in page a browser uses to get there.
type console struct {
	ui     *riverui.Handler
	guard  *authn.Guard
	tokens *authn.Tokens
	secure bool // cookies only over HTTPS
	stop   context.CancelFunc
}

// newConsole builds River's UI on client and starts its background services; they
// stop with close. It fails when River's UI refuses its options.
func newConsole(client *jobs.Client, guard *authn.Guard, tokens *authn.Tokens, secure bool, a *App) (*console, error) {
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    a.log.With("component", "jobs-console"),
		Prefix:    consolePath,
	})
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	if err := ui.Start(ctx); err != nil {
		stop()
		return nil, err
	}
	return &console{ui: ui, guard: guard, tokens: tokens, secure: secure, stop: stop}, nil
}

func (c *console) close() {
	if c != nil {
		c.stop()
	}
}

// mount adds the console's routes to engine. They are not part of the API document:
// they serve browsers, with bodies of River's UI.
func (c *console) mount(engine *gin.Engine) {
	page := func(name, contentType string) gin.HandlerFunc {
		return func(ctx *gin.Context) {
			b, err := consoleFiles.ReadFile("console/" + name)
			if err != nil {
				httpx.Fail(ctx, err)
				return
			}
			ctx.Header("Content-Security-Policy", consoleCSP)
			ctx.Data(http.StatusOK, contentType+"; charset=utf-8", b)
		}
	}
	engine.GET("/admin/login", page("login.html", "text/html"))
	engine.GET("/admin/login.js", page("login.js", "text/javascript"))
	engine.GET("/admin/login.css", page("login.css", "text/css"))
	engine.POST("/admin/session", c.guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin), c.signIn)
	engine.DELETE("/admin/session", c.signOut)

	chain := []gin.HandlerFunc{c.fromCookie, c.guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin), c.serveUI}
	engine.Any(consolePath, chain...)
	engine.Any(consolePath+"/*path", chain...)
}

// signIn answers 204 and sets the admin cookie to the request's bearer token, valid
// as long as the token.
func (c *console) signIn(ctx *gin.Context) {
	raw := strings.TrimSpace(strings.TrimPrefix(ctx.GetHeader("Authorization"), "Bearer"))
	claims, _, err := c.tokens.Verify(raw)
	if err != nil { // RequireAuth accepted it a moment ago
		httpx.Fail(ctx, apperr.ErrUnauthorized.Wrap(err))
		return
	}
	http.SetCookie(ctx.Writer, &http.Cookie{
		Name: adminCookie, Value: raw, Path: "/admin/",
		Expires:  claims.ExpiresAt.Time,
		MaxAge:   max(int(time.Until(claims.ExpiresAt.Time).Seconds()), 1),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
	ctx.Status(http.StatusNoContent)
}

// signOut answers 204 and clears the admin cookie.
func (c *console) signOut(ctx *gin.Context) {
	http.SetCookie(ctx.Writer, &http.Cookie{
		Name: adminCookie, Value: "", Path: "/admin/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
	ctx.Status(http.StatusNoContent)
}

// fromCookie lets a browser authenticate with the admin cookie: a request without an
// Authorization header gets the cookie's token as its bearer token. A state-changing
// request authenticated so must come from this server's pages (Origin or
// Sec-Fetch-Site), which with the SameSite=Strict cookie keeps other sites from
// acting on an administrator's behalf. A page request with neither is sent to the
// sign-in page.
func (c *console) fromCookie(ctx *gin.Context) {
	r := ctx.Request
	if r.Header.Get("Authorization") != "" {
		return
	}
	cookie, err := r.Cookie(adminCookie)
	if errors.Is(err, http.ErrNoCookie) || cookie.Value == "" {
		if r.Method == http.MethodGet && wantsHTML(r) {
			ctx.Redirect(http.StatusSeeOther, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()))
			ctx.Abort()
		}
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !sameOrigin(r) {
			httpx.Fail(ctx, errCrossSite)
			return
		}
	}
	r.Header.Set("Authorization", "Bearer "+cookie.Value)
}

// serveUI hands the request to River's UI with the console's security policy.
func (c *console) serveUI(ctx *gin.Context) {
	ctx.Header("Content-Security-Policy", consoleCSP)
	ctx.Header("Cache-Control", "no-store")
	c.ui.ServeHTTP(ctx.Writer, ctx.Request)
}

// wantsHTML reports whether r is a browser's page request.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// sameOrigin reports whether r came from a page of the host it was sent to.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}
