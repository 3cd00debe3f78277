package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/payload"
	"github.com/agenthooks/agenthooks/service"
	"github.com/agenthooks/agenthooks/sqlite"
	"github.com/agenthooks/agenthooks/webhook/signature"
)

// BenchFilter is the filter of --filter: a few conditions of the kinds a
// platform writes (an event type, a list of values, a number), which every
// event of the bench matches, so that the deliveries are the same as
// without it and only the evaluation's cost differs.
var BenchFilter = map[string]any{
	"event": "conversation.closed",
	"data": map[string]any{
		"device_type": map[string]any{"$in": []string{"desktop", "mobile", "tablet", "phone", "native"}},
		"chat_count":  map[string]any{"$gte": 0},
	},
}

// setup creates the webhooks (conversation.closed only), one assistant each
// with a widget, through the API; and as many hanging ones as asked for.
func (b *bench) setup(ctx context.Context) error {
	mk := func(name, endpoint string) (target, error) {
		var h target
		in := map[string]any{"name": name, "endpoint": endpoint, "events": []string{agenthooks.EventConversationClosed}}
		if b.o.Transform != "" {
			tr, err := transformation(b.o.Transform)
			if err != nil {
				return h, err
			}
			in["transformation"] = tr
		}
		if b.o.Filter {
			in["filter"] = BenchFilter
		}
		w, err := b.call(ctx, http.MethodPost, "/outbound_webhook", in)
		if err != nil {
			return h, err
		}
		h.webhook, _ = w["id"].(string)
		h.secret, _ = w["secret"].(string)
		as, err := b.call(ctx, http.MethodPost, "/assistant", map[string]any{"name": name + " assistant", "webhook_id": h.webhook})
		if err != nil {
			return h, err
		}
		h.assistant, _ = as["id"].(string)
		wi, err := b.call(ctx, http.MethodPost, "/widget", map[string]any{"assistant_id": h.assistant, "name": name + " chat", "widget_type": "chat"})
		if err != nil {
			return h, err
		}
		h.widget, _ = wi["id"].(string)
		return h, nil
	}
	secrets := make([][]byte, b.o.Webhooks)
	for i := range b.o.Webhooks {
		h, err := mk(fmt.Sprintf("bench %d", i), fmt.Sprintf("%s/hook/%d", b.recv.url, i))
		if err != nil {
			return err
		}
		key, err := signature.ParseSecret(h.secret)
		if err != nil {
			return fmt.Errorf("webhook secret: %w", err)
		}
		secrets[i] = key
		b.hooks = append(b.hooks, h)
	}
	b.recv.secrets = secrets
	for i := range b.o.BadEndpoints {
		h, err := mk(fmt.Sprintf("bench hanging %d", i), b.recv.url+"/hang")
		if err != nil {
			return err
		}
		b.bad = append(b.bad, h)
	}
	return nil
}

// sampleBody is a conversation.closed envelope like the ones delivered, with a
// conversation id that matches none of the bench's.
func (b *bench) sampleBody() ([]byte, error) {
	h := b.hooks[0]
	c := &agenthooks.Conversation{ID: service.NewID(), AccountID: b.account, AssistantID: h.assistant, WidgetID: h.widget, DeviceType: "desktop"}
	return payload.Encode(service.NewID(), agenthooks.EventConversationClosed, time.Now(), payload.NewConversation(c, nil))
}

// raw measures plain keep-alive POSTs of a delivery's body and headers to the
// receiver with 16, 64 and 256 connections, and returns the best rate.
func (b *bench) raw(ctx context.Context) (float64, error) {
	body, err := b.sampleBody()
	if err != nil {
		return 0, err
	}
	best := 0.0
	for _, conns := range []int{16, 64, 256} {
		rate, err := b.rawRun(ctx, body, conns, b.o.RawPosts)
		if err != nil {
			return 0, err
		}
		b.progress("raw: %d connections: %.0f posts/s", conns, rate)
		best = max(best, rate)
	}
	return best, nil
}

// rawRunMax bounds one raw run's duration.
const rawRunMax = 5 * time.Second

