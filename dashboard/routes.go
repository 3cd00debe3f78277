package dashboard

import "net/http"

func (d *Dashboard) routes() {
	d.handle("GET /theme.css", http.HandlerFunc(d.themeCSS))
	d.handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		d.static.ServeHTTP(w, r)
	}))
	// The favicon, embedded (a 404 on every page otherwise): pages link it,
	// and /favicon.ico answers for clients that ask there.
	d.handle("GET /favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("Content-Type", "image/svg+xml")
		b, _ := staticFiles.ReadFile("static/favicon.svg")
		_, _ = w.Write(b)
	}))
	d.handle("POST /sign-in", http.HandlerFunc(d.signIn))
	d.handle("GET /portal/{token}", http.HandlerFunc(d.portal))
	d.page("POST /sign-out", d.signOut)

	d.page("GET /{$}", d.overview)

	d.page("GET /webhooks", d.listWebhooks)
	d.page("GET /webhooks/new", d.newWebhook)
	d.page("POST /webhooks", d.createWebhook)
	d.page("GET /webhooks/{id}", d.showWebhook)
	d.page("POST /webhooks/{id}", d.updateWebhook)
	d.page("POST /webhooks/{id}/enable", d.enableWebhook(true))
	d.page("POST /webhooks/{id}/disable", d.enableWebhook(false))
	d.page("GET /webhooks/{id}/delete", d.confirmDeleteWebhook)
	d.page("POST /webhooks/{id}/delete", d.deleteWebhook)
	d.page("POST /webhooks/{id}/rotate", d.rotateSecret)
	d.page("POST /webhooks/{id}/test", d.testWebhook)
	d.page("POST /webhooks/{id}/recover", d.recoverWebhook)
	d.page("POST /webhooks/{id}/transformation", d.transformation) // dashboard/transform.go
	d.page("POST /webhooks/{id}/filter", d.filter)                 // dashboard/filter.go

	d.page("GET /assistants", d.listAssistants)
	d.page("POST /assistants", d.createAssistant)
	d.page("GET /assistants/{id}", d.showAssistant)
	d.page("POST /assistants/{id}/widgets", d.createWidget)
	d.page("GET /assistants/{id}/operations", d.assistantOperations)
	d.page("POST /assistants/{id}/webhook", d.assignAssistantWebhook)

	d.page("GET /forms", d.listForms)
	d.page("POST /forms", d.createForm)
	d.page("GET /forms/{id}", d.showForm)
	d.page("POST /forms/{id}/webhook", d.assignFormWebhook)

	d.page("GET /conversations", d.listConversations)
	d.page("GET /conversations/{id}", d.showConversation)
	d.page("GET /events", d.listEvents)
	d.page("GET /events/{id}", d.showEvent)
	d.page("GET /deliveries", d.listDeliveries)
	d.page("GET /deliveries/{id}", d.showDelivery)
	d.page("POST /deliveries/{id}/retry", d.retryDelivery)

	d.routesSettings()
	d.routesEventTypes() // dashboard/eventtypes.go

	d.handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.renderError(w, r, http.StatusNotFound, "Not found", "There is nothing at this address.")
	}))
}
