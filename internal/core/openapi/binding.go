package openapi

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// rules are the validator rules of a `binding:"…"` tag that the document can express:
// those of the field itself and, after `dive`, those of its elements.
type rules struct {
	required bool
	// omitempty: the zero value skips every other rule.
	omitempty bool
	field     []rule
	elem      []rule
}

// rule is one validator rule, e.g. {name: "max", param: "200"}.
type rule struct {
	name, param string
}

// parseBinding splits a binding tag into its rules. Rules the document cannot express
// (omitempty, alternatives with "|", map keys, cross-field rules) are dropped.
func parseBinding(tag string) rules {
	var r rules
	dived := false
	for part := range strings.SplitSeq(tag, ",") {
		part = strings.TrimSpace(part)
		name, param, _ := strings.Cut(part, "=")
		switch {
		case part == "" || strings.Contains(part, "|"):
			continue
		case name == "dive":
			if dived {
				return r // nested dives: only the first level is documented
			}
			dived = true
			continue
		case name == "required" && !dived:
			r.required = true
			continue
		case name == "omitempty" && !dived:
			r.omitempty = true
			continue
		}
		if dived {
			r.elem = append(r.elem, rule{name, param})
		} else {
			r.field = append(r.field, rule{name, param})
		}
	}
	return r
}

// constrain applies rs to s, a schema of a value of Go type t (pointers removed):
// lengths for strings, bounds for numbers, item counts for slices and property counts
// for maps; oneof becomes an enum and email, url and uuid become formats. It fails on
// a parameter it cannot read.
func constrain(s *openapi3.Schema, t reflect.Type, rs []rule) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	kind := t.Kind()
	for _, r := range rs {
		switch r.name {
		case "min", "max", "len", "gt", "gte", "lt", "lte":
			if err := bound(s, kind, r); err != nil {
				return fmt.Errorf("rule %s=%s: %w", r.name, r.param, err)
			}
		case "oneof":
			for v := range strings.FieldsSeq(r.param) {
				e, err := enumValue(kind, v)
				if err != nil {
					return fmt.Errorf("rule oneof=%s: %w", r.param, err)
				}
				s.Enum = append(s.Enum, e)
			}
		case "email":
			s.Format = "email"
		case "url", "http_url", "uri":
			s.Format = "uri"
		case "uuid", "uuid4":
			s.Format = "uuid"
		}
	}
	return nil
}

// bound applies a length, count or numeric bound rule to s.
func bound(s *openapi3.Schema, kind reflect.Kind, r rule) error {
	switch kind {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map:
		n, err := strconv.ParseUint(r.param, 10, 64)
		if err != nil {
			return err
		}
		minimum, maximum := countFields(s, kind)
		switch r.name {
		case "min", "gte":
			*minimum = max(*minimum, n)
		case "gt":
			*minimum = max(*minimum, n+1)
		case "max", "lte":
			setMax(maximum, n)
		case "lt":
			if n == 0 {
				return fmt.Errorf("no length is below 0")
			}
			setMax(maximum, n-1)
		case "len":
			*minimum = n
			setMax(maximum, n)
		}
		return nil
	}
	if !numeric(kind) {
		return fmt.Errorf("not applicable to %s", kind)
	}
	f, err := strconv.ParseFloat(r.param, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("not a number")
	}
	switch r.name {
	case "min", "gte":
		s.Min = &f
	case "max", "lte":
		s.Max = &f
	case "gt":
		s.ExclusiveMin = openapi3.ExclusiveBound{Value: &f}
	case "lt":
		s.ExclusiveMax = openapi3.ExclusiveBound{Value: &f}
	case "len":
		return fmt.Errorf("not applicable to numbers")
	}
	return nil
}

// countFields returns the minimum and maximum fields of s that count what kind holds.
func countFields(s *openapi3.Schema, kind reflect.Kind) (*uint64, **uint64) {
	switch kind {
	case reflect.String:
		return &s.MinLength, &s.MaxLength
	case reflect.Map:
		return &s.MinProps, &s.MaxProps
	}
	return &s.MinItems, &s.MaxItems
}

func setMax(p **uint64, n uint64) {
	if *p == nil || **p > n {
		*p = &n
	}
}

func numeric(kind reflect.Kind) bool {
	switch kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// enumValue reads one oneof value as the JSON value of a kind.
func enumValue(kind reflect.Kind, v string) (any, error) {
	switch {
	case kind == reflect.String:
		return v, nil
	case kind >= reflect.Int && kind <= reflect.Int64:
		return strconv.ParseInt(v, 10, 64)
	case kind >= reflect.Uint && kind <= reflect.Uint64:
		return strconv.ParseUint(v, 10, 64)
	case kind == reflect.Float32 || kind == reflect.Float64:
		return strconv.ParseFloat(v, 64)
	}
	return nil, fmt.Errorf("not applicable to %s", kind)
}
