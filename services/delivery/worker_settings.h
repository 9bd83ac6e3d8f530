#pragma once
// Everything a delivery worker reads from its environment (docs/configuration.md), read and
// checked as a whole by one function: every problem is reported at once, each naming its variable.
// The channel's own settings are read by its WorkerSpec::configure, in the same pass.

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/budgets/budgets.h"
#include "common/config/config.h"
#include "common/redis/redis_client.h"
#include "common/runtime/service_runtime.h"
#include "common/twilio/accounts.h"
#include "common/twilio/twilio_rest_client.h"
#include "services/delivery/account_breakers.h"
#include "services/delivery/limit_settings.h"
#include "services/delivery/retry_policy.h"
#include "services/delivery/routing.h"
#include "services/delivery/worker_main.h"

namespace klaxon::delivery {

struct WorkerSettings {
  runtime::CommonSettings common;
  // KLAXON_KAFKA_SESSION_TIMEOUT: after a crash, how long this worker's partitions wait.
  absl::Duration kafka_session_timeout;
  redis::RedisOptions redis;
  std::string redis_key_prefix;
  // Messages handled at once, each holding a pool thread for its Twilio round trip.
  int concurrency = 0;
  // The same for the urgent request topic's critical alerts, on a pool of their own.
  int urgent_concurrency = 0;
  types::v1::Channel channel = types::v1::CHANNEL_UNSPECIFIED;  // the WorkerSpec's
  // Messages each retry tier's consumer holds at once until they are due. A held message costs a
  // timer and its bytes, not a thread, so this is large: a burst of scheduled alerts or deferrals
  // must not fill a tier and hold back the retries behind it (ADR 0025).
  int tier_max_held = 0;
  // What every account's REST client shares; each account's credentials are in `accounts`.
  twilio::TwilioRestClientOptions twilio_client;
  std::vector<twilio::TwilioAccount> accounts;
  AccountBreakerOptions account_breaker;
  TwilioSettings twilio;
  SenderFactory make_sender;
  RetryPolicyOptions retry;
  absl::Duration settle_after;
  absl::Duration status_check_first;
  absl::Duration status_check_after;
  // KLAXON_READ_CHARGES: read what Twilio charged for each accepted attempt (docs/adr/0036).
  bool read_charges;
  // KLAXON_BUDGETS_FILE (docs/adr/0037); empty: no budgets.
  budgets::BudgetSettings budgets;
  absl::Duration channel_disabled_recheck;
  LimitSettings limits;
  // KLAXON_ROUTING_FILE's rules for this channel; unset, every destination takes every sender.
  Routing routing;
};

// Reads the settings of `spec`'s worker from `reader`; kInvalidArgument listing each variable that
// is missing or wrong.
absl::StatusOr<WorkerSettings> LoadWorkerSettings(config::Reader& reader, const WorkerSpec& spec);

// A REST client per Twilio account of `settings`, by account name: the common client options with
// the account's credentials.
absl::StatusOr<std::map<std::string, std::unique_ptr<twilio::TwilioRestClient>>> TwilioClients(
    const WorkerSettings& settings);

}  // namespace klaxon::delivery
