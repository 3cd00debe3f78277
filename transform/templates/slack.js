// Slack incoming webhook: text (the notification's fallback) and blocks
// (https://api.slack.com/messaging/webhooks).
function handler(webhook) {
  // Block Kit's limits: a header of 150 characters, a section's text of
  // 3000, at most 10 fields of 2000 each.
  var s = fit(summary(webhook), { title: 150, text: 3000, facts: 10, name: 200, value: 1790, total: 40000 });
  var fields = s.facts.map(function (f) {
    return { type: "mrkdwn", text: "*" + f.name + "*\n" + f.value };
  });
  var blocks = [
    { type: "header", text: { type: "plain_text", text: s.title, emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: s.text } }
  ];
  if (fields.length > 0) blocks.push({ type: "section", fields: fields });
  webhook.payload = { text: s.title + ": " + s.text, blocks: blocks };
  return webhook;
}
