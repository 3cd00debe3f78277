package transform

import (
	"embed"
	"strings"
)

//go:embed templates/*.js
var templateFS embed.FS

// Template is a transformation to start from.
type Template struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Code        string `json:"code"`
}

// Templates are the built-in templates, each turning every built-in event
// (and, as a fallback, any other) into a chat service's incoming-webhook
// message. Each code is whole: the shared summary function and the
// service's handler.
var Templates = loadTemplates()

func loadTemplates() []Template {
	summary := mustRead("summary")
	list := []Template{
		{Name: "slack", Description: "Slack incoming webhook: text and blocks (a header, the event in a sentence, its fields)."},
		{Name: "discord", Description: "Discord webhook: content (at most 2000 characters) and an embed with the event's fields."},
		{Name: "teams", Description: "Microsoft Teams (Workflows incoming webhook): a message with an Adaptive Card attachment."},
		{Name: "google_chat", Description: "Google Chat incoming webhook: text and a cardsV2 card with the event's fields."},
	}
	for i := range list {
		list[i].Code = strings.TrimSpace(mustRead(list[i].Name)) + "\n\n" + summary
	}
	return list
}

func mustRead(name string) string {
	b, err := templateFS.ReadFile("templates/" + name + ".js")
	if err != nil {
		panic("transform: template " + name + ": " + err.Error()) // embedded: cannot happen
	}
	return string(b)
}

// LookupTemplate returns the template named name.
func LookupTemplate(name string) (Template, bool) {
	for _, t := range Templates {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}
