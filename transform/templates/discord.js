// Discord webhook: content (at most 2000 characters) and embeds
// (https://discord.com/developers/docs/resources/webhook#execute-webhook).
function handler(webhook) {
  var s = summary(webhook);
  var content = s.title + ": " + s.text;
  if (content.length > 2000) content = content.slice(0, 1997) + "...";
  var embed = {
    title: s.title.slice(0, 256),
    description: s.text.slice(0, 4096),
    fields: s.facts.slice(0, 25).map(function (f) {
      return { name: f.name.slice(0, 256), value: f.value.slice(0, 1024), inline: f.value.length < 40 };
    })
  };
  var at = (webhook.payload || {}).created_at;
  if (at) embed.timestamp = String(at).replace(" ", "T") + "Z";
  webhook.payload = { content: content, embeds: [embed] };
  return webhook;
}
