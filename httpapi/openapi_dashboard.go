package httpapi

import "github.com/agenthooks/agenthooks"

// dashboardSchemas adds the schemas of the account-wide delivery list and
// of event replay (issue 26: what Svix and Convoy users reach for).
func dashboardSchemas(s schema) {
	row := schema{}
	for k, v := range s["Delivery"].(schema)["properties"].(schema) {
		row[k] = v
	}
	row["last_status_code"] = schema{"type": []string{"integer", "null"}, "description": "The status code of the latest attempt; null before the first attempt or when no response came back."}
	row["last_error"] = jsNullString("Why the latest attempt failed without a response (timeout, refused, ...), or null.")
	row["last_attempt_at"] = jsNullTime("When the latest attempt was made; null before the first.")
	s["DeliveryRow"] = jsAll(row)
	s["Replayed"] = jsAll(schema{"queued": jsInt(0, "How many new deliveries were queued: one per webhook the event was routed to that still exists and is enabled (and whose filter accepts it).")})
}

// dashboardOps adds GET /delivery and POST /event/{id}/replay to ops.
func dashboardOps(ops map[string]apiOp) {
	status := queryParam("status", jsEnum(agenthooks.DeliveryStatuses, ""), "Only deliveries with this status (another value answers 422).")
	ops["GET /delivery"] = apiOp{id: "listDeliveries", tag: "events", summary: "List the account's deliveries",
		desc:   "Newest first, each with the status code and error of its latest attempt. A webhook_id or event_id that is malformed or not one of the account's answers 422 on that parameter.",
		status: 200, data: "DeliveryRow", list: true, query: []schema{
			queryParam("webhook_id", jsID(""), "Only deliveries to this webhook."),
			queryParam("event_id", jsID(""), "Only deliveries of this event."),
			status,
		}}
	ops["POST /event/{id}/replay"] = apiOp{id: "replayEvent", tag: "events", summary: "Replay an event",
		desc:   "A new delivery of the event, with its envelope as stored (same id and timestamp), to every webhook it was routed to that still exists and is enabled. Answers 202 {queued: n}; 0 when none qualifies.",
		status: 202, data: "Replayed"}
}
