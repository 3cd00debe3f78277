package httpapi

import "github.com/agenthooks/agenthooks"

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
