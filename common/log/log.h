#pragma once
// Klaxon's structured logger: one JSON object per line on stdout with ts (RFC 3339 UTC), level,
// service, event and typed fields. Phone numbers are personal data, so they can only be logged
// through Phone(), which the logger writes as a keyed token plus country code and last four
// digits; any plain string field that looks like an E.164 number is redacted the same way as a
// safety net. There is deliberately no API for message bodies or free text. The logger is an
// injected object (no globals); its clock and sink are injected so tests read exact lines.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/timing/clock.h"
#include "nlohmann/json.hpp"

namespace klaxon::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
std::string_view LevelName(Level level);
// Parses LevelName()'s output; kInvalidArgument otherwise.
absl::StatusOr<Level> ParseLevel(std::string_view name);

// Turns a phone number into {"token": first 16 hex digits of HMAC-SHA256(key, number),
// "cc": country calling code, "last4": last four digits}. The token is stable for one key, so
// operators can correlate lines about the same number without seeing it; the key is separate from
// every other key in the system (KLAXON_PII_HMAC_KEY).
class PhoneRedactor {
 public:
  static constexpr size_t kMinKeyBytes = 16;

  // kInvalidArgument when the key is shorter than kMinKeyBytes.
  static absl::StatusOr<PhoneRedactor> Create(std::string key);

  // For any input, E.164 or not: "cc" is "" when no country calling code is recognized and
  // "last4" is "" when the input has fewer than 8 digits (too little left to hide).
  nlohmann::json Redact(std::string_view number) const;
  // Redact's "token" alone: a stable key for per-recipient state that holds no phone number.
  std::string Token(std::string_view number) const;

 private:
  explicit PhoneRedactor(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// One key/value pair of a log line. Implicit from {"key", value} so call sites read
// logger.Info("alert_accepted", {{"alert_id", id}, log::Phone("to", number)}).
class Field {
 public:
  Field(std::string key, nlohmann::json value) : key_(std::move(key)), value_(std::move(value)) {}

 private:
  friend Field Phone(std::string key, std::string_view e164);
  friend class Logger;
  struct PhoneTag {};
  Field(PhoneTag, std::string key, std::string_view number)
      : key_(std::move(key)), value_(std::string(number)), is_phone_(true) {}

  std::string key_;
  nlohmann::json value_;
  bool is_phone_ = false;
};

// A phone number field; the logger writes only its redacted form (see PhoneRedactor).
Field Phone(std::string key, std::string_view e164);

// Where finished lines go. Write() receives one complete line without the trailing newline and
// must be safe to call from several threads.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Write(std::string_view line) = 0;
};

// Writes each line and its newline with one fwrite to stdout, flushed, under a mutex.
class StdoutSink final : public Sink {
 public:
  void Write(std::string_view line) override;

 private:
  std::mutex mutex_;
};

// Keeps lines in memory, for tests.
class MemorySink final : public Sink {
 public:
  void Write(std::string_view line) override;
  std::vector<std::string> Lines() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

struct LoggerOptions {
  std::string service{};
  Level min_level = Level::kInfo;
  // What stamps each line; borrowed, and the wall clock when null.
  timing::Clock* clock = nullptr;
};

class Logger {
 public:
  // `sink` is borrowed and must outlive the logger.
  Logger(LoggerOptions options, PhoneRedactor redactor, Sink& sink);

  bool Enabled(Level level) const { return level >= options_.min_level; }

  // Writes {"ts", "level", "service", "event", fields...} when `level` is enabled. A field named
  // like one of the fixed keys is written as "field.<key>" so it cannot overwrite them.
  void Log(Level level, std::string_view event, std::initializer_list<Field> fields = {}) const;
  void Debug(std::string_view event, std::initializer_list<Field> fields = {}) const;
  void Info(std::string_view event, std::initializer_list<Field> fields = {}) const;
  void Warn(std::string_view event, std::initializer_list<Field> fields = {}) const;
  void Error(std::string_view event, std::initializer_list<Field> fields = {}) const;

 private:
  nlohmann::json Sanitize(const nlohmann::json& value) const;

  LoggerOptions options_;
  PhoneRedactor redactor_;
  Sink& sink_;
};

}  // namespace klaxon::log
