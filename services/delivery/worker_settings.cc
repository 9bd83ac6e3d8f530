#include "services/delivery/worker_settings.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/alert_lifetime/alert_lifetime.h"
#include "common/budgets/budget_guard.h"
#include "common/channels/channel_switches.h"
#include "common/kafka/consumer.h"
#include "common/twilio/base_url.h"
#include "common/twilio/webhook_routes.h"

namespace klaxon::delivery {
namespace {

// What every account's REST client shares; the credentials are each account's (accounts).
twilio::TwilioRestClientOptions ReadTwilioClient(config::Reader& reader, int concurrency) {
  twilio::TwilioRestClientOptions options{
      .base_url = reader.Url("KLAXON_TWILIO_BASE_URL", "https://api.twilio.com", {"http", "https"}),
      .total_timeout = reader.Duration("KLAXON_TWILIO_TIMEOUT", absl::Seconds(15), absl::Seconds(1),
                                       absl::Seconds(60)),
      // One kept-alive connection per message in flight; with fewer, every request beyond them
      // pays a new TCP (and TLS) handshake.
      .max_idle_connections = concurrency};
  if (!options.base_url.empty()) {
    if (absl::Status allowed = twilio::CheckBaseUrl(options.base_url); !allowed.ok()) {
      reader.AddError("KLAXON_TWILIO_BASE_URL", std::string(allowed.message()));
    }
  }
  return options;
}

TwilioSettings ReadTwilioSettings(config::Reader& reader) {
  TwilioSettings settings{.webhook_public_url =
                              reader.Url("KLAXON_WEBHOOK_PUBLIC_URL", "", {"http", "https"})};
  if (!settings.webhook_public_url.empty()) {
    if (absl::Status valid = twilio::ParsePublicBaseUrl(settings.webhook_public_url).status();
        !valid.ok()) {
      reader.AddError("KLAXON_WEBHOOK_PUBLIC_URL", std::string(valid.message()));
    }
  }
  return settings;
}

RetryPolicyOptions ReadRetryPolicy(config::Reader& reader) {
  RetryPolicyOptions retry{
      .base = reader.Duration("KLAXON_RETRY_BASE", absl::Seconds(1), absl::Milliseconds(10),
                              absl::Hours(1)),
      // A retry later than any alert lives would only find it expired.
      .cap = reader.Duration("KLAXON_RETRY_CAP", absl::Minutes(5), absl::Seconds(1),
                             alert_lifetime::kMaxTimeToLive),
      .max_attempts = static_cast<uint32_t>(reader.Int("KLAXON_MAX_ATTEMPTS", 6, 1, 100))};
  if (retry.cap < retry.base) reader.AddError("KLAXON_RETRY_CAP", "is less than KLAXON_RETRY_BASE");
  return retry;
}

// The routing rules of KLAXON_ROUTING_FILE for `channel`, whose senders are
// `senders`; unset, every destination may take every sender.
Routing ReadRouting(config::Reader& reader, types::v1::Channel channel,
                    const std::vector<PacedSender>& senders) {
  constexpr std::string_view kVariable = "KLAXON_ROUTING_FILE";
  const std::optional<std::string> text = reader.FileContents(kVariable);
  // Without senders (their variable is wrong) every rule would name unknown ones: that error is
  // reported already.
  if (!text.has_value() || senders.empty()) {
    // Every destination, +1 too, may take every sender: not an alphanumeric sender ID.
    for (const PacedSender& sender : senders) {
      if (!text.has_value() && sender.kind == SenderKind::kAlphanumeric) {
        reader.AddError(SendersVariable(channel),
                        absl::StrCat("\"", sender.address,
                                     "\" is an alphanumeric sender ID, which US and Canadian "
                                     "numbers cannot receive: route it with KLAXON_ROUTING_FILE "
                                     "to the countries that can"));
      }
    }
    return Routing::AllSenders(senders);
  }
  absl::StatusOr<Routing> routing =
      Routing::Parse(*text, reader.Optional(kVariable, ""), channel, senders);
  if (!routing.ok()) {
    reader.AddError(kVariable, std::string(routing.status().message()));
    return Routing::AllSenders(senders);
  }
  return *std::move(routing);
}

}  // namespace

absl::StatusOr<WorkerSettings> LoadWorkerSettings(config::Reader& reader, const WorkerSpec& spec) {
  WorkerSettings settings{
      .common = runtime::ReadCommonSettings(reader),
      .kafka_session_timeout = kafka::ReadSessionTimeout(reader),
      .redis = redis::ReadRedisOptions(reader),
      .redis_key_prefix = reader.Optional("KLAXON_REDIS_KEY_PREFIX", "klaxon:"),
      // At ~50 ms per Twilio request, 100 messages in flight carry ~2,000 sends per second.
      .concurrency = static_cast<int>(reader.Int("KLAXON_WORKER_CONCURRENCY", 100, 1, 1000))};
  settings.urgent_concurrency =
      static_cast<int>(reader.Int("KLAXON_WORKER_URGENT_CONCURRENCY", 16, 1, 1000));
  settings.tier_max_held =
      static_cast<int>(reader.Int("KLAXON_TIER_MAX_HELD", 5'000, 1, 1'000'000));
  settings.twilio_client =
      ReadTwilioClient(reader, settings.concurrency + settings.urgent_concurrency);
  settings.twilio = ReadTwilioSettings(reader);
  settings.accounts = twilio::ReadTwilioAccounts(reader, twilio::CredentialsFor::kRestApi);
  settings.account_breaker = {
      .failures = static_cast<int>(reader.Int("KLAXON_ACCOUNT_BREAKER_FAILURES", 5, 1, 1000)),
      .window = reader.Duration("KLAXON_ACCOUNT_BREAKER_WINDOW", absl::Seconds(30),
                                absl::Seconds(1), absl::Hours(1)),
      .cool_down = reader.Duration("KLAXON_ACCOUNT_BREAKER_COOL_DOWN", absl::Seconds(30),
                                   absl::Seconds(1), absl::Hours(1))};
  settings.retry = ReadRetryPolicy(reader);
  settings.settle_after = reader.Duration("KLAXON_SETTLE_AFTER", absl::Seconds(30),
                                          absl::Seconds(1), absl::Minutes(10));
  // At most 5 minutes: a status whose callback was lost is never read later than that.
  settings.status_check_after = reader.Duration("KLAXON_STATUS_CHECK_AFTER", absl::Minutes(5),
                                                absl::Seconds(1), absl::Minutes(5));
  // The first check asks whether the final status arrived; it needs to come no later than the
  // read it may lead to, so it defaults to 30 s or KLAXON_STATUS_CHECK_AFTER when that is sooner.
  settings.status_check_first = reader.Duration(
      "KLAXON_STATUS_CHECK_FIRST", std::min(absl::Seconds(30), settings.status_check_after),
      absl::Seconds(1), absl::Minutes(5));
  if (settings.status_check_first > settings.status_check_after) {
    reader.AddError("KLAXON_STATUS_CHECK_FIRST", "is more than KLAXON_STATUS_CHECK_AFTER");
  }
  // One more Twilio read per accepted attempt, once its final status is known, for its price.
  settings.read_charges = reader.Bool("KLAXON_READ_CHARGES", true);
  settings.budgets = budgets::ReadBudgets(reader);
  const std::vector<std::string> account_names = twilio::AccountNames(settings.accounts);
  for (const budgets::Budget& budget : settings.budgets.budgets()) {
    if (!budget.account.empty() && !settings.accounts.empty() &&
        std::find(account_names.begin(), account_names.end(), budget.account) ==
            account_names.end()) {
      reader.AddError("KLAXON_BUDGETS_FILE",
                      absl::StrCat("budget \"", budget.name, "\" caps account \"", budget.account,
                                   "\", which is none of ", absl::StrJoin(account_names, ", ")));
    }
  }
  // How often an attempt held back by a switched-off channel asks again (docs/adr/0012).
  settings.channel_disabled_recheck = reader.Duration(
      "KLAXON_CHANNEL_DISABLED_RECHECK", absl::Seconds(10), absl::Seconds(1), absl::Minutes(5));
  const absl::StatusOr<types::v1::Channel> channel = channels::ParseChannelName(spec.channel);
  if (!channel.ok()) return channel.status();  // a WorkerSpec's, not the operator's, mistake
  settings.channel = *channel;
  settings.limits = ReadLimitSettings(reader, *channel);
  // Without accounts (their variables are wrong) every sender would name an unknown one: that
  // error is reported already.
  if (!settings.accounts.empty()) {
    if (absl::Status assigned = AssignAccounts(settings.limits.send.senders,
                                               twilio::AccountNames(settings.accounts), *channel);
        !assigned.ok()) {
      reader.AddError(assigned);
    }
  }
  settings.routing = ReadRouting(reader, *channel, settings.limits.send.senders);
  settings.make_sender = spec.configure(reader, settings.twilio);
  if (absl::Status finished = reader.Finish(); !finished.ok()) return finished;
  return settings;
}

// A REST client per Twilio account, on the common options with the account's credentials.
absl::StatusOr<std::map<std::string, std::unique_ptr<twilio::TwilioRestClient>>> TwilioClients(
    const WorkerSettings& settings) {
  std::map<std::string, std::unique_ptr<twilio::TwilioRestClient>> clients;
  for (const twilio::TwilioAccount& account : settings.accounts) {
    twilio::TwilioRestClientOptions options = settings.twilio_client;
    options.account_sid = account.account_sid;
    options.api_key_sid = account.api_key_sid;
    options.api_key_secret = account.api_key_secret;
    options.auth_token = account.auth_token;
    absl::StatusOr<std::unique_ptr<twilio::TwilioRestClient>> client =
        twilio::TwilioRestClient::Create(std::move(options));
    if (!client.ok()) {
      return absl::Status(client.status().code(), absl::StrCat("Twilio account \"", account.name,
                                                               "\": ", client.status().message()));
    }
    clients.emplace(account.name, *std::move(client));
  }
  return clients;
}

}  // namespace klaxon::delivery