func (b *bench) rawRun(ctx context.Context, body []byte, conns, total int) (float64, error) {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	url := b.recv.url + "/hook/0"
	key, _ := signature.ParseSecret(b.hooks[0].secret)
	msgID := service.NewID()
	userAgent := b.srv.UserAgent
	var next, done atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	// Bounded in time as well as in count: a slow receiver (--receiver-latency)
	// would otherwise make a run of 16 connections last minutes.
	deadline := start.Add(rawRunMax)
	for range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(total) && ctx.Err() == nil && time.Now().Before(deadline) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					failed.Store(err)
					return
				}
				ts := time.Now().Unix()
				h := req.Header
				h["Content-Type"] = []string{"application/json"}
				h["User-Agent"] = []string{userAgent}
				h["webhook-id"] = []string{msgID}
				h["webhook-timestamp"] = []string{strconv.FormatInt(ts, 10)}
				h["webhook-signature"] = []string{signature.Sign(key, msgID, ts, body)}
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failed.Store(fmt.Errorf("receiver answered %d", resp.StatusCode))
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("timed out (--timeout %s)", b.o.Timeout)
	}
	if err, _ := failed.Load().(error); err != nil {
		return 0, err
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}

// closeItem is one conversation to close: index into the phase's healthy
// conversations, or -1 for one routed to a hanging endpoint.
type closeItem struct {
	id    uuid.UUID
	index int32
}

// createConversations creates a phase's conversations (not timed): n spread
// over the healthy webhooks' assistants, and those of the hanging ones, mixed
// in evenly. It calls the service directly, concurrently: that is set-up.
func (b *bench) createConversations(ctx context.Context, n int) ([]closeItem, error) {
	nbad := 0
	if len(b.bad) > 0 {
		nbad = max(1, n*len(b.bad)/len(b.hooks))
	}
	total := n + nbad
	items := make([]closeItem, total)
	// Every stride-th item goes to a hanging endpoint.
	stride := 0
	if nbad > 0 {
		stride = total / nbad
	}
	healthy, bad := 0, 0
	for i := range items {
		if stride > 0 && i%stride == stride-1 && bad < nbad || healthy == n {
			items[i].index = -1
			bad++
		} else {
			items[i].index = int32(healthy)
			healthy++
		}
	}
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				b.progress("creating conversations: %d/%d", min(next.Load(), int64(total)), total)
			}
		}
	}()
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total || ctx.Err() != nil || failed.Load() != nil {
					return
				}
				var h target
				if items[i].index < 0 {
					h = b.bad[i%len(b.bad)]
				} else {
					h = b.hooks[int(items[i].index)%len(b.hooks)]
				}
				c, err := b.srv.Service.CreateConversation(ctx, b.account, service.ConversationInput{AssistantID: h.assistant, WidgetID: h.widget, DeviceType: "desktop"})
				if err != nil {
					failed.Store(err)
					return
				}
				items[i].id, err = uuid.Parse(c.ID)
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	if err, _ := failed.Load().(error); err != nil {
		return nil, fmt.Errorf("create conversation: %w", err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("timed out creating conversations (--timeout %s)", b.o.Timeout)
	}
	return items, nil
}

// closeAll closes items through the API with the configured clients, at rate
// per second if rate > 0, recording each healthy close's return time in
// returned (ns since b.base). It returns when all are closed.
func (b *bench) closeAll(ctx context.Context, items []closeItem, rate float64, returned []int64) error {
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range b.o.Clients {
		wg.Go(func() {
			var path [64]byte
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) || ctx.Err() != nil || failed.Load() != nil {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				p := append(path[:0], "/api/v1/conversation/"...)
				p = append(p, items[i].id.String()...)
				p = append(p, "/close"...)
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.srv.URL+string(p), nil)
				if err != nil {
					failed.Store(err)
					return
				}
				req.Header["Authorization"] = []string{"Bearer " + b.key}
				resp, err := b.api.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Store(fmt.Errorf("close conversation: status %d: %s", resp.StatusCode, bytes.TrimSpace(body)))
					return
				}
				if ix := items[i].index; ix >= 0 {
					returned[ix] = int64(time.Since(b.base))
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("timed out closing conversations (--timeout %s)", b.o.Timeout)
	}
	return nil
}

// phaseIndex maps each healthy conversation of a phase to its index.
func phaseIndex(items []closeItem, n int) *arrivals {
	p := &arrivals{
		index:   make(map[uuid.UUID]int32, n),
		arrived: make([]atomic.Int64, n),
		total:   int64(n),
		done:    make(chan struct{}),
	}
	for _, it := range items {
		if it.index >= 0 {
			p.index[it.id] = it.index
		}
	}
	return p
}

// wait waits until every healthy event of the phase arrived, printing
// progress, or fails at the deadline or when the closes fail (closeDone is
// closed when they end, with their error in *closeErr).
func (b *bench) wait(ctx context.Context, name string, p *arrivals, closeDone <-chan struct{}, closeErr *error) error {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return b.recv.problems()
		case <-closeDone:
			if *closeErr != nil {
				return *closeErr
			}
			closeDone = nil
		case <-t.C:
			b.progress("%s: arrived %d of %d", name, p.count.Load(), p.total)
			if err := b.recv.problems(); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("only %d of %d events arrived at the receiver before the timeout (--timeout %s)", p.count.Load(), p.total, b.o.Timeout)
		}
	}
}

