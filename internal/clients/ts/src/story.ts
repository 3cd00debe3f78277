// The seed's story through the client openapi-typescript and openapi-fetch
// make of the served document: webhook, assistant with webhook_id, widget,
// form, conversation with attributes, captured form, close, and the
// deliveries listed. tsc type-checks it against the generated types (npm run
// check); run against a server (npm run story, with AGENTHOOKS_URL and
// AGENTHOOKS_KEY) it exits non-zero at the first answer that is not the one
// the document promises. internal/clients/go runs it against a real server.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Conversation = components["schemas"]["Conversation"];

// Node's process, declared here rather than through @types/node: the story
// needs two environment variables and an exit code, nothing more.
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

const baseUrl = process.env.AGENTHOOKS_URL ?? "http://127.0.0.1:8080";
const key = process.env.AGENTHOOKS_KEY ?? "";
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });

function check(cond: unknown, what: string): asserts cond {
  if (!cond) {
    throw new Error(`ts story: ${what}`);
  }
}

async function story(): Promise<void> {
  const wh = await client.POST("/api/v1/outbound_webhook", {
    body: { name: "crm", endpoint: `${baseUrl}/hook`, events: ["captured_form.created", "conversation.closed"] },
  });
  check(wh.response.status === 201 && wh.data, `create webhook: ${wh.response.status} ${JSON.stringify(wh.error)}`);
  const hook = wh.data.data;
  check(typeof hook.secret === "string" && hook.secret.startsWith("whsec_"), "the webhook's secret");

  const as = await client.POST("/api/v1/assistant", {
    body: { name: "Sales bot", webhook_id: hook.id, voice: true, attributes: { tier: "gold", limits: { daily: 5 } } },
  });
  check(as.data, `create assistant: ${as.response.status} ${JSON.stringify(as.error)}`);
  const assistant = as.data.data;
  check(assistant.webhook_id === hook.id && assistant.voice === true, "assistant webhook_id and voice");
  check(assistant.attributes["tier"] === "gold", "assistant attributes kept");

  const wg = await client.POST("/api/v1/widget", {
    body: { assistant_id: assistant.id, name: "site chat", widget_type: "chat", user_opening_messages: ["Hi!"] },
  });
  check(wg.data, `create widget: ${wg.response.status} ${JSON.stringify(wg.error)}`);
  const widget = wg.data.data;
  check(widget.user_opening_messages.length === 1, "widget user_opening_messages kept");

  const fm = await client.POST("/api/v1/form", {
    body: { name: "lead", fields: [{ name: "email", required: true }, { name: "name", type: "text" }] },
  });
  check(fm.data, `create form: ${fm.response.status} ${JSON.stringify(fm.error)}`);
  const form = fm.data.data;

  const cv = await client.POST("/api/v1/conversation", {
    body: { assistant_id: assistant.id, widget_id: widget.id, device_type: "desktop", attributes: { utm_source: "ads" } },
  });
  check(cv.data, `create conversation: ${cv.response.status} ${JSON.stringify(cv.error)}`);
  const conv: Conversation = cv.data.data;
  check(conv.attributes["utm_source"] === "ads", "conversation attributes");

  const cf = await client.POST("/api/v1/conversation/{id}/captured_form", {
    params: { path: { id: conv.id } },
    body: { form_id: form.id, field_values: { email: "ada@example.com", name: "Ada" } },
  });
  check(cf.data, `capture form: ${cf.response.status} ${JSON.stringify(cf.error)}`);
  check(cf.data.data.field_values["email"] === "ada@example.com", "captured form values");

  const cl = await client.POST("/api/v1/conversation/{id}/close", {
    params: { path: { id: conv.id } },
    body: { summary: "Ada wants a demo." },
  });
  check(cl.data && cl.data.data.status === "closed", `close: ${cl.response.status} ${JSON.stringify(cl.error)}`);

  const again = await client.POST("/api/v1/conversation/{id}/close", { params: { path: { id: conv.id } }, body: {} });
  check(again.response.status === 409 && again.error && typeof again.error.detail === "string", "closing again is a 409 with detail");

  const ld = await client.GET("/api/v1/delivery", { params: { query: { webhook_id: hook.id } } });
  check(ld.data, `list deliveries: ${ld.response.status} ${JSON.stringify(ld.error)}`);
  check(ld.data.data.total === 2 && ld.data.data.items.every((d) => d.webhook_id === hook.id), "two deliveries to the webhook");

  const bad = await client.POST("/api/v1/conversation", {
    body: { assistant_id: assistant.id, widget_id: assistant.id, device_type: "mobile" },
  });
  check(bad.response.status === 422, `a widget of no assistant: ${bad.response.status}`);
}

story().then(
  () => console.log("ts story: ok"),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
