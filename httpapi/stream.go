package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// errWrite marks a failure to write the response (the client went away).
var errWrite = errors.New("write response")

// streamList writes a list response ({"message", "data": {"items", "total",
// "page", "size", "pages"}}, as ok does for one value) item by item as run
// produces them, so that a page of large items is never held whole. run
// calls start once with the total, before any item. An error before start
// is answered as usual; after it the status is sent, so the connection is cut
// instead, and the client sees a truncated body, never a complete-looking one.
func (s *Server) streamList(w http.ResponseWriter, r *http.Request, p agenthooks.Page,
	run func(start func(total int) error, each func(item any) error) error) error {
	return streamList(s.log, w, r, p, run)
}

// writePage writes a page already read item by item, as streamList does,
// so that its answer is never held whole beside it (every list goes
// through here or streamList).
func writePage[T, V any](w http.ResponseWriter, r *http.Request, l *service.List[T], view func(T) V) error {
	return streamList(slog.Default(), w, r, l.Page, func(start func(int) error, each func(any) error) error {
		if err := start(l.Total); err != nil {
			return err
		}
		for i, it := range l.Items {
			if err := each(view(it)); err != nil {
				return err
			}
			var zero T
			l.Items[i] = zero // written: let it go
		}
		return nil
	})
}

func streamList(log *slog.Logger, w http.ResponseWriter, r *http.Request, p agenthooks.Page,
	run func(start func(total int) error, each func(item any) error) error) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	started, n, total := false, 0, 0
	start := func(t int) error {
		started, total = true, t
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if _, err := bw.WriteString(`{"message":"OK","data":{"items":[`); err != nil {
			return fmt.Errorf("%w: %w", errWrite, err)
		}
		return nil
	}
	// No HTML escaping: an envelope full of '<' would otherwise come out
	// six times its size (\u003c), and the answer means the same.
	var item bytes.Buffer
	enc := json.NewEncoder(&item)
	enc.SetEscapeHTML(false)
	each := func(v any) error {
		item.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		if n > 0 {
			_ = bw.WriteByte(',')
		}
		n++
		if _, err := bw.Write(bytes.TrimSuffix(item.Bytes(), []byte("\n"))); err != nil {
			return fmt.Errorf("%w: %w", errWrite, err)
		}
		if item.Cap() > 4<<20 {
			item = bytes.Buffer{} // do not keep an outsized buffer for the next item
		}
		return nil
	}
	err := run(start, each)
	if err == nil {
		pages := 0
		if p.Size > 0 {
			pages = (total + p.Size - 1) / p.Size
		}
		_, err = fmt.Fprintf(bw, `],"total":%d,"page":%d,"size":%d,"pages":%d}}`+"\n", total, p.Page, p.Size, pages)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			err = fmt.Errorf("%w: %w", errWrite, err)
		}
	}
	if err == nil || !started {
		return err
	}
	if !errors.Is(err, errWrite) {
		log.Error("list failed after its first bytes were sent", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	panic(http.ErrAbortHandler)
}

// streamEvents is GET /event: a page of up to 100 events of up to 256 KiB
// each is read and written service.EventChunk events at a time.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, a acct, f agenthooks.EventFilter) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	return s.streamList(w, r, p, func(start func(int) error, each func(any) error) error {
		return s.svc.StreamEvents(r.Context(), a.ID, f, p, start, func(e *service.EventView) error {
			return each(newEventDetail(e.Event, e.Deliveries))
		})
	})
}
