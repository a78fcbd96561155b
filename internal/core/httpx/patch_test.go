package httpx

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/core/apperr"
)

type patchRequest struct {
	Title Optional[string]  `json:"title" binding:"omitnil,min=1,max=5"`
	Note  Nullable[string]  `json:"note" binding:"omitnil,max=3"`
	Stock Optional[int32]   `json:"stock" binding:"omitnil,min=0"`
	Score Nullable[float64] `json:"score" binding:"omitnil,gt=0"`
}

// decodePatch decodes body as a request body and validates it.
func decodePatch(t *testing.T, body string) (patchRequest, error) {
	t.Helper()
	var in patchRequest
	r := httptest.NewRequest("PATCH", "/", strings.NewReader(body))
	if err := decodeJSON(r, &in); err != nil {
		return in, err
	}
	return in, NewValidator().Struct(&in)
}

func TestMergePatchMembers(t *testing.T) {
	in, err := decodePatch(t, `{}`)
	if err != nil || in.Title.Set || in.Note.Set || in.Title.Ptr() != nil || in.Note.Ptr() != nil {
		t.Fatalf("absent members: %+v, %v", in, err)
	}
	in, err = decodePatch(t, `{"title":"abc","note":null,"stock":0,"score":1.5}`)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Title.Set || *in.Title.Ptr() != "abc" || !in.Stock.Set || *in.Stock.Ptr() != 0 || *in.Score.Ptr() != 1.5 {
		t.Fatalf("values: %+v", in)
	}
	if !in.Note.Set || !in.Note.Null || in.Note.Ptr() != nil {
		t.Fatalf("null on a nullable member: %+v", in.Note)
	}
	in, err = decodePatch(t, `{"note":"ab"}`)
	if err != nil || !in.Note.Set || in.Note.Null || *in.Note.Ptr() != "ab" {
		t.Fatalf("value of a nullable member: %+v, %v", in.Note, err)
	}
}

func TestMergePatchRefusals(t *testing.T) {
	tests := []struct{ body, field, reason string }{
		{`{"title":null}`, "title", "null"},
		{`{"stock":null}`, "stock", "null"},
		{`{"title":""}`, "title", "min"},
		{`{"title":"abcdef"}`, "title", "max"},
		{`{"note":"abcd"}`, "note", "max"},
		{`{"stock":-1}`, "stock", "min"},
		{`{"score":0}`, "score", "gt"},
		{`{"title":5}`, "title", "type"},
		{`{"note":true}`, "note", "type"},
	}
	for _, tt := range tests {
		_, err := decodePatch(t, tt.body)
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 ||
			e.Fields[0].Field != tt.field || e.Fields[0].Reason != tt.reason {
			t.Errorf("%s: got %v (%+v), want %s refused for %s", tt.body, err, e, tt.field, tt.reason)
		}
	}
}

func TestMergePatchRulesOnAStructValue(t *testing.T) {
	// Passed by value, the members are not addressable: their values are still checked.
	in := patchRequest{Title: Optional[string]{Set: true}, Note: Nullable[string]{Set: true, Null: true}}
	var e *apperr.Error
	if err := NewValidator().Struct(in); !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != "title" || e.Fields[0].Reason != "min" {
		t.Fatalf("got %v, want title refused for min", err)
	}
}

func TestUnknownPatchTypeRefused(t *testing.T) {
	type odd struct {
		Tags Nullable[[]string] `json:"tags"`
	}
	if _, err := shapeOf(reflect.TypeFor[odd]()); err == nil {
		t.Fatal("a merge-patch type the validator does not know was accepted")
	}
	if _, err := shapeOf(reflect.TypeFor[patchRequest]()); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkDecodePatch decodes the same PATCH body into merge-patch members and into
// the plain pointers they replace, side by side (compare allocs/op).
func BenchmarkDecodePatch(b *testing.B) {
	const body = `{"title":"abc","note":null,"stock":12,"score":1.5}`
	type pointers struct {
		Title *string  `json:"title" binding:"omitnil,min=1,max=5"`
		Note  *string  `json:"note" binding:"omitnil,max=3"`
		Stock *int32   `json:"stock" binding:"omitnil,min=0"`
		Score *float64 `json:"score" binding:"omitnil,gt=0"`
	}
	v := NewValidator()
	run := func(b *testing.B, in func() any) {
		for b.Loop() {
			x := in()
			if err := decodeJSON(httptest.NewRequest("PATCH", "/", strings.NewReader(body)), x); err != nil {
				b.Fatal(err)
			}
			if err := v.Struct(x); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("members", func(b *testing.B) { run(b, func() any { return &patchRequest{} }) })
	b.Run("pointers", func(b *testing.B) { run(b, func() any { return &pointers{} }) })
}
