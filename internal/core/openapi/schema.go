package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/quarrydev/quarry/internal/core/httpx"
)

// direction says which side writes a value. What clients send is described as the
// server reads it: unknown fields are ignored, `binding` rules constrain, pointers may
// be null. What the server sends is described exactly: no other fields, a field is
// required unless tagged omitempty, a pointer is null only when not omitted.
type direction int

const (
	request direction = iota
	response
)

type typeKey struct {
	t   reflect.Type
	dir direction
}

// schemaGen turns Go types into JSON schemas. Named struct types become components
// named after the Go type ("posts.Post"); the names are assigned by assignNames once
// every type of the document was seen, so a generation runs twice: once to find the
// types, once with their names.
type schemaGen struct {
	components openapi3.Schemas
	names      map[typeKey]string // nil during the first generation
	seen       map[typeKey]*openapi3.Schema
}

func newSchemaGen(names map[typeKey]string) *schemaGen {
	return &schemaGen{components: openapi3.Schemas{}, names: names, seen: map[typeKey]*openapi3.Schema{}}
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	jsonMarshaler     = reflect.TypeFor[json.Marshaler]()
	textMarshaler     = reflect.TypeFor[encoding.TextMarshaler]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	componentRefStart = "#/components/schemas/"
)

// schema returns the schema of values of t written in direction dir; a named struct
// type is a $ref to its component. It fails on types JSON cannot carry (channels,
// functions) and on types with their own JSON encoding, whose shape is unknown.
func (g *schemaGen) schema(t reflect.Type, dir direction) (*openapi3.SchemaRef, error) {
	elem, null, member := httpx.PatchElem(t)
	switch {
	case t == timeType:
		return inline(&openapi3.Schema{Type: types("string"), Format: "date-time"}), nil
	case t == rawMessageType || t.Kind() == reflect.Interface:
		return inline(&openapi3.Schema{}), nil // any JSON value
	case member:
		s, err := g.schema(elem, dir)
		if err != nil || !null {
			return s, err
		}
		return nullable(s), nil
	case t.Kind() == reflect.Pointer:
		elem, err := g.schema(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return nullable(elem), nil
	case t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler):
		return nil, fmt.Errorf("%s has its own JSON encoding: describe it with plain fields instead", t)
	case t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler):
		return inline(&openapi3.Schema{Type: types("string")}), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return inline(&openapi3.Schema{Type: types("boolean")}), nil
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return inline(&openapi3.Schema{Type: types("integer"), Format: "int32"}), nil
	case reflect.Int, reflect.Int64:
		return inline(&openapi3.Schema{Type: types("integer"), Format: "int64"}), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		zero := 0.0
		return inline(&openapi3.Schema{Type: types("integer"), Format: "int32", Min: &zero}), nil
	case reflect.Uint, reflect.Uint64:
		zero := 0.0
		return inline(&openapi3.Schema{Type: types("integer"), Format: "int64", Min: &zero}), nil
	case reflect.Float32:
		return inline(&openapi3.Schema{Type: types("number"), Format: "float"}), nil
	case reflect.Float64:
		return inline(&openapi3.Schema{Type: types("number"), Format: "double"}), nil
	case reflect.String:
		return inline(&openapi3.Schema{Type: types("string")}), nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 && t.Kind() == reflect.Slice {
			return inline(&openapi3.Schema{Type: types("string"), ContentEncoding: "base64"}), nil
		}
		items, err := g.schema(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return inline(&openapi3.Schema{Type: types("array"), Items: items}), nil
	case reflect.Map:
		if k := t.Key().Kind(); k != reflect.String && !numeric(k) {
			return nil, fmt.Errorf("%s: map keys must be strings or integers", t)
		}
		values, err := g.schema(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return inline(&openapi3.Schema{Type: types("object"), AdditionalProperties: openapi3.AdditionalProperties{Schema: values}}), nil
	case reflect.Struct:
		if t.Name() == "" {
			s, err := g.object(t, dir)
			if err != nil {
				return nil, err
			}
			return inline(s), nil
		}
		return g.ref(t, dir)
	}
	return nil, fmt.Errorf("%s cannot be written as JSON", t)
}

// ref returns a reference to the component of the named struct type t, generating
// the component on first use.
func (g *schemaGen) ref(t reflect.Type, dir direction) (*openapi3.SchemaRef, error) {
	key := typeKey{t, dir}
	name := g.names[key]
	if name == "" {
		name = "pending"
	}
	s, done := g.seen[key]
	if !done {
		s = &openapi3.Schema{}
		g.seen[key] = s // before filling it in: a type may refer to itself
		built, err := g.object(t, dir)
		if err != nil {
			return nil, err
		}
		*s = *built
		if g.names != nil {
			g.components[name] = inline(s)
		}
	}
	return openapi3.NewSchemaRef(componentRefStart+name, s), nil
}

// object returns the schema of a struct type's JSON object.
func (g *schemaGen) object(t reflect.Type, dir direction) (*openapi3.Schema, error) {
	s := &openapi3.Schema{Type: types("object"), Properties: openapi3.Schemas{}}
	if dir == response {
		no := false
		s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
	}
	for _, f := range jsonFields(t, dir) {
		prop, required, err := g.property(f, dir)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.field.Name, err)
		}
		s.Properties[f.name] = prop
		if required {
			s.Required = append(s.Required, f.name)
		}
	}
	return s, nil
}

