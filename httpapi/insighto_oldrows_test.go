package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/agenthooks/agenthooks/egress"
	"github.com/agenthooks/agenthooks/httpapi"
	"github.com/agenthooks/agenthooks/internal/testdb"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/sqlstore"
	"github.com/agenthooks/agenthooks/storetest"
)

// TestInsightoFieldsOldRowsThroughAPI: rows written before the
// insighto_fields migration (storetest.InsightoFieldsMigrationSeed, with SQL
// on a database migrated to just before it, found by name) read through the
// API with every Insighto field sane: Insighto's types, the defaults of
// fields never set, the derived fields filled in, the filters applied; and
// every answer matches the OpenAPI document (testBundle.check).
func TestInsightoFieldsOldRowsThroughAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := testdb.MigrationsBefore(t, sqlite.Migrations(), "insighto_fields")
	if _, err := sqlstore.Migrate(ctx, conn, &sqlstore.Dialect{}, before); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range storetest.InsightoFieldsMigrationSeed {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	_ = conn.Close()
	_ = db.Close()

	store, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := service.New(store, egress.Policy{Resolver: resolver}, nil)
	srv := httptest.NewServer(httpapi.New(svc, nil))
	t.Cleanup(srv.Close)
	key, err := svc.CreateAPIKey(ctx, storetest.OldFieldsAccount, "after the upgrade")
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{tb: t, store: store, svc: svc, srv: srv, keyA: key.Key}
	get := func(p string) map[string]any {
		t.Helper()
		return b.expect(http.StatusOK, key.Key, "GET", "/api/v1"+p, nil).data(t)
	}
	is := func(what string, got, want any) {
		t.Helper()
		if !jsonEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}

	a := get("/assistant/" + storetest.OldFieldsAssistant)
	is("assistant voice", a["voice"], true)
	is("assistant voice_name", a["voice_name"], "alloy")
	is("assistant org_id", a["org_id"], storetest.OldFieldsAccount)
	is("assistant voice_languages", a["voice_languages"], []any{"en-US"})
	is("assistant attributes", a["attributes"], map[string]any{"k": float64(1)})
	for _, f := range []string{"conversation_flow_id", "custom_voice"} {
		is("assistant "+f, a[f], nil)
	}
	for _, f := range []string{"has_human_agent", "hide_ds", "show_images", "use_tools"} {
		is("assistant "+f, a[f], false)
	}
	is("mute assistant voice", get("/assistant/" + storetest.OldFieldsMute)["voice"], false)

	w := get("/widget/" + storetest.OldFieldsWidget)
	is("widget org_id", w["org_id"], storetest.OldFieldsAccount)
	is("widget action_buttons", w["action_buttons"], []any{})
	is("widget user_opening_messages", w["user_opening_messages"], []any{})
	is("widget style_params", w["style_params"], map[string]any{})
	is("widget remove_branding", w["remove_branding"], false)
	is("widget bubble_color", w["bubble_color"], nil)

	i := get("/intent/" + storetest.OldFieldsIntent)
	is("intent is_active", i["is_active"], true)
	is("intent attributes", i["attributes"], map[string]any{})
	is("intent intent_type", i["intent_type"], nil)

	c := get("/contact/" + storetest.OldFieldsContact)
	is("contact org_id", c["org_id"], storetest.OldFieldsAccount)
	is("contact channels", c["channels"], []any{})
	is("contact custom_fields", c["custom_fields"], map[string]any{})
	is("contact first_assistant_id", c["first_assistant_id"], storetest.OldFieldsAssistant)
	is("contact last_widget_id", c["last_widget_id"], storetest.OldFieldsWidget)
	seen := time.UnixMicro(3000000).UTC().Format(time.RFC3339Nano)
	is("contact last_seen", c["last_seen"], seen)
	is("contact last_sent", c["last_sent"], seen)

	conv := get("/conversation/" + storetest.OldFieldsVoiceConv)
	is("conversation includes_voice", conv["includes_voice"], true)
	is("conversation unique_device_id", conv["unique_device_id"], nil)
	is("conversation summary", conv["summary"], nil)

	for _, q := range []struct {
		query string
		want  []any
	}{
		{"includes_voice=true", []any{storetest.OldFieldsVoiceConv}},
		{"includes_voice=false", []any{storetest.OldFieldsTextConv}},
		{"intent_id=" + storetest.OldFieldsIntent, []any{storetest.OldFieldsVoiceConv}},
	} {
		items := b.expect(http.StatusOK, key.Key, "GET", "/api/v1/conversation?"+q.query, nil).items(t)
		var ids []any
		for _, it := range items {
			ids = append(ids, it["id"])
		}
		is("GET /conversation?"+q.query, ids, q.want)
		if q.query == "includes_voice=true" && len(items) == 1 {
			row := items[0]
			is("row intent_name", row["intent_name"], "SALES")
			is("row assistant_name", row["assistant_name"], "talker")
			is("row contact_first_name", row["contact_first_name"], "Ada")
			is("row widget_type", row["widget_type"], "chat")
			is("row includes_voice", row["includes_voice"], true)
		}
	}
}
