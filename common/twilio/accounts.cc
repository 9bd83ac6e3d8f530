#include "common/twilio/accounts.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/runtime/process_hardening.h"
#include "nlohmann/json.hpp"

namespace klaxon::twilio {
namespace {

using nlohmann::json;

constexpr const char* kFields[] = {"name",
                                   "account_sid",
                                   "api_key_sid",
                                   "api_key_secret_file",
                                   "auth_token_file",
                                   "auth_token_secondary_file"};

// "AC" or "SK" and 32 lowercase hex digits, as Twilio mints them.
bool IsSid(const std::string& sid, std::string_view prefix) {
  return sid.size() == 34 && sid.starts_with(prefix) &&
         std::all_of(sid.begin() + 2, sid.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// Reads one account, appending each problem (prefixed by `where`) to `problems`.
class AccountReader {
 public:
  AccountReader(std::string where, std::vector<std::string>& problems)
      : where_(std::move(where)), problems_(problems) {}

  TwilioAccount Read(const json& entry, CredentialsFor use) {
    TwilioAccount account;
    if (!entry.is_object()) {
      problems_.push_back(absl::StrCat(where_, " is not an object"));
      return account;
    }
    for (const auto& [field, value] : entry.items()) {
      if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields)) {
        Problem(field,
                absl::StrCat("is not an account field (", absl::StrJoin(kFields, ", "), ")"));
      }
    }
    account.name = String(entry, "name");
    if (!IsName(account.name)) {
      Problem("name", "is required: lowercase letters, digits, '-' and '_', at most 64");
    }
    account.account_sid = String(entry, "account_sid");
    if (!IsSid(account.account_sid, "AC")) {
      Problem("account_sid", "is required: AC and 32 lowercase hex digits");
    }
    account.api_key_sid = String(entry, "api_key_sid");
    if (!account.api_key_sid.empty() && !IsSid(account.api_key_sid, "SK")) {
      Problem("api_key_sid", "is not SK and 32 lowercase hex digits");
    }
    account.api_key_secret = Secret(entry, "api_key_secret_file");
    const bool key_sid = entry.contains("api_key_sid");
    if (key_sid != entry.contains("api_key_secret_file")) {
      Problem(key_sid ? "api_key_secret_file" : "api_key_sid",
              "is required with the other: an API key is its SID and its secret");
    }
    account.auth_token = Secret(entry, "auth_token_file");
    account.auth_token_secondary = Secret(entry, "auth_token_secondary_file");
    if (use == CredentialsFor::kWebhooks && !entry.contains("auth_token_file")) {
      Problem("auth_token_file", "is required: ingress verifies the account's webhooks with it");
    }
    if (use == CredentialsFor::kRestApi && !entry.contains("auth_token_file") &&
        !entry.contains("api_key_sid")) {
      Problem("api_key_sid",
              "or auth_token_file is required: the credentials the REST API is called with (an "
              "API key preferred)");
    }
    return account;
  }

 private:
  void Problem(const std::string& field, const std::string& problem) {
    problems_.push_back(absl::StrCat(where_, " ", field, ": ", problem));
  }

  std::string String(const json& entry, const std::string& field) {
    const auto found = entry.find(field);
    if (found == entry.end()) return "";
    if (!found->is_string()) {
      Problem(field, "is not a string");
      return "";
    }
    return found->get<std::string>();
  }

  // The trimmed contents of the file the field names; "" (with a problem) when it cannot be read.
  std::string Secret(const json& entry, const std::string& field) {
    const std::string path = String(entry, field);
    if (path.empty()) return "";
    std::optional<std::string> contents = config::ReadWholeFile(path);
    if (!contents.has_value()) {
      Problem(field, absl::StrCat("cannot read \"", path, "\""));
      return "";
    }
    std::string secret(absl::StripAsciiWhitespace(*contents));
    runtime::WipeSecret(*contents);
    if (secret.empty()) Problem(field, absl::StrCat("\"", path, "\" is empty"));
    return secret;
  }

  const std::string where_;
  std::vector<std::string>& problems_;
};

}  // namespace

absl::StatusOr<std::vector<TwilioAccount>> ParseTwilioAccounts(std::string_view text,
                                                               std::string_view path,
                                                               CredentialsFor use) {
  const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const std::string file = absl::StrCat("accounts file ", std::string(path));
  if (document.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(file, " is not valid JSON"));
  }
  if (!document.is_object() || !document.contains("accounts") || !document["accounts"].is_array() ||
      document["accounts"].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": expected {\"accounts\": [...]} with at least one account"));
  }
  std::vector<std::string> problems;
  for (const auto& [field, value] : document.items()) {
    if (field != "accounts") {
      problems.push_back(absl::StrCat(file, ": \"", field, "\" is not a field"));
    }
  }
  std::vector<TwilioAccount> accounts;
  std::set<std::string> names;
  std::set<std::string> sids;
  size_t position = 0;
  for (const json& entry : document["accounts"]) {
    ++position;
    std::string where = absl::StrCat(file, ": account ", position);
    if (entry.is_object() && entry.contains("name") && entry["name"].is_string()) {
      absl::StrAppend(&where, " (\"", entry["name"].get<std::string>(), "\")");
    }
    TwilioAccount account = AccountReader(where, problems).Read(entry, use);
    if (!account.name.empty() && !names.insert(account.name).second) {
      problems.push_back(absl::StrCat(where, " name: another account has this name"));
    }
    if (!account.account_sid.empty() && !sids.insert(account.account_sid).second) {
      problems.push_back(absl::StrCat(where, " account_sid: another account has this SID"));
    }
    accounts.push_back(std::move(account));
  }
  if (!problems.empty()) {
    WipeCredentials(accounts);
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  return accounts;
}

