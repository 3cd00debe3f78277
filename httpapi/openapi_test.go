package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/delivery"
	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// The tests below check the OpenAPI document of GET /api/v1/openapi.json:
// that it describes every route the server registers and nothing else, that
// it is well formed, and that a realistic run's requests, responses and
// webhook deliveries validate against it. Validation is santhosh-tekuri's
// jsonschema/v6 on the document as openapi_validate_test.go compiles it
// (objects closed: a field added to a response without documenting it fails).
// The well-formedness check keeps to the keywords the generators read and
// refuses any other, so a schema they would mis-read cannot slip in.

// openAPIDoc is a decoded OpenAPI document.
type openAPIDoc struct {
	root map[string]any
}

// decodeOpenAPIJSON decodes one JSON value, keeping numbers as json.Number so
// that integers and numbers can be told apart.
func decodeOpenAPIJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return v, nil
}

// fetchOpenAPI gets the document from h without credentials.
func fetchOpenAPI(t *testing.T, h http.Handler) *openAPIDoc {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", httpapi.BasePath+"/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET openapi.json: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET openapi.json: Content-Type %q", ct)
	}
	v, err := decodeOpenAPIJSON(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	root, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("openapi.json is not a JSON object")
	}
	return &openAPIDoc{root: root}
}

// resolve follows a local JSON pointer ("#/components/schemas/Webhook").
func (d *openAPIDoc) resolve(ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("$ref %q is not a local JSON pointer", ref)
	}
	var cur any = d.root
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not inside an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %q: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref resolves v if it is a Reference Object, else returns it.
func (d *openAPIDoc) deref(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("expected an object, got %T", v)
	}
	for range 10 {
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m
		}
		target, err := d.resolve(ref)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok = target.(map[string]any); !ok {
			t.Fatalf("$ref %q is not an object", ref)
		}
	}
	t.Fatalf("$ref chain too long")
	return nil
}

// operations returns every "METHOD /path" the document describes under paths.
func (d *openAPIDoc) operations() map[string]map[string]any {
	ops := map[string]map[string]any{}
	paths, _ := d.root["paths"].(map[string]any)
	for path, item := range paths {
		item, _ := item.(map[string]any)
		for method, op := range item {
			if op, ok := op.(map[string]any); ok && slices.Contains(openAPIMethods, method) {
				ops[strings.ToUpper(method)+" "+path] = op
			}
		}
	}
	return ops
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Schema keywords the document may use: assertions and annotations.
var (
	schemaAssertions = []string{"$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items",
		"minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
		"pattern", "oneOf", "anyOf", "allOf", "minProperties", "maxProperties", "format"}
	schemaAnnotations = []string{"description", "title", "default", "examples", "deprecated", "readOnly", "writeOnly", "$comment"}
)

func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func shortJSON(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// checkSchema checks one schema of the document and its subschemas: only
// keywords the validator knows, no schema that accepts anything ({} or only
// annotations), and required properties that exist.
func (d *openAPIDoc) checkSchema(t *testing.T, s any, at string) {
	t.Helper()
	m, ok := s.(map[string]any)
	if !ok {
		t.Errorf("%s: schema is a %T, not an object", at, s)
		return
	}
	asserts := false
	for k := range m {
		switch {
		case slices.Contains(schemaAssertions, k):
			asserts = asserts || k != "format"
		case slices.Contains(schemaAnnotations, k):
		default:
			t.Errorf("%s: keyword %q is not one the document may use (openapi_test.go schemaAssertions)", at, k)
		}
	}
	if !asserts {
		t.Errorf("%s: schema %s constrains nothing", at, shortJSON(m))
	}
	props, _ := m["properties"].(map[string]any)
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if _, ok := props[r.(string)]; !ok {
				t.Errorf("%s: required property %q is not among the properties", at, r)
			}
		}
	}
	for k, p := range props {
		d.checkSchema(t, p, at+"/properties/"+k)
	}
	if ap, ok := m["additionalProperties"].(map[string]any); ok {
		d.checkSchema(t, ap, at+"/additionalProperties")
	}
	if it, ok := m["items"]; ok {
		d.checkSchema(t, it, at+"/items")
	}
	for _, kw := range []string{"oneOf", "anyOf", "allOf"} {
		if subs, ok := m[kw].([]any); ok {
			for i, sub := range subs {
				d.checkSchema(t, sub, fmt.Sprintf("%s/%s/%d", at, kw, i))
			}
		}
	}
}

// routePattern reads the pattern of an s.mux.Handle or s.mux.HandleFunc call
// whose pattern is built from string literals and the base constant; ok is
// false for a pattern held in a variable (handle and Handle forward theirs).
func routePattern(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		if e.Name == "base" {
			return httpapi.BasePath, true
		}
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		x, okX := routePattern(e.X)
		y, okY := routePattern(e.Y)
		return x + y, okX && okY
	case *ast.ParenExpr:
		return routePattern(e.X)
	}
	return "", false
}

