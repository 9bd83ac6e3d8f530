#include "common/config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/abseil/string_view.h"
#include "common/runtime/process_hardening.h"
#include "nlohmann/json.hpp"

namespace klaxon::config {
namespace {

using abseil::AbslView;
using abseil::StdView;

constexpr size_t kMaxEchoedValue = 80;

// A non-secret value, quoted for an error message; long values are cut so a pasted blob cannot
// flood the message.
std::string Quote(std::string_view value) {
  std::string shown(value.substr(0, kMaxEchoedValue));
  if (value.size() > kMaxEchoedValue) shown += "...";
  return nlohmann::json(shown).dump();
}

std::string AllowedList(const std::vector<std::string>& values) {
  return absl::StrJoin(values, ", ");
}

// Overwrites the value of `name` in environ in place, then removes the variable.
void ScrubProcessVariable(const std::string& name) {
  if (char* value = std::getenv(name.c_str()); value != nullptr) {
    std::string_view bytes(value);
    std::memset(value, 0, bytes.size());
  }
  ::unsetenv(name.c_str());
}

}  // namespace

std::optional<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  constexpr size_t kChunk = 4096;
  std::string contents;
  // Room for the whole file up front: a growing string would free unwiped copies.
  struct stat info {};
  if (::fstat(fd, &info) == 0 && info.st_size > 0) {
    contents.reserve(static_cast<size_t>(info.st_size) + kChunk);
  }
  for (;;) {
    const size_t used = contents.size();
    contents.resize(used + kChunk);
    const ssize_t got = ::read(fd, contents.data() + used, kChunk);
    if (got < 0 && errno == EINTR) {
      contents.resize(used);
      continue;
    }
    if (got <= 0) {
      contents.resize(used);
      ::close(fd);
      if (got < 0) {
        runtime::WipeSecret(contents);
        return std::nullopt;
      }
      return contents;
    }
    contents.resize(used + static_cast<size_t>(got));
  }
}

Environment FromProcessEnvironment() {
  Environment environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return environment;
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  const auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not host:port"));
  };
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) return invalid();
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid();
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return invalid();  // bare IPv6 needs brackets
  }
  if (host.empty() || port_text.empty() || host.find_first_of(" \t") != std::string_view::npos) {
    return invalid();
  }
  uint16_t port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size()) return invalid();
  return HostPort{.host = std::string(host), .port = port};
}

absl::Status NamedList::NotOfForm(std::string_view entry) const {
  return absl::InvalidArgumentError(
      absl::StrCat(AbslView(variable), ": entry ", Quote(entry), " is not ", AbslView(form)));
}

absl::StatusOr<std::vector<NamedValue>> SplitNamedValues(std::string_view text,
                                                         const NamedList& list) {
  std::vector<NamedValue> entries;
  for (absl::string_view item : absl::StrSplit(AbslView(text), ',', absl::SkipWhitespace())) {
    const absl::string_view entry = absl::StripAsciiWhitespace(item);
    const size_t equals = entry.find('=');
    const absl::string_view name =
        absl::StripAsciiWhitespace(entry.substr(0, std::min(equals, entry.size())));
    if (equals == absl::string_view::npos || name.empty()) return list.NotOfForm(StdView(entry));
    for (const NamedValue& earlier : entries) {
      if (earlier.name == name) {
        return absl::InvalidArgumentError(
            absl::StrCat(AbslView(list.variable), ": ", Quote(StdView(name)), " is given twice"));
      }
    }
    entries.push_back({.entry = std::string(entry),
                       .name = std::string(name),
                       .value = std::string(absl::StripAsciiWhitespace(entry.substr(equals + 1)))});
  }
  return entries;
}

Reader::Reader(Environment environment) : environment_(std::move(environment)) {}

Reader Reader::ForProcess() {
  Reader reader(FromProcessEnvironment());
  reader.scrub_process_environment_ = true;
  return reader;
}

Reader::~Reader() {
  for (const std::string& name : secrets_read_) {
    if (auto it = environment_.find(name); it != environment_.end())
      runtime::WipeSecret(it->second);
  }
}

const std::string* Reader::Find(std::string_view name) const {
  const auto it = environment_.find(name);
  if (it == environment_.end() || it->second.empty()) return nullptr;
  return &it->second;
}

void Reader::AddError(std::string_view name, std::string_view problem) {
  errors_.push_back(absl::StrCat(AbslView(name), problem.empty() ? "" : ": ", AbslView(problem)));
}

void Reader::AddError(const absl::Status& problem) {
  errors_.push_back(std::string(problem.message()));
}

std::string Reader::Required(std::string_view name) {
  const std::string* value = Find(name);
  if (value == nullptr) {
    errors_.push_back(absl::StrCat(AbslView(name), " is required"));
    return "";
  }
  return *value;
}

std::string Reader::Optional(std::string_view name, std::string_view default_value) {
  const std::string* value = Find(name);
  return value == nullptr ? std::string(default_value) : *value;
}

std::string Reader::Secret(std::string_view name) { return ReadSecret(name, /*required=*/true); }

std::string Reader::OptionalSecret(std::string_view name) {
  return ReadSecret(name, /*required=*/false);
}

