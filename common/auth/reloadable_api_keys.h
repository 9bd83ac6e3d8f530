#pragma once
// The API keys a server authenticates with, read once from the configuration and, when they come
// from a file (KLAXON_API_KEYS_FILE, a Kubernetes secret volume), re-read whenever the file's
// content changes, so keys are added, rotated and revoked without a restart. A file that no
// longer parses (or cannot be read) keeps the keys in force and is logged as an error naming the
// file and the problem; the next good version replaces them (docs/adr/0012).

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/api_keys.h"
#include "common/config/config.h"
#include "common/log/log.h"

namespace klaxon::auth {

struct ApiKeySettings {
  // KLAXON_API_KEYS, or what KLAXON_API_KEYS_FILE held at start.
  std::string spec{};
  // KLAXON_API_KEYS_FILE; empty when the keys were given inline (they are then fixed).
  std::string file{};
  // KLAXON_OPERATOR_CALLERS: comma-separated caller names holding the operator role.
  CallerSet operators{};
  // KLAXON_API_KEYS_RELOAD_INTERVAL: how often the file is read for changes.
  absl::Duration reload_interval = absl::Seconds(5);
};

// Reads the variables above through `reader`, recording every problem (a spec that does not
// parse, a bad caller name among the operators) for reader.Finish().
ApiKeySettings ReadApiKeySettings(config::Reader& reader);

class ReloadableApiKeys final : public CallerAuthenticator {
 public:
  // kInvalidArgument when the keys do not parse. `logger` is borrowed and must outlive the keys.
  static absl::StatusOr<std::unique_ptr<ReloadableApiKeys>> Create(ApiKeySettings settings,
                                                                   const log::Logger& logger);

  absl::StatusOr<std::string> Authenticate(std::string_view api_key) const override;
  bool IsOperator(std::string_view caller) const override;

  // Reads the file and, when its content changed and parses, puts its keys in force (logged as
  // api_keys_reloaded with the number of keys). An unreadable or invalid file changes nothing and
  // is logged as api_keys_reload_failed; the error is returned too. OK without a file.
  absl::Status Reload();

  // Calls Reload() every reload_interval until `stop` is requested; returns at once without a
  // file. For a thread of the main's.
  void Run(std::stop_token stop);

 private:
  ReloadableApiKeys(ApiKeySettings settings, std::shared_ptr<const ApiKeyRegistry> registry,
                    const log::Logger& logger);
  std::shared_ptr<const ApiKeyRegistry> Current() const;

  const ApiKeySettings settings_;
  const log::Logger& logger_;
  mutable std::mutex mutex_;
  std::shared_ptr<const ApiKeyRegistry> registry_;  // guarded by mutex_
  // Only Reload() (one thread) uses these: what the file held at the last read (or why it could
  // not be read), so an unchanged file is not parsed and logged again, and what that read gave.
  std::string loaded_;
  absl::Status last_error_;
  std::mutex wait_mutex_;
  std::condition_variable_any wake_;
};

}  // namespace klaxon::auth
