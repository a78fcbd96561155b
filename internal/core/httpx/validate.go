package httpx

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/quarrydev/quarry/internal/core/apperr"
)

// Validator checks request structs with go-playground/validator, using gin's `binding`
// struct tag, and reports fields by the names clients use (json, form or uri tag).
type Validator struct {
	v *validator.Validate
}

// NewValidator returns a Validator.
func NewValidator() *Validator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.SetTagName("binding")
	v.RegisterTagNameFunc(ClientName)
	// The rules of an Optional or Nullable field check its value, when it has one.
	v.RegisterCustomTypeFunc(patchValue, patchTypes()...)
	return &Validator{v: v}
}

// ClientName returns the name of a struct field as clients see it: its json, form or
// uri tag, else the Go name. "-" hides the field.
func ClientName(f reflect.StructField) string {
	for _, tag := range []string{"json", "form", "uri"} {
		if name, _, _ := strings.Cut(f.Tag.Get(tag), ","); name != "" {
			return name
		}
	}
	return f.Name
}

// Struct validates s. It returns nil, or an *apperr.Error of kind KindInvalid listing
// every invalid field with a reason and a message.
func (v *Validator) Struct(s any) error {
	err := v.v.Struct(s)
	if err == nil {
		return nil // before verrs, which escapes to the heap
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return fmt.Errorf("validate: %w", err)
	}
	fields := make([]apperr.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		name := fe.Namespace()
		if _, rest, ok := strings.Cut(name, "."); ok {
			name = rest // drop the root struct's Go name
		}
		fields = append(fields, apperr.FieldError{Field: name, Reason: fe.Tag(), Message: message(name, fe)})
	}
	return apperr.Invalid(fields...)
}

// message renders a validation failure as a sentence.
func message(name string, fe validator.FieldError) string {
	isString := fe.Kind() == reflect.String
	switch fe.Tag() {
	case "required", "required_without", "required_with":
		return name + " is required"
	case "min", "gte":
		if isString {
			return fmt.Sprintf("%s must be at least %s characters long", name, fe.Param())
		}
		if fe.Kind() == reflect.Slice {
			return fmt.Sprintf("%s must have at least %s items", name, fe.Param())
		}
		return fmt.Sprintf("%s must be at least %s", name, fe.Param())
	case "max", "lte":
		if isString {
			return fmt.Sprintf("%s must be at most %s characters long", name, fe.Param())
		}
		if fe.Kind() == reflect.Slice {
			return fmt.Sprintf("%s must have at most %s items", name, fe.Param())
		}
		return fmt.Sprintf("%s must be at most %s", name, fe.Param())
	case "gt":
		return fmt.Sprintf("%s must be greater than %s", name, fe.Param())
	case "lt":
		return fmt.Sprintf("%s must be less than %s", name, fe.Param())
	case "oneof":
		return fmt.Sprintf("%s must be one of: %s", name, strings.ReplaceAll(fe.Param(), " ", ", "))
	case "email":
		return name + " must be a valid email address"
	case "excludesall", "printascii", "alphanum":
		return name + " contains characters that are not allowed"
	}
	return fmt.Sprintf("%s fails the %q rule", name, fe.Tag())
}
