package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
)

// Where a field of a request struct comes from.
const (
	inPath  = "uri"  // a path parameter: `uri:"id"`
	inQuery = "form" // a query parameter: `form:"limit"`
	inBody  = "json" // a field of the JSON body: `json:"title"`
	// inHeader is a request header: `header:"Idempotency-Key" json:"-"` (a string).
	inHeader = "header"
)

// inputShape records which parts of a request a request type reads.
type inputShape struct {
	params []paramField // path and query fields
	body   bool         // any JSON body field
}

type paramField struct {
	index []int
	name  string
	in    string
}

// shapeOf inspects a request struct type once, at route registration.
func shapeOf(t reflect.Type) (inputShape, error) {
	var s inputShape
	if t.Kind() != reflect.Struct {
		return s, fmt.Errorf("request type %s must be a struct", t)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		uri, form, header := f.Tag.Get(inPath), f.Tag.Get(inQuery), f.Tag.Get(inHeader)
		switch {
		case header != "":
			s.params = append(s.params, paramField{index: f.Index, name: http.CanonicalHeaderKey(header), in: inHeader})
		case uri != "":
			s.params = append(s.params, paramField{index: f.Index, name: uri, in: inPath})
		case form != "":
			s.params = append(s.params, paramField{index: f.Index, name: form, in: inQuery})
		case f.Tag.Get(inBody) != "-":
			s.body = true
			if _, _, ok := PatchElem(f.Type); ok && !knownPatchType(f.Type) {
				return s, fmt.Errorf("%s.%s: %s is not one of the merge-patch types the validator knows (patchTypes)", t, f.Name, f.Type)
			}
		}
	}
	for _, p := range s.params {
		if !settable(t.FieldByIndex(p.index).Type) {
			return s, fmt.Errorf("%s.%s: unsupported parameter type %s", t, p.name, t.FieldByIndex(p.index).Type)
		}
	}
	return s, nil
}

// bind fills in from the request: the JSON body first, then path, query and header
// parameters, which are reset before binding so that they only ever come from the URL
// (a body key "id" cannot redirect a request to another resource). Errors are
// *apperr.Error values: malformed bodies and unreadable parameters name the field; a
// body over the limit is apperr.ErrTooLarge.
func (s inputShape) bind(c *gin.Context, in any) error {
	if s.body {
		if err := decodeJSON(c.Request, in); err != nil {
			return err
		}
	}
	v := reflect.ValueOf(in).Elem()
	var fields []apperr.FieldError
	var query url.Values // parsed when a query parameter is first wanted
	for _, p := range s.params {
		f := v.FieldByIndex(p.index)
		f.SetZero()
		var raw string
		var present bool
		if p.in == inPath {
			raw = c.Param(p.name)
			present = raw != ""
		} else if p.in == inHeader {
			raw = Header(c.Request, p.name)
			present = raw != ""
		} else {
			if query == nil {
				query = c.Request.URL.Query()
			}
			if vals := query[p.name]; len(vals) > 0 {
				raw, present = vals[len(vals)-1], true
			}
		}
		if !present {
			continue
		}
		if err := setParam(f, raw); err != nil {
			fields = append(fields, apperr.FieldError{Field: p.name, Reason: "type", Message: fmt.Sprintf("%s %s", p.name, err)})
		}
	}
	if len(fields) > 0 {
		return apperr.Invalid(fields...)
	}
	return nil
}

// decodeJSON decodes the request body into in; unknown fields are ignored so that
// clients may send read-only fields back. The body is read as JSON whatever its
// declared Content-Type (curl -d sends form-urlencoded by default).
func decodeJSON(r *http.Request, in any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(in)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
		return apperr.ErrMalformed.Wrap(errors.New("trailing data after the JSON value"))
	}
	var (
		maxErr  *http.MaxBytesError
		typeErr *json.UnmarshalTypeError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &maxErr):
		return apperr.ErrTooLarge.Wrap(err)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return apperr.ErrBodyTimeout.Wrap(err)
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.KindBadRequest, "body_required", "the request body is required")
	case errors.As(err, &typeErr) && typeErr.Field != "" && typeErr.Value == "null":
		return apperr.Invalid(apperr.FieldError{Field: typeErr.Field, Reason: "null", Message: typeErr.Field + " must not be null"})
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return apperr.Invalid(apperr.FieldError{
			Field:   typeErr.Field,
			Reason:  "type",
			Message: fmt.Sprintf("%s must be of type %s", typeErr.Field, jsonTypeName(typeErr.Type)),
		})
	}
	return apperr.ErrMalformed.Wrap(err)
}

func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

func settable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

// setParam parses raw into the field; the error completes "<name> ...".
func setParam(f reflect.Value, raw string) error {
	if f.Kind() == reflect.Pointer {
		p := reflect.New(f.Type().Elem())
		if err := setParam(p.Elem(), raw); err != nil {
			return err
		}
		f.Set(p)
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("must be true or false")
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, f.Type().Bits())
		if err != nil {
			return errors.New("must be an integer")
		}
		f.SetInt(n)
	}
	return nil
}
