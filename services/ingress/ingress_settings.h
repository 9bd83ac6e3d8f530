#pragma once
// Everything ingress reads from its environment (docs/configuration.md), read and checked as a
// whole by one function: every problem is reported at once, each naming its variable.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/reloadable_api_keys.h"
#include "common/budgets/budgets.h"
#include "common/config/config.h"
#include "common/grpcutil/server_security.h"
#include "common/limits/rate.h"
#include "common/redis/redis_client.h"
#include "common/runtime/service_runtime.h"
#include "common/twilio/webhook_routes.h"
#include "services/ingress/client_address.h"
#include "services/ingress/http_api.h"
#include "services/ingress/inbound_auto_reply.h"
#include "services/ingress/intake_admission.h"
#include "services/ingress/quiet_hours.h"
#include "services/ingress/verification/verifier.h"

namespace klaxon::ingress {

// Connections for SendAlert's idempotency calls and the webhooks' dedupe calls; each takes well
// under a millisecond.
inline constexpr int kRedisConnections = 32;

struct WebhookSettings {
  config::HostPort address;
  twilio::PublicBaseUrl public_url;
  bool public_url_from_proxy = false;    // KLAXON_WEBHOOK_PUBLIC_URL unset (WebhookOptions)
  std::vector<std::string> auth_tokens;  // primary first; the one account's
  // KLAXON_TWILIO_ACCOUNTS_FILE's instead: each account's tokens by its SID (docs/adr/0035).
  std::map<std::string, std::vector<std::string>> account_tokens;
  bool sandbox = false;
  TrustedProxies trusted_proxies;
  int64_t rate_limit = 0;
  absl::Duration dedupe_window;
  absl::Duration header_timeout;
  absl::Duration body_timeout;
  absl::Duration idle_timeout;
  absl::Duration write_timeout;
  int64_t max_connections = 0;
  int64_t max_connections_per_source = 0;
  int64_t workers = 0;
  InboundAutoReplies auto_replies;
};

struct IngressSettings {
  runtime::CommonSettings common;
  config::HostPort grpc;
  grpcutil::ServerSecurity grpc_security;
  auth::ApiKeySettings api_keys;
  redis::RedisOptions redis;
  std::string redis_key_prefix;
  absl::Duration publish_timeout;
  absl::Duration publish_linger;
  std::map<std::string, limits::Rate> caller_quotas;  // empty: callers are not limited
  budgets::BudgetSettings budgets;                    // KLAXON_BUDGETS_FILE; empty: no budgets
  QuietHours quiet_hours;                             // KLAXON_QUIET_HOURS(_EXEMPT)
  AdmissionOptions admission;
  int64_t intake_threads = 0;  // run the Redis steps of SendAlert and the stops
  WebhookSettings webhook;
  HttpApiSettings http_api;
  // Phone verification's options; the digest key is the common PII key, set by main.
  verification::VerifierOptions verification;
};

// Reads every setting from `reader`; kInvalidArgument listing each variable that is missing or
// wrong. The Twilio auth tokens are wiped from everything but the result.
absl::StatusOr<IngressSettings> LoadIngressSettings(config::Reader& reader);

}  // namespace klaxon::ingress