// property returns the schema of one field and whether the object always has it.
func (g *schemaGen) property(f jsonField, dir direction) (*openapi3.SchemaRef, bool, error) {
	ft := f.field.Type
	if dir == response && f.omitempty && ft.Kind() == reflect.Pointer {
		ft = ft.Elem() // a nil pointer is left out, never written as null
	}
	prop, err := g.schema(ft, dir)
	if err != nil {
		return nil, false, err
	}
	required := !f.omitempty
	if dir == request {
		rs := parseBinding(f.field.Tag.Get("binding"))
		required = rs.required
		rt, _, member := httpx.PatchElem(ft)
		if member {
			// The rules check the value of a member that is present; null is in
			// the schema only when the member is nullable.
			rt = reflect.PointerTo(rt)
		} else {
			rt = ft
		}
		if err := applyRules(prop, rt, rs); err != nil {
			return nil, false, err
		}
		if !member && !required && ft.Kind() != reflect.Pointer && ft.Kind() != reflect.Interface && zeroPasses(rs) {
			// encoding/json leaves a field alone on null: where its zero value is
			// accepted, an optional field may be sent as null and reads as not given.
			prop = nullable(prop)
			if v := editable(prop); v != nil {
				allowNullInEnum(v)
			}
		}
	}
	if enum := f.field.Tag.Get("enum"); enum != "" {
		if s := editable(prop); s != nil {
			for v := range strings.SplitSeq(enum, ",") {
				s.Enum = append(s.Enum, strings.TrimSpace(v))
			}
			allowNullInEnum(s)
		}
	}
	return describe(prop, f.field.Tag.Get("doc")), required, nil
}

// applyRules constrains the inline schema s of a field of type t with its binding
// rules; a required string must not be empty.
func applyRules(s *openapi3.SchemaRef, t reflect.Type, rs rules) error {
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if v := editable(s); v != nil {
		if err := constrain(v, base, rs.field); err != nil {
			return err
		}
		if rs.required && base.Kind() == reflect.String && v.MinLength == 0 {
			v.MinLength = 1
		}
		if rs.omitempty && t.Kind() != reflect.Pointer && v.Min != nil && *v.Min > 0 && isNumber(base.Kind()) {
			// The validator skips the rules for 0, which the handler takes as not given.
			zero := 0.0
			v.Min, v.ExclusiveMin = &zero, openapi3.ExclusiveBound{}
		}
		if rs.omitempty && t.Kind() != reflect.Pointer && base.Kind() == reflect.String && len(v.Enum) > 0 && !slices.Contains(v.Enum, any("")) {
			// The validator skips the rules for "", which the handler takes as not given.
			v.Enum = append(v.Enum, "")
		}
		allowNullInEnum(v)
	}
	if len(rs.elem) > 0 && (base.Kind() == reflect.Slice || base.Kind() == reflect.Array) {
		if v := editable(s); v != nil && v.Items != nil {
			if items := editable(v.Items); items != nil {
				if err := constrain(items, base.Elem(), rs.elem); err != nil {
					return err
				}
				allowNullInEnum(items)
			}
		}
	}
	return nil
}

// zeroPasses reports whether the zero value of a field passes rs: the rules are
// skipped for it (omitempty) or are all upper bounds.
func zeroPasses(rs rules) bool {
	if rs.omitempty {
		return true
	}
	for _, r := range rs.field {
		if r.name != "max" && r.name != "lte" {
			return false
		}
	}
	return true
}

// isNumber reports whether k is an integer or floating-point kind.
func isNumber(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Float64
}

// editable returns the inline schema of s that rules may change, or nil for a
// reference (a component is shared by every use).
func editable(s *openapi3.SchemaRef) *openapi3.Schema {
	if s == nil || s.Ref != "" || s.Value == nil || len(s.Value.AnyOf) > 0 {
		return nil
	}
	return s.Value
}

