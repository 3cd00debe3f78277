package httpapi

import (
	"net/http"
	"strconv"

	"github.com/agenthooks/agenthooks"
	"github.com/google/uuid"
)

// conversationFilterParams checks GET /conversation's id and flag filters so
// that none is ignored (CONTRACT section 3: a filter value it cannot apply is a
// 422). Decision: an assistant_id that is well formed but not one of the
// account's is applied and matches nothing (an empty list, as before); a
// malformed one is a 422 on its query parameter.
//
// intent_id and includes_voice are validated (an intent_id not of the account
// or malformed, or includes_voice not a boolean, is a 422) but not applied yet
// on this branch (the store's ConversationFilter has no such fields until the
// root package's regroup lands), so a valid value answers 422 too, saying so,
// rather than an unfiltered list.
func (s *Server) conversationFilterParams(r *http.Request, a acct) error {
	q := r.URL.Query()
	if id := q.Get("assistant_id"); q.Has("assistant_id") && uuid.Validate(id) != nil {
		return queryError("assistant_id", "Input should be a valid UUID", "uuid_parsing")
	}
	if id := q.Get("intent_id"); q.Has("intent_id") {
		if _, err := s.svc.GetIntent(r.Context(), a.ID, id); err != nil {
			return unknownFilterID(err, "intent_id", "intent")
		}
		return queryError("intent_id", "This filter is not supported yet", "value_error")
	}
	if v := q.Get("includes_voice"); q.Has("includes_voice") {
		if _, err := strconv.ParseBool(v); err != nil {
			return queryError("includes_voice", "Input should be a valid boolean, unable to interpret input", "bool_parsing")
		}
		return queryError("includes_voice", "This filter is not supported yet", "value_error")
	}
	return nil
}

// unknownFilterID turns a lookup's not-found into a 422 on the parameter and
// passes any other error (a store that is down stays a 503).
func unknownFilterID(err error, name, kind string) error {
	if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
		return queryError(name, "Not one of this account's "+kind+"s", "value_error")
	}
	return err
}