std::vector<TwilioAccount> ReadTwilioAccounts(config::Reader& reader, CredentialsFor use) {
  constexpr std::string_view kFile = "KLAXON_TWILIO_ACCOUNTS_FILE";
  std::optional<std::string> text = reader.FileContents(kFile);
  if (!text.has_value()) {
    if (!reader.Optional(kFile, "").empty()) return {};  // unreadable: recorded
    TwilioAccount account{.name = std::string(kDefaultAccount),
                          .account_sid = reader.Required("KLAXON_TWILIO_ACCOUNT_SID"),
                          .auth_token = reader.Secret("KLAXON_TWILIO_AUTH_TOKEN")};
    return {std::move(account)};
  }
  const auto refuse = [&](const char* variable) {
    reader.AddError(variable, absl::StrCat("is not read with ", std::string(kFile),
                                           ", which lists every account: unset it"));
  };
  if (!reader.Optional("KLAXON_TWILIO_ACCOUNT_SID", "").empty()) {
    refuse("KLAXON_TWILIO_ACCOUNT_SID");
  }
  if (std::string token = reader.OptionalSecret("KLAXON_TWILIO_AUTH_TOKEN"); !token.empty()) {
    runtime::WipeSecret(token);
    refuse("KLAXON_TWILIO_AUTH_TOKEN");
  }
  absl::StatusOr<std::vector<TwilioAccount>> accounts =
      ParseTwilioAccounts(*text, reader.Optional(kFile, ""), use);
  runtime::WipeSecret(*text);
  if (!accounts.ok()) {
    reader.AddError(kFile, std::string(accounts.status().message()));
    return {};
  }
  return *std::move(accounts);
}

std::vector<std::string> AccountNames(const std::vector<TwilioAccount>& accounts) {
  std::vector<std::string> names;
  for (const TwilioAccount& account : accounts) names.push_back(account.name);
  return names;
}

void WipeCredentials(std::vector<TwilioAccount>& accounts) {
  for (TwilioAccount& account : accounts) {
    runtime::WipeSecret(account.api_key_secret);
    runtime::WipeSecret(account.auth_token);
    runtime::WipeSecret(account.auth_token_secondary);
  }
}

}  // namespace klaxon::twilio