// muxRoutes lists the patterns registered on the mux directly (not through
// s.handle) in the package's source: /healthz, /readyz, openapi.json.
func muxRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			if recv, ok := sel.X.(*ast.SelectorExpr); !ok || recv.Sel.Name != "mux" {
				return true
			}
			if p, ok := routePattern(call.Args[0]); ok {
				patterns = append(patterns, p)
			}
			return true
		})
	}
	return patterns
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	srv := httpapi.New(nil, nil) // routes only: no request below reaches the service
	doc := fetchOpenAPI(t, srv)
	ops := doc.operations()

	authed := httpapi.RegisteredRoutes(srv)
	if len(authed) == 0 {
		t.Fatal("the server registered no routes")
	}
	public := muxRoutes(t)
	for _, want := range []string{"GET /healthz", "GET /readyz", "GET /metrics", "GET " + httpapi.BasePath + "/openapi.json"} {
		if !slices.Contains(public, want) {
			t.Errorf("did not find %q among the mux's direct routes %q", want, public)
		}
	}

	registered := map[string]bool{}
	for _, p := range authed {
		method, path, _ := strings.Cut(p, " ")
		full := method + " " + httpapi.BasePath + path
		registered[full] = true
		op, ok := ops[full]
		if !ok {
			t.Errorf("route %s is not in the OpenAPI document", full)
			continue
		}
		if sec, ok := op["security"].([]any); ok && len(sec) == 0 {
			t.Errorf("%s needs an API key but the document says it needs none", full)
		}
		if method == http.MethodPost && !hasParam(t, doc, op, "header", "Idempotency-Key") {
			t.Errorf("POST %s: the Idempotency-Key header is not documented", path)
		}
		for _, status := range []string{"401", "default"} {
			if _, ok := op["responses"].(map[string]any)[status]; !ok {
				t.Errorf("%s: response %s is not documented", full, status)
			}
		}
	}
	for _, full := range checkAdminRoutesDocumented(t, srv, doc, ops) {
		registered[full] = true
	}
	for _, p := range public {
		registered[p] = true
		op, ok := ops[p]
		if !ok {
			t.Errorf("route %s is not in the OpenAPI document", p)
			continue
		}
		if sec, ok := op["security"].([]any); !ok || len(sec) != 0 {
			t.Errorf("%s needs no API key but the document does not say so (security: [])", p)
		}
	}

	// The other way round: every documented operation is a route the mux
	// serves under exactly that pattern.
	for name := range ops {
		if !registered[name] {
			t.Errorf("the document describes %s, which the server does not register", name)
			continue
		}
		method, path, _ := strings.Cut(name, " ")
		concrete := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(path, "0190a8e2-7c1d-7cc0-8000-000000000000")
		req := httptest.NewRequest(method, concrete, nil)
		if got := httpapi.MuxPattern(srv, req); got != name {
			t.Errorf("%s is routed to %q", name, got)
		}
	}
}

