#pragma once
// Everything audit reads from its environment (docs/configuration.md), read and checked as a
// whole by one function: every problem is reported at once, each naming its variable. The keys
// are parsed here, once: a malformed one is named with the rest, and the result holds them ready.

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/reloadable_api_keys.h"
#include "common/config/config.h"
#include "common/crypto/blind_index.h"
#include "common/crypto/local_keyring.h"
#include "common/grpcutil/server_security.h"
#include "common/runtime/service_runtime.h"
#include "services/audit/caller_callbacks/subscriptions.h"

namespace klaxon::audit {

// WatchAlert streams open at once, each holding a thread while it waits (ADR 0003).
inline constexpr int kMaxWatchers = 256;

struct AuditSettings {
  runtime::CommonSettings common;
  // KLAXON_KAFKA_SESSION_TIMEOUT: after a crash, how long audit's partitions wait.
  absl::Duration kafka_session_timeout;
  config::HostPort grpc;
  grpcutil::ServerSecurity grpc_security;
  auth::ApiKeySettings api_keys;
  std::string pg_url;              // a libpq connection string, TLS settings applied
  crypto::LocalKeyring keyring;    // KLAXON_KEYRING: KEKs wrapping each data key (ADR 0008)
  crypto::BlindIndex blind_index;  // KLAXON_BLIND_INDEX_KEY: the recipient's blind index
  // Events written in one transaction at most; also how many messages the consumer handles at
  // once, so one batch can take every message in flight.
  int batch_size = 1000;
  int batch_writers = 2;              // batches written at once
  absl::Duration batch_linger;        // a writer's wait for more events before a small batch
  absl::Duration publish_timeout;     // a replay waits this long for Kafka's acknowledgement
  int watch_max_per_caller = 32;      // WatchAlert streams one caller may hold open
  absl::Duration watch_max_lifetime;  // after which a watch ends UNAVAILABLE, to be resumed
  // Caller callbacks (ADR 0028): KLAXON_CALLER_CALLBACKS, a secret; empty when nobody takes them.
  CallbackSubscriptions caller_callbacks;
  absl::Duration caller_callback_timeout;        // one POST
  int caller_callback_concurrency = 32;          // POSTs in flight
  absl::Duration caller_callback_give_up_after;  // from the status change, then dead-lettered
};

// Reads every setting from `reader`; kInvalidArgument listing each variable that is missing or
// wrong. The key material is wiped from everything but the result.
absl::StatusOr<AuditSettings> LoadAuditSettings(config::Reader& reader);

}  // namespace klaxon::audit
