package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/agenthooks/agenthooks"
)

// codes maps application error codes to HTTP statuses; the one translation point.
var codes = map[string]int{
	agenthooks.EMALFORMED:    http.StatusBadRequest,
	agenthooks.EUNAUTHORIZED: http.StatusUnauthorized,
	agenthooks.ENOTFOUND:     http.StatusNotFound,
	agenthooks.ECONFLICT:     http.StatusConflict,
	agenthooks.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	agenthooks.EINVALID:      http.StatusUnprocessableEntity,
	agenthooks.ERATELIMITED:  http.StatusTooManyRequests,
	agenthooks.EUNAVAILABLE:  http.StatusServiceUnavailable,
	agenthooks.EINTERNAL:     http.StatusInternalServerError,
}

// envelope is the success body: {"message", "data"}.
type envelope struct {
	Message string `json:"message"`
	Data    any    `json:"data"`
}

// listData is a page of a list.
type listData struct {
	Items any `json:"items"`
	Total int `json:"total"`
	Page  int `json:"page"`
	Size  int `json:"size"`
	Pages int `json:"pages"`
}

// writeJSON writes v without HTML escaping: a transcript of 100 messages of
// 32 KiB of '<' would otherwise answer six times its size (\u003c), and the
// JSON means the same.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"detail":"Internal error."}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func ok(w http.ResponseWriter, status int, message string, data any) {
	writeJSON(w, status, envelope{Message: message, Data: data})
}

// Error writes err as {"detail": ...} with its status. Only internal errors
// are logged, and their text never reaches the client.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := agenthooks.ErrorCode(err)
	status, found := codes[code]
	if !found {
		status = http.StatusInternalServerError
	}
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	var detail any = agenthooks.ErrorMessage(err)
	if code == agenthooks.EINVALID {
		var e *agenthooks.Error
		if errorsAs(err, &e) && len(e.Fields) > 0 {
			detail = e.Fields
		} else {
			detail = []agenthooks.FieldError{{Loc: []any{"body"}, Msg: agenthooks.ErrorMessage(err), Type: "value_error"}}
		}
	}
	writeJSON(w, status, map[string]any{"detail": detail})
}
