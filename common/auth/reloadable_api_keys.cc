#include "common/auth/reloadable_api_keys.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace klaxon::auth {
namespace {

constexpr char kKeysVariable[] = "KLAXON_API_KEYS";
constexpr char kFileVariable[] = "KLAXON_API_KEYS_FILE";
constexpr char kOperatorsVariable[] = "KLAXON_OPERATOR_CALLERS";

// The file's content; kNotFound or kDataLoss naming the path when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return contents.str();
}

}  // namespace

ApiKeySettings ReadApiKeySettings(config::Reader& reader) {
  ApiKeySettings settings{
      .spec = reader.Secret(kKeysVariable),
      .file = reader.Optional(kFileVariable, ""),
      .reload_interval = reader.Duration("KLAXON_API_KEYS_RELOAD_INTERVAL", absl::Seconds(5),
                                         absl::Seconds(1), absl::Hours(1))};
  for (absl::string_view raw :
       absl::StrSplit(reader.Optional(kOperatorsVariable, ""), ',', absl::SkipWhitespace())) {
    const std::string name(absl::StripAsciiWhitespace(raw));
    if (!IsCallerName(name)) {
      reader.AddError(kOperatorsVariable,
                      absl::StrCat("\"", name, "\" is not a caller name (1 to 64 of A-Z a-z 0-9 . _ -)"));
      continue;
    }
    settings.operators.insert(name);
  }
  if (!settings.spec.empty()) {
    if (absl::Status parsed = ApiKeyRegistry::Parse(settings.spec).status(); !parsed.ok()) {
      reader.AddError(settings.file.empty() ? kKeysVariable : kFileVariable,
                      std::string(parsed.message()));
    }
  }
  return settings;
}

absl::StatusOr<std::unique_ptr<ReloadableApiKeys>> ReloadableApiKeys::Create(
    ApiKeySettings settings, const log::Logger& logger) {
  absl::StatusOr<ApiKeyRegistry> registry =
      ApiKeyRegistry::Parse(settings.spec, settings.operators);
  if (!registry.ok()) return registry.status();
  return std::unique_ptr<ReloadableApiKeys>(new ReloadableApiKeys(
      std::move(settings), std::make_shared<const ApiKeyRegistry>(*std::move(registry)), logger));
}

ReloadableApiKeys::ReloadableApiKeys(ApiKeySettings settings,
                                     std::shared_ptr<const ApiKeyRegistry> registry,
                                     const log::Logger& logger)
    : settings_(std::move(settings)),
      logger_(logger),
      registry_(std::move(registry)),
      loaded_(settings_.spec) {}

std::shared_ptr<const ApiKeyRegistry> ReloadableApiKeys::Current() const {
  std::lock_guard lock(mutex_);
  return registry_;
}

absl::StatusOr<std::string> ReloadableApiKeys::Authenticate(std::string_view api_key) const {
  return Current()->Authenticate(api_key);
}

bool ReloadableApiKeys::IsOperator(std::string_view caller) const {
  return Current()->IsOperator(caller);
}

absl::Status ReloadableApiKeys::Reload() {
  if (settings_.file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> content = ReadFile(settings_.file);
  // Each distinct failure is logged once, not at every poll.
  // Trimmed as config::Reader trims the file at start, which is what loaded_ begins with.
  const std::string seen = content.ok() ? std::string(absl::StripAsciiWhitespace(*content))
                                        : absl::StrCat("\n!", content.status().message());
  if (seen == loaded_) return last_error_;
  loaded_ = seen;
  absl::StatusOr<ApiKeyRegistry> parsed =
      content.ok() ? ApiKeyRegistry::Parse(*content, settings_.operators)
                   : absl::StatusOr<ApiKeyRegistry>(content.status());
  if (!parsed.ok()) {
    last_error_ = absl::Status(
        parsed.status().code(),
        absl::StrCat(kFileVariable, " ", settings_.file, ": ", parsed.status().message(),
                     "; the keys loaded before stay in force"));
    logger_.Error("api_keys_reload_failed", {{"file", settings_.file},
                                             {"error", std::string(last_error_.message())}});
    return last_error_;
  }
  const size_t keys = parsed->size();
  {
    std::lock_guard lock(mutex_);
    registry_ = std::make_shared<const ApiKeyRegistry>(*std::move(parsed));
  }
  last_error_ = absl::OkStatus();
  logger_.Info("api_keys_reloaded", {{"file", settings_.file}, {"keys", keys}});
  return absl::OkStatus();
}

void ReloadableApiKeys::Run(std::stop_token stop) {
  if (settings_.file.empty()) return;
  std::unique_lock lock(wait_mutex_);
  while (!wake_.wait_for(lock, stop, absl::ToChronoMilliseconds(settings_.reload_interval),
                         [] { return false; })) {
    if (stop.stop_requested()) return;
    Reload().IgnoreError();  // logged by Reload
  }
}

}  // namespace klaxon::auth
