package agenthooks

import (
	"errors"
	"fmt"
)

// Application error codes. The HTTP layer maps each to one status; only
// EINTERNAL is logged as a server fault, and its text never reaches a client.
const (
	ECONFLICT     = "conflict"     // the resource's state forbids the action (409)
	EINTERNAL     = "internal"     // a fault of ours (500)
	EINVALID      = "invalid"      // validation failed (422)
	EMALFORMED    = "malformed"    // the request body is not JSON (400)
	ENOTFOUND     = "not_found"    // no such resource in this account (404)
	ETOOLARGE     = "too_large"    // the request body is over the limit (413)
	EUNAUTHORIZED = "unauthorized" // missing or wrong API key (401)
	ERATELIMITED  = "rate_limited" // too many requests (429)
	EUNAVAILABLE  = "unavailable"  // shutting down or not ready (503)
)

// FieldError is one validation failure. Loc is the path to the offending
// input inside what the operation was given, such as ["name"] or
// ["fields", 0, "type"]; the HTTP layer says which part of the request that
// was, as FastAPI's loc ["body", "name"] (httpapi/response.go, docs/api.md).
type FieldError struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Error is the application error. Code is one of the E* constants; Message is
// safe to show to the client; Fields carries validation failures (EINVALID).
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("agenthooks error: code=%s message=%s fields=%v", e.Code, e.Message, e.Fields)
	}
	return fmt.Sprintf("agenthooks error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error for one field of the input.
func Invalid(field, msg, typ string) *Error {
	return &Error{Code: EINVALID, Message: msg, Fields: []FieldError{{Loc: []any{field}, Msg: msg, Type: typ}}}
}

// NotFound returns an ENOTFOUND error naming the kind of resource.
func NotFound(kind string) *Error {
	return Errorf(ENOTFOUND, "%s not found", kind)
}

// ErrorCode returns the code of an application error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of an application error, or
// "Internal error." for any other error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// InvalidAt returns an EINVALID error at a nested location of the input, such
// as ("fields", 0, "type").
func InvalidAt(msg, typ string, loc ...any) *Error {
	return &Error{Code: EINVALID, Message: msg, Fields: []FieldError{{Loc: loc, Msg: msg, Type: typ}}}
}
