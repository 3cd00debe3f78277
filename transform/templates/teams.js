// Microsoft Teams incoming webhook (Workflows): a message with an Adaptive
// Card attachment (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using).
function handler(webhook) {
  // A Teams message is at most 28 KB: 9000 characters of text (3 bytes
  // each at most in UTF-8) leave room for the card's own JSON.
  var s = fit(summary(webhook), { title: 256, text: 4000, facts: 25, name: 256, value: 1000, total: 9000 });
  var card = {
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.4",
    body: [
      { type: "TextBlock", text: s.title, weight: "Bolder", size: "Medium", wrap: true },
      { type: "TextBlock", text: s.text, wrap: true }
    ]
  };
  if (s.facts.length > 0) {
    card.body.push({ type: "FactSet", facts: s.facts.map(function (f) { return { title: f.name, value: f.value }; }) });
  }
  webhook.payload = {
    type: "message",
    attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }]
  };
  return webhook;
}
