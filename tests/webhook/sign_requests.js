// Signs webhook requests the way Twilio does, with Twilio's official Node.js helper library
// (the `twilio` package, tests/webhook/install-twilio-node.sh puts it in NODE_PATH), for the test
// that sends them to a running ingress. Everything Twilio-specific is the library's or Node's own:
// the signature (getExpectedTwilioSignature), the form encoding (URLSearchParams, as
// application/x-www-form-urlencoded) and the bodySHA256 of a JSON body (node:crypto). Nothing of
// Klaxon's code is involved, so the two sides can only agree by both following Twilio's rules.
//
//   node sign_requests.js AUTH_TOKEN IN.json OUT.json
//
// IN.json is an array of requests to sign:
//   {"kind": "form" | "get" | "json", "url": the URL Twilio requests (the JSON body's bodySHA256
//    and a GET's parameters are appended to it here), "params": [[key, value], ...] (form and
//    get; a key may repeat), "json": the raw body (json), "token": I-Twilio-Idempotency-Token}
// OUT.json holds, in the same order:
//   {"method", "url" (as requested and signed), "content_type" ("" for a GET), "body",
//    "headers": {"X-Twilio-Signature", "I-Twilio-Idempotency-Token"}}
// Each request is checked with the library's own validateRequest / validateRequestWithBody
// before it is written; a request the library itself would refuse stops the script (exit 1).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const twilio = require('twilio');

function fail(message) {
  process.stderr.write(`sign_requests.js: ${message}\n`);
  process.exit(1);
}

// The parameters as an Express-style body parser hands them to the library: one entry per key,
// an array when the key repeats.
function paramsObject(pairs) {
  const params = {};
  for (const [key, value] of pairs) {
    if (!(key in params)) {
      params[key] = value;
    } else if (Array.isArray(params[key])) {
      params[key].push(value);
    } else {
      params[key] = [params[key], value];
    }
  }
  return params;
}

function withQuery(url, query) {
  return url + (url.includes('?') ? '&' : '?') + query;
}

function sign(authToken, request) {
  switch (request.kind) {
    case 'form': {
      const params = paramsObject(request.params);
      const signature = twilio.getExpectedTwilioSignature(authToken, request.url, params);
      if (!twilio.validateRequest(authToken, signature, request.url, params)) {
        fail(`the library refuses its own signature of the form request to ${request.url}`);
      }
      return {
        method: 'POST',
        url: request.url,
        content_type: 'application/x-www-form-urlencoded',
        body: new URLSearchParams(request.params).toString(),
        signature,
      };
    }
    case 'get': {
      const url = withQuery(request.url, new URLSearchParams(request.params).toString());
      const signature = twilio.getExpectedTwilioSignature(authToken, url, {});
      if (!twilio.validateRequest(authToken, signature, url, {})) {
        fail(`the library refuses its own signature of GET ${url}`);
      }
      return { method: 'GET', url, content_type: '', body: '', signature };
    }
    case 'json': {
      const hash = crypto.createHash('sha256').update(request.json, 'utf8').digest('hex');
      const url = withQuery(request.url, `bodySHA256=${hash}`);
      const signature = twilio.getExpectedTwilioSignature(authToken, url, {});
      if (!twilio.validateRequestWithBody(authToken, signature, url, request.json)) {
        fail(`the library refuses its own signature of the JSON request to ${url}`);
      }
      return { method: 'POST', url, content_type: 'application/json', body: request.json, signature };
    }
    default:
      fail(`unknown request kind ${JSON.stringify(request.kind)}`);
  }
}

function main() {
  const [authToken, inPath, outPath] = process.argv.slice(2);
  if (!authToken || !inPath || !outPath) fail('usage: node sign_requests.js AUTH_TOKEN IN.json OUT.json');
  const requests = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const signed = requests.map((request) => {
    const { signature, ...rest } = sign(authToken, request);
    return {
      ...rest,
      headers: {
        'X-Twilio-Signature': signature,
        'I-Twilio-Idempotency-Token': request.token,
      },
    };
  });
  fs.writeFileSync(outPath, JSON.stringify(signed, null, 1));
}

main();
