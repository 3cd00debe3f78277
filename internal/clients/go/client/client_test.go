package client_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/internal/clients/go/client"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
)

// TestGeneratedClientIsCurrent: client.gen.go is what the pinned
// oapi-codegen makes of ../../openapi.json today (go generate rewrites it).
func TestGeneratedClientIsCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "client.gen.go")
	cmd := exec.Command("go", "tool", "oapi-codegen", "-config", "oapi-codegen.yaml", "-o", out, "../../openapi.json")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("client.gen.go is stale: run go generate in internal/clients/go/client")
	}
}

// server is agenthooks' API over a fresh SQLite store, with one account,
// and the generated client acting as that account.
func server(t *testing.T) (*client.ClientWithResponses, string) {
	t.Helper()
	c, url, _ := serverKey(t)
	return c, url
}

// serverKey is server and the account's API key.
func serverKey(t *testing.T) (*client.ClientWithResponses, string, string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := service.New(store, egress.Policy{AllowPrivate: true}, nil)
	srv := httptest.NewServer(httpapi.New(svc, nil))
	t.Cleanup(srv.Close)
	acct, err := svc.CreateAccount(ctx, "client test")
	if err != nil {
		t.Fatal(err)
	}
	bearer := client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+acct.APIKey)
		return nil
	})
	c, err := client.NewClientWithResponses(srv.URL, client.WithHTTPClient(srv.Client()), bearer)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL, acct.APIKey
}

func ptr[T any](v T) *T { return &v }

// want fails unless the answer has the status and its typed body decoded.
func want[T any](t *testing.T, what string, res *http.Response, status int, body []byte, parsed *T) *T {
	t.Helper()
	if res.StatusCode != status || parsed == nil {
		t.Fatalf("%s: status %d, want %d (decoded: %v): %s", what, res.StatusCode, status, parsed != nil, body)
	}
	return parsed
}

// TestGeneratedClientSeedStory runs the seed's story with the generated
// client: webhook, assistant with webhook_id, widget, form, conversation
// with attributes, captured form, close, and the deliveries listed.
func TestGeneratedClientSeedStory(t *testing.T) {
	c, url := server(t)
	seedStory(t, c, url)
}

