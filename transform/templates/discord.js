// Discord webhook: content (at most 2000 characters) and embeds
// (https://discord.com/developers/docs/resources/webhook#execute-webhook).
function handler(webhook) {
  var full = summary(webhook);
  var content = clip(full.title + ": " + full.text, 2000);
  // An embed's limits: a title of 256 characters, a description of 4096,
  // 25 fields of a 256-character name and a 1024-character value, and
  // 6000 characters in all.
  var s = fit(full, { title: 256, text: 4096, facts: 25, name: 256, value: 1024, total: 6000 });
  var embed = {
    title: s.title,
    description: s.text,
    fields: s.facts.map(function (f) {
      return { name: f.name, value: f.value, inline: f.value.length < 40 };
    })
  };
  var at = (webhook.payload || {}).created_at;
  if (at) embed.timestamp = String(at).replace(" ", "T") + "Z";
  webhook.payload = { content: content, embeds: [embed] };
  return webhook;
}
