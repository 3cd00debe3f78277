package apiclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/agenthooks/agenthooks/internal/apiclient"
)

func TestClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer ak_test" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"detail":"Invalid API key"}`)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "POST /api/v1/assistant":
			if r.Header.Get("Content-Type") != "application/json" {
				w.WriteHeader(http.StatusUnsupportedMediaType)
				return
			}
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"message":"created","data":{"id":"a1","name":"x"}}`)
		case "GET /api/v1/assistant/a1":
			_, _ = io.WriteString(w, `{"message":"ok","data":{"id":"a1","name":"x"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"detail":"Not Found"}`)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	c := apiclient.New(srv.URL+"/", "ak_test", srv.Client())

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		id, err := c.Create(ctx, "/assistant", map[string]any{"name": "x"})
		if err != nil || id != "a1" {
			t.Fatalf("Create = %q, %v", id, err)
		}
	})
	t.Run("DoDecodesData", func(t *testing.T) {
		t.Parallel()
		var a struct{ ID, Name string }
		if err := c.Do(ctx, http.MethodGet, "/assistant/a1", nil, &a); err != nil || a.ID != "a1" || a.Name != "x" {
			t.Fatalf("Do = %+v, %v", a, err)
		}
	})
	t.Run("ErrStatus", func(t *testing.T) {
		t.Parallel()
		err := c.Do(ctx, http.MethodGet, "/assistant/nope", nil, nil)
		var se *apiclient.StatusError
		if !errors.As(err, &se) || se.Status != http.StatusNotFound || string(se.Body) != `{"detail":"Not Found"}` {
			t.Fatalf("Do = %v, want a StatusError 404 with the body", err)
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		t.Parallel()
		status, body, err := apiclient.New(srv.URL, "ak_wrong", nil).Raw(ctx, http.MethodGet, "/assistant/a1", nil)
		if err != nil || status != http.StatusUnauthorized || len(body) == 0 {
			t.Fatalf("Raw = %d %q %v", status, body, err)
		}
	})
	t.Run("SendHeaders", func(t *testing.T) {
		t.Parallel()
		r, err := c.Send(ctx, http.MethodGet, "/api/v1/assistant/a1", nil, http.Header{"X-Extra": {"1"}})
		if err != nil || r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("Send = %+v, %v", r, err)
		}
	})
}
