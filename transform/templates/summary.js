// summary(webhook) turns an agenthooks event into a title, a line of text
// and a list of facts, for every built-in event type and a fallback.
function summary(webhook) {
  var p = webhook.payload || {};
  var d = p.data || {};
  var type = webhook.eventType || p.event || "event";
  var s = { title: type, text: "", facts: [] };
  function fact(name, value) {
    if (value !== undefined && value !== null && value !== "") {
      s.facts.push({ name: name, value: String(value) });
    }
  }
  switch (type) {
  case "captured_form.created":
  case "captured_form.updated":
    var f = d.field_values || {};
    var who = f.name || f.full_name || f.first_name || "Someone";
    s.title = (type === "captured_form.created" ? "New lead: " : "Lead updated: ") + who;
    s.text = who + (f.email ? " <" + f.email + ">" : "") + " submitted " + (d.form_name || "a form") + ".";
    fact("Name", f.name);
    fact("Email", f.email);
    fact("Phone", f.phone || f.phone_number);
    for (var k in f) {
      if (k !== "name" && k !== "email" && k !== "phone" && k !== "phone_number") fact(k, f[k]);
    }
    fact("Form", d.form_name);
    break;
  case "captured_intent.created":
    s.title = "Intent captured: " + (d.intent_name || "unknown");
    s.text = "A visitor showed the intent " + (d.intent_name || "unknown") + " after " + (d.chat_count || 0) + " messages.";
    fact("Intent", d.intent_name);
    fact("Messages", d.chat_count);
    fact("Device", d.device_type);
    break;
  case "conversation.closed":
  case "conversation.updated":
    s.title = type === "conversation.closed" ? "Conversation closed" : "Conversation updated";
    s.text = (d.first_message || "(no message)") + " (" + (d.chat_count || 0) + " messages)";
    fact("First message", d.first_message);
    fact("Messages", d.chat_count);
    fact("Device", d.device_type);
    break;
  case "webhook.disabled":
    s.title = "Webhook disabled: " + (d.name || d.webhook_id);
    s.text = "The webhook " + (d.name || d.webhook_id) + " (" + (d.endpoint || "") + ") was disabled: " + (d.reason || "unknown") + ".";
    fact("Webhook", d.name);
    fact("Endpoint", d.endpoint);
    fact("Reason", d.reason);
    break;
  case "delivery.failed":
    s.title = "Delivery failed: " + (d.event || "event");
    s.text = "A delivery of " + (d.event || "an event") + " failed after " + (d.attempt_count || 0) + " attempts: " + (d.last_error || "") + ".";
    fact("Event", d.event);
    fact("Attempts", d.attempt_count);
    fact("Last error", d.last_error);
    break;
  case "webhook.test":
    s.title = "Test event from agenthooks";
    s.text = "This webhook works.";
    break;
  default:
    s.title = "Event: " + type;
    var json = JSON.stringify(d);
    s.text = json.length > 500 ? json.slice(0, 497) + "..." : json;
  }
  fact("Event ID", p.id);
  s.text = s.text || s.title;
  return s;
}

// clip(str, n) is str cut to at most n characters, with an ellipsis when
// cut (never halving a surrogate pair).
function clip(str, n) {
  str = String(str);
  if (str.length <= n) return str;
  var end = n - 1;
  var c = str.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return str.slice(0, end) + "\u2026";
}

// fit(s, o) trims a summary to a service's limits: the title to o.title
// characters, the text to o.text, at most o.facts facts of names up to
// o.name and values up to o.value, and at most o.total characters in all
// (the title and text first, then the facts in order, while they fit).
function fit(s, o) {
  var title = clip(s.title, o.title);
  var text = clip(s.text, Math.min(o.text, Math.max(1, o.total - title.length)));
  var left = o.total - title.length - text.length;
  var facts = [];
  for (var i = 0; i < s.facts.length && facts.length < o.facts; i++) {
    var name = clip(s.facts[i].name, o.name);
    var room = Math.min(o.value, left - name.length);
    if (room < 8) break;
    var value = clip(s.facts[i].value, room);
    facts.push({ name: name, value: value });
    left -= name.length + value.length;
  }
  return { title: title, text: text, facts: facts };
}
