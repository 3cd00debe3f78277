package agenthooks

import "errors"

// ErrStoreUnavailable is the application error of a store that cannot take
// requests for now: PostgreSQL unreachable or shutting down, SQLite's disk
// full or read-only. The API answers it with 503 and Retry-After.
var ErrStoreUnavailable = Errorf(EUNAVAILABLE, "The database is unavailable; retry later.")

// Unavailable marks cause as the store's unavailability: the result carries
// ErrStoreUnavailable's code (ErrorCode is EUNAVAILABLE) and keeps cause in
// its chain for logs and errors.Is/As. The engines call it at the store
// boundary on the driver errors that mean "not now" rather than "wrong".
func Unavailable(cause error) error {
	if cause == nil {
		return nil
	}
	return &unavailableError{cause: cause}
}

type unavailableError struct{ cause error }

func (e *unavailableError) Error() string {
	return "store unavailable: " + e.cause.Error()
}

// Unwrap exposes both the application error and the driver's cause.
func (e *unavailableError) Unwrap() []error { return []error{ErrStoreUnavailable, e.cause} }

// IsUnavailable reports whether err means the store cannot take requests for now.
func IsUnavailable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == EUNAVAILABLE
}
