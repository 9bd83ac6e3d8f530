#pragma once
// Reads and rewrites libpq connection strings. Services take one URL from the environment, but
// some callers need a variation of it: the migration tests connect to a scratch database on the
// same server, and Database adds a connect timeout when the URL names none. Both URL
// ("postgresql://...") and keyword ("host=... dbname=...") forms are accepted.

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace klaxon::pg {

// Keyword -> value for every setting the connection string sets explicitly.
using ConnSettings = std::map<std::string, std::string, std::less<>>;

// Parses `conninfo` with libpq's own parser. The error never repeats the input, which may hold a
// password.
absl::StatusOr<ConnSettings> ParseConninfo(std::string_view conninfo);

// Formats settings as a keyword=value string that libpq accepts, quoting every value.
std::string FormatConninfo(const ConnSettings& settings);

// `conninfo` with `dbname` replaced.
absl::StatusOr<std::string> WithDatabaseName(std::string_view conninfo, std::string_view dbname);

}  // namespace klaxon::pg
