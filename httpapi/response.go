package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
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

// fastAPIFields renders a validation error's fields as FastAPI does: each
// loc starts with the part of the request it is about, "body" for the
// domain's errors (whose locs are relative to the operation's input), or the
// part a partError names.
func fastAPIFields(err error) []agenthooks.FieldError {
	part := "body"
	var pe *partError
	if errors.As(err, &pe) {
		part = pe.part
	}
	var e *agenthooks.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return []agenthooks.FieldError{{Loc: []any{part}, Msg: agenthooks.ErrorMessage(err), Type: "value_error"}}
	}
	out := make([]agenthooks.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		f.Loc = append([]any{part}, f.Loc...)
		out[i] = f
	}
	return out
}

// internalError is the body of every 500: internal text never reaches a client.
const internalError = "Internal error."

// writeJSON writes v as the JSON body with status, without HTML escaping: a
// transcript of 100 messages of 32 KiB of '<' would otherwise answer six
// times its size (\u003c), and the JSON means the same. A value that cannot
// be encoded (a bug) answers a 500 in the same format.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"detail":"` + internalError + `"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeDetail writes an error body, {"detail": detail}: the one place that
// writes one (detail is a message, or a list of field errors on a 422).
func writeDetail(w http.ResponseWriter, status int, detail any) {
	writeJSON(w, status, errorBody{Detail: detail})
}

// errorBody is the body of every error answer.
type errorBody struct {
	Detail any `json:"detail"`
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
	if status == http.StatusServiceUnavailable {
		s.unavailable(w, r, err)
	}
	if status == http.StatusInternalServerError {
		s.log.Error("internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	var detail any = agenthooks.ErrorMessage(err)
	if code == agenthooks.EINVALID {
		detail = fastAPIFields(err)
	}
	writeDetail(w, status, detail)
}
