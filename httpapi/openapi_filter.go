package httpapi

import (
	"strconv"

	"github.com/agenthooks/agenthooks/filter"
)

// Filters (docs/events.md, "Filters"): the webhook's filter field in the
// bodies that write it, and the test. The read side (filter,
// events_filtered) is reflected from webhookView.

const filterDesc = "A JSON object in Convoy's filter syntax, matched against the envelope: keys are paths (nested objects or dotted keys, " +
	"$ for any element of a list, a number for one), a plain value matches an equal value or an element of a list; operators $eq, $neq, " +
	"$gt, $gte, $lt, $lte, $in, $nin, $exist, $regex (RE2), and $or/$and over lists of filters. An event it does not match creates no " +
	"delivery for this webhook (counted in events_filtered). An unknown operator, a bad regex or an operand of the wrong type is 422 on " +
	"body.filter, naming the path."

// filterSchemas adds the schemas of this area and the webhook's fields.
func filterSchemas(s schema) {
	for _, name := range []string{"WebhookCreate", "WebhookUpdate"} {
		addProperty(s[name].(schema), "filter", schema{"type": []string{"object", "null"}, "additionalProperties": true,
			"description": filterDesc + " At most " + strconv.Itoa(filter.MaxSize) + " bytes of JSON. Null: every event (on PATCH, null removes it)."}, false)
	}
	s["FilterTest"] = jsObject(nil, schema{
		"filter":   schema{"type": []string{"object", "null"}, "additionalProperties": true, "description": "The filter to test, unsaved; absent: the webhook's own."},
		"event_id": jsID("An event of the account to match; absent: the payload given, or else the account's latest event."),
		"payload":  schema{"type": "object", "additionalProperties": true, "description": "An envelope to match, as a webhook would receive it."},
	})
}

func filterOps(ops map[string]apiOp) {
	ops["POST /outbound_webhook/{id}/filter/test"] = apiOp{id: "testWebhookFilter", tag: "webhooks",
		summary: "Match a filter against an event",
		desc: "Matches filter (or the webhook's own) against an event of the account, an envelope given as payload, or the latest event, " +
			"without storing or counting anything. A bad filter is 422 on body.filter; an event that is not the account's, 422 on body.event_id.",
		body: "FilterTest", bodyOptional: true, status: 200, data: "FilterTestResult"}
}
