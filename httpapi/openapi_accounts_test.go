package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/agenthooks/agenthooks/httpapi"
)

// openAPIAdminKey is the admin key of TestOpenAPIRealRun's server.
const openAPIAdminKey = "admin-key-of-the-openapi-run"

// checkAdminRoutesDocumented checks that every admin route is documented
// under the adminKey scheme alone, with its 401 and 404, and takes no
// Idempotency-Key; it returns the routes ("METHOD /api/v1/...").
func checkAdminRoutesDocumented(t *testing.T, srv *httpapi.Server, doc *openAPIDoc, ops map[string]map[string]any) []string {
	t.Helper()
	admin := httpapi.RegisteredAdminRoutes(srv)
	if len(admin) == 0 {
		t.Error("the server registered no admin routes")
	}
	var full []string
	for _, p := range admin {
		method, path, _ := strings.Cut(p, " ")
		name := method + " " + httpapi.BasePath + path
		full = append(full, name)
		op, ok := ops[name]
		if !ok {
			t.Errorf("admin route %s is not in the OpenAPI document", name)
			continue
		}
		sec, _ := op["security"].([]any)
		if len(sec) != 1 || sec[0].(map[string]any)["adminKey"] == nil || len(sec[0].(map[string]any)) != 1 {
			t.Errorf("%s: security is %v, want the adminKey scheme alone", name, op["security"])
		}
		for _, status := range []string{"401", "404", "default"} {
			if _, ok := op["responses"].(map[string]any)[status]; !ok {
				t.Errorf("%s: response %s is not documented", name, status)
			}
		}
		if hasParam(t, doc, op, "header", "Idempotency-Key") {
			t.Errorf("%s: documents Idempotency-Key, which admin routes do not take", name)
		}
	}
	schemes, _ := doc.root["components"].(map[string]any)["securitySchemes"].(map[string]any)
	if s, _ := schemes["adminKey"].(map[string]any); s["type"] != "http" || s["scheme"] != "bearer" {
		t.Errorf("adminKey scheme: %v", s)
	}
	return full
}

// runAccountsOpenAPI exercises the API-key and admin routes in the real run;
// it leaves r acting with its own key, still valid.
func runAccountsOpenAPI(t *testing.T, r *openAPIRun) {
	t.Helper()
	const v1 = "/api/v1"
	// API keys of the run's account.
	created := r.do(openAPIReq{method: "POST", path: v1 + "/api_key", body: map[string]any{"name": "CI deploy"}, want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/api_key", body: map[string]any{"name": ""}, invalid: true, want: 422})
	r.do(openAPIReq{method: "GET", path: v1 + "/api_key?page=1&size=10", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/api_key/" + created.str(t, "data", "id"), want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/api_key/" + created.str(t, "data", "id"), want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/api_key/0190a8e2-7c1d-7cc0-8000-000000000000", want: 404})

	own := r.key
	defer func() { r.key = own }()
	r.key = openAPIAdminKey
	acct := r.do(openAPIReq{method: "POST", path: v1 + "/admin/account", body: map[string]any{"name": "Customer 42"}, want: 201})
	id := acct.str(t, "data", "id")
	r.do(openAPIReq{method: "POST", path: v1 + "/admin/account", body: map[string]any{}, invalid: true, want: 422})
	r.do(openAPIReq{method: "GET", path: v1 + "/admin/account?page=1&size=1", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/admin/account/" + id, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/admin/account/nope", want: 404})
	rotated := r.do(openAPIReq{method: "POST", path: v1 + "/admin/account/" + id + "/rotate_key", want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/admin/account/" + id + "/portal_session", body: map[string]any{"expires_in": 300}, want: 201})

	// The new account's one key cannot be deleted.
	r.key = rotated.str(t, "data", "api_key")
	keys := r.do(openAPIReq{method: "GET", path: v1 + "/api_key", want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/api_key/" + keys.str(t, "data", "items", 0, "id"), want: http.StatusConflict})

	r.key = own // an account key is not an admin key
	r.do(openAPIReq{method: "GET", path: v1 + "/admin/account", want: 401})
	r.key = openAPIAdminKey
	r.do(openAPIReq{method: "DELETE", path: v1 + "/admin/account/" + id, want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/admin/account/" + id, want: 404})
}
