#pragma once
// Reads and rewrites libpq connection strings. Services take one URL from the environment, but
// some callers need a variation of it: the migration tests connect to a scratch database on the
// same server, Database adds a connect timeout when the URL names none, and the TLS settings
// (sslmode, root certificate) are applied to it from their own variables. Both URL
// ("postgresql://...") and keyword ("host=... dbname=...") forms are accepted.

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/config/config.h"

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

// How every connection protects the link: libpq's sslmode and sslrootcert.
struct TlsOptions {
  std::string sslmode = {};      // disable ... verify-full; "" leaves the URL's or libpq's (prefer)
  std::string sslrootcert = {};  // CA bundle the server's certificate must chain to; "" leaves it
};

// `conninfo` with `tls` applied. kInvalidArgument when the connection string already sets
// sslmode or sslrootcert to another value: one of the two places would be silently ignored.
absl::StatusOr<std::string> WithTls(std::string_view conninfo, const TlsOptions& tls);

// Reads KLAXON_PG_URL (or KLAXON_PG_URL_FILE; it may hold a password), KLAXON_PG_SSLMODE and
// KLAXON_PG_SSLROOTCERT_FILE, and returns the connection string with the TLS settings applied,
// recording every problem in `reader`: a malformed URL, an sslmode that conflicts with the URL's,
// verify-ca or verify-full without a root certificate, an unreadable certificate file.
std::string ReadConnectionString(config::Reader& reader);

}  // namespace klaxon::pg
