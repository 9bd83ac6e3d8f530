#pragma once
// The Twilio accounts (or subaccounts) Klaxon sends through, each with its own credentials
// (docs/adr/0035). Workers authenticate to an account's REST API with its API key when it has
// one (Twilio's preferred way), else with its auth token; ingress verifies each account's webhooks
// with its auth token.
//
// KLAXON_TWILIO_ACCOUNTS_FILE names a JSON file:
//
//   {"accounts": [
//     {"name": "main", "account_sid": "AC...", "api_key_sid": "SK...",
//      "api_key_secret_file": "/var/run/secrets/twilio/main-key",
//      "auth_token_file": "/var/run/secrets/twilio/main-token",
//      "auth_token_secondary_file": "/var/run/secrets/twilio/main-token-next"},
//     {"name": "backup", "account_sid": "AC...", "auth_token_file": "/var/run/secrets/..."}
//   ]}
//
// Without it, the one account "default" of KLAXON_TWILIO_ACCOUNT_SID and KLAXON_TWILIO_AUTH_TOKEN.
// Senders name their account (senders.h), routing rules the accounts they fail over between.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/config.h"

namespace klaxon::twilio {

struct TwilioAccount {
  std::string name;            // the operator's, in senders, rules, metrics and logs
  std::string account_sid;     // AC + 32 lowercase hex digits
  std::string api_key_sid;     // SK + 32 lowercase hex digits; empty when none
  std::string api_key_secret;  // secret
  std::string auth_token;      // secret; empty when only an API key was given
  // Secret; while rotating the auth token, the next (or previous) one, which ingress accepts too.
  std::string auth_token_secondary;
};

// The name of the account of KLAXON_TWILIO_ACCOUNT_SID when no accounts file is given.
inline constexpr std::string_view kDefaultAccount = "default";

// What the credentials are for: ingress needs each account's auth token (webhook signatures),
// the workers an API key or the auth token (the REST API).
enum class CredentialsFor { kRestApi, kWebhooks };

// Parses the accounts file `json` (at `path`, named in errors), reading each credential from its
// file. kInvalidArgument listing every problem, each naming the account (position and name) and
// field: JSON that does not parse, an unknown field, a missing or repeated name, a malformed SID,
// an API key without its secret, no credentials `use` needs, a file that cannot be read or is
// empty (its path, never its contents).
absl::StatusOr<std::vector<TwilioAccount>> ParseTwilioAccounts(std::string_view json,
                                                               std::string_view path,
                                                               CredentialsFor use);

// KLAXON_TWILIO_ACCOUNTS_FILE's accounts, or the one "default" account of
// KLAXON_TWILIO_ACCOUNT_SID and KLAXON_TWILIO_AUTH_TOKEN (as NAME or NAME_FILE); problems are
// recorded in `reader`. Setting both the file and those variables is a problem too.
std::vector<TwilioAccount> ReadTwilioAccounts(config::Reader& reader, CredentialsFor use);

// The accounts' names, in order.
std::vector<std::string> AccountNames(const std::vector<TwilioAccount>& accounts);

// Overwrites every secret the accounts hold.
void WipeCredentials(std::vector<TwilioAccount>& accounts);

}  // namespace klaxon::twilio
