// Command leads is "your website" from Insighto's help article on webhooks (docs/wire-format.md): a small receiver that
// stores every lead an agenthooks assistant captures (captured_form.created,
// and captured_form.updated when the visitor changes a value) in a leads
// table of its SQLite database.
//
//	go run ./examples/leads --secret whsec_... --addr 127.0.0.1:9100 --db leads.db
//
// Point a webhook at http://127.0.0.1:9100/webhooks and assign it to a form or
// an assistant; see README.md beside this file. It shows the three things a
// receiver must do:
//
//   - verify each request's signature (webhook.NewHandler does, answering 401
//     to anything not signed with the webhook's secret);
//   - process each event once although agenthooks delivers at least once: the
//     handler claims the webhook-id in a table of the same database
//     (webhook.NewSQLDeduper), so a retry of a stored event is acknowledged
//     without being stored again, and a failed one is processed again;
//   - tolerate order: retries can deliver an older event after a newer one, so
//     a lead row keeps the values of the newest event (event ids are UUIDv7 and
//     sort in creation order), whatever order they arrive in.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/agenthooks/agenthooks/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole program, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("leads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	secret := fs.String("secret", getenv("WEBHOOK_SECRET"), "the webhook's secret, whsec_... (env WEBHOOK_SECRET); old,new during a rotation")
	addr := fs.String("addr", "127.0.0.1:9100", "listen address")
	dbPath := fs.String("db", "leads.db", "SQLite database file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *secret == "" {
		fmt.Fprintln(stderr, "leads: --secret whsec_... (or WEBHOOK_SECRET) is required: the webhook's secret, shown when it is created")
		return 2
	}
	v, err := webhook.NewVerifier(*secret) // "old,new" during a rotation
	if err != nil {
		fmt.Fprintf(stderr, "leads: --secret: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	db, err := openDB(*dbPath)
	if err != nil {
		fmt.Fprintf(stderr, "leads: %v\n", err)
		return 1
	}
	defer db.Close()
	h, err := newServer(ctx, db, v, log)
	if err != nil {
		fmt.Fprintf(stderr, "leads: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "leads: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("leads receiver listening", slog.String("webhook_endpoint", "http://"+ln.Addr().String()+"/webhooks"),
		slog.String("leads", "http://"+ln.Addr().String()+"/leads"), slog.String("db", *dbPath))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		fmt.Fprintf(stderr, "leads: %v\n", err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}

// openDB opens the SQLite database at path. The busy timeout makes concurrent
// deliveries wait for the write lock instead of failing with SQLITE_BUSY, and
// WAL lets GET /leads read while a delivery writes.
func openDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// newServer creates the tables if needed and returns the receiver's routes:
// POST /webhooks for agenthooks, GET /leads to look at what was stored.
func newServer(ctx context.Context, db *sql.DB, v *webhook.Verifier, log *slog.Logger) (http.Handler, error) {
	s := &store{db: db, log: log}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	dedup, err := webhook.NewSQLDeduper(ctx, db)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks", webhook.NewHandler(v, s.handle, webhook.WithDeduper(dedup), webhook.WithLogger(log)))
	mux.HandleFunc("GET /leads", s.list)
	return mux, nil
}

// store keeps the leads.
type store struct {
	db  *sql.DB
	log *slog.Logger
}

// schema is the leads table: one row per captured form (an update carries the
// captured_form_id of its creation), with the article's form's fields in columns
// and every value in field_values. event_id is the newest event applied.
const schema = `CREATE TABLE IF NOT EXISTS leads (
	captured_form_id TEXT PRIMARY KEY,
	form_name        TEXT NOT NULL,
	name             TEXT NOT NULL DEFAULT '',
	email            TEXT NOT NULL DEFAULT '',
	query            TEXT NOT NULL DEFAULT '',
	field_values     TEXT NOT NULL,
	conversation_id  TEXT NOT NULL,
	assistant_id     TEXT NOT NULL,
	widget_id        TEXT NOT NULL,
	device_type      TEXT NOT NULL,
	event_id         TEXT NOT NULL,
	captured_at      TEXT NOT NULL,
	updated_at       TEXT NOT NULL
)`

func (s *store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create leads table: %w", err)
	}
	return nil
}

// handle is called by webhook.NewHandler once per verified event that was
// not processed before. An error answers 500, and agenthooks retries.
func (s *store) handle(ctx context.Context, e *webhook.Event) error {
	if e.Type != webhook.EventCapturedFormCreated && e.Type != webhook.EventCapturedFormUpdated {
		return nil // other events are acknowledged and ignored
	}
	data, err := e.Decode()
	if err != nil {
		return webhook.Permanent(err) // 400: the same body will never decode
	}
	f := data.(*webhook.CapturedForm)
	if f.CapturedFormID == "" {
		return webhook.Permanent(errors.New("captured_form_id is empty"))
	}
	stored, err := s.upsert(ctx, e, f)
	if err != nil {
		return err
	}
	if stored {
		s.log.Info("lead stored", slog.String("event", e.Type), slog.String("webhook_id", e.ID),
			slog.String("captured_form_id", f.CapturedFormID), slog.String("name", text(f.FieldValues, "name")),
			slog.String("email", text(f.FieldValues, "email")))
	} else {
		s.log.Info("lead already newer, event skipped", slog.String("event", e.Type), slog.String("webhook_id", e.ID),
			slog.String("captured_form_id", f.CapturedFormID))
	}
	return nil
}

// upsert inserts the lead or, if a row exists, overwrites it with this event's
// values unless the row already holds a newer event's. It reports whether
// the row now holds this event.
func (s *store) upsert(ctx context.Context, e *webhook.Event, f *webhook.CapturedForm) (bool, error) {
	values, err := json.Marshal(f.FieldValues)
	if err != nil {
		return false, webhook.Permanent(err)
	}
	now := time.Now().UTC().Format(webhook.TimeLayout)
	res, err := s.db.ExecContext(ctx, `INSERT INTO leads (captured_form_id, form_name, name, email, query, field_values,
		conversation_id, assistant_id, widget_id, device_type, event_id, captured_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
	ON CONFLICT (captured_form_id) DO UPDATE SET
		form_name = excluded.form_name, name = excluded.name, email = excluded.email, query = excluded.query,
		field_values = excluded.field_values, device_type = excluded.device_type,
		event_id = excluded.event_id, updated_at = excluded.updated_at
	WHERE excluded.event_id > leads.event_id`,
		f.CapturedFormID, f.FormName, text(f.FieldValues, "name"), text(f.FieldValues, "email"), text(f.FieldValues, "query"),
		string(values), f.ConversationID, f.AssistantID, f.WidgetID, f.DeviceType, e.ID, e.CreatedAt, now)
	if err != nil {
		return false, fmt.Errorf("store lead %s: %w", f.CapturedFormID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store lead %s: %w", f.CapturedFormID, err)
	}
	return n == 1, nil
}

// text returns a field's value as text ("" if absent).
func text(values map[string]any, field string) string {
	switch v := values[field].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// Lead is a row of the leads table, as GET /leads shows it.
type Lead struct {
	CapturedFormID string          `json:"captured_form_id"`
	FormName       string          `json:"form_name"`
	Name           string          `json:"name"`
	Email          string          `json:"email"`
	Query          string          `json:"query"`
	FieldValues    json.RawMessage `json:"field_values"`
	ConversationID string          `json:"conversation_id"`
	DeviceType     string          `json:"device_type"`
	EventID        string          `json:"event_id"`
	CapturedAt     string          `json:"captured_at"`
	UpdatedAt      string          `json:"updated_at"`
}

// leads returns every lead, oldest capture first.
func (s *store) leads(ctx context.Context) ([]Lead, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT captured_form_id, form_name, name, email, query, field_values,
		conversation_id, device_type, event_id, captured_at, updated_at FROM leads ORDER BY captured_at, captured_form_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Lead{}
	for rows.Next() {
		var l Lead
		var values string
		if err := rows.Scan(&l.CapturedFormID, &l.FormName, &l.Name, &l.Email, &l.Query, &values,
			&l.ConversationID, &l.DeviceType, &l.EventID, &l.CapturedAt, &l.UpdatedAt); err != nil {
			return nil, err
		}
		l.FieldValues = json.RawMessage(values)
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *store) list(w http.ResponseWriter, r *http.Request) {
	leads, err := s.leads(r.Context())
	if err != nil {
		s.log.Error("list leads", slog.Any("error", err))
		http.Error(w, "cannot read leads", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(leads)
}
