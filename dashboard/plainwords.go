package dashboard

import (
	"net/url"
	"strings"
)

// plainWords turns a validation message of the API (FastAPI's wording, kept
// for API clients) into what the dashboard says under the field (issue 26:
// "String should have at least 1 character" tells a person nothing).
func plainWords(field, msg string) string {
	switch {
	case strings.Contains(msg, "is not a public address"):
		return "This endpoint is " + strings.TrimPrefix(msg, "destination ") +
			". The server refuses private and local addresses; for local testing, start it with AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS=true."
	case strings.HasPrefix(msg, "String should have at least 1 character"), msg == "Field required":
		switch field {
		case "name":
			return "Enter a name: it cannot be empty."
		case "endpoint":
			return "Enter the URL that receives the webhooks, such as https://example.com/webhooks."
		}
		return "This field is required."
	case strings.Contains(msg, "must not contain spaces or control characters"):
		return "A web address cannot contain spaces: enter one such as https://example.com/webhooks."
	case strings.HasPrefix(msg, "String should have at most"):
		return "This is too long: " + strings.ToLower(msg[:1]) + msg[1:] + "."
	}
	return msg
}

// checkWebhookFields finds the mistakes of the webhook form that need no
// server: every one at once, under its field (the service stops at the
// first).
func checkWebhookFields(name, endpoint string, http bool, errs map[string]string) {
	if strings.TrimSpace(name) == "" {
		errs["name"] = "Enter a name, such as CRM or My website."
	}
	if !http {
		return
	}
	switch {
	case endpoint == "":
		errs["endpoint"] = plainWords("endpoint", "Field required")
	case strings.ContainsAny(endpoint, " \t\r\n"):
		errs["endpoint"] = plainWords("endpoint", "must not contain spaces or control characters")
	default:
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs["endpoint"] = "That is not a web address: enter a URL starting with https:// (or http://), such as https://example.com/webhooks."
		}
	}
}