// hasParam reports whether op declares a parameter (after resolving references).
func hasParam(t *testing.T, doc *openAPIDoc, op map[string]any, in, name string) bool {
	t.Helper()
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		pm := doc.deref(t, p)
		if pm["in"] == in && strings.EqualFold(pm["name"].(string), name) {
			return true
		}
	}
	return false
}

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	t.Parallel()
	doc := fetchOpenAPI(t, httpapi.New(nil, nil))
	if v, _ := doc.root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi is %q, want 3.1.x", v)
	}
	info, _ := doc.root["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info lacks title or version: %v", info)
	}

	// Every $ref resolves.
	refs := 0
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				refs++
				if _, err := doc.resolve(ref); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for k, c := range v {
				walk(c, at+"/"+k)
			}
		case []any:
			for i, c := range v {
				walk(c, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc.root, "#")
	if refs == 0 {
		t.Error("no $ref at all")
	}

	// Security: the key in ?api_key= or as a Bearer token, required by default.
	schemes, _ := doc.root["components"].(map[string]any)["securitySchemes"].(map[string]any)
	if k, _ := schemes["apiKey"].(map[string]any); k["type"] != "apiKey" || k["in"] != "query" || k["name"] != "api_key" {
		t.Errorf("apiKey scheme: %v", k)
	}
	if b, _ := schemes["bearer"].(map[string]any); b["type"] != "http" || b["scheme"] != "bearer" {
		t.Errorf("bearer scheme: %v", b)
	}
	if sec, _ := doc.root["security"].([]any); len(sec) != 2 {
		t.Errorf("top-level security: %v", doc.root["security"])
	}

	// Every schema uses only what the validator checks and constrains something.
	components := doc.root["components"].(map[string]any)
	for name, s := range components["schemas"].(map[string]any) {
		doc.checkSchema(t, s, "#/components/schemas/"+name)
	}
	for _, group := range []string{"parameters", "headers"} {
		for name, p := range components[group].(map[string]any) {
			doc.checkSchema(t, p.(map[string]any)["schema"], "#/components/"+group+"/"+name+"/schema")
		}
	}
	checkContent := func(v any, at string) {
		m, _ := v.(map[string]any)
		content, _ := m["content"].(map[string]any)
		for mt, media := range content {
			doc.checkSchema(t, media.(map[string]any)["schema"], at+"/content/"+mt+"/schema")
		}
	}
	for name, r := range components["responses"].(map[string]any) {
		checkContent(r, "#/components/responses/"+name)
	}
	opIDs := map[string]bool{}
	checkOp := func(name string, op map[string]any) {
		id, _ := op["operationId"].(string)
		if id == "" || opIDs[id] {
			t.Errorf("%s: operationId %q is missing or not unique", name, id)
		}
		opIDs[id] = true
		params, _ := op["parameters"].([]any)
		pathParams := map[string]bool{}
		for i, p := range params {
			pm := doc.deref(t, p)
			doc.checkSchema(t, pm["schema"], fmt.Sprintf("%s/parameters/%d/schema", name, i))
			if pm["in"] == "path" {
				pathParams[pm["name"].(string)] = true
			}
		}
		_, path, _ := strings.Cut(name, " ")
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
			if !pathParams[m[1]] {
				t.Errorf("%s: path parameter %q is not declared", name, m[1])
			}
			delete(pathParams, m[1])
		}
		for p := range pathParams {
			t.Errorf("%s: declares path parameter %q that is not in the path", name, p)
		}
		if rb, ok := op["requestBody"]; ok {
			checkContent(rb, name+"/requestBody")
		}
		responses, _ := op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s: no responses", name)
		}
		for status, r := range responses {
			if rm := r.(map[string]any); rm["$ref"] == nil {
				checkContent(rm, name+"/responses/"+status)
				if rm["description"] == nil {
					t.Errorf("%s: response %s has no description", name, status)
				}
			}
		}
	}
	for name, op := range doc.operations() {
		checkOp(name, op)
	}

	// The webhook payloads: one per event type that can be sent, with the
	// Standard Webhooks headers.
	hooks, _ := doc.root["webhooks"].(map[string]any)
	want := agenthooks.SentEventTypes
	for _, event := range want {
		item, ok := hooks[event].(map[string]any)
		if !ok {
			t.Errorf("webhooks lacks %s", event)
			continue
		}
		op := item["post"].(map[string]any)
		checkOp("webhook "+event, op)
		for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			if !hasParam(t, doc, op, "header", h) {
				t.Errorf("webhook %s: header %s is not documented", event, h)
			}
		}
	}
	if len(hooks) != len(want) {
		t.Errorf("webhooks has %d entries, want %d (%v)", len(hooks), len(want), want)
	}
}

// openAPIRun is a realistic session against a real server; every request,
// response and delivery is checked against the document.
type openAPIRun struct {
	t       *testing.T
	doc     *openAPIDoc
	schemas *openAPISchemas // doc, compiled by the validator
	url     string
	key     string
	covered map[string]bool // documented operations exercised
}

// openAPIReq is one request of the run.
type openAPIReq struct {
	method, path string
	// body is JSON-encoded and validated against the documented request body;
	// a []byte is sent verbatim and not validated.
	body any
	// invalid: the body or query is one the server refuses, and the document
	// must refuse it as well.
	invalid  bool
	noAuth   bool
	queryKey bool // send the key as ?api_key= instead of a Bearer token
	idemKey  string
	want     int
}

// openAPIResp is an answer, validated.
type openAPIResp struct {
	status int
	header http.Header
	body   any
}

// get digs into the body: keys for objects, ints for lists.
func (r *openAPIResp) get(t *testing.T, path ...any) any {
	t.Helper()
	cur := r.body
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%v: not an object at %q: %s", path, p, shortJSON(r.body))
			}
			cur = m[p]
		case int:
			l, ok := cur.([]any)
			if !ok || p >= len(l) {
				t.Fatalf("%v: no item %d: %s", path, p, shortJSON(r.body))
			}
			cur = l[p]
		}
	}
	return cur
}

func (r *openAPIResp) str(t *testing.T, path ...any) string {
	t.Helper()
	s, ok := r.get(t, path...).(string)
	if !ok {
		t.Fatalf("%v is not a string: %s", path, shortJSON(r.body))
	}
	return s
}

// operation finds the documented operation for method and a concrete path.
func (r *openAPIRun) operation(method, path string) (string, map[string]any) {
	r.t.Helper()
	best, bestOp := r.doc.findOperation(method, path)
	if best == "" {
		r.t.Fatalf("%s %s is not in the document", method, path)
	}
	return best, bestOp
}

