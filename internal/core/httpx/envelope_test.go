package httpx_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
)

// envelopeOf answers one request with WriteOK(status, data) and returns the recorder.
func envelopeOf(t *testing.T, status int, data any) *httptest.ResponseRecorder {
	t.Helper()
	gin.SetMode(gin.TestMode)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	httpx.WriteOK(c, status, data)
	c.Writer.WriteHeaderNow() // as gin does once the handlers return
	return w
}

// TestWriteOKMatchesEncodingJSON holds the envelope writer to encoding/json's bytes:
// clients and the API document were built against them.
func TestWriteOKMatchesEncodingJSON(t *testing.T) {
	zone := time.FixedZone("", -(3*3600 + 30*60))
	type row struct {
		ID      int64      `json:"id"`
		Title   string     `json:"title"`
		At      time.Time  `json:"at"`
		Maybe   *time.Time `json:"maybe,omitempty"`
		Score   float64    `json:"score"`
		Tags    []string   `json:"tags"`
		Raw     json.RawMessage
		private int
	}
	at := time.Date(2026, 11, 30, 4, 5, 6, 120000000, zone)
	payloads := []any{
		nil,
		struct{}{},
		row{ID: 1, Title: "<b>&amp;</b> \u2028\u2029 \xff tab\t quote\" é 😀", At: at, Maybe: &at, Score: 1e21, Raw: json.RawMessage(`{ "a" : [1, 2] }`)},
		[]row{{At: time.Time{}}, {At: at.UTC(), Score: math.SmallestNonzeroFloat64, Tags: []string{}}},
		map[string]any{"z": 1, "a": []any{nil, true, 0.1, float32(0.1), int8(-3)}, "<": "&"},
		httpx.ErrorData{RequestID: "abc", Fields: []apperr.FieldError{{Field: "title", Reason: "max", Message: "title is too long"}}},
		strings.Repeat("x", 70000),
	}
	for _, p := range payloads {
		w := envelopeOf(t, http.StatusOK, p)
		want, err := json.Marshal(httpx.Envelope[any]{Code: httpx.CodeOK, Msg: "OK", Data: p})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Body.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("WriteOK(%T) wrote\n%s\nwant\n%s", p, got, want)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

func TestWriteOKStatus(t *testing.T) {
	if w := envelopeOf(t, http.StatusCreated, 1); w.Code != http.StatusCreated || w.Body.String() != `{"code":"ok","msg":"OK","data":1}` {
		t.Errorf("201: %d %s", w.Code, w.Body)
	}
	if w := envelopeOf(t, http.StatusNoContent, 1); w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Errorf("204: %d %q", w.Code, w.Body)
	}
}

// TestWriteOKUnencodable answers a payload JSON cannot hold as an internal error.
func TestWriteOKUnencodable(t *testing.T) {
	w := envelopeOf(t, http.StatusOK, math.NaN())
	var env httpx.Envelope[httpx.ErrorData]
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || w.Code != http.StatusInternalServerError || env.Code != "internal_error" {
		t.Errorf("NaN payload: %d %s (%v)", w.Code, w.Body, err)
	}
}

func TestFailEnvelope(t *testing.T) {
	gin.SetMode(gin.TestMode)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	httpx.Fail(c, apperr.Invalid(apperr.FieldError{Field: "id", Reason: "type", Message: "id must be a positive integer"}))
	want := `{"code":"validation_failed","msg":"the request has invalid fields","data":{"request_id":"","fields":[{"field":"id","reason":"type","message":"id must be a positive integer"}]}}`
	if !c.IsAborted() || w.Code != http.StatusUnprocessableEntity || w.Body.String() != want {
		t.Errorf("Fail: aborted %v, %d %s", c.IsAborted(), w.Code, w.Body)
	}
}
