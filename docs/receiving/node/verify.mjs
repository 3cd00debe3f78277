// Verifies one agenthooks delivery with the Standard Webhooks library for
// JavaScript (npm "standardwebhooks"), as a Node.js receiver would.
//
//   npm ci                                   # once, in this folder
//   WEBHOOK_SECRET=whsec_... node verify.mjs BODY_FILE HEADERS_FILE
//
// BODY_FILE holds the request body exactly as received (the signature covers
// its bytes: never re-serialise the parsed JSON). HEADERS_FILE holds the
// request headers as a JSON object; webhook-id, webhook-timestamp and
// webhook-signature are needed. During a secret rotation WEBHOOK_SECRET may
// hold two secrets, "old,new": either verifies.
//
// Exits 0 if the delivery verifies (printing its event type and id), 1 if it
// does not, 2 on a usage error.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

function usage(message) {
  console.error(`verify.mjs: ${message}`);
  console.error("usage: WEBHOOK_SECRET=whsec_... node verify.mjs BODY_FILE HEADERS_FILE");
  process.exit(2);
}

const [bodyFile, headersFile] = process.argv.slice(2);
if (!bodyFile || !headersFile) usage("BODY_FILE and HEADERS_FILE are required");
const secrets = (process.env.WEBHOOK_SECRET ?? "").split(",").filter((s) => s.trim() !== "");
if (secrets.length === 0) usage("set WEBHOOK_SECRET to the webhook's secret (whsec_...)");

let body, headers, verifiers;
try {
  body = readFileSync(bodyFile); // a Buffer: the raw bytes
  headers = JSON.parse(readFileSync(headersFile, "utf8"));
  verifiers = secrets.map((s) => new Webhook(s.trim()));
} catch (err) {
  usage(err.message);
}

// verify returns the parsed event if one of the secrets verifies the delivery,
// and throws the last WebhookVerificationError otherwise.
function verify(body, headers) {
  let lastError;
  for (const wh of verifiers) {
    try {
      return wh.verify(body, headers);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

try {
  const event = verify(body, headers);
  console.log(`verified: ${event.event} ${event.id}`);
  process.exit(0);
} catch (err) {
  console.error(`not verified: ${err.message}`);
  process.exit(1);
}