// mediaSchema is the application/json schema of a request body or response.
func (r *openAPIRun) mediaSchema(v any) (any, bool) {
	m := r.doc.deref(r.t, v)
	content, _ := m["content"].(map[string]any)
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		return nil, false
	}
	return media["schema"], true
}

func (r *openAPIRun) do(q openAPIReq) *openAPIResp {
	t := r.t
	t.Helper()
	u, err := url.Parse(q.path)
	if err != nil {
		t.Fatal(err)
	}
	name, op := r.operation(q.method, u.Path)
	r.covered[name] = true
	where := q.method + " " + q.path

	// The query parameters sent are documented and valid (or, if the request
	// is meant to be refused, the document refuses one of them).
	var problems []string
	for k, vs := range u.Query() {
		var param map[string]any
		var paramPtr string
		params, _ := op["parameters"].([]any)
		for i, p := range params {
			if pm := r.doc.deref(t, p); pm["in"] == "query" && pm["name"] == k {
				param, paramPtr = pm, opPointer(name)+"/parameters/"+strconv.Itoa(i)+"/schema"
				if ref, ok := p.(map[string]any)["$ref"].(string); ok {
					paramPtr = strings.TrimPrefix(ref, "#") + "/schema"
				}
			}
		}
		if param == nil {
			t.Fatalf("%s: query parameter %q is not documented", where, k)
		}
		var v any = vs[0]
		if s, _ := param["schema"].(map[string]any); s["type"] == "integer" {
			if _, err := strconv.ParseInt(vs[0], 10, 64); err == nil {
				v = json.Number(vs[0])
			}
		}
		problems = append(problems, r.schemas.problems(paramPtr, v, "query."+k)...)
	}

	var rd io.Reader
	switch b := q.body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
		rb, ok := op["requestBody"]
		if !ok {
			t.Fatalf("%s: sends a body the document does not describe", where)
		}
		if _, ok := r.mediaSchema(rb); !ok {
			t.Fatalf("%s: no application/json request body", where)
		}
		v, err := decodeOpenAPIJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		problems = append(problems, r.schemas.problems(opPointer(name)+"/requestBody/content/application~1json/schema", v, "body")...)
	}
	switch {
	case q.invalid && len(problems) == 0:
		t.Errorf("%s: the server refuses this request but the document accepts it", where)
	case !q.invalid && len(problems) > 0:
		t.Errorf("%s: the request does not validate against the document:\n\t%s", where, strings.Join(problems, "\n\t"))
	}

	req, err := http.NewRequest(q.method, r.url+q.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !q.noAuth {
		if q.queryKey {
			qs := req.URL.Query()
			qs.Set("api_key", r.key)
			req.URL.RawQuery = qs.Encode()
		} else {
			req.Header.Set("Authorization", "Bearer "+r.key)
		}
	}
	if q.idemKey != "" {
		if !hasParam(t, r.doc, op, "header", "Idempotency-Key") {
			t.Errorf("%s: sends Idempotency-Key, which is not documented", where)
		}
		req.Header.Set("Idempotency-Key", q.idemKey)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != q.want {
		t.Fatalf("%s: status %d, want %d: %s", where, res.StatusCode, q.want, raw)
	}
	out := &openAPIResp{status: res.StatusCode, header: res.Header}

	responses := op["responses"].(map[string]any)
	doc, ok := responses[strconv.Itoa(res.StatusCode)]
	if !ok {
		t.Fatalf("%s: status %d is not documented", where, res.StatusCode)
	}
	resp := r.doc.deref(t, doc)
	if res.Header.Get("Idempotent-Replayed") != "" {
		if h, _ := resp["headers"].(map[string]any); h["Idempotent-Replayed"] == nil {
			t.Errorf("%s: header Idempotent-Replayed is not documented", where)
		}
	}
	if _, ok := r.mediaSchema(doc); !ok {
		t.Fatalf("%s: response %d has no application/json schema", where, res.StatusCode)
	}
	respPtr, err := r.schemas.responsePointer(name, op, res.StatusCode)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q", where, ct)
	}
	if out.body, err = decodeOpenAPIJSON(raw); err != nil {
		t.Fatalf("%s: response is not JSON: %v", where, err)
	}
	if errs := r.schemas.problems(respPtr, out.body, "response"); len(errs) > 0 {
		t.Errorf("%s: the %d response does not validate against the document:\n\t%s\nbody: %.2000s", where, res.StatusCode, strings.Join(errs, "\n\t"), raw)
	}
	return out
}

// openAPIReceiver records the deliveries it gets.
type openAPIReceiver struct {
	mu   sync.Mutex
	got  []openAPIDelivery
	seen map[string]int // deliveries per event type
}

