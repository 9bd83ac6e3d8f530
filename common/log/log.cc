#include "common/log/log.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/crypto/hmac.h"
#include "common/phone/phone.h"

namespace klaxon::log {
namespace {

constexpr size_t kTokenHexDigits = 16;
constexpr size_t kMinDigitsForLast4 = 8;

// Whether a plain string value looks like an E.164 number ("+" then 8 to 15 digits), which the
// logger redacts even when the caller forgot to use Phone().
bool LooksLikeE164(const std::string& text) {
  if (text.size() < 9 || text.size() > 16 || text[0] != '+') return false;
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

bool IsFixedKey(std::string_view key) {
  return key == "ts" || key == "level" || key == "service" || key == "event";
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "error";
}

absl::StatusOr<Level> ParseLevel(std::string_view name) {
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == LevelName(level)) return level;
  }
  return absl::InvalidArgumentError("log level must be one of debug, info, warn, error");
}

absl::StatusOr<PhoneRedactor> PhoneRedactor::Create(std::string key) {
  if (key.size() < kMinKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("PII HMAC key must be at least ", kMinKeyBytes, " bytes"));
  }
  return PhoneRedactor(std::move(key));
}

std::string PhoneRedactor::Token(std::string_view number) const {
  const std::string mac = crypto::HmacSha256(key_, absl::string_view(number.data(), number.size()));
  return absl::BytesToHexString(absl::string_view(mac.data(), kTokenHexDigits / 2));
}

nlohmann::json PhoneRedactor::Redact(std::string_view number) const {
  std::string digits;
  for (char c : number) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  return nlohmann::json{
      {"token", Token(number)},
      {"cc", phone::CountryCallingCode(number).value_or("")},
      {"last4", digits.size() >= kMinDigitsForLast4 ? digits.substr(digits.size() - 4) : ""},
  };
}

Field Phone(std::string key, std::string_view e164) {
  return Field(Field::PhoneTag{}, std::move(key), e164);
}

void StdoutSink::Write(std::string_view line) {
  std::string text;
  text.reserve(line.size() + 1);
  text.append(line);
  text.push_back('\n');
  const std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void MemorySink::Write(std::string_view line) {
  const std::lock_guard lock(mutex_);
  lines_.emplace_back(line);
}

std::vector<std::string> MemorySink::Lines() const {
  const std::lock_guard lock(mutex_);
  return lines_;
}

Logger::Logger(LoggerOptions options, PhoneRedactor redactor, Sink& sink)
    : options_(std::move(options)), redactor_(std::move(redactor)), sink_(sink) {}

nlohmann::json Logger::Sanitize(const nlohmann::json& value) const {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    return LooksLikeE164(text) ? redactor_.Redact(text) : value;
  }
  if (value.is_object()) {
    nlohmann::json result = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) result[key] = Sanitize(item);
    return result;
  }
  if (value.is_array()) {
    nlohmann::json result = nlohmann::json::array();
    for (const auto& item : value) result.push_back(Sanitize(item));
    return result;
  }
  return value;
}

void Logger::Log(Level level, std::string_view event, std::initializer_list<Field> fields) const {
  if (!Enabled(level)) return;
  nlohmann::ordered_json line = {
      {"ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                              options_.clock != nullptr ? options_.clock->Now() : absl::Now(),
                              absl::UTCTimeZone())},
      {"level", LevelName(level)},
      {"service", options_.service},
      {"event", event},
  };
  for (const Field& field : fields) {
    const std::string key = IsFixedKey(field.key_) ? "field." + field.key_ : field.key_;
    line[key] = field.is_phone_ ? redactor_.Redact(field.value_.get_ref<const std::string&>())
                                : Sanitize(field.value_);
  }
  sink_.Write(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

void Logger::Debug(std::string_view event, std::initializer_list<Field> fields) const {
  Log(Level::kDebug, event, fields);
}
void Logger::Info(std::string_view event, std::initializer_list<Field> fields) const {
  Log(Level::kInfo, event, fields);
}
void Logger::Warn(std::string_view event, std::initializer_list<Field> fields) const {
  Log(Level::kWarn, event, fields);
}
void Logger::Error(std::string_view event, std::initializer_list<Field> fields) const {
  Log(Level::kError, event, fields);
}

}  // namespace klaxon::log