std::string Reader::ReadSecret(std::string_view name, bool required) {
  const std::string file_name = absl::StrCat(AbslView(name), "_FILE");
  const std::string* value = Find(name);
  const std::string* path = Find(file_name);
  if (value != nullptr) {
    secrets_read_.emplace(name);
    if (scrub_process_environment_) ScrubProcessVariable(std::string(name));
  }
  if (value != nullptr && path != nullptr) {
    AddError(name, absl::StrCat("set either ", AbslView(name), " or ", file_name, ", not both"));
    return "";
  }
  if (value != nullptr) return *value;
  if (path == nullptr) {
    if (required)
      errors_.push_back(absl::StrCat(AbslView(name), " (or ", file_name, ") is required"));
    return "";
  }
  std::optional<std::string> contents = ReadWholeFile(*path);
  if (!contents.has_value()) {
    AddError(file_name, absl::StrCat("cannot open ", Quote(*path)));
    return "";
  }
  std::string secret(absl::StripAsciiWhitespace(*contents));
  runtime::WipeSecret(*contents);
  if (secret.empty()) {
    AddError(file_name, absl::StrCat("file ", Quote(*path), " is empty or unreadable"));
    return "";
  }
  return secret;
}

std::optional<std::string> Reader::FileContents(std::string_view name) {
  const std::string* path = Find(name);
  if (path == nullptr) return std::nullopt;
  std::optional<std::string> contents = ReadWholeFile(*path);
  if (!contents.has_value()) AddError(name, absl::StrCat("cannot open ", Quote(*path)));
  return contents;
}

HostPort Reader::HostPortValue(std::string_view name, std::string_view default_value) {
  const std::string* value = Find(name);
  const std::string_view text = value == nullptr ? default_value : std::string_view(*value);
  absl::StatusOr<HostPort> parsed = ParseHostPort(text);
  if (!parsed.ok()) {
    AddError(name, StdView(parsed.status().message()));
    return HostPort{};
  }
  return *std::move(parsed);
}

std::vector<HostPort> Reader::HostPortList(std::string_view name) {
  const std::string* value = Find(name);
  if (value == nullptr) {
    errors_.push_back(absl::StrCat(AbslView(name), " is required"));
    return {};
  }
  std::vector<HostPort> result;
  for (absl::string_view item : absl::StrSplit(*value, ',')) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(StdView(absl::StripAsciiWhitespace(item)));
    if (!parsed.ok()) {
      AddError(name, StdView(parsed.status().message()));
      return {};
    }
    result.push_back(*std::move(parsed));
  }
  return result;
}

int64_t Reader::Int(std::string_view name, int64_t default_value, int64_t min, int64_t max) {
  const std::string* value = Find(name);
  if (value == nullptr) return default_value;
  int64_t parsed = 0;
  if (!absl::SimpleAtoi(*value, &parsed)) {
    AddError(name, absl::StrCat(Quote(*value), " is not an integer"));
    return default_value;
  }
  if (parsed < min || parsed > max) {
    AddError(name, absl::StrCat(parsed, " is not in [", min, ", ", max, "]"));
    return default_value;
  }
  return parsed;
}

bool Reader::Bool(std::string_view name, bool default_value) {
  const std::string* value = Find(name);
  if (value == nullptr) return default_value;
  if (*value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  AddError(name, absl::StrCat(Quote(*value), " is not one of true, false, 1, 0"));
  return default_value;
}

absl::Duration Reader::Duration(std::string_view name, absl::Duration default_value,
                                absl::Duration min, absl::Duration max) {
  const std::string* value = Find(name);
  if (value == nullptr) return default_value;
  absl::Duration parsed;
  if (!absl::ParseDuration(*value, &parsed)) {
    AddError(name, absl::StrCat(Quote(*value), " is not a duration (e.g. 250ms, 30s, 1m30s)"));
    return default_value;
  }
  if (parsed < min || parsed > max) {
    AddError(name, absl::StrCat(absl::FormatDuration(parsed), " is not in [",
                                absl::FormatDuration(min), ", ", absl::FormatDuration(max), "]"));
    return default_value;
  }
  return parsed;
}

std::string Reader::Url(std::string_view name, std::string_view default_value,
                        const std::vector<std::string>& schemes) {
  const std::string* value = Find(name);
  if (value == nullptr) return std::string(default_value);
  const size_t separator = value->find("://");
  const std::string_view scheme = separator == std::string::npos
                                      ? std::string_view()
                                      : std::string_view(*value).substr(0, separator);
  // A URL may carry credentials (user:password@), so errors never echo its text.
  if (separator == std::string::npos) {
    AddError(name, "is not an absolute URL (scheme://host...)");
    return "";
  }
  bool scheme_allowed = false;
  for (const std::string& allowed : schemes) scheme_allowed |= scheme == allowed;
  if (!scheme_allowed) {
    AddError(name, absl::StrCat("scheme ", Quote(scheme), " is not one of ", AllowedList(schemes)));
    return "";
  }
  const std::string_view rest = std::string_view(*value).substr(separator + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = authority.rfind('@');
  const std::string_view host_port =
      at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (host_port.empty() || host_port.front() == ':' ||
      host_port.find_first_of(" \t") != std::string_view::npos) {
    AddError(name, "the URL has no host");
    return "";
  }
  return *value;
}

std::string Reader::Enum(std::string_view name, std::string_view default_value,
                         const std::vector<std::string>& allowed) {
  const std::string* value = Find(name);
  if (value == nullptr) return std::string(default_value);
  for (const std::string& candidate : allowed) {
    if (*value == candidate) return *value;
  }
  AddError(name, absl::StrCat(Quote(*value), " is not one of ", AllowedList(allowed)));
  return std::string(default_value);
}

absl::Status Reader::Finish() const {
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("invalid configuration: ", absl::StrJoin(errors_, "; ")));
}

void ExitOnError(const absl::Status& status, std::string_view service_name) {
  if (status.ok()) return;
  const nlohmann::ordered_json line = {
      {"ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())},
      {"level", "error"},
      {"service", service_name},
      {"event", "invalid_configuration"},
      {"error", std::string(status.message())},
  };
  const std::string text =
      line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
  std::exit(2);
}

}  // namespace klaxon::config