type openAPIDelivery struct {
	header http.Header
	body   []byte
}

func (rc *openAPIReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var env struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(b, &env)
	rc.mu.Lock()
	rc.got = append(rc.got, openAPIDelivery{header: r.Header.Clone(), body: b})
	rc.seen[env.Event]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *openAPIReceiver) count(event string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.seen[event]
}

func waitOpenAPI(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenAPIRealRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := service.New(store, egress.Policy{AllowPrivate: true}, nil)
	api := httpapi.New(svc, nil)
	api.TestWait = 10 * time.Second
	api.AdminKey = openAPIAdminKey

	// Delivery workers and a receiver, so deliveries have attempts and the
	// payloads can be checked against the document's webhooks.
	rc := &openAPIReceiver{seen: map[string]int{}}
	receiver := httptest.NewServer(rc)
	t.Cleanup(receiver.Close)
	pool := delivery.New(delivery.Options{
		Store:        store,
		Client:       egress.NewClient(egress.Options{Policy: egress.Policy{AllowPrivate: true}, Timeout: 5 * time.Second, UserAgent: "agenthooks/test"}),
		Policy:       &delivery.Policy{Schedule: []time.Duration{50 * time.Millisecond}, RetryAfterMax: time.Second},
		Timeout:      5 * time.Second,
		PollInterval: 10 * time.Millisecond,
		UserAgent:    "agenthooks/test",
	})
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pool.Stop(ctx)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	acct, err := svc.CreateAccount(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}

	schemas, err := docSchemas()
	if err != nil {
		t.Fatal(err)
	}
	fetchOpenAPI(t, api) // served, and valid JSON
	r := &openAPIRun{t: t, doc: schemas.doc, schemas: schemas, url: srv.URL, key: acct.APIKey, covered: map[string]bool{}}
	const v1 = "/api/v1"
	r.do(openAPIReq{method: "GET", path: v1 + "/openapi.json", noAuth: true, want: 200})
	r.do(openAPIReq{method: "GET", path: "/healthz", noAuth: true, want: 200})
	r.do(openAPIReq{method: "GET", path: "/readyz", noAuth: true, want: 200})
	// /metrics is Prometheus text, not JSON: check it by hand.
	if name, _ := r.operation("GET", "/metrics"); name != "" {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		r.covered[name] = true
	}

	// Webhooks.
	createWebhook := map[string]any{
		"name": "CRM", "endpoint": receiver.URL + "/hook", "enabled": true, "events": agenthooks.EventTypes,
		"ordering": "conversation", "headers": map[string]string{"X-Env": "test"}, "rate_limit": nil,
	}
	wh := r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook", body: createWebhook, idemKey: "wh-1", want: 201})
	whID := wh.str(t, "data", "id")
	replay := r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook", body: createWebhook, idemKey: "wh-1", want: 201})
	if replay.header.Get("Idempotent-Replayed") != "true" || replay.str(t, "data", "id") != whID {
		t.Errorf("the Idempotency-Key replay is not the first response: %s", shortJSON(replay.body))
	}
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook", body: map[string]any{"name": "other", "endpoint": receiver.URL}, idemKey: "wh-1", want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook", body: map[string]any{"name": "x", "endpoint": receiver.URL, "events": []string{}}, invalid: true, want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook", body: map[string]any{"name": "x", "endpoint": receiver.URL, "ordering": "fifo"}, invalid: true, want: 422})
	r.do(openAPIReq{method: "GET", path: v1 + "/outbound_webhook?page=1&size=10", queryKey: true, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/outbound_webhook/" + whID, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/outbound_webhook/" + whID, body: map[string]any{"name": "CRM (prod)", "rate_limit": 50}, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/outbound_webhook/" + whID + "/secret", want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/rotate_secret", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/transformation_template", want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/transformation/test",
		body: map[string]any{"code": "function handler(w) { w.method = 'PUT'; w.payload = {n: 1}; return w }", "event_type": "x.y", "payload": map[string]any{"a": 1}}, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/transformation/test",
		body: map[string]any{"code": "function handler(w) {\n  throw new Error('x')\n}"}, want: 422})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/outbound_webhook/" + whID, body: map[string]any{"transformation": map[string]any{"code": "function handler(w) {"}}, want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/filter/test",
		body: map[string]any{"filter": map[string]any{"data.intent_name": "SALES"}, "payload": map[string]any{"event": "x", "data": map[string]any{"intent_name": "SALES"}}}, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/filter/test",
		body: map[string]any{"filter": map[string]any{"data": map[string]any{"$like": 1}}, "payload": map[string]any{}}, want: 422})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/outbound_webhook/" + whID, body: map[string]any{"filter": map[string]any{"event": map[string]any{"$neq": "x"}}}, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/outbound_webhook/" + whID, body: map[string]any{"filter": nil}, want: 200})
	test := r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/test", want: 200})
	if test.get(t, "data", "attempt") == nil {
		t.Errorf("the test event got no attempt: %s", shortJSON(test.body))
	}
	r.do(openAPIReq{method: "GET", path: v1 + "/outbound_webhook/" + whID + "/deliveries?status=succeeded&page=1", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/outbound_webhook/" + whID + "/deliveries?status=sent", invalid: true, want: 422})

	// Assistant, widget, form, intent, contact.
	as := r.do(openAPIReq{method: "POST", path: v1 + "/assistant", body: map[string]any{"name": "Sales bot", "assistant_type": "personal"}, want: 201})
	asID := as.str(t, "data", "id")
	r.do(openAPIReq{method: "GET", path: v1 + "/assistant", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/assistant/" + asID, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/assistant/" + asID, body: map[string]any{"webhook_id": whID}, want: 200})
	wg := r.do(openAPIReq{method: "POST", path: v1 + "/widget", body: map[string]any{"assistant_id": asID, "name": "Site chat", "widget_type": "chat"}, want: 201})
	wgID := wg.str(t, "data", "id")
	r.do(openAPIReq{method: "GET", path: v1 + "/widget", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/widget/" + wgID, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/widget", body: map[string]any{"assistant_id": asID, "name": 5, "widget_type": "fax"}, invalid: true, want: 422})
	fm := r.do(openAPIReq{method: "POST", path: v1 + "/form", body: map[string]any{"name": "Lead", "webhook_id": whID, "fields": []map[string]any{
		{"name": "email", "type": "text", "required": true},
		{"name": "consent", "type": "gdpr", "required": false},
		{"name": "phone", "type": "tel"},
	}}, want: 201})
	fmID := fm.str(t, "data", "id")
	r.do(openAPIReq{method: "GET", path: v1 + "/form?size=100", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/form/" + fmID, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/form/" + fmID, body: map[string]any{"name": "Lead v2"}, want: 200})
	in := r.do(openAPIReq{method: "POST", path: v1 + "/intent", body: map[string]any{"name": "SALES", "description": "Wants to buy"}, want: 201})
	inID := in.str(t, "data", "id")
	r.do(openAPIReq{method: "GET", path: v1 + "/intent", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/intent/" + inID, want: 200})
	ct := r.do(openAPIReq{method: "POST", path: v1 + "/contact", body: map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone_number": "+441234"}, want: 201})
	ctID := ct.str(t, "data", "id")
	r.do(openAPIReq{method: "POST", path: v1 + "/contact", body: map[string]any{"first_name": "Anon"}, want: 201})
	r.do(openAPIReq{method: "GET", path: v1 + "/contact", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/contact/" + ctID, want: 200})

	// Insighto's own routes.
	r.do(openAPIReq{method: "PUT", path: v1 + "/assistant/" + asID, body: map[string]any{"llm_model": "gpt-4o", "system_prompt": "Be brief.",
		"voice": true, "voice_name": "alloy", "voice_languages": []string{"en-US", "de-DE"}, "attributes": map[string]any{"tier": "gold"}, "description": nil}, want: 200})
	r.do(openAPIReq{method: "PUT", path: v1 + "/assistant/" + asID, body: map[string]any{"assistant_type": "robot"}, invalid: true, want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/assistant/" + asID + "/intent/" + inID, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/intent/list?page=1&size=10", queryKey: true, want: 200})
	r.do(openAPIReq{method: "PUT", path: v1 + "/widget/" + wgID, body: map[string]any{"name": "Site chat v2"}, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/widget/" + wgID, body: map[string]any{"widget_type": "messenger"}, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/widget/" + wgID, body: map[string]any{"widget_type": "fax"}, invalid: true, want: 422})
	r.do(openAPIReq{method: "PUT", path: v1 + "/contact/" + ctID, body: map[string]any{"last_name": "King", "phone_number": nil}, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/contact/" + ctID, body: map[string]any{"phone_number": "+44 1234"}, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/contact/upsert?email=" + url.QueryEscape(" ADA@example.com") + "&first_name=Augusta", want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/contact/upsert?phone_number=" + url.QueryEscape("+1 (555) 010-9999"), idemKey: "upsert-1", want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/contact/upsert?first_name=Nobody", want: 422})
	spare := r.do(openAPIReq{method: "POST", path: v1 + "/widget", body: map[string]any{"assistant_id": asID, "name": "Phone line", "widget_type": "sip"}, want: 201})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/widget/" + spare.str(t, "data", "id"), want: 200})
	spareIntent := r.do(openAPIReq{method: "POST", path: v1 + "/intent", body: map[string]any{"name": "SUPPORT"}, want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/assistant/" + asID + "/intent/" + spareIntent.str(t, "data", "id"), want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/assistant/" + asID + "/intent/" + spareIntent.str(t, "data", "id"), want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/intent/" + spareIntent.str(t, "data", "id"), want: 200})

	// A conversation, with every event it can fire.
	cv := r.do(openAPIReq{method: "POST", path: v1 + "/conversation", body: map[string]any{
		"assistant_id": asID, "widget_id": wgID, "device_type": "mobile", "contact_id": ctID,
		"attributes": map[string]any{"utm_source": "ads", "visits": 3},
	}, want: 201})
	cvID := cv.str(t, "data", "id")
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation", body: map[string]any{"assistant_id": asID, "widget_id": wgID, "device_type": "watch"}, invalid: true, want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/message", body: map[string]any{"sender_type": "user", "text": "Hi, I'd like a quote"}, idemKey: "msg-1", want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/message", body: map[string]any{"sender_type": "bot", "text": "Sure! Your email?", "message_type": "text"}, want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/captured_form", body: map[string]any{"form_id": fmID, "field_values": map[string]any{"consent": true}}, want: 422})
	cf := r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/captured_form", body: map[string]any{"form_id": fmID, "field_values": map[string]any{"email": "ada@example.com", "consent": true}}, want: 201})
	cfID := cf.str(t, "data", "id")
	r.do(openAPIReq{method: "PATCH", path: v1 + "/captured_form/" + cfID, body: map[string]any{"field_values": map[string]any{"phone": "+441234"}}, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/captured_intent", body: map[string]any{"intent_id": inID}, want: 201})
	r.do(openAPIReq{method: "GET", path: v1 + "/conversation/" + cvID, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/conversation/" + cvID + "/transcript?page=1&size=1", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/conversation/by-contact/" + ctID + "?size=10", queryKey: true, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/conversation/by-contact/" + cvID, want: 404})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/close", want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/close", want: 409})
	r.do(openAPIReq{method: "POST", path: v1 + "/conversation/" + cvID + "/message", body: map[string]any{"sender_type": "user", "text": "still there?"}, want: 409})
	r.do(openAPIReq{method: "GET", path: v1 + "/conversation?assistant_id=" + asID + "&date_from=2020-01-01&date_to=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), want: 200})

	// The deliveries arrive and match the document's webhooks.
	for _, event := range []string{agenthooks.EventWebhookTest, agenthooks.EventConversationUpdated, agenthooks.EventCapturedFormCreated,
		agenthooks.EventCapturedFormUpdated, agenthooks.EventCapturedIntentCreated, agenthooks.EventConversationClosed} {
		waitOpenAPI(t, event+" delivered", func() bool { return rc.count(event) > 0 })
	}
	rc.mu.Lock()
	got := slices.Clone(rc.got)
	rc.mu.Unlock()
	hooks := r.doc.root["webhooks"].(map[string]any)
	for _, d := range got {
		v, err := decodeOpenAPIJSON(d.body)
		if err != nil {
			t.Fatalf("delivery is not JSON: %v", err)
		}
		event, _ := v.(map[string]any)["event"].(string)
		item, ok := hooks[event].(map[string]any)
		if !ok {
			t.Errorf("delivered event %q is not among the document's webhooks", event)
			continue
		}
		op := item["post"].(map[string]any)
		hookPtr := "/webhooks/" + pointerToken(event) + "/post"
		if errs := r.schemas.problems(hookPtr+"/requestBody/content/application~1json/schema", v, "delivery"); len(errs) > 0 {
			t.Errorf("%s delivery does not validate:\n\t%s\nbody: %s", event, strings.Join(errs, "\n\t"), d.body)
		}
		for i, p := range op["parameters"].([]any) {
			pm := r.doc.deref(t, p)
			name := pm["name"].(string)
			value := d.header.Get(name)
			if value == "" {
				t.Errorf("%s delivery lacks header %s", event, name)
				continue
			}
			if errs := r.schemas.problems(hookPtr+"/parameters/"+strconv.Itoa(i)+"/schema", value, "header "+name); len(errs) > 0 {
				t.Errorf("%s delivery: %s", event, strings.Join(errs, "; "))
			}
		}
	}

	// Events, deliveries, attempts.
	closed := r.do(openAPIReq{method: "GET", path: v1 + "/event?event=conversation.closed", want: 200})
	evID := closed.str(t, "data", "items", 0, "id")
	r.do(openAPIReq{method: "GET", path: v1 + "/event?page=1&size=100", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/event?event=Conversation", invalid: true, want: 422})
	r.do(openAPIReq{method: "GET", path: v1 + "/event?event=conversation.opened", want: 422}) // the shape of an own type's name, none of the account's
	r.do(openAPIReq{method: "GET", path: v1 + "/event?page=0", invalid: true, want: 422})
	ev := r.do(openAPIReq{method: "GET", path: v1 + "/event/" + evID, want: 200})
	dlID := ev.str(t, "data", "deliveries", 0, "id")
	waitOpenAPI(t, "the delivery to succeed", func() bool {
		d := r.do(openAPIReq{method: "GET", path: v1 + "/delivery/" + dlID, want: 200})
		return d.str(t, "data", "status") == agenthooks.DeliverySucceeded
	})
	r.do(openAPIReq{method: "POST", path: v1 + "/delivery/" + dlID + "/retry", want: 202})
	r.do(openAPIReq{method: "GET", path: v1 + "/delivery?webhook_id=" + whID + "&event_id=" + evID, want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/delivery?status=retrying", invalid: true, want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/event/" + evID + "/replay", want: 202})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/recover", body: map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, want: 202})
	r.do(openAPIReq{method: "POST", path: v1 + "/outbound_webhook/" + whID + "/recover", body: map[string]any{"since": "yesterday"}, invalid: true, want: 422})
	types := r.do(openAPIReq{method: "GET", path: v1 + "/event_type", want: 200})
	for _, it := range types.get(t, "data", "items").([]any) {
		name := it.(map[string]any)["name"].(string)
		if hooks[name] == nil && it.(map[string]any)["built_in"] == true {
			t.Errorf("GET /event_type lists %s, which the document's webhooks lack", name)
		}
	}

	// The account's own event types, and an event of one published.
	callSchema := map[string]any{"type": "object", "required": []string{"duration_s"}, "properties": map[string]any{"duration_s": map[string]any{"type": "integer"}},
		"examples": []any{map[string]any{"duration_s": 42}}}
	r.do(openAPIReq{method: "POST", path: v1 + "/event_type", body: map[string]any{"name": "call.ended", "description": "A call ended.", "schema": callSchema}, want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/event_type", body: map[string]any{"name": "webhook.mine"}, want: 422})
	r.do(openAPIReq{method: "POST", path: v1 + "/event_type", body: map[string]any{"name": "call.ended"}, want: 409})
	r.do(openAPIReq{method: "GET", path: v1 + "/event_type/call.ended", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/event_type/" + agenthooks.EventConversationClosed, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/event_type/call.ended", body: map[string]any{"deprecated": true}, want: 200})
	r.do(openAPIReq{method: "PATCH", path: v1 + "/outbound_webhook/" + whID, body: map[string]any{"events": []string{agenthooks.EventConversationClosed, "call.ended"}}, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/event", body: map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": 42}}, want: 201})
	r.do(openAPIReq{method: "POST", path: v1 + "/event", body: map[string]any{"event_type": "call.ended", "data": map[string]any{"duration_s": "long"}}, want: 422})
	r.do(openAPIReq{method: "GET", path: v1 + "/event?event=call.ended", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/event_type?page=1&size=5", want: 200})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/event_type/call.ended", want: 200})
	r.do(openAPIReq{method: "GET", path: v1 + "/event_type/call.ended", want: 404})

	runAccountsOpenAPI(t, r)
	r.do(openAPIReq{method: "POST", path: v1 + "/portal_session", body: map[string]any{"expires_in": 600, "read_only": true}, want: 201})

	// Errors.
	r.do(openAPIReq{method: "GET", path: v1 + "/outbound_webhook", noAuth: true, want: 401})
	r.do(openAPIReq{method: "GET", path: v1 + "/assistant/0190a8e2-7c1d-7cc0-8000-000000000000", want: 404})
	r.do(openAPIReq{method: "GET", path: v1 + "/conversation/not-an-id", want: 404})
	r.do(openAPIReq{method: "POST", path: v1 + "/intent", body: []byte(`{"name": `), want: 400})
	r.do(openAPIReq{method: "POST", path: v1 + "/intent", body: bytes.Repeat([]byte(" "), httpapi.MaxBodyBytes+1), want: 413})
	r.do(openAPIReq{method: "POST", path: v1 + "/intent", body: map[string]any{"name": 5}, invalid: true, want: 422})

	// Deletes last; a delivery whose webhook is gone cannot be retried.
	r.do(openAPIReq{method: "DELETE", path: v1 + "/assistant/" + asID, want: 200})
	waitOpenAPI(t, "the retried delivery to end", func() bool {
		d := r.do(openAPIReq{method: "GET", path: v1 + "/delivery/" + dlID, want: 200})
		return d.str(t, "data", "status") != agenthooks.DeliveryPending
	})
	r.do(openAPIReq{method: "DELETE", path: v1 + "/outbound_webhook/" + whID, want: 200})
	r.do(openAPIReq{method: "POST", path: v1 + "/delivery/" + dlID + "/retry", want: 409})

	// The run exercised every documented operation.
	for name := range r.doc.operations() {
		if !r.covered[name] {
			t.Errorf("the run never called %s", name)
		}
	}
}
