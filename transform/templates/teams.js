// Microsoft Teams incoming webhook (Workflows): a message with an Adaptive
// Card attachment (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using).
function handler(webhook) {
  var s = summary(webhook);
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
