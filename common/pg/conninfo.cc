#include "common/pg/conninfo.h"

#include <libpq-fe.h>

#include <fstream>
#include <memory>
#include <utility>

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

absl::StatusOr<std::string> WithTls(std::string_view conninfo, const TlsOptions& tls) {
  absl::StatusOr<ConnSettings> settings = ParseConninfo(conninfo);
  if (!settings.ok()) return settings.status();
  for (const auto& [keyword, value] :
       {std::pair<std::string, std::string>{"sslmode", tls.sslmode},
        std::pair<std::string, std::string>{"sslrootcert", tls.sslrootcert}}) {
    if (value.empty()) continue;
    const auto it = settings->find(keyword);
    if (it != settings->end() && it->second != value) {
      // Neither value is a secret, so both are shown.
      return absl::InvalidArgumentError(absl::StrCat("the connection string sets ", keyword, "=",
                                                     it->second, ", which conflicts with ", value,
                                                     "; set it in one place"));
    }
    (*settings)[keyword] = value;
  }
  return FormatConninfo(*settings);
}

std::string ReadConnectionString(config::Reader& reader) {
  const std::string url = reader.Secret("KLAXON_PG_URL");
  const TlsOptions tls = {
      .sslmode = reader.Enum("KLAXON_PG_SSLMODE", "",
                             {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}),
      .sslrootcert = reader.Optional("KLAXON_PG_SSLROOTCERT_FILE", "")};
  if (!tls.sslrootcert.empty() && !std::ifstream(tls.sslrootcert).is_open()) {
    reader.AddError("KLAXON_PG_SSLROOTCERT_FILE",
                    absl::StrCat("cannot read \"", tls.sslrootcert, "\""));
  }
  if (url.empty()) return "";
  absl::StatusOr<ConnSettings> settings = ParseConninfo(url);
  if (!settings.ok()) {
    reader.AddError("KLAXON_PG_URL", std::string(settings.status().message()));
    return "";
  }
  // The value in force: the variable's, else the URL's.
  const auto effective = [&](const char* keyword, const std::string& configured,
                             const char* variable) -> std::string {
    const auto it = settings->find(keyword);
    if (it == settings->end()) return configured;
    if (!configured.empty() && it->second != configured) {
      reader.AddError(variable, absl::StrCat("conflicts with ", keyword, "=", it->second,
                                             " in KLAXON_PG_URL; set it in one place"));
    }
    return configured.empty() ? it->second : configured;
  };
  const std::string sslmode = effective("sslmode", tls.sslmode, "KLAXON_PG_SSLMODE");
  const std::string sslrootcert =
      effective("sslrootcert", tls.sslrootcert, "KLAXON_PG_SSLROOTCERT_FILE");
  absl::StatusOr<std::string> applied = WithTls(url, tls);
  if (!applied.ok()) return "";  // the conflict is recorded above
  if ((sslmode == "verify-ca" || sslmode == "verify-full") && sslrootcert.empty()) {
    // libpq would look for ~/.postgresql/root.crt, which no container has.
    reader.AddError("KLAXON_PG_SSLROOTCERT_FILE",
                    absl::StrCat("is required with sslmode ", sslmode,
                                 " (the CA that signed the server's certificate)"));
  }
  if (sslmode == "disable" && !tls.sslrootcert.empty()) {
    reader.AddError("KLAXON_PG_SSLROOTCERT_FILE", "is not used with sslmode disable");
  }
  return *std::move(applied);
}

absl::StatusOr<std::string> WithDatabaseName(std::string_view conninfo, std::string_view dbname) {
  absl::StatusOr<ConnSettings> settings = ParseConninfo(conninfo);
  if (!settings.ok()) return settings.status();
  (*settings)["dbname"] = std::string(dbname);
  return FormatConninfo(*settings);
}

}  // namespace klaxon::pg
