package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agenthooks/agenthooks/internal/testdb"
)

// The fault tests run one at a time, not in parallel with the package's
// other tests: each loads the machine on purpose, and the timing of the
// others should not pay for it.
//
// They run the real binary (built once, see binary) on loopback
// against real engines, inject one fault each under load, and check what must
// hold: every close whose API call answered 2xx reaches the receiver, no call
// answers 500, duplicates stay within what was in flight. They log their
// figures (accepted, delivered, duplicates, recovery time); times are only
// bounded generously, never asserted.

// proc is one agenthooks serve process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	apiKey string
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
	exit   int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// faultEnv is the environment of every process of the fault tests: a short
// retry schedule, so that recovery is quick to see.
func faultEnv(databaseURL, addr string, extra ...string) []string {
	return append(append(os.Environ(),
		"AGENTHOOKS_DATABASE_URL="+databaseURL,
		"AGENTHOOKS_ADDR="+addr,
		"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS=true",
		"AGENTHOOKS_RETRY_SCHEDULE=100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
		"AGENTHOOKS_DELIVERY_TIMEOUT=2s",
		"AGENTHOOKS_LOG_LEVEL=warn",
		"AGENTHOOKS_SHUTDOWN_GRACE=0s",
	), extra...)
}

// spawn starts `agenthooks args...` with env; with first, it reads the first
// account's key from stdout. It waits until /healthz answers.
func spawn(t *testing.T, env []string, addr string, first bool, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, addr: addr, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), args...)
	p.cmd.Env = env
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		err := p.cmd.Wait()
		p.exit = p.cmd.ProcessState.ExitCode()
		_ = err
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("stderr of %v:\n%s", args, p.stderr.String())
		}
	})
	if first {
		select {
		case line := <-lines:
			var acc struct {
				APIKey string `json:"api_key"`
			}
			if err := json.Unmarshal([]byte(line), &acc); err != nil || acc.APIKey == "" {
				t.Fatalf("serve printed %q: %v", line, err)
			}
			p.apiKey = acc.APIKey
		case <-p.done:
			t.Fatalf("%v exited with %d:\n%s", args, p.exit, p.stderr.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("%v printed no first account", args)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%v exited with %d:\n%s", args, p.exit, p.stderr.String())
		default:
		}
		if status(t, "http://"+addr+"/healthz") == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v on %s did not become healthy", args, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// status GETs url and returns the status, 0 if the request failed.
func status(t *testing.T, url string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond every 50 ms until it holds, and returns how long that
// took; it fails after bound (a bound against hangs, not a speed assertion).
func waitFor(t *testing.T, bound time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > bound {
			t.Fatalf("%s: not within %v", what, bound)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// loadRun closes prepared conversations through the API from several
// clients, recording which closes were accepted (2xx) and counting every
// other answer by status.
type loadRun struct {
	t         *testing.T
	base      string
	key       string
	webhookID string
	convs     []string
	next      atomic.Int64
	mu        sync.Mutex
	accepted  map[string]time.Time // conversation → when its close was accepted
	answers   map[int]int          // status → count (0: the request failed)
	stop      chan struct{}
	wg        sync.WaitGroup
}

// setUpLoad creates a webhook to r, an assistant with a widget, and n open
// conversations.
func setUpLoad(t *testing.T, base, key string, r *receiver, n int) *loadRun {
	t.Helper()
	c := &client{t: t, base: base, key: key}
	wh := c.must(http.StatusCreated, "POST", "/outbound_webhook", map[string]any{"name": "crm", "endpoint": r.URL(), "events": []string{"conversation.closed"}})
	r.setSecret(wh["secret"].(string))
	as := c.id("POST", "/assistant", map[string]any{"name": "a", "webhook_id": wh["id"]})
	wg := c.id("POST", "/widget", map[string]any{"assistant_id": as, "name": "w", "widget_type": "phone"})
	l := &loadRun{t: t, base: base, key: key, webhookID: wh["id"].(string), accepted: map[string]time.Time{}, answers: map[int]int{}, stop: make(chan struct{})}
	for range n {
		l.convs = append(l.convs, c.id("POST", "/conversation", map[string]any{"assistant_id": as, "widget_id": wg, "device_type": "phone"}))
	}
	return l
}

// start runs clients closing conversations, each at most every pace, until
// stopped or none is left; a close that did not answer 2xx is tried again
// later (as a client honouring Retry-After would).
func (l *loadRun) start(clients int, pace time.Duration) {
	httpc := &http.Client{Timeout: 10 * time.Second}
	var retry sync.Mutex
	var again []string
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(pace):
				}
				var conv string
				retry.Lock()
				if len(again) > 0 {
					conv, again = again[0], again[1:]
				}
				retry.Unlock()
				if conv == "" {
					i := int(l.next.Add(1)) - 1
					if i >= len(l.convs) {
						return
					}
					conv = l.convs[i]
				}
				req, _ := http.NewRequest("POST", l.base+"/api/v1/conversation/"+conv+"/close", nil)
				req.Header.Set("Authorization", "Bearer "+l.key)
				code := 0
				if resp, err := httpc.Do(req); err == nil {
					code = resp.StatusCode
					resp.Body.Close()
				}
				l.mu.Lock()
				l.answers[code]++
				if code/100 == 2 {
					l.accepted[conv] = time.Now()
				}
				l.mu.Unlock()
				// 409: the close was stored although its answer was lost
				// (a 503 after a commit whose result was unknown): done.
				if code/100 != 2 && code != http.StatusConflict {
					retry.Lock()
					again = append(again, conv)
					retry.Unlock()
				}
			}
		}()
	}
}

// settled reports whether the webhook has no pending delivery left (none
// waiting, none claimed).
func (l *loadRun) settled() bool {
	req, _ := http.NewRequest("GET", l.base+"/api/v1/outbound_webhook/"+l.webhookID+"/deliveries?status=pending&size=1", nil)
	req.Header.Set("Authorization", "Bearer "+l.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Total int `json:"total"`
		} `json:"data"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&body) == nil && body.Data.Total == 0
}

// halt stops the clients and waits for them.
func (l *loadRun) halt() {
	close(l.stop)
	l.wg.Wait()
}

func (l *loadRun) count(code int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answers[code]
}

func (l *loadRun) acceptedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted)
}

func (l *loadRun) acceptedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]string, 0, len(l.accepted))
	for id := range l.accepted {
		ids = append(ids, id)
	}
	return ids
}

// arrivals returns, per conversation closed, how many times its event arrived.
func arrivals(r *receiver) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, d := range r.got {
		data, _ := d.Event["data"].(map[string]any)
		if id, ok := data["conversation_id"].(string); ok {
			n[id]++
		}
	}
	return n
}

// allArrived reports whether every id arrived at least once.
func allArrived(r *receiver, ids []string) bool {
	got := arrivals(r)
	for _, id := range ids {
		if got[id] == 0 {
			return false
		}
	}
	return true
}

// duplicates counts arrivals beyond the first, per event.
func duplicates(r *receiver) int {
	dup := 0
	for _, n := range arrivals(r) {
		dup += n - 1
	}
	return dup
}

// scrapeValue returns the value of an unlabelled series of a /metrics page
// (-1 when it is missing).
func scrapeValue(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return -1
}

// claimedNow counts the deliveries claimed and not yet recorded.
func claimedNow(t *testing.T, dbURL string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE status = 'pending' AND claimed = 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFaultWorkerKilled: one API process and three worker processes share a
// PostgreSQL database under load; one worker is SIGKILLed. Every accepted
// close arrives, duplicates stay within the deliveries in flight at the kill,
// and the killed worker's claims go out again by themselves.
func TestFaultWorkerKilled(t *testing.T) {
	const workers = 16 // attempts at once per worker process
	// A cluster of its own: four processes with their pools would take a
	// good share of the shared server's connections.
	dbURL := testdb.NewCluster(t).Database("agenthooks")
	apiAddr := freeAddr(t)
	api := spawn(t, faultEnv(dbURL, apiAddr), apiAddr, true, "serve", "--role", "api")
	var ws []*proc
	for range 3 {
		addr := freeAddr(t)
		// A delivery timeout far above the receiver's 100 ms: an attempt
		// that timed out on a loaded machine would be a duplicate that has
		// nothing to do with the kill.
		ws = append(ws, spawn(t, faultEnv(dbURL, addr, fmt.Sprintf("AGENTHOOKS_WORKERS=%d", workers), "AGENTHOOKS_DELIVERY_TIMEOUT=10s"),
			addr, false, "serve", "--role", "worker"))
	}
	for _, w := range ws {
		if s := status(t, "http://"+w.addr+"/readyz"); s != http.StatusOK {
			t.Fatalf("worker /readyz: %d", s)
		}
	}
	r := newReceiver(t)
	r.status = func(string, int) int {
		time.Sleep(100 * time.Millisecond) // a slow receiver: every worker has attempts in flight
		return http.StatusOK
	}
	l := setUpLoad(t, "http://"+apiAddr, api.apiKey, r, 900)
	l.start(8, time.Millisecond)
	waitFor(t, 120*time.Second, "300 closes accepted", func() bool { return l.acceptedCount() >= 300 })
	// Kill the busiest worker, as its own /metrics tell.
	victim, most := ws[0], -1.0
	for _, w := range ws {
		if n := scrapeValue(t, "http://"+w.addr+"/metrics", "agenthooks_deliveries_succeeded_total"); n > most {
			victim, most = w, n
		}
	}
	ws[0] = victim
	before := l.acceptedIDs()
	if err := ws[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// What was in flight at the kill: every delivery claimed and not yet
	// recorded, in any worker (an attempt's claim stays until its outcome
	// is stored, so this counts attempts sent whose outcome was queued).
	inFlight := claimedNow(t, dbURL)
	got := arrivals(r)
	missing := 0
	for _, id := range before {
		if got[id] == 0 {
			missing++
		}
	}
	<-ws[0].done
	if s := status(t, "http://"+ws[0].addr+"/healthz"); s != 0 {
		t.Errorf("the killed worker still answers /healthz: %d", s)
	}
	recovery := waitFor(t, 120*time.Second, "every close accepted before the SIGKILL delivered", func() bool { return allArrived(r, before) })
	waitFor(t, 120*time.Second, "the load to finish", func() bool { return int(l.next.Load()) >= len(l.convs) })
	l.halt()
	all := l.acceptedIDs()
	waitFor(t, 120*time.Second, "every accepted close delivered", func() bool { return allArrived(r, all) })
	// The killed worker's claims go out again when their leases run out.
	waitFor(t, 120*time.Second, "no pending delivery left", l.settled)
	settled := time.Since(killed)
	dup := duplicates(r)
	t.Logf("worker SIGKILL (the busiest, %.0f delivered) among 3 on PostgreSQL: accepted %d (%d before the kill, %d of them not yet arrived at the kill), delivered %d distinct, duplicates %d (claims in flight at the kill, all workers: %d), answers %v; "+
		"everything accepted before the kill arrived %.1fs after it, the queue was empty (the killed worker's claims redelivered) %.1fs after it",
		most, len(all), len(before), missing, len(arrivals(r)), dup, inFlight, l.answers, recovery.Seconds(), settled.Seconds())
	if dup > inFlight {
		t.Errorf("%d duplicates, more than the %d deliveries in flight at the kill", dup, inFlight)
	}
	if n := l.count(http.StatusInternalServerError); n > 0 {
		t.Errorf("%d calls answered 500", n)
	}
}

// TestFaultPostgresRestart: PostgreSQL (a cluster of the test's own) stops
// under load and starts again. While it is down the API answers 503 with
// Retry-After (never 500) and /readyz 503; once it is back, calls succeed
// again and delivery resumes by itself; every accepted close arrives.
func TestFaultPostgresRestart(t *testing.T) {
	cluster := testdb.NewCluster(t)
	dbURL := cluster.Database("agenthooks")
	addr := freeAddr(t)
	p := spawn(t, faultEnv(dbURL, addr), addr, true, "serve")
	r := newReceiver(t)
	l := setUpLoad(t, "http://"+addr, p.apiKey, r, 900)
	l.start(4, 5*time.Millisecond)
	waitFor(t, 120*time.Second, "200 closes accepted", func() bool { return l.acceptedCount() >= 200 })

	cluster.Stop()
	stopped := time.Now()
	toFirst503 := waitFor(t, 60*time.Second, "a 503 while PostgreSQL is down", func() bool { return l.count(http.StatusServiceUnavailable) > 0 })
	if s := status(t, "http://"+addr+"/readyz"); s != http.StatusServiceUnavailable {
		t.Errorf("/readyz with PostgreSQL down: %d, want 503", s)
	}
	if s := status(t, "http://"+addr+"/healthz"); s != http.StatusOK {
		t.Errorf("/healthz with PostgreSQL down: %d, want 200", s)
	}
	// Retry-After on the 503.
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/event", nil)
	req.Header.Set("Authorization", "Bearer "+p.apiKey)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET /event with PostgreSQL down: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	time.Sleep(2 * time.Second) // down for a while, under load
	acceptedDown := l.acceptedCount()
	cluster.Start()
	started := time.Now()
	down := started.Sub(stopped)
	n2xx := l.acceptedCount()
	toAccept := waitFor(t, 120*time.Second, "calls accepted again", func() bool { return l.acceptedCount() > n2xx })
	toReady := waitFor(t, 120*time.Second, "/readyz 200 again", func() bool { return status(t, "http://"+addr+"/readyz") == http.StatusOK })
	waitFor(t, 120*time.Second, "the load to finish", func() bool { return int(l.next.Load()) >= len(l.convs) })
	l.halt()
	all := l.acceptedIDs()
	delivered := waitFor(t, 120*time.Second, "every accepted close delivered", func() bool { return allArrived(r, all) })
	t.Logf("PostgreSQL stopped %.1fs under load: first 503 after %.2fs; after the start, calls accepted again in %.2fs, /readyz 200 in %.2fs; "+
		"accepted %d (%d by the end of the outage), delivered %d distinct, duplicates %d, answers %v; all delivered %.1fs after the load ended",
		down.Seconds(), toFirst503.Seconds(), toAccept.Seconds(), toReady.Seconds(), len(all), acceptedDown, len(arrivals(r)), duplicates(r), l.answers, delivered.Seconds())
	if n := l.count(http.StatusInternalServerError); n > 0 {
		t.Errorf("%d calls answered 500", n)
	}
	if strings.Contains(p.stderr.String(), "level=ERROR") && strings.Count(p.stderr.String(), "internal error") > 0 {
		t.Errorf("the outage was logged as internal errors:\n%s", p.stderr.String())
	}
}

// TestFaultSQLiteDiskFull: the file system of an SQLite database fills up
// under load (a tmpfs of the test's own). Calls answer 503 with Retry-After,
// never 500; /readyz answers 503 (it proves a write); once there is room
// again, calls succeed, /readyz is 200, and every accepted close arrives.
func TestFaultSQLiteDiskFull(t *testing.T) {
	dir := testdb.TinyFS(t, 24<<20)
	addr := freeAddr(t)
	p := spawn(t, faultEnv("sqlite:"+filepath.Join(dir, "agenthooks.db"), addr), addr, true, "serve")
	r := newReceiver(t)
	l := setUpLoad(t, "http://"+addr, p.apiKey, r, 900)
	l.start(4, 5*time.Millisecond)
	waitFor(t, 120*time.Second, "200 closes accepted", func() bool { return l.acceptedCount() >= 200 })

	filler := testdb.Fill(t, dir)
	full := time.Now()
	toFirst503 := waitFor(t, 60*time.Second, "a 503 on the full disk", func() bool { return l.count(http.StatusServiceUnavailable) > 0 })
	notReady := waitFor(t, 60*time.Second, "/readyz 503 on the full disk", func() bool { return status(t, "http://"+addr+"/readyz") == http.StatusServiceUnavailable })
	time.Sleep(time.Second) // full for a while, under load
	acceptedFull := l.acceptedCount()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	fullFor := time.Since(full)
	n2xx := l.acceptedCount()
	toAccept := waitFor(t, 120*time.Second, "calls accepted again", func() bool { return l.acceptedCount() > n2xx })
	toReady := waitFor(t, 120*time.Second, "/readyz 200 again", func() bool { return status(t, "http://"+addr+"/readyz") == http.StatusOK })
	waitFor(t, 120*time.Second, "the load to finish", func() bool { return int(l.next.Load()) >= len(l.convs) })
	l.halt()
	all := l.acceptedIDs()
	delivered := waitFor(t, 120*time.Second, "every accepted close delivered", func() bool { return allArrived(r, all) })
	t.Logf("SQLite disk full for %.1fs under load: first 503 after %.2fs, /readyz 503 after %.2fs; with room again, calls accepted in %.2fs, /readyz 200 in %.2fs; "+
		"accepted %d (%d by the end of the outage), delivered %d distinct, duplicates %d, answers %v; all delivered %.1fs after the load ended",
		fullFor.Seconds(), toFirst503.Seconds(), notReady.Seconds(), toAccept.Seconds(), toReady.Seconds(), len(all), acceptedFull, len(arrivals(r)), duplicates(r), l.answers, delivered.Seconds())
	if n := l.count(http.StatusInternalServerError); n > 0 {
		t.Errorf("%d calls answered 500", n)
	}
}

// TestFaultSecondServe: a second serve on the same SQLite file is refused
// (exit 1, naming the file) before it writes anything, by whatever path it
// names the file (the same, a symlink, a relative path, a hard link), while
// the first keeps delivering undisturbed: claims live at the time are not
// released, so nothing is delivered twice. account create, list and
// rotate-key work beside it.
func TestFaultSecondServe(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agenthooks.db")
	dbURL := "sqlite:" + path
	addr := freeAddr(t)
	first := spawn(t, faultEnv(dbURL, addr), addr, true, "serve")
	// A slow receiver and a steady load: the first serve holds live claims
	// whenever a second one starts (a second serve that released them
	// would have them delivered twice).
	r := newReceiver(t)
	r.status = func(string, int) int {
		time.Sleep(300 * time.Millisecond)
		return http.StatusOK
	}
	l := setUpLoad(t, "http://"+addr, first.apiKey, r, 120)
	l.start(4, 20*time.Millisecond)
	waitFor(t, 60*time.Second, "deliveries under way", func() bool { return len(arrivals(r)) > 0 })

	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(path, filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.db")
	if err := os.Link(path, hard); err != nil {
		t.Fatal(err)
	}
	hardReal, _ := filepath.EvalSymlinks(hard)
	tests := []struct {
		name, url, dir, names string
	}{
		{"SamePath", dbURL, "", real},
		{"Symlink", "sqlite:" + filepath.Join(dir, "link.db"), "", real},
		{"Relative", "sqlite:sub/../agenthooks.db", dir, real},
		{"HardLink", "sqlite:" + hard, "", hardReal},
	}
	for _, tt := range tests {
		second := exec.Command(binary(t), "serve")
		second.Env = faultEnv(tt.url, freeAddr(t))
		second.Dir = tt.dir
		var stderr bytes.Buffer
		second.Stderr = &stderr
		done := make(chan error, 1)
		if err := second.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- second.Wait() }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = second.Process.Kill()
			t.Fatalf("%s: the second serve did not exit", tt.name)
		}
		if code := second.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), tt.names) {
			t.Errorf("%s: second serve exit %d, stderr %q; want exit 1 and a message naming %s", tt.name, code, stderr.String(), tt.names)
		}
		t.Logf("%s: second serve refused: %s", tt.name, strings.TrimSpace(stderr.String()))
	}

	// The account commands beside serve, by the path and through the
	// symlink and the relative path (SQLite resolves both to the file, so
	// they share its WAL). Not through a hard link: SQLite names the WAL
	// after the path it is given, so a hard link is another WAL over the
	// same file (docs/operations.md).
	account := func(url, dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary(t), append([]string{"account"}, args...)...)
		cmd.Env = faultEnv(url, "127.0.0.1:0")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("account %v beside serve (%s): %v\n%s", args, url, err, out)
		}
		return string(out)
	}
	ids := []string{}
	for _, tt := range tests[:3] {
		var created struct {
			ID     string `json:"id"`
			APIKey string `json:"api_key"`
		}
		if err := json.Unmarshal([]byte(account(tt.url, tt.dir, "create", "--name", "beside "+tt.name)), &created); err != nil || created.APIKey == "" {
			t.Fatalf("account create (%s): %v", tt.name, err)
		}
		account(tt.url, tt.dir, "rotate-key", "--id", created.ID)
		ids = append(ids, created.ID)
	}
	list := account(dbURL, "", "list")
	if strings.Count(list, "\n") != 4 {
		t.Errorf("account list beside serve: %q, want 4 accounts", list)
	}
	for _, id := range ids {
		if !strings.Contains(list, id) {
			t.Errorf("account list lacks %s", id)
		}
	}
	// The first serve is undisturbed: it answers, and delivers every close
	// once.
	c := &client{t: t, base: "http://" + addr, key: first.apiKey}
	c.must(http.StatusOK, "GET", "/outbound_webhook", nil)
	if s := status(t, "http://"+addr+"/readyz"); s != http.StatusOK {
		t.Errorf("first serve /readyz: %d", s)
	}
	waitFor(t, 120*time.Second, "the load to finish", func() bool { return int(l.next.Load()) >= len(l.convs) })
	l.halt()
	all := l.acceptedIDs()
	waitFor(t, 120*time.Second, "every accepted close delivered", func() bool { return allArrived(r, all) })
	t.Logf("beside 4 refused second serves and 9 account commands: accepted %d, delivered %d distinct, duplicates %d", len(all), len(arrivals(r)), duplicates(r))
	if d := duplicates(r); d != 0 {
		t.Errorf("%d deliveries made twice: the first serve's claims were released", d)
	}
}
