package httpapi

// The OpenAPI description of the routes in accounts.go: the account's API
// keys, and the admin API under its own security scheme (adminKey).

import (
	"net/http"
	"strings"
)

// accountSchemas adds the schemas of accounts.go's bodies to s.
func accountSchemas(s schema) {
	s["APIKey"] = jsAll(schema{
		"id": jsID(""), "name": jsString(""),
		"prefix":       schema{"type": "string", "pattern": "^ak_", "description": "The key's first characters, to tell keys apart (the key itself is never shown again)."},
		"created_at":   jsTime(descTimeAPI),
		"last_used_at": jsNullTime("The last request made with the key (written at most once a minute), null if never used."),
	})
	s["APIKeyCreate"] = jsObject([]string{"name"}, schema{"name": nameSchema()})
	s["APIKeyCreated"] = jsAll(schema{
		"id": jsID(""), "name": jsString(""),
		"key": schema{"type": []string{"string", "null"}, "pattern": "^ak_",
			"description": "The key: shown this once, stored only hashed;" + replayedNull + "."},
		"created_at": jsTime(descTimeAPI),
	})
	s["Account"] = jsAll(schema{"id": jsID(""), "name": jsString(""), "created_at": jsTime(descTimeAPI)})
	s["AccountCreate"] = jsObject([]string{"name"}, schema{"name": nameSchema()})
	apiKey := schema{"type": "string", "pattern": "^ak_", "description": "The account's API key: shown this once, stored only hashed."}
	s["AccountCreated"] = jsAll(schema{"id": jsID(""), "name": jsString(""), "api_key": apiKey, "created_at": jsTime(descTimeAPI)})
	s["AccountKey"] = jsAll(schema{"id": jsID(""), "name": jsString(""), "api_key": apiKey})
}

// apiKeyOps are the account's routes of accounts.go, documented as every
// route of apiOps.
func apiKeyOps() map[string]apiOp {
	return map[string]apiOp{
		"POST /api_key": {id: "createAPIKey", tag: "api keys", summary: "Create an API key",
			desc: "Another key of this account, so that one can be replaced without a moment where none works. The key is in the answer this once.",
			body: "APIKeyCreate", status: 201, data: "APIKeyCreated"},
		"GET /api_key": {id: "listAPIKeys", tag: "api keys", summary: "List the account's API keys",
			desc: "Oldest first; never the keys themselves.", status: 200, data: "APIKey", list: true},
		"GET /api_key/{id}": {id: "getAPIKey", tag: "api keys", summary: "Read an API key", desc: "Never the key itself.", status: 200, data: "APIKey"},
		"DELETE /api_key/{id}": {id: "deleteAPIKey", tag: "api keys", summary: "Revoke an API key",
			desc: "The key stops working at once.", status: 200, data: "Deleted", conflict: "It is the account's last key: create another one first."},
	}
}

// adminOps are the admin routes of accounts.go.
func adminOps() map[string]apiOp {
	return map[string]apiOp{
		"POST /admin/account": {id: "adminCreateAccount", tag: "admin", summary: "Create an account",
			desc: "Answers the account with its first API key, shown this once.", body: "AccountCreate", status: 201, data: "AccountCreated"},
		"GET /admin/account": {id: "adminListAccounts", tag: "admin", summary: "List accounts", desc: "Oldest first.",
			status: 200, data: "Account", list: true},
		"GET /admin/account/{id}": {id: "adminGetAccount", tag: "admin", summary: "Read an account", status: 200, data: "Account"},
		"POST /admin/account/{id}/rotate_key": {id: "adminRotateAccountKey", tag: "admin", summary: "Replace an account's API keys",
			desc: "Revokes every key of the account at once and answers one new key, shown this once.", status: 200, data: "AccountKey"},
		"DELETE /admin/account/{id}": {id: "adminDeleteAccount", tag: "admin", summary: "Delete an account",
			desc: "Removes the account, its keys, sessions and everything it owns; nothing more is delivered for it.", status: 200, data: "Deleted"},
		"POST /admin/account/{id}/portal_session": {id: "adminCreatePortalSession", tag: "admin", summary: "Create a portal link to an account's dashboard",
			desc: "As POST /portal_session, for the account named in the path: the platform signs its customer into that account's dashboard without handing over a key.",
			body: "PortalSessionCreate", bodyOptional: true, status: 201, data: "PortalSession"},
	}
}

// addAccountPaths adds the operations of apiKeyOps and adminOps to paths.
// Admin operations take the admin key only (security adminKey), answer 404
// on a server without one, and take no Idempotency-Key.
func addAccountPaths(paths schema) {
	add := func(pattern string, op schema) {
		method, path, _ := strings.Cut(pattern, " ")
		item, _ := paths[base+path].(schema)
		if item == nil {
			item = schema{}
			paths[base+path] = item
		}
		item[strings.ToLower(method)] = op
	}
	for pattern, o := range apiKeyOps() {
		add(pattern, o.operation(strings.SplitN(pattern, " ", 2)[1], strings.HasPrefix(pattern, http.MethodPost+" ")))
	}
	for pattern, o := range adminOps() {
		op := o.operation(strings.SplitN(pattern, " ", 2)[1], false)
		op["security"] = []schema{{"adminKey": []string{}}}
		responses := op["responses"].(schema)
		responses["401"] = respRef("Unauthorized", "The admin key is missing or wrong (an account's API key is not an admin key).")
		if _, ok := responses["404"]; ok {
			responses["404"] = respRef("NotFound", "No such account; or the admin API is off (AGENTHOOKS_ADMIN_KEY unset).")
		} else {
			responses["404"] = respRef("NotFound", "The admin API is off (AGENTHOOKS_ADMIN_KEY unset).")
		}
		add(pattern, op)
	}
}
