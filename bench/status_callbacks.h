// Twilio message status callbacks for bench-webhook: drawn in a realistic mix, signed exactly as
// Twilio signs them (X-Twilio-Signature over the URL ingress rebuilds from its public base URL)
// and framed as HTTP/1.1 requests, all before the run so that signing costs nothing while it is
// timed. Some can be byte-for-byte replays of an earlier request, as Twilio sends when it retries
// a delivery; ingress must acknowledge those too, without publishing them again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/form.h"

namespace klaxon::bench {

// Where bench-webhook connects: ingress's own address, plain HTTP.
struct WebhookTarget {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  uint16_t port = 80;
  std::string authority;  // host[:port] as written: the Host header
  std::string origin;     // "http://" + authority: the public URL unless one is given
};

// Parses "http://host[:port]" (a trailing '/' allowed; IPv6 as [::1]). kInvalidArgument, saying
// what to give instead, for another scheme, a path, a query or a bad port.
absl::StatusOr<WebhookTarget> ParseWebhookUrl(std::string_view url);

struct StatusCallback {
  std::string alert_id;
  uint32_t attempt = 1;
  std::string idempotency_token;  // I-Twilio-Idempotency-Token
  http::FormParams params;        // the form body, in the order it is sent
};

// A new message's callback: a fresh alert id (UUIDv7), MessageSid and idempotency token, and a
// status drawn from sent, delivered and undelivered (with ErrorCode 30003, "unreachable
// destination handset") in the proportions of a healthy SMS route.
StatusCallback RandomStatusCallback(std::string_view account_sid, absl::Time now,
                                    absl::BitGenRef gen);

struct CallbackRequestOptions {
  std::string public_url;  // what ingress rebuilds the signed URL from (scheme://host[:port][/p])
  std::string authority;   // the Host header
  std::string auth_token;
};

// The HTTP/1.1 POST of `callback` to /twilio/messages/status?alert_id=..&attempt=.. as a form,
// with X-Twilio-Signature computed over public_url + that path and query.
std::string StatusCallbackRequest(const StatusCallback& callback,
                                  const CallbackRequestOptions& options);

struct PlanOptions {
  CallbackRequestOptions request;
  std::string account_sid;
  // The chance that a request replays an earlier one instead of being a new callback.
  double replay_fraction = 0;
  // How many requests back the replayed one is: far enough that it has been answered.
  int64_t replay_distance = 1;
};

struct RequestPlan {
  std::vector<std::string> requests;  // the bytes of request i
  std::vector<bool> replay;           // request i is a replay
  int64_t replays = 0;
};

// `count` requests. Request i is, with probability replay_fraction when i >= replay_distance, the
// very bytes of request i - replay_distance (a replay), and otherwise a new RandomStatusCallback.
RequestPlan PlanStatusCallbacks(int64_t count, const PlanOptions& options, absl::Time now,
                                absl::BitGenRef gen);

}  // namespace klaxon::bench
