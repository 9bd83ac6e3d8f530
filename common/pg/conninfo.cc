#include "common/pg/conninfo.h"

#include <libpq-fe.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::pg {
namespace {

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

struct PqErrorDeleter {
  void operator()(char* message) const { PQfreemem(message); }
};

}  // namespace

absl::StatusOr<ConnSettings> ParseConninfo(std::string_view conninfo) {
  const std::string input(conninfo);
  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> options(
      PQconninfoParse(input.c_str(), &raw_error));
  std::unique_ptr<char, PqErrorDeleter> error(raw_error);
  if (options == nullptr) {
    // libpq's message can quote the offending part of the string, so it is not passed on.
    return absl::InvalidArgumentError(
        "the Postgres connection string is malformed (expected postgresql://... or key=value)");
  }
  ConnSettings settings;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option) {
    if (option->val != nullptr) settings.emplace(option->keyword, option->val);
  }
  return settings;
}

std::string FormatConninfo(const ConnSettings& settings) {
  std::string out;
  for (const auto& [keyword, value] : settings) {
    if (!out.empty()) out.push_back(' ');
    absl::StrAppend(&out, keyword, "='");
    for (const char c : value) {
      if (c == '\'' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('\'');
  }
  return out;
}

absl::StatusOr<std::string> WithDatabaseName(std::string_view conninfo, std::string_view dbname) {
  absl::StatusOr<ConnSettings> settings = ParseConninfo(conninfo);
  if (!settings.ok()) return settings.status();
  (*settings)["dbname"] = std::string(dbname);
  return FormatConninfo(*settings);
}

}  // namespace klaxon::pg
