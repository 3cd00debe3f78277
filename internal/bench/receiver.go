package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks/webhook/signature"
)

// arrivals records when each of one phase's events arrived.
type arrivals struct {
	index   map[uuid.UUID]int32
	arrived []atomic.Int64 // ns since the bench's base; 0 until arrived
	count   atomic.Int64
	last    atomic.Int64
	total   int64
	done    chan struct{}
}

// receiver is the webhook endpoint: a plain Go HTTP server on loopback
// that records each event's first arrival by the conversation id in its body
// (one conversation, one event), checks the signature headers are there, and
// verifies one request in 64 in full.
type receiver struct {
	url        string
	ln         net.Listener
	srv        *http.Server
	latency    time.Duration
	base       time.Time
	secrets    [][]byte // per /hook/{i}
	phase      atomic.Pointer[arrivals]
	requests   atomic.Int64
	duplicates atomic.Int64
	hung       atomic.Int64
	release    chan struct{}
	bufs       sync.Pool
	mu         sync.Mutex
	errs       []string
}

func newReceiver(latency time.Duration, base time.Time) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}
	r := &receiver{url: "http://" + ln.Addr().String(), ln: ln, latency: latency, base: base, release: make(chan struct{})}
	r.bufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) close() {
	close(r.release)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		_ = r.srv.Close()
	}
}

var convKey = []byte(`"conversation_id":"`)

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/hang" {
		r.hung.Add(1)
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	bp := r.bufs.Get().(*[]byte)
	defer r.bufs.Put(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	if _, err := buf.ReadFrom(req.Body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body := buf.Bytes()
	*bp = body[:0]
	n := r.requests.Add(1)
	h := req.Header
	id, ts, sig := h.Get(signature.HeaderID), h.Get(signature.HeaderTimestamp), h.Get(signature.HeaderSignature)
	if id == "" || ts == "" || sig == "" {
		r.fail("a request without the signature headers")
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if n%64 == 0 {
		hook, ok := strings.CutPrefix(req.URL.Path, "/hook/")
		i, err := strconv.Atoi(hook)
		if !ok || err != nil || i < 0 || i >= len(r.secrets) {
			r.fail("a request to an unknown path " + req.URL.Path)
		} else if err := signature.Verify([][]byte{r.secrets[i]}, id, ts, sig, body, time.Now(), signature.DefaultTolerance); err != nil {
			r.fail("signature: " + err.Error())
		}
	}
	if p := r.phase.Load(); p != nil {
		if k := bytes.Index(body, convKey); k >= 0 && len(body) >= k+len(convKey)+36 {
			if conv, err := uuid.ParseBytes(body[k+len(convKey) : k+len(convKey)+36]); err == nil {
				if ix, ok := p.index[conv]; ok {
					now := int64(time.Since(r.base))
					if p.arrived[ix].CompareAndSwap(0, now) {
						for {
							last := p.last.Load()
							if now <= last || p.last.CompareAndSwap(last, now) {
								break
							}
						}
						if p.count.Add(1) == p.total {
							close(p.done)
						}
					} else {
						r.duplicates.Add(1)
					}
				}
			}
		}
	}
	if r.latency > 0 {
		t := time.NewTimer(r.latency)
		select {
		case <-t.C:
		case <-req.Context().Done():
		case <-r.release:
		}
		t.Stop()
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) fail(msg string) {
	r.mu.Lock()
	if len(r.errs) < 10 {
		r.errs = append(r.errs, msg)
	}
	r.mu.Unlock()
}

// problems returns what the receiver refused, if anything.
func (r *receiver) problems() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return nil
	}
	return fmt.Errorf("the receiver saw bad requests: %s", strings.Join(r.errs, "; "))
}