// seedStory is the story, told with c; url is where the webhook points.
func seedStory(t *testing.T, c *client.ClientWithResponses, url string) {
	t.Helper()
	ctx := context.Background()

	wh, err := c.CreateWebhookWithResponse(ctx, nil, client.WebhookCreate{
		Name: "crm", Endpoint: ptr(url + "/hook"),
		Events: &[]string{"captured_form.created", "conversation.closed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hook := want(t, "create webhook", wh.HTTPResponse, 201, wh.Body, wh.JSON201).Data
	if hook.Secret == nil || len(*hook.Secret) < 10 {
		t.Fatalf("webhook secret %v", hook.Secret)
	}

	as, err := c.CreateAssistantWithResponse(ctx, nil, client.AssistantCreate{Name: ptr("Sales bot"), WebhookId: &hook.Id, Voice: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	assistant := want(t, "create assistant", as.HTTPResponse, 201, as.Body, as.JSON201).Data
	if assistant.WebhookId == nil || *assistant.WebhookId != hook.Id || !assistant.Voice {
		t.Fatalf("assistant %+v: want webhook_id %s and voice true", assistant, hook.Id)
	}

	wg, err := c.CreateWidgetWithResponse(ctx, nil, client.WidgetCreate{AssistantId: &assistant.Id, Name: ptr("site chat"),
		WidgetType: client.WidgetCreateWidgetTypeChat, UserOpeningMessages: &[]string{"Hi!"}})
	if err != nil {
		t.Fatal(err)
	}
	widget := want(t, "create widget", wg.HTTPResponse, 201, wg.Body, wg.JSON201).Data
	if len(widget.UserOpeningMessages) != 1 {
		t.Fatalf("widget user_opening_messages %v, want the one given", widget.UserOpeningMessages)
	}

	fm, err := c.CreateFormWithResponse(ctx, nil, client.FormCreate{Name: "lead", Fields: &[]client.FormFieldInput{
		{Name: "email", Required: ptr(true)}, {Name: "name"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	form := want(t, "create form", fm.HTTPResponse, 201, fm.Body, fm.JSON201).Data

	cv, err := c.CreateConversationWithResponse(ctx, nil, client.ConversationCreate{AssistantId: assistant.Id, WidgetId: widget.Id,
		DeviceType: client.ConversationCreateDeviceTypeDesktop, Attributes: &map[string]interface{}{"utm_source": "ads", "plan": map[string]interface{}{"seats": 3}}})
	if err != nil {
		t.Fatal(err)
	}
	conv := want(t, "create conversation", cv.HTTPResponse, 201, cv.Body, cv.JSON201).Data
	if conv.Attributes["utm_source"] != "ads" {
		t.Fatalf("conversation attributes %v", conv.Attributes)
	}

	cf, err := c.CaptureFormWithResponse(ctx, conv.Id.String(), nil, client.CapturedFormCreate{FormId: form.Id,
		FieldValues: map[string]interface{}{"email": "ada@example.com", "name": "Ada"}})
	if err != nil {
		t.Fatal(err)
	}
	captured := want(t, "capture form", cf.HTTPResponse, 201, cf.Body, cf.JSON201).Data
	if captured.FieldValues["email"] != "ada@example.com" {
		t.Fatalf("captured form %+v", captured)
	}

	cl, err := c.CloseConversationWithResponse(ctx, conv.Id.String(), nil, client.ConversationClose{Summary: ptr("Ada wants a demo.")})
	if err != nil {
		t.Fatal(err)
	}
	closed := want(t, "close", cl.HTTPResponse, 200, cl.Body, cl.JSON200).Data
	if closed.Status != client.ConversationStatusClosed || closed.ClosedAt == nil {
		t.Fatalf("closed conversation %+v", closed)
	}

	// Closing again: 409, decoded as the documented error.
	again, err := c.CloseConversationWithResponse(ctx, conv.Id.String(), nil, client.ConversationClose{})
	if err != nil {
		t.Fatal(err)
	}
	if again.StatusCode() != 409 || again.JSON409 == nil || again.JSON409.Detail == "" {
		t.Fatalf("close again: %d %s, want a 409 with detail", again.StatusCode(), again.Body)
	}

	ld, err := c.ListDeliveriesWithResponse(ctx, &client.ListDeliveriesParams{WebhookId: &hook.Id})
	if err != nil {
		t.Fatal(err)
	}
	list := want(t, "list deliveries", ld.HTTPResponse, 200, ld.Body, ld.JSON200).Data
	if list.Total != 2 || len(list.Items) != 2 {
		t.Fatalf("deliveries %+v, want captured_form.created and conversation.closed", list)
	}
	for _, d := range list.Items {
		if d.WebhookId != hook.Id {
			t.Fatalf("delivery %+v is not the webhook's", d)
		}
	}

	// A 422 decodes as the documented validation error, loc and all.
	bad, err := c.CreateConversationWithResponse(ctx, nil, client.ConversationCreate{AssistantId: assistant.Id, WidgetId: assistant.Id,
		DeviceType: client.ConversationCreateDeviceTypeMobile})
	if err != nil {
		t.Fatal(err)
	}
	if bad.StatusCode() != 422 || bad.JSON422 == nil || len(bad.JSON422.Detail) == 0 || len(bad.JSON422.Detail[0].Loc) < 2 {
		t.Fatalf("bad conversation: %d %s, want a 422 with a loc", bad.StatusCode(), bad.Body)
	}
}

// TestTypeScriptClientSeedStory runs the seed's story with the TypeScript
// client (openapi-typescript + openapi-fetch, ../../ts) against a real
// server: node runs ../../ts/dist/story.js, which `npm ci && npm run build`
// there makes (.ci/run does). Without it the test skips, but fails in CI.
func TestTypeScriptClientSeedStory(t *testing.T) {
	story, err := filepath.Abs(filepath.Join("..", "..", "ts", "dist", "story.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(story); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: build it with npm ci && npm run build in internal/clients/ts", err)
		}
		t.Skipf("%v: build it with npm ci && npm run build in internal/clients/ts", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	_, url, key := serverKey(t)
	cmd := exec.Command(node, story)
	cmd.Env = append(os.Environ(), "AGENTHOOKS_URL="+url, "AGENTHOOKS_KEY="+key)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("ts story: ok")) {
		t.Fatalf("node %s: %v\n%s", story, err, out)
	}
}

// TestPrismProxySeedStory tells the seed's story through Prism
// (@stoplight/prism-cli, ../../prism, `npm ci` there) as a validating proxy
// with --errors in front of a real server: a request or a response that does
// not match the document becomes an error answer, which fails the story, and
// any violation Prism logs fails the test. Without Prism installed the test
// skips, but fails in CI.
func TestPrismProxySeedStory(t *testing.T) {
	prism, err := filepath.Abs(filepath.Join("..", "..", "prism", "node_modules", ".bin", "prism"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(prism); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v: npm ci in internal/clients/prism", err)
		}
		t.Skipf("%v: npm ci in internal/clients/prism", err)
	}
	_, upstream, key := serverKey(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	var log syncBuffer
	cmd := exec.Command(prism, "proxy", "../../openapi.json", upstream, "--errors", "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // Prism and any child it started
		_ = cmd.Wait()
	})
	proxy := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(log.String(), "Prism is listening") {
		if time.Now().After(deadline) {
			t.Fatalf("Prism did not start:\n%s", log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	bearer := client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+key)
		return nil
	})
	c, err := client.NewClientWithResponses(proxy, bearer)
	if err != nil {
		t.Fatal(err)
	}
	seedStory(t, c, upstream)
	out := log.String()
	if strings.Contains(strings.ToLower(out), "violation") || strings.Contains(out, "✖") {
		t.Fatalf("Prism found violations:\n%s", out)
	}
	if !strings.Contains(out, "Forwarding") {
		t.Fatalf("Prism forwarded nothing:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer that a process writes while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
