// Google Chat incoming webhook: text and cardsV2
// (https://developers.google.com/workspace/chat/api/reference/rest/v1/cards).
function handler(webhook) {
  // A Google Chat message is at most 32,000 bytes and its text at most
  // 4096 characters: 10000 characters in all (3 bytes each at most).
  var s = fit(summary(webhook), { title: 256, text: 3800, facts: 25, name: 256, value: 1000, total: 10000 });
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
