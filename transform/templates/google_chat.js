// Google Chat incoming webhook: text and cardsV2
// (https://developers.google.com/workspace/chat/api/reference/rest/v1/cards).
function handler(webhook) {
  var s = summary(webhook);
  var widgets = [{ textParagraph: { text: s.text } }];
  s.facts.forEach(function (f) {
    widgets.push({ decoratedText: { topLabel: f.name, text: f.value } });
  });
  webhook.payload = {
    text: s.title + ": " + s.text,
    cardsV2: [{
      cardId: "agenthooks-" + ((webhook.payload || {}).id || "event"),
      card: { header: { title: s.title }, sections: [{ widgets: widgets }] }
    }]
  };
  return webhook;
}