type e2eFigures struct {
	ingest, deliveries float64
	p50, p99           time.Duration
	cpu                cpuCost
}

type drainFigures struct {
	rate float64 // deliveries per second
	cpu  cpuCost
}

// endToEnd closes N conversations through the API and waits for their events.
func (b *bench) endToEnd(ctx context.Context) (*e2eFigures, error) {
	n := b.o.Events
	items, err := b.createConversations(ctx, n)
	if err != nil {
		return nil, err
	}
	p := phaseIndex(items, n)
	b.recv.phase.Store(p)
	defer b.recv.phase.Store(nil)
	returned := make([]int64, n)
	stopProfile, err := b.profile("end to end")
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	how := "full speed"
	if b.o.Rate > 0 {
		how = fmt.Sprintf("%.0f/s", b.o.Rate)
	}
	b.progress("end to end: closing %d conversations with %d clients at %s", len(items), b.o.Clients, how)
	start := int64(time.Since(b.base))
	use := b.startUsage()
	_, ws0 := b.commits(sqlite.Stats{})
	var closeErr error
	closeDone := make(chan struct{})
	go func() { closeErr = b.closeAll(ctx, items, b.o.Rate, returned); close(closeDone) }()
	if err := b.wait(ctx, "end to end", p, closeDone, &closeErr); err != nil {
		return nil, err
	}
	<-closeDone // an event can arrive before its close call has returned
	if closeErr != nil {
		return nil, closeErr
	}
	lastReturn := slices.Max(returned)
	cpu := use.cost(n)
	stopProfile()
	last := p.last.Load()
	f := &e2eFigures{
		ingest:     float64(len(items)) / time.Duration(lastReturn-start).Seconds(),
		deliveries: float64(n) / time.Duration(last-start).Seconds(),
		cpu:        cpu,
	}
	lat := make([]int64, n)
	for i := range lat {
		lat[i] = max(0, p.arrived[i].Load()-returned[i])
	}
	slices.Sort(lat)
	f.p50 = time.Duration(lat[(len(lat)-1)*50/100])
	f.p99 = time.Duration(lat[(len(lat)-1)*99/100])
	commits, _ := b.commits(ws0)
	b.progress("end to end: %.0f closes/s, %.0f deliveries/s, latency p50 %s p99 %s; %s%s",
		f.ingest, f.deliveries, f.p50, f.p99, cpu.String(time.Duration(last-start)), commits)
	return f, nil
}

// drain accepts N events with delivery paused, then times their delivery.
func (b *bench) drain(ctx context.Context) (*drainFigures, error) {
	n := b.o.Events
	items, err := b.createConversations(ctx, n)
	if err != nil {
		return nil, err
	}
	p := phaseIndex(items, n)
	b.recv.phase.Store(p)
	defer b.recv.phase.Store(nil)
	b.srv.Delivery.Pause()
	b.progress("drain: accepting %d events with delivery paused", len(items))
	if err := b.closeAll(ctx, items, 0, make([]int64, n)); err != nil {
		b.srv.Delivery.Resume()
		return nil, err
	}
	if got := p.count.Load(); got > 0 {
		return nil, fmt.Errorf("%d events arrived while delivery was paused", got)
	}
	b.progress("drain: resuming delivery")
	stopProfile, err := b.profile("drain")
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	start := int64(time.Since(b.base))
	use := b.startUsage()
	_, ws0 := b.commits(sqlite.Stats{})
	b.srv.Delivery.Resume()
	if err := b.wait(ctx, "drain", p, nil, nil); err != nil {
		return nil, err
	}
	elapsed := time.Duration(p.last.Load() - start)
	f := &drainFigures{cpu: use.cost(n)}
	stopProfile()
	f.rate = float64(n) / elapsed.Seconds()
	commits, _ := b.commits(ws0)
	b.progress("drain: %.0f deliveries/s; %s%s", f.rate, f.cpu.String(elapsed), commits)
	return f, nil
}
