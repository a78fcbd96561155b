package httpx

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/google/uuid"
)

// Optional is a member of a JSON merge patch (RFC 7396) for a value that cannot be
// NULL: absent (Set false) leaves it unchanged, a value sets it, and null is refused
// while decoding with a validation error naming the member. The field's binding rules
// apply to Value when the member is present.
type Optional[T any] struct {
	// The order of the fields is read by patchValue.
	Value T
	Set   bool
}

// UnmarshalJSON sets o from a present member. Errors: a *json.UnmarshalTypeError for
// null (encoding/json adds the member's name), or what decoding into T returns.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeFor[T]()}
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = Optional[T]{Value: v, Set: true}
	return nil
}

// Ptr returns a pointer to the value when the member is present, else nil.
func (o Optional[T]) Ptr() *T {
	if !o.Set {
		return nil
	}
	return &o.Value
}

// PatchMember returns T's type and false: null is not a value of the member.
func (Optional[T]) PatchMember() (reflect.Type, bool) { return reflect.TypeFor[T](), false }

// validated returns what the binding rules check: the value, or a nil *T when the
// member is absent (skipped by omitnil).
func (o Optional[T]) validated() any { return o.Ptr() }

// Nullable is a member of a JSON merge patch (RFC 7396) for a nullable value: absent
// (Set false) leaves it unchanged, null (Set and Null) clears it, and a value sets it.
// The field's binding rules apply to Value when the member holds a value.
type Nullable[T any] struct {
	// The order of the fields is read by patchValue.
	Value     T
	Set, Null bool
}

// UnmarshalJSON sets n from a present member, null included. Errors: what decoding
// into T returns.
func (n *Nullable[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Nullable[T]{Set: true, Null: true}
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Nullable[T]{Value: v, Set: true}
	return nil
}

// Ptr returns a pointer to the value when the member holds one; nil when it is
// absent or null.
func (n Nullable[T]) Ptr() *T {
	if !n.Set || n.Null {
		return nil
	}
	return &n.Value
}

// PatchMember returns T's type and true: null is a value of the member.
func (Nullable[T]) PatchMember() (reflect.Type, bool) { return reflect.TypeFor[T](), true }

func (n Nullable[T]) validated() any { return n.Ptr() }

// patchMember is implemented by Optional and Nullable.
type patchMember interface {
	PatchMember() (elem reflect.Type, nullable bool)
	validated() any
}

var patchMemberType = reflect.TypeFor[patchMember]()

// PatchElem returns the value type of merge-patch member type t (Optional or
// Nullable) and whether it may be null; ok is false when t is not such a member.
func PatchElem(t reflect.Type) (elem reflect.Type, nullable, ok bool) {
	if !t.Implements(patchMemberType) {
		return nil, false, false
	}
	elem, nullable = reflect.Zero(t).Interface().(patchMember).PatchMember()
	return elem, nullable, true
}

// patchTypes returns the instantiations of Optional and Nullable the validator knows:
// the value types of generated modules' columns. A request type using another one is
// refused when its route is registered.
func patchTypes() []any {
	return []any{
		Optional[string]{}, Optional[bool]{}, Optional[int16]{}, Optional[int32]{}, Optional[int64]{},
		Optional[float32]{}, Optional[float64]{}, Optional[time.Time]{}, Optional[uuid.UUID]{},
		Nullable[string]{}, Nullable[bool]{}, Nullable[int16]{}, Nullable[int32]{}, Nullable[int64]{},
		Nullable[float32]{}, Nullable[float64]{}, Nullable[time.Time]{}, Nullable[uuid.UUID]{},
	}
}

// knownPatchType reports whether t is one of patchTypes.
func knownPatchType(t reflect.Type) bool {
	for _, v := range patchTypes() {
		if reflect.TypeOf(v) == t {
			return true
		}
	}
	return false
}

// patchValue is the validator's custom type function for patchTypes: what
// validated returns, read through reflection so that no copy of the member is boxed
// (the value is handed over as a pointer into the request when it is addressable).
func patchValue(v reflect.Value) any {
	value := v.Field(0) // Value, then Set, then (Nullable) Null
	if !v.Field(1).Bool() || v.NumField() > 2 && v.Field(2).Bool() {
		return reflect.Zero(reflect.PointerTo(value.Type())).Interface()
	}
	if value.CanAddr() {
		return value.Addr().Interface()
	}
	return v.Interface().(patchMember).validated()
}
