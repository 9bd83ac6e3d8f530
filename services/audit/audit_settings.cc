#include "services/audit/audit_settings.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/kafka/consumer.h"
#include "common/pg/conninfo.h"
#include "common/runtime/process_hardening.h"

namespace klaxon::audit {
namespace {

// The secret `name` parsed by `parse`; nullopt when it is missing or malformed, which the reader
// then reports under its name.
template <typename Key>
std::optional<Key> ReadKey(config::Reader& reader, std::string_view name,
                           const std::function<absl::StatusOr<Key>(const std::string&)>& parse) {
  std::string secret = reader.Secret(name);
  if (secret.empty()) return std::nullopt;  // the reader recorded why
  absl::StatusOr<Key> parsed = parse(secret);
  runtime::WipeSecret(secret);
  if (!parsed.ok()) {
    reader.AddError(name, std::string(parsed.status().message()));
    return std::nullopt;
  }
  return *std::move(parsed);
}

}  // namespace

absl::StatusOr<AuditSettings> LoadAuditSettings(config::Reader& reader) {
  // Everything is read before anything is checked, so one error names every wrong variable; the
  // result is built only once all are right.
  runtime::CommonSettings common = runtime::ReadCommonSettings(reader);
  const absl::Duration kafka_session_timeout = kafka::ReadSessionTimeout(reader);
  const config::HostPort grpc = reader.HostPortValue("KLAXON_GRPC_ADDR", "127.0.0.1:50052");
  grpcutil::ServerSecurity grpc_security = grpcutil::ReadServerSecurity(reader);
  auth::ApiKeySettings api_keys = auth::ReadApiKeySettings(reader);
  std::string pg_url = pg::ReadConnectionString(reader);
  std::optional<crypto::LocalKeyring> keyring = ReadKey<crypto::LocalKeyring>(
      reader, "KLAXON_KEYRING",
      [](const std::string& document) { return crypto::LocalKeyring::Parse(document); });
  std::optional<crypto::BlindIndex> blind_index = ReadKey<crypto::BlindIndex>(
      reader, "KLAXON_BLIND_INDEX_KEY",
      [](const std::string& key) { return crypto::BlindIndex::Create(key); });
  const int64_t batch_size = reader.Int("KLAXON_AUDIT_BATCH_SIZE", 1000, /*min=*/1, /*max=*/10000);
  const int64_t batch_writers = reader.Int("KLAXON_AUDIT_BATCH_WRITERS", 2, /*min=*/1, /*max=*/4);
  const absl::Duration batch_linger = reader.Duration(
      "KLAXON_AUDIT_BATCH_LINGER", absl::Milliseconds(20), absl::ZeroDuration(), absl::Seconds(1));
  const absl::Duration publish_timeout = reader.Duration(
      "KLAXON_PUBLISH_TIMEOUT", absl::Seconds(5), absl::Milliseconds(100), absl::Seconds(60));
  const int64_t watch_max_per_caller =
      reader.Int("KLAXON_WATCH_MAX_PER_CALLER", 32, /*min=*/1, /*max=*/kMaxWatchers);
  const absl::Duration watch_max_lifetime = reader.Duration(
      "KLAXON_WATCH_MAX_LIFETIME", absl::Hours(1), absl::Seconds(1), absl::Hours(24));
  CallbackSubscriptions caller_callbacks;
  {
    std::string document = reader.OptionalSecret("KLAXON_CALLER_CALLBACKS");
    absl::StatusOr<CallbackSubscriptions> parsed = CallbackSubscriptions::Parse(document);
    runtime::WipeSecret(document);
    if (parsed.ok()) {
      caller_callbacks = *std::move(parsed);
    } else {
      reader.AddError("KLAXON_CALLER_CALLBACKS", std::string(parsed.status().message()));
    }
  }
  const absl::Duration caller_callback_timeout = reader.Duration(
      "KLAXON_CALLER_CALLBACK_TIMEOUT", absl::Seconds(10), absl::Seconds(1), absl::Seconds(60));
  const int64_t caller_callback_concurrency =
      reader.Int("KLAXON_CALLER_CALLBACK_CONCURRENCY", 32, /*min=*/1, /*max=*/256);
  const absl::Duration caller_callback_give_up_after =
      reader.Duration("KLAXON_CALLER_CALLBACK_GIVE_UP_AFTER", absl::Hours(24), absl::Minutes(1),
                      absl::Hours(24 * 7));
  if (absl::Status finished = reader.Finish(); !finished.ok()) return finished;
  return AuditSettings{.common = std::move(common),
                       .kafka_session_timeout = kafka_session_timeout,
                       .grpc = grpc,
                       .grpc_security = std::move(grpc_security),
                       .api_keys = std::move(api_keys),
                       .pg_url = std::move(pg_url),
                       .keyring = *std::move(keyring),
                       .blind_index = *std::move(blind_index),
                       .batch_size = static_cast<int>(batch_size),
                       .batch_writers = static_cast<int>(batch_writers),
                       .batch_linger = batch_linger,
                       .publish_timeout = publish_timeout,
                       .watch_max_per_caller = static_cast<int>(watch_max_per_caller),
                       .watch_max_lifetime = watch_max_lifetime,
                       .caller_callbacks = std::move(caller_callbacks),
                       .caller_callback_timeout = caller_callback_timeout,
                       .caller_callback_concurrency = static_cast<int>(caller_callback_concurrency),
                       .caller_callback_give_up_after = caller_callback_give_up_after};
}

}  // namespace klaxon::audit
