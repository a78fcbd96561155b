package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
)

// Endpoint is a typed handler: the router binds and validates In from the request,
// calls the function and writes its Out in the success envelope. In and Out are kept
// so the API document can be generated from the same route table.
type Endpoint struct {
	In, Out reflect.Type
	shape   inputShape
	newIn   func() any
	// call runs the handler on in and writes its Out with status, or returns its error.
	call func(c *gin.Context, in any, status int) error
}

// Handle returns the Endpoint of fn. In is a struct whose fields are tagged `uri:"…"`
// (path), `form:"…"` (query) or `json:"…"` (body) and validated with `binding:"…"`;
// use struct{} for none. Out is the payload of the success envelope; use struct{}
// with a 204 route.
func Handle[In, Out any](fn func(c *gin.Context, in *In) (Out, error)) Endpoint {
	return Endpoint{
		In:    reflect.TypeFor[In](),
		Out:   reflect.TypeFor[Out](),
		newIn: func() any { return new(In) },
		call: func(c *gin.Context, in any, status int) error {
			out, err := fn(c, in.(*In))
			if err != nil {
				return err
			}
			writeOK(c, status, out)
			return nil
		},
	}
}

// Route is one operation: where it is, what it does, what it takes and returns, every
// status it can answer with, and the dependencies (middleware) that run before it.
// Each route is declared once; the router and the API document both read it.
type Route struct {
	Method string
	// Path is relative to the module's base path, in gin syntax ("/:id"); "" is the base.
	Path string
	// Nested mounts the route under a resource of another module instead: "posts/:id"
	// puts Path "/comments" at /api/v1/posts/:id/comments. The other module must be
	// enabled, and the parameter named as that module names it.
	Nested string
	// OperationID is unique across the API, e.g. "getPost".
	OperationID string
	Summary     string
	Description string
	// Status is the success status; 0 means 200.
	Status int
	// Errors lists the error statuses specific to this route (e.g. 404, 409); those
	// every route of its shape can return (400, 413, 422, 500, 503, 504) are added.
	Errors   []int
	Endpoint Endpoint
	// Deps run before the endpoint, in order: authentication, loading and checking the
	// resource, and so on. Each may abort the request.
	Deps []gin.HandlerFunc
	// Secured marks routes that require a bearer token (for the API document).
	Secured bool
	// Raw, when set, serves the route instead of Endpoint and writes the whole
	// response: for bodies that are not JSON envelopes (the API document, the docs
	// page). ContentTypes lists the media types of its success response.
	Raw          gin.HandlerFunc
	ContentTypes []string
}

// MountedRoute is a Route as mounted: with its module, tag and full path.
type MountedRoute struct {
	Route
	Module string
	// Tag groups the route in the API document; "" for routes outside any module.
	Tag string
	// FullPath is the gin path, e.g. /api/v1/posts/:id.
	FullPath string
}

// SuccessStatus returns the route's success status.
func (r Route) SuccessStatus() int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}

// Statuses returns every status the route can answer with, success first, then the
// errors sorted.
func (r MountedRoute) Statuses() []int {
	set := map[int]bool{http.StatusInternalServerError: true, http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true}
	if len(r.Endpoint.shape.params) > 0 {
		set[http.StatusUnprocessableEntity] = true
	}
	if r.Endpoint.shape.body {
		for _, s := range []int{http.StatusBadRequest, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity} {
			set[s] = true
		}
	}
	for _, s := range r.Errors {
		set[s] = true
	}
	out := []int{r.SuccessStatus()}
	for s := 100; s < 600; s++ {
		if set[s] {
			out = append(out, s)
		}
	}
	return out
}

// Router mounts route tables on a gin engine and remembers them.
type Router struct {
	engine    *gin.Engine
	validator *Validator
	routes    []MountedRoute
	ops       map[string]bool
}

// NewRouter returns a Router mounting on engine.
func NewRouter(engine *gin.Engine, v *Validator) *Router {
	return &Router{engine: engine, validator: v, ops: map[string]bool{}}
}

// Engine returns the gin engine routes are mounted on.
func (r *Router) Engine() *gin.Engine { return r.engine }

// Mount registers routes under base (e.g. /api/v1/posts) for module, grouped under tag.
// It fails on a route without operation id, summary or endpoint, on a duplicate
// operation id, or on a request type it cannot bind.
func (r *Router) Mount(module, tag, base string, routes []Route) error {
	var errs []error
	for _, rt := range routes {
		full := strings.TrimSuffix(base+rt.Path, "/")
		if full == "" {
			full = "/"
		}
		switch {
		case rt.OperationID == "" || rt.Summary == "":
			errs = append(errs, fmt.Errorf("%s %s: operation id and summary are required", rt.Method, full))
			continue
		case rt.Endpoint.call == nil && rt.Raw == nil:
			errs = append(errs, fmt.Errorf("%s %s: no endpoint", rt.Method, full))
			continue
		case r.ops[rt.OperationID]:
			errs = append(errs, fmt.Errorf("%s %s: duplicate operation id %q", rt.Method, full, rt.OperationID))
			continue
		}
		handler := rt.Raw
		if handler == nil {
			shape, err := shapeOf(rt.Endpoint.In)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", rt.Method, full, err))
				continue
			}
			rt.Endpoint.shape = shape
			handler = r.handler(rt)
		}
		var handlers []gin.HandlerFunc
		if strings.Contains(full, "/:") {
			handlers = append(handlers, requireParams)
		}
		handlers = append(append(handlers, rt.Deps...), handler)
		if err := r.handle(rt.Method, full, handlers); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", rt.Method, full, err))
			continue
		}
		if rt.Method == http.MethodGet {
			// HEAD is GET without the body, which net/http drops.
			if err := r.handle(http.MethodHead, full, handlers); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", http.MethodHead, full, err))
				continue
			}
		}
		r.ops[rt.OperationID] = true
		r.routes = append(r.routes, MountedRoute{Route: rt, Module: module, Tag: tag, FullPath: full})
	}
	return errors.Join(errs...)
}

// handle registers handlers for method and path on the engine. It returns gin's
// refusal (a route already there, or a parameter named otherwise than an existing
// one at the same place) as an error instead of a panic.
func (r *Router) handle(method, path string, handlers []gin.HandlerFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("conflicts with a mounted route: %v", p)
		}
	}()
	r.engine.Handle(method, path, handlers...)
	return nil
}

// requireParams answers 404 route_not_found when a path parameter is empty, as in
// /api/v1/users//deactivate: gin matches such a path, but no documented route does.
func requireParams(c *gin.Context) {
	for _, p := range c.Params {
		if p.Value == "" {
			Fail(c, ErrRouteNotFound)
			return
		}
	}
}

// Routes returns the mounted routes in registration order.
func (r *Router) Routes() []MountedRoute {
	return append([]MountedRoute(nil), r.routes...)
}

func (r *Router) handler(rt Route) gin.HandlerFunc {
	ep, status := rt.Endpoint, rt.SuccessStatus()
	return func(c *gin.Context) {
		in := ep.newIn()
		if err := ep.shape.bind(c, in); err != nil {
			Fail(c, err)
			return
		}
		if err := r.validator.Struct(in); err != nil {
			Fail(c, err)
			return
		}
		if err := ep.call(c, in, status); err != nil {
			Fail(c, err)
		}
	}
}