// allowNullInEnum adds null to the enum of a schema that may be null, or the enum
// would reject it.
func allowNullInEnum(s *openapi3.Schema) {
	if len(s.Enum) == 0 || s.Type == nil || !s.Type.Includes("null") {
		return
	}
	for _, e := range s.Enum {
		if e == nil {
			return
		}
	}
	s.Enum = append(s.Enum, nil)
}

// describe attaches a description; a reference is wrapped, as its siblings cannot be
// set.
func describe(s *openapi3.SchemaRef, doc string) *openapi3.SchemaRef {
	if doc == "" {
		return s
	}
	if s.Ref != "" {
		return inline(&openapi3.Schema{Description: doc, AllOf: openapi3.SchemaRefs{s}})
	}
	s.Value.Description = doc
	return s
}

// nullable returns s allowing null as well (OpenAPI 3.1: a type list with "null").
func nullable(s *openapi3.SchemaRef) *openapi3.SchemaRef {
	if s.Ref != "" {
		return inline(&openapi3.Schema{AnyOf: openapi3.SchemaRefs{s, inline(&openapi3.Schema{Type: types("null")})}})
	}
	v := s.Value
	switch {
	case v.Type == nil || v.Type.IsEmpty():
		// any value, null included
	case !v.Type.Includes("null"):
		v.Type.With("null")
	}
	return s
}

func inline(s *openapi3.Schema) *openapi3.SchemaRef { return openapi3.NewSchemaRef("", s) }

func types(ts ...string) *openapi3.Types {
	t := openapi3.Types(ts)
	return &t
}

// jsonField is a struct field as encoding/json writes or reads it.
type jsonField struct {
	field     reflect.StructField
	name      string
	omitempty bool
}

// jsonFields returns the fields of struct type t that travel in a JSON body, in
// declaration order, with embedded structs flattened as encoding/json does. Request
// fields tagged `uri` or `form` are parameters, not body fields.
func jsonFields(t reflect.Type, dir direction) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" && opts == "" {
			continue
		}
		if dir == request && (f.Tag.Get("uri") != "" || f.Tag.Get("form") != "" || f.Tag.Get("header") != "") {
			continue
		}
		if f.Anonymous && (!hasTag || name == "") {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, jsonFields(et, dir)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := false
		for o := range strings.SplitSeq(opts, ",") {
			if o == "omitempty" || o == "omitzero" {
				omit = true
			}
		}
		out = append(out, jsonField{field: f, name: name, omitempty: omit})
	}
	return out
}

// assignNames names the components of the named struct types seen: the Go package
// and type name ("posts.Post", generic arguments appended without their packages).
// Types whose names collide are named after their whole import path instead. A type
// used both in requests and in responses has two components, the request one
// suffixed "Input".
func assignNames(seen map[typeKey]*openapi3.Schema) map[typeKey]string {
	dirs := map[reflect.Type]int{}
	short := map[string]int{}
	for k := range seen {
		if dirs[k.t]++; dirs[k.t] == 1 {
			short[qualified(k.t, 1)]++
		}
	}
	names := map[typeKey]string{}
	for k := range seen {
		n := qualified(k.t, 1)
		if short[n] > 1 {
			n = qualified(k.t, math.MaxInt)
		}
		if dirs[k.t] > 1 && k.dir == request {
			n += "Input"
		}
		names[k] = n
	}
	return names
}

// qualified returns t's name prefixed with the last depth elements of its package
// path, joined with dots; characters a component name may not hold are dropped.
func qualified(t reflect.Type, depth int) string {
	parts := strings.Split(t.PkgPath(), "/")
	if depth > len(parts) {
		depth = len(parts)
	}
	prefix := strings.Join(parts[len(parts)-depth:], ".")
	return sanitize(prefix) + "." + typeName(t)
}

// typeName returns t's name with generic arguments appended without their packages:
// Page[example.com/x/posts.Post] becomes PagePost.
func typeName(t reflect.Type) string {
	n := t.Name()
	i := strings.IndexByte(n, '[')
	if i < 0 {
		return sanitize(n)
	}
	out := n[:i]
	for arg := range strings.SplitSeq(strings.TrimSuffix(n[i+1:], "]"), ",") {
		arg = path.Base(arg)
		if j := strings.LastIndexByte(arg, '.'); j >= 0 {
			arg = arg[j+1:]
		}
		out += arg
	}
	return sanitize(out)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_') {
			return r
		}
		return -1
	}, s)
}
