#pragma once
// Reads a service's configuration from the environment once, at start, and validates it as a
// whole. Each typed getter records what is wrong with its variable instead of failing fast, so a
// misconfigured deployment learns about every bad variable from one message (Finish()), and a
// main stops with exit code 2 through ExitOnError(). Secret values never appear in any message.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace klaxon::config {

// Variable name -> value. An ordered map keeps error messages deterministic.
using Environment = std::map<std::string, std::string, std::less<>>;

// A snapshot of the process environment (environ).
Environment FromProcessEnvironment();

struct HostPort {
  std::string host{};  // without brackets, also for IPv6 literals
  uint16_t port = 0;

  // "host:port", with "[v6]:port" for IPv6 literals; the form gRPC and Pistache accept.
  std::string ToString() const;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// Parses "host:port" or "[v6]:port". The port may be 0 (pick a free port). kInvalidArgument
// when the text is not of that form.
absl::StatusOr<HostPort> ParseHostPort(std::string_view text);

// One entry of a "name=value, name=value" setting (per caller, per channel, ...).
struct NamedValue {
  std::string entry;  // as written, trimmed: what an error about its value quotes
  std::string name;   // trimmed, never empty
  std::string value;  // trimmed; the caller parses it
  friend bool operator==(const NamedValue&, const NamedValue&) = default;
};

// What a "name=value, ..." setting's errors name.
struct NamedList {
  std::string_view variable;  // e.g. KLAXON_CALLER_QUOTAS
  std::string_view form;      // an entry's form and an example: "<name>=<rate>, e.g. pager=5/1s"

  // kInvalidArgument "<variable>: entry \"<entry>\" is not <form>".
  absl::Status NotOfForm(std::string_view entry) const;
};

// Splits "name=value, name=value" into its entries, in the order written: at commas (blank
// entries are skipped), each at its first '=', name and value trimmed. Empty text is no entries.
// kInvalidArgument naming the variable and the entry for an entry without '=' or without a name
// (NotOfForm), and for a name given twice ("<variable>: \"<name>\" is given twice").
absl::StatusOr<std::vector<NamedValue>> SplitNamedValues(std::string_view text,
                                                         const NamedList& list);

// The whole file at `path`, nullopt when it cannot be read. For secrets: the buffer is sized up
// front, so no unwiped copy is left behind by growing it.
std::optional<std::string> ReadWholeFile(const std::string& path);

class Reader {
 public:
  explicit Reader(Environment environment);
  // A reader of the process environment (FromProcessEnvironment()) that also overwrites and
  // unsets each secret variable it reads, so a token given as NAME does not stay in environ (and
  // /proc/<pid>/environ) for the life of the process.
  static Reader ForProcess();
  // Wipes the reader's own copies of every secret it read.
  ~Reader();
  Reader(Reader&&) = default;
  Reader& operator=(Reader&&) = delete;
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Each getter returns the variable's value, or on a recorded error a neutral value (the
  // default, or empty/zero) that the caller must not use once Finish() reports the error.
  // A variable set to the empty string counts as unset.

  std::string Required(std::string_view name);
  std::string Optional(std::string_view name, std::string_view default_value);

  // A required secret given either as NAME or as NAME_FILE (the path of a file holding it;
  // surrounding whitespace is trimmed). Setting both is an error. Errors name the variable and,
  // for NAME_FILE, the path, never the value. The caller owns the returned copy and wipes it
  // (runtime::WipeSecret) once the secret sits in its final holder.
  std::string Secret(std::string_view name);
  // The same, but "" without an error when neither NAME nor NAME_FILE is set.
  std::string OptionalSecret(std::string_view name);

  HostPort HostPortValue(std::string_view name, std::string_view default_value);
  // Required comma-separated host:port list, e.g. Kafka bootstrap brokers.
  std::vector<HostPort> HostPortList(std::string_view name);

  int64_t Int(std::string_view name, int64_t default_value, int64_t min, int64_t max);
  bool Bool(std::string_view name, bool default_value);  // true/false/1/0
  // absl duration syntax ("250ms", "30s", "1m30s"), within [min, max].
  absl::Duration Duration(std::string_view name, absl::Duration default_value, absl::Duration min,
                          absl::Duration max);

  // An absolute URL whose scheme is one of `schemes` and which has a host. An empty
  // default_value makes the variable optional with "" meaning "not configured".
  std::string Url(std::string_view name, std::string_view default_value,
                  const std::vector<std::string>& schemes);

  // The contents of the file whose path the variable holds; nullopt when it is unset, or (with an
  // error naming the variable and the path) when the file cannot be read.
  std::optional<std::string> FileContents(std::string_view name);

  // One of `allowed` (exact match).
  std::string Enum(std::string_view name, std::string_view default_value,
                   const std::vector<std::string>& allowed);

  // Records a problem found by the caller, e.g. a rule that spans two variables.
  void AddError(std::string_view name, std::string_view problem);
  // Records a problem whose message already names its variable, e.g. from SplitNamedValues.
  void AddError(const absl::Status& problem);

  // OK, or kInvalidArgument with one message listing every recorded problem in order:
  // "invalid configuration: A is required; B: \"x\" is not host:port".
  absl::Status Finish() const;

 private:
  std::string ReadSecret(std::string_view name, bool required);
  // The value of `name`, or nullptr when it is unset or empty.
  const std::string* Find(std::string_view name) const;

  Environment environment_;
  bool scrub_process_environment_ = false;
  std::set<std::string, std::less<>> secrets_read_;
  std::vector<std::string> errors_;
};

// For mains: when `status` is not OK, writes it as one JSON log line to stderr
// ({"ts":..., "level":"error", "service":..., "event":"invalid_configuration", "error":...}) and
// exits with code 2. Returns normally when `status` is OK.
void ExitOnError(const absl::Status& status, std::string_view service_name);

}  // namespace klaxon::config
