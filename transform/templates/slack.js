// Slack incoming webhook: text (the notification's fallback) and blocks
// (https://api.slack.com/messaging/webhooks).
function handler(webhook) {
  var s = summary(webhook);
  var fields = s.facts.slice(0, 10).map(function (f) {
    return { type: "mrkdwn", text: "*" + f.name + "*\n" + f.value.slice(0, 1900) };
  });
  var blocks = [
    { type: "header", text: { type: "plain_text", text: s.title.slice(0, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: s.text.slice(0, 3000) } }
  ];
  if (fields.length > 0) blocks.push({ type: "section", fields: fields });
  webhook.payload = { text: s.title + ": " + s.text, blocks: blocks };
  return webhook;
}
