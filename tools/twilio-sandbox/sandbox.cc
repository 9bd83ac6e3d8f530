#include "tools/twilio-sandbox/sandbox.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/http/form.h"
#include "common/twilio/price.h"
#include "common/twilio/segments.h"
#include "common/twilio/signature.h"
#include "common/twilio/webhook_routes.h"
#include "nlohmann/json.hpp"

namespace klaxon::sandbox {
namespace {

constexpr char kApiVersion[] = "2010-04-01";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const std::string* Find(const std::vector<std::pair<std::string, std::string>>& params,
                        std::string_view key) {
  for (const auto& [name, value] : params) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::string Get(const std::vector<std::pair<std::string, std::string>>& params,
                std::string_view key) {
  const std::string* value = Find(params, key);
  return value ? *value : std::string();
}

bool IsE164(std::string_view number) {
  if (number.size() < 3 || number.size() > 16 || number[0] != '+' || number[1] == '0') {
    return false;
  }
  return std::all_of(number.begin() + 1, number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A short code: 5 or 6 digits (Twilio's From takes "... alphanumeric sender ID, ..., short code").
bool IsShortCode(std::string_view sender) {
  return (sender.size() == 5 || sender.size() == 6) &&
         std::all_of(sender.begin(), sender.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Alphanumeric sender IDs: up to 11 letters, digits and spaces, at least one letter.
bool IsAlphanumericSender(std::string_view sender) {
  if (sender.empty() || sender.size() > 11) return false;
  bool letter = false;
  for (char c : sender) {
    const bool is_letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    letter = letter || is_letter;
    if (!is_letter && !(c >= '0' && c <= '9') && c != ' ') return false;
  }
  return letter;
}

bool IsSid(std::string_view sid, std::string_view prefix) {
  return sid.size() == 34 && sid.substr(0, 2) == prefix &&
         std::all_of(sid.begin() + 2, sid.end(), [](char c) { return HexValue(c) >= 0; });
}

// GET /sandbox/pacing's query: window_ms (default 1000), since_ms and until_ms (Unix
// milliseconds; default: every message).
struct SenderPacingQuery {
  absl::Duration window = absl::Seconds(1);
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
};

absl::StatusOr<SenderPacingQuery> ParsePacingQuery(
    const std::vector<std::pair<std::string, std::string>>& query) {
  SenderPacingQuery parsed;
  for (const auto& [name, value] : query) {
    int64_t number = 0;
    if (!absl::SimpleAtoi(value, &number) || number < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be a whole number of milliseconds, not \"", value, "\""));
    }
    if (name == "window_ms") {
      if (number == 0) return absl::InvalidArgumentError("window_ms must be more than 0");
      parsed.window = absl::Milliseconds(number);
    } else if (name == "since_ms") {
      parsed.since = absl::FromUnixMillis(number);
    } else if (name == "until_ms") {
      parsed.until = absl::FromUnixMillis(number);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown parameter ", name, " (window_ms, since_ms, until_ms)"));
    }
  }
  return parsed;
}

// An http(s) URL whose host Twilio takes (no underscore: twilio::CheckCallbackAuthority).
bool IsHttpUrl(std::string_view url) {
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (!url.starts_with(scheme)) continue;
    const std::string_view rest = url.substr(scheme.size());
    return twilio::CheckCallbackAuthority(rest.substr(0, rest.find_first_of("/?#"))).ok();
  }
  return false;
}

size_t CodePoints(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string Rfc2822(absl::Time time) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", time, absl::UTCTimeZone());
}

nlohmann::json OptionalDate(const std::optional<absl::Time>& time) {
  return time ? nlohmann::json(Rfc2822(*time)) : nlohmann::json(nullptr);
}

SandboxResponse Json(int status, const nlohmann::json& body) {
  SandboxResponse response;
  response.status = status;
  response.body = body.dump();
  return response;
}

SandboxResponse TwilioError(int status, int code, const std::string& message) {
  return Json(status, {{"code", code},
                       {"message", message},
                       {"more_info", absl::StrCat("https://www.twilio.com/docs/errors/", code)},
                       {"status", status}});
}

SandboxResponse NotFound(const std::string& path) {
  return TwilioError(404, 20404, absl::StrCat("The requested resource ", path, " was not found"));
}

SandboxResponse NoContent() {
  SandboxResponse response;
  response.status = 204;
  return response;
}

// The action URL of the first <Gather> in `twiml`, unescaped; "" when there is none (or it is
// relative: the sandbox resolves no URLs).
std::string GatherAction(std::string_view twiml) {
  const size_t gather = twiml.find("<Gather");
  if (gather == std::string_view::npos) return "";
  const size_t end = twiml.find('>', gather);
  const std::string_view element =
      twiml.substr(gather, end == std::string_view::npos ? std::string_view::npos : end - gather);
  constexpr std::string_view kAction = " action=\"";
  const size_t start = element.find(kAction);
  if (start == std::string_view::npos) return "";
  const size_t value = start + kAction.size();
  const size_t close = element.find('"', value);
  if (close == std::string_view::npos) return "";
  std::string action = absl::StrReplaceAll(
      absl::string_view(element.data() + value, close - value),
      {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}});
  return IsHttpUrl(action) ? action : "";
}

// MachineDetection as Twilio takes it: Enable or DetectMessageEnd (kOff when absent or empty);
// nullopt for any other value.
std::optional<MachineDetection> ParseMachineDetection(std::string_view value) {
  if (value.empty()) return MachineDetection::kOff;
  if (value == "Enable") return MachineDetection::kEnable;
  if (value == "DetectMessageEnd") return MachineDetection::kDetectMessageEnd;
  return std::nullopt;
}

// Who picks up a call: a delivery rule's answerer; for outcome "machine" the machine that
// detection reports first (with DetectMessageEnd Twilio waits for the greeting's beep); else a
// human.
twilio::AnsweredBy Answerer(const std::optional<FaultRule>& outcome, MachineDetection detection) {
  if (outcome && outcome->answered_by) return *outcome->answered_by;
  if (!outcome || outcome->outcome != "machine") return twilio::AnsweredBy::kHuman;
  return detection == MachineDetection::kDetectMessageEnd ? twilio::AnsweredBy::kMachineEndBeep
                                                          : twilio::AnsweredBy::kMachineStart;
}

// The Call resource's answered_by: "Either `human` or `machine`" (OpenAPI), where the callback
// says which machine; null without detection, or when it could not tell (unknown).
nlohmann::json ResourceAnsweredBy(const std::optional<twilio::AnsweredBy>& answered_by) {
  if (!answered_by || *answered_by == twilio::AnsweredBy::kUnknown) return nullptr;
  return twilio::IsMachine(*answered_by) ? "machine" : "human";
}

// Twilio's description of each delivery error a message may end with in the sandbox: the
// delivery rules' defaults (30003, 30008), an expired ValidityPeriod (30036), and the others a
// rule may name. A message's error_message is this once it failed or was undelivered.
struct DeliveryError {
  int code;
  std::string_view description;
};
constexpr DeliveryError kDeliveryErrors[] = {
    {30001, "Queue overflow"},
    {30002, "Account suspended"},
    {30003, "Unreachable destination handset"},
    {30004, "Message blocked"},
    {30005, "Unknown destination handset"},
    {30006, "Landline or unreachable carrier"},
    {30007, "Message filtered"},
    {30008, "Unknown error"},
    {30036, "Validity Period Expired"},
};

// null for no error, and for a code outside the table (a rule's own, which Twilio never sent).
nlohmann::json ErrorMessage(int code) {
  for (const DeliveryError& error : kDeliveryErrors) {
    if (error.code == code) return error.description;
  }
  return nullptr;
}

// A message's longest ValidityPeriod, also its default: 10 hours.
constexpr int64_t kMaxValiditySeconds = 36'000;
// The error of a message that waited in its sender's queue past its ValidityPeriod.
constexpr int kValidityPeriodExpired = 30036;

// How many segments a second a sender sends (TWILIO.md, "Limits").
double SegmentsPerSecond(std::string_view sender) {
  static constexpr std::string_view kTollFree[] = {"+1800", "+1833", "+1844", "+1855",
                                                   "+1866", "+1877", "+1888"};
  if (!sender.starts_with('+')) {
    const bool short_code =
        !sender.empty() && sender.size() <= 6 &&
        std::all_of(sender.begin(), sender.end(), [](char c) { return c >= '0' && c <= '9'; });
    return short_code ? 100 : 10;  // else an alphanumeric sender ID
  }
  if (!sender.starts_with("+1")) return 10;
  for (std::string_view prefix : kTollFree) {
    if (sender.starts_with(prefix)) return 3;
  }
  return 1;
}

// A resource's price as Twilio writes it: null until priced, then the charge negated with five
// decimals ("-0.00790", "0.00000" for nothing), or six when the rate needs them.
nlohmann::json PriceJson(std::optional<int64_t> micros) {
  if (!micros) return nullptr;
  const int64_t fraction = *micros % twilio::kMicrosPerUnit;
  const std::string digits = fraction % 10 == 0 ? absl::StrFormat("%05d", fraction / 10)
                                                : absl::StrFormat("%06d", fraction);
  return absl::StrCat(*micros > 0 ? "-" : "", *micros / twilio::kMicrosPerUnit, ".", digits);
}

}  // namespace

std::map<std::string, std::vector<std::string>> ParseMessagingServices(std::string_view text) {
  std::map<std::string, std::vector<std::string>> services;
  for (absl::string_view service :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ';', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(service, absl::MaxSplits('=', 1));
    std::vector<std::string>& pool = services[std::string(absl::StripAsciiWhitespace(parts.first))];
    for (absl::string_view number : absl::StrSplit(parts.second, ',', absl::SkipWhitespace())) {
      pool.emplace_back(absl::StripAsciiWhitespace(number));
    }
  }
  return services;
}

absl::StatusOr<twilio::PrefixPrices> ParsePrices(std::string_view text) {
  twilio::PrefixPrices prices;
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    const std::string prefix(absl::StripAsciiWhitespace(parts.first));
    const bool digits_after_plus =
        prefix.size() > 1 && prefix.front() == '+' &&
        std::all_of(prefix.begin() + 1, prefix.end(), [](char c) { return c >= '0' && c <= '9'; });
    const absl::StatusOr<int64_t> rate =
        twilio::ParseMicros(std::string(absl::StripAsciiWhitespace(parts.second)));
    if ((prefix != "*" && !digits_after_plus) || !rate.ok() || *rate < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "price \"", std::string(entry),
          "\": write a prefix ('+' and digits, or '*'), '=', and a rate of at least 0"));
    }
    prices[prefix] = *rate;
  }
  return prices;
}

std::map<std::string, std::set<std::string>> ParseNumbers(std::string_view text) {
  std::map<std::string, std::set<std::string>> numbers;
  for (absl::string_view account :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ';', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(account, absl::MaxSplits('=', 1));
    std::set<std::string>& owned = numbers[std::string(absl::StripAsciiWhitespace(parts.first))];
    for (absl::string_view number : absl::StrSplit(parts.second, ',', absl::SkipWhitespace())) {
      owned.emplace(absl::StripAsciiWhitespace(number));
    }
  }
  return numbers;
}

std::map<std::string, std::string> ParseApiKeys(std::string_view text) {
  std::map<std::string, std::string> keys;
  for (absl::string_view key :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(key, absl::MaxSplits('=', 1));
    keys[std::string(absl::StripAsciiWhitespace(parts.first))] =
        std::string(absl::StripAsciiWhitespace(parts.second));
  }
  return keys;
}

std::vector<SandboxAccount> ParseAccounts(std::string_view text) {
  std::vector<SandboxAccount> accounts;
  for (absl::string_view account :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ';', absl::SkipWhitespace())) {
    const std::pair<absl::string_view, absl::string_view> credentials =
        absl::StrSplit(account, absl::MaxSplits(',', 1));
    const std::pair<absl::string_view, absl::string_view> sid_token =
        absl::StrSplit(credentials.first, absl::MaxSplits('=', 1));
    accounts.push_back(
        {.sid = std::string(absl::StripAsciiWhitespace(sid_token.first)),
         .auth_token = std::string(absl::StripAsciiWhitespace(sid_token.second)),
         .api_keys = ParseApiKeys({credentials.second.data(), credentials.second.size()})});
  }
  return accounts;
}

absl::StatusOr<std::unique_ptr<TwilioSandbox>> TwilioSandbox::Create(SandboxOptions options,
                                                                     timing::Clock& clock,
                                                                     CallbackSender& sender) {
  if (options.accounts.empty()) return absl::InvalidArgumentError("the sandbox has no account");
  std::set<std::string> sids;
  for (const SandboxAccount& account : options.accounts) {
    if (!IsSid(account.sid, "AC")) {
      return absl::InvalidArgumentError(
          absl::StrCat("account SID \"", account.sid, "\" must be AC followed by 32 hex digits"));
    }
    if (account.auth_token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("account ", account.sid, ": auth token is empty"));
    }
    for (const auto& [key, secret] : account.api_keys) {
      if (!IsSid(key, "SK") || secret.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("account ", account.sid, ": API key \"", key,
                         "\" must be SK followed by 32 hex digits, with a secret after '='"));
      }
      if (!sids.insert(key).second) {
        return absl::InvalidArgumentError(absl::StrCat("API key ", key, " is given twice"));
      }
    }
    if (!sids.insert(account.sid).second) {
      return absl::InvalidArgumentError(absl::StrCat("account ", account.sid, " is given twice"));
    }
  }
  if (options.callback_delay < absl::ZeroDuration() ||
      options.call_duration < absl::ZeroDuration() || options.max_hang < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sandbox durations must not be negative");
  }
  if (!(options.calls_per_second >= 0)) {
    return absl::InvalidArgumentError("calls per second must be 0 (no limit) or more");
  }
  for (const auto& [service, pool] : options.messaging_services) {
    if (!IsSid(service, "MG")) {
      return absl::InvalidArgumentError(
          absl::StrCat("Messaging Service \"", service, "\": a SID is MG and 32 hex digits"));
    }
    if (pool.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Messaging Service ", service, " has no numbers in its pool"));
    }
    for (const std::string& number : pool) {
      if (!IsE164(number)) {
        return absl::InvalidArgumentError(absl::StrCat("Messaging Service ", service, ": \"",
                                                       number, "\" is not an E.164 number"));
      }
    }
  }
  return std::unique_ptr<TwilioSandbox>(new TwilioSandbox(std::move(options), clock, sender));
}

TwilioSandbox::TwilioSandbox(SandboxOptions options, timing::Clock& clock, CallbackSender& sender)
    : options_(std::move(options)),
      clock_(clock),
      sender_(sender),
      random_(std::random_device{}()) {
  for (const SandboxAccount& account : options_.accounts) in_flight_[account.sid];
}

TwilioSandbox::~TwilioSandbox() { scheduler_.Stop(); }

const SandboxAccount* TwilioSandbox::AccountOf(std::string_view sid) const {
  for (const SandboxAccount& account : options_.accounts) {
    if (account.sid == sid) return &account;
  }
  return nullptr;
}

namespace {

// True when `authorization` is Basic auth as `account`'s SID and auth token, or as one of its API
// keys and that key's secret (compared in constant time, like a signature).
bool Authenticates(const std::string& authorization, const SandboxAccount& account) {
  std::string credentials;
  if (!absl::StartsWith(authorization, "Basic ") ||
      !absl::Base64Unescape(authorization.substr(6), &credentials)) {
    return false;
  }
  const size_t colon = credentials.find(':');
  if (colon == std::string::npos) return false;
  const std::string user = credentials.substr(0, colon);
  const std::string password = credentials.substr(colon + 1);
  if (user == account.sid) return twilio::SignatureMatches(password, account.auth_token);
  const auto key = account.api_keys.find(user);
  return key != account.api_keys.end() && twilio::SignatureMatches(password, key->second);
}

}  // namespace

SandboxResponse TwilioSandbox::Handle(const SandboxRequest& request) {
  if (absl::StartsWith(request.path, "/sandbox/")) return HandleAdmin(request);
  if (absl::StartsWith(request.path, "/v1/Services/")) return FetchMessagingService(request);
  return HandleApi(request);
}

SandboxResponse TwilioSandbox::HandleAdmin(const SandboxRequest& request) {
  if (!request.from_loopback) {
    return TwilioError(403, 20403, "The sandbox admin API answers loopback clients only");
  }
  // A query string is not a form body: '+' is a plus sign there, so "?to=+14155550100" works as
  // typed.
  const absl::StatusOr<FormParams> query =
      http::DecodeForm(absl::StrReplaceAll(request.query, {{"+", "%2B"}}));
  if (!query.ok()) {
    return Json(400, {{"error", absl::StrCat("query string: ", query.status().message())}});
  }
  const std::string to = Get(*query, "to");
  if (request.path == "/sandbox/ledger" || request.path == "/sandbox/rejected") {
    if (request.method == "DELETE") {
      ledger_.Clear();
      return NoContent();
    }
    if (request.method != "GET") return TwilioError(405, 20004, "Method not allowed");
    nlohmann::json entries = nlohmann::json::array();
    if (request.path == "/sandbox/ledger") {
      for (const LedgerEntry& entry : ledger_.Accepted(to)) {
        entries.push_back(LedgerEntryToJson(entry));
      }
    } else {
      for (const RejectedEntry& entry : ledger_.Rejected(to)) {
        entries.push_back(RejectedEntryToJson(entry));
      }
    }
    return Json(200, entries);
  }
  if (request.path == "/sandbox/pacing") {
    if (request.method != "GET") return TwilioError(405, 20004, "Method not allowed");
    absl::StatusOr<SenderPacingQuery> pacing = ParsePacingQuery(*query);
    if (!pacing.ok()) return Json(400, {{"error", std::string(pacing.status().message())}});
    nlohmann::json senders = nlohmann::json::array();
    for (const SenderPacing& sender :
         PacingBySender(ledger_.Accepted(), pacing->window, pacing->since, pacing->until)) {
      senders.push_back(SenderPacingToJson(sender));
    }
    return Json(200, {{"senders", senders}});
  }
  if (request.path == "/sandbox/faults") {
    if (request.method == "GET") {
      nlohmann::json rules = nlohmann::json::array();
      for (const FaultRule& rule : faults_.List()) rules.push_back(FaultRuleToJson(rule));
      return Json(200, rules);
    }
    if (request.method == "DELETE") {
      faults_.Clear();
      return NoContent();
    }
    if (request.method == "POST") {
      auto rules = ParseFaultRules(request.body);
      if (!rules.ok()) return Json(400, {{"error", std::string(rules.status().message())}});
      nlohmann::json added = nlohmann::json::array();
      for (FaultRule& rule : *rules) {
        rule.id = faults_.Add(rule);
        added.push_back(FaultRuleToJson(rule));
      }
      return Json(201, added);
    }
    return TwilioError(405, 20004, "Method not allowed");
  }
  if (request.path == "/sandbox/inbound") {
    if (request.method != "POST") return TwilioError(405, 20004, "Method not allowed");
    return ReceiveMessage(request.body);
  }
  absl::string_view id_text = request.path;
  int64_t id = 0;
  if (request.method == "DELETE" && absl::StartsWith(id_text, "/sandbox/faults/") &&
      absl::SimpleAtoi(id_text.substr(absl::string_view("/sandbox/faults/").size()), &id)) {
    return faults_.Remove(id) ? NoContent() : NotFound(request.path);
  }
  return NotFound(request.path);
}

SandboxResponse TwilioSandbox::HandleApi(const SandboxRequest& request) {
  std::vector<std::string> parts = absl::StrSplit(request.path, '/');
  // "", "2010-04-01", "Accounts", account[.json], collection[, resource]
  if (parts.size() < 4 || parts.size() > 6 || !parts[0].empty() || parts[1] != kApiVersion ||
      parts[2] != "Accounts") {
    return NotFound(request.path);
  }
  const bool account_itself = parts.size() == 4 && absl::EndsWith(parts[3], ".json");
  if (parts.size() == 4 && !account_itself) return NotFound(request.path);
  if (account_itself) parts[3].resize(parts[3].size() - std::string_view(".json").size());
  const SandboxAccount* account = AccountOf(parts[3]);
  const bool authenticated = account != nullptr && Authenticates(request.authorization, *account);
  const ResourceKind kind = parts.size() > 4 && absl::StartsWith(parts[4], "Calls")
                                ? ResourceKind::kCall
                                : ResourceKind::kMessage;
  const absl::StatusOr<FormParams> decoded = http::DecodeForm(request.body);
  // A body that does not decode is recorded as no parameters, like one without any.
  const FormParams params = decoded.ok() ? *decoded : FormParams();
  if (!authenticated) {
    if (request.method == "POST") {
      return Reject("", kind, Get(params, "To"), params, "auth", 401, 20003, "Authenticate");
    }
    return TwilioError(401, 20003, "Authenticate");
  }

  std::atomic<int>& in_flight = in_flight_.at(account->sid);
  const int concurrent = in_flight.fetch_add(1) + 1;
  std::shared_ptr<const void> place(nullptr, [&in_flight](const void*) { in_flight.fetch_sub(1); });
  SandboxResponse response;
  if (options_.concurrency_limit > 0 && concurrent > options_.concurrency_limit) {
    // Kept with the refused creates, reads too, so a test sees every request Twilio refused.
    response = Reject(account->sid, kind, Get(params, "To"), params, "concurrency", 429, 20429,
                      "Too Many Requests");
  } else {
    response = ServeAccount(request, parts, *account, kind, params, decoded.status());
  }
  response.headers.emplace_back("Twilio-Concurrent-Requests", absl::StrCat(concurrent));
  response.in_flight = std::move(place);
  return response;
}

SandboxResponse TwilioSandbox::ServeAccount(const SandboxRequest& request,
                                            const std::vector<std::string>& parts,
                                            const SandboxAccount& account, ResourceKind kind,
                                            const FormParams& params, const absl::Status& decoded) {
  const bool account_itself = parts.size() == 4;
  if (!decoded.ok()) {
    // Twilio's error 70002: the request body could not be parsed.
    const std::string message = absl::StrCat("Bad request: ", std::string(decoded.message()));
    if (request.method == "POST") {
      return Reject(account.sid, kind, "", params, "malformed", 400, 70002, message);
    }
    return TwilioError(400, 70002, message);
  }
  if (account_itself) {
    if (request.method != "GET") return TwilioError(405, 20004, "Method not allowed");
    return FetchAccount(account);
  }
  if (parts.size() == 5 && request.method == "GET") {
    if (parts[4] == "Messages.json") return ListMessages(account, request.query);
    if (parts[4] == "Calls.json") return ListCalls(account, request.query);
    if (parts[4] == "IncomingPhoneNumbers.json") return ListNumbers(account, request.query, false);
    return NotFound(request.path);
  }
  if (parts.size() == 6 && request.method == "GET" && parts[4] == "SMS" &&
      parts[5] == "ShortCodes.json") {
    return ListNumbers(account, request.query, true);
  }
  if (parts.size() == 5) {
    if (request.method != "POST") return TwilioError(405, 20004, "Method not allowed");
    if (parts[4] == "Messages.json") return CreateMessage(account, params);
    if (parts[4] == "Calls.json") return CreateCall(account, params);
    return NotFound(request.path);
  }
  if (request.method != "GET") return TwilioError(405, 20004, "Method not allowed");
  absl::string_view resource = parts[5];
  if (!absl::ConsumeSuffix(&resource, ".json")) return NotFound(request.path);
  if (parts[4] == "Messages") return FetchMessage(account, std::string(resource), request.path);
  if (parts[4] == "Calls") return FetchCall(account, std::string(resource), request.path);
  return NotFound(request.path);
}

SandboxResponse TwilioSandbox::Reject(std::string_view account, ResourceKind kind,
                                      const std::string& to, const FormParams& params,
                                      const std::string& reason, int status, int code,
                                      const std::string& message) {
  RejectedEntry entry;
  entry.account = std::string(account);
  entry.kind = kind;
  entry.to = to;
  entry.http_status = status;
  entry.code = code;
  entry.reason = reason;
  entry.received_at = clock_.Now();
  entry.params = params;
  ledger_.RecordRejected(std::move(entry));
  return TwilioError(status, code, message);
}

std::optional<SandboxResponse> TwilioSandbox::ApplyRequestFault(const SandboxAccount& account,
                                                                ResourceKind kind,
                                                                const std::string& to,
                                                                const FormParams& params,
                                                                absl::Duration& delay) {
  const std::optional<FaultRule> fault = faults_.TakeRequestFault(kind, to, account.sid);
  if (!fault) return std::nullopt;
  switch (fault->type) {
    case FaultType::kLatency:
      delay = fault->latency;
      return std::nullopt;
    case FaultType::kHang:
      delay = std::min(fault->hang, options_.max_hang);
      if (fault->accept) return std::nullopt;
      break;
    case FaultType::kRateLimit:
    case FaultType::kServerError:
    case FaultType::kError:
    case FaultType::kDelivery:
      break;
  }
  SandboxResponse response = Reject(account.sid, kind, to, params, "fault", fault->http_status,
                                    fault->code, fault->message);
  response.delay = delay;
  if (fault->type == FaultType::kRateLimit) {
    response.headers.emplace_back("Retry-After",
                                  absl::StrCat(absl::ToInt64Seconds(fault->retry_after)));
  }
  return response;
}

SandboxResponse TwilioSandbox::CreateMessage(const SandboxAccount& account,
                                             const FormParams& params) {
  const std::string to = Get(params, "To");
  const std::string from = Get(params, "From");
  const std::string service = Get(params, "MessagingServiceSid");
  const std::string* body = Find(params, "Body");
  const std::string status_callback = Get(params, "StatusCallback");
  const auto invalid = [&](int code, const std::string& message) {
    return Reject(account.sid, ResourceKind::kMessage, to, params, "validation", 400, code,
                  message);
  };
  if (to.empty()) return invalid(21604, "A 'To' phone number is required.");
  if (!IsE164(to)) return invalid(21211, absl::StrCat("Invalid 'To' Phone Number: ", to));
  if (from.empty() && service.empty()) {
    return invalid(21603, "A 'From' or 'MessagingServiceSid' parameter is required.");
  }
  if (!from.empty() && !IsE164(from) && !IsShortCode(from) && !IsAlphanumericSender(from)) {
    return invalid(21212, absl::StrCat("Invalid 'From' Phone Number: ", from));
  }
  if (!service.empty() && !IsSid(service, "MG")) {
    return invalid(21705, "The Messaging Service is invalid");
  }
  if (!service.empty() && !options_.messaging_services.contains(service)) {
    return invalid(21701, "The Messaging Service does not exist");
  }
  if (body == nullptr || body->empty()) {
    return invalid(21602, "Message body is required.");
  }
  if (CodePoints(*body) > twilio::kMaxBodyCharacters) {
    return invalid(21617, "The concatenated message body exceeds the 1600 character limit.");
  }
  if (!status_callback.empty() && !IsHttpUrl(status_callback)) {
    return invalid(21609, "Invalid StatusCallback url.");
  }
  int64_t validity_seconds = kMaxValiditySeconds;
  if (const std::string* validity = Find(params, "ValidityPeriod");
      validity != nullptr && (!absl::SimpleAtoi(*validity, &validity_seconds) ||
                              validity_seconds < 1 || validity_seconds > kMaxValiditySeconds)) {
    return invalid(90007, "Invalid validity period value: an integer from 1 to 36000 seconds");
  }

  absl::Duration delay = absl::ZeroDuration();
  if (auto rejected = ApplyRequestFault(account, ResourceKind::kMessage, to, params, delay)) {
    return *std::move(rejected);
  }
  {
    // Advanced Opt-Out holds for the number the person texted STOP, or its whole Messaging
    // Service.
    std::lock_guard<std::mutex> lock(mutex_);
    if (opted_out_.contains({service.empty() ? from : service, to})) {
      return invalid(21610, "Attempt to send to unsubscribed recipient");
    }
  }
  std::string pool_number;
  if (!service.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    pool_number = from.empty() ? PickFromPool(service, to) : from;
  }
  const absl::Duration validity_period = absl::Seconds(validity_seconds);
  const Queued queued =
      TakeQueueSpace(service.empty() ? from : pool_number, *body, validity_period);
  if (queued == Queued::kFull) {
    return invalid(21611, "This 'From' number has exceeded the maximum number of queued messages");
  }
  // A message that expires in its queue ignores the delivery rules and takes none of them.
  const std::optional<FaultRule> outcome =
      queued == Queued::kExpires
          ? std::nullopt
          : faults_.TakeDeliveryFault(ResourceKind::kMessage, to, account.sid);

  Message message;
  message.sid = NewSid("SM");
  message.account_sid = account.sid;
  message.to = to;
  message.from = from;
  message.messaging_service_sid = service;
  message.body = *body;
  // Twilio answers "accepted" when a Messaging Service picks the sender later: no From and no
  // segments yet, both set once the message is queued on the number picked.
  message.status = service.empty() ? "queued" : "accepted";
  message.status_callback = status_callback;
  message.num_segments = service.empty() ? twilio::SmsSegments(*body) : 0;
  message.pool_number = pool_number;
  message.date_created = clock_.Now();
  message.date_updated = message.date_created;

  LedgerEntry entry;
  entry.sid = message.sid;
  entry.account = account.sid;
  entry.kind = ResourceKind::kMessage;
  entry.to = to;
  entry.from = service.empty() ? from : message.pool_number;
  entry.body = *body;
  entry.status_callback = status_callback;
  entry.received_at = message.date_created;
  entry.params = params;
  ledger_.RecordAccepted(std::move(entry));

  {
    std::lock_guard<std::mutex> lock(mutex_);
    messages_[message.sid] = message;
  }
  std::vector<std::pair<std::string, int>> steps = {{"sent", 0}, {"delivered", 0}};
  if (outcome && outcome->outcome == "failed") steps = {{"failed", outcome->error_code}};
  if (outcome && outcome->outcome == "undelivered") {
    steps = {{"sent", 0}, {"undelivered", outcome->error_code}};
  }
  // Queued until its validity period runs out, then failed unsent.
  if (queued == Queued::kExpires) steps = {{"failed", kValidityPeriodExpired}};
  // A Messaging Service's message is queued on its number first, announced by a callback.
  if (!service.empty()) steps.insert(steps.begin(), {"queued", 0});
  // Step i comes callback_delay after the one before; an expiring message's failure when its
  // validity period ends.
  const auto due = [&](size_t i) {
    const absl::Duration after_the_last = options_.callback_delay * static_cast<double>(i + 1);
    if (queued == Queued::kExpires && i + 1 == steps.size()) {
      return std::max(validity_period, after_the_last);
    }
    return after_the_last;
  };
  const CallbackOrder order = outcome ? outcome->callbacks : CallbackOrder::kInOrder;
  if (order == CallbackOrder::kReversed) {
    // Every status at once when the last is due; their callbacks go last first.
    scheduler_.Schedule(due(steps.size() - 1), [this, sid = message.sid, steps] {
      std::vector<StatusCallback> held;
      for (const auto& [status, error_code] : steps) {
        if (auto signed_callback = AdvanceMessage(sid, status, error_code)) {
          held.push_back(*std::move(signed_callback));
        }
      }
      for (auto it = held.rbegin(); it != held.rend(); ++it) {
        sender_.Send(*it).IgnoreError();
      }
    });
  } else {
    const int copies = order == CallbackOrder::kDuplicated ? 2 : 1;
    for (size_t i = 0; i < steps.size(); ++i) {
      scheduler_.Schedule(due(i), [this, sid = message.sid, step = steps[i], copies] {
        const std::optional<StatusCallback> signed_callback =
            AdvanceMessage(sid, step.first, step.second);
        if (!signed_callback) return;
        for (int copy = 0; copy < copies; ++copy) {
          sender_.Send(*signed_callback).IgnoreError();
        }
      });
    }
  }
  SandboxResponse response = FetchMessage(account, message.sid, "");
  response.status = 201;
  response.delay = delay;
  return response;
}

std::string TwilioSandbox::PickFromPool(const std::string& service, const std::string& to) {
  const std::vector<std::string>& pool = options_.messaging_services.at(service);
  std::string& sticky = sticky_senders_[{service, to}];
  if (sticky.empty()) sticky = pool[pool_turns_[service]++ % pool.size()];
  return sticky;
}

SandboxResponse TwilioSandbox::CreateCall(const SandboxAccount& account, const FormParams& params) {
  const std::string to = Get(params, "To");
  const std::string from = Get(params, "From");
  const std::string twiml = Get(params, "Twiml");
  const std::string url = Get(params, "Url");
  const std::string application = Get(params, "ApplicationSid");
  const std::string status_callback = Get(params, "StatusCallback");
  const auto invalid = [&](int code, const std::string& message) {
    return Reject(account.sid, ResourceKind::kCall, to, params, "validation", 400, code, message);
  };
  if (to.empty()) return invalid(21201, "No 'To' number is specified");
  if (!IsE164(to)) return invalid(21211, absl::StrCat("Invalid 'To' Phone Number: ", to));
  if (from.empty()) return invalid(21213, "No 'From' number is specified");
  if (!IsE164(from)) return invalid(21212, absl::StrCat("Invalid 'From' Phone Number: ", from));
  if (twiml.empty() && url.empty() && application.empty()) {
    return invalid(21205, "Url, ApplicationSid or Twiml is required");
  }
  if (!url.empty() && !IsHttpUrl(url)) return invalid(21205, "Url is not a valid URL");
  if (!status_callback.empty() && !IsHttpUrl(status_callback)) {
    return invalid(21609, "Invalid StatusCallback url.");
  }
  // Twilio's 21234, "Invalid Machine Detection configuration value": anything but its two values.
  const std::string detection_value = Get(params, "MachineDetection");
  const std::optional<MachineDetection> machine_detection = ParseMachineDetection(detection_value);
  if (!machine_detection) {
    return invalid(21234, absl::StrCat("Invalid MachineDetection '", detection_value,
                                       "': must be Enable or DetectMessageEnd"));
  }
  std::set<std::string> events;
  for (const auto& [key, value] : params) {
    if (key != "StatusCallbackEvent") continue;
    // Some helper libraries join the events with spaces into one value.
    for (absl::string_view event : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
      events.emplace(event);
    }
  }
  if (events.empty()) events.insert("completed");

  absl::Duration delay = absl::ZeroDuration();
  if (auto rejected = ApplyRequestFault(account, ResourceKind::kCall, to, params, delay)) {
    return *std::move(rejected);
  }
  const std::optional<FaultRule> outcome =
      faults_.TakeDeliveryFault(ResourceKind::kCall, to, account.sid);

  Call call;
  call.sid = NewSid("CA");
  call.account_sid = account.sid;
  call.to = to;
  call.from = from;
  call.status = "queued";
  call.status_callback = status_callback;
  call.callback_events = std::move(events);
  call.machine_detection = *machine_detection;
  call.answerer = Answerer(outcome, *machine_detection);
  call.gather_action = GatherAction(twiml);
  // A key press needs a <Gather> to post it to.
  if (outcome && outcome->outcome == "key-press" && !call.gather_action.empty()) {
    call.digits = outcome->digits;
  }
  call.date_created = clock_.Now();
  call.date_updated = call.date_created;
  call.queue_time = TakeDialTurn(account.sid);

  LedgerEntry entry;
  entry.sid = call.sid;
  entry.account = account.sid;
  entry.kind = ResourceKind::kCall;
  entry.to = to;
  entry.from = from;
  entry.twiml = twiml;
  entry.url = url;
  entry.status_callback = status_callback;
  entry.received_at = call.date_created;
  entry.params = params;
  ledger_.RecordAccepted(std::move(entry));

  {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_[call.sid] = call;
  }
  // From its turn to be dialed up to the answer or the end without one; the answer schedules
  // the rest (AdvanceCall).
  std::vector<std::string> steps = {"initiated", "ringing", "in-progress"};
  if (outcome && outcome->outcome == "failed") steps = {"initiated", "failed"};
  if (outcome && (outcome->outcome == "busy" || outcome->outcome == "no-answer")) {
    steps = {"initiated", "ringing", outcome->outcome};
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    scheduler_.Schedule(call.queue_time + options_.callback_delay * static_cast<double>(i + 1),
                        [this, sid = call.sid, status = steps[i]] { AdvanceCall(sid, status); });
  }
  SandboxResponse response = FetchCall(account, call.sid, "");
  response.status = 201;
  response.delay = delay;
  return response;
}

namespace {

// Twilio's date filters work on UTC days: `name` is that day, `name>` on or after it (the query
// reads "name>=day"), `name<` on or before it. A resource without the date never matches one.
bool DayMatches(const http::FormParams& query, const std::string& name,
                const std::optional<absl::Time>& time) {
  const std::string on = Get(query, name);
  const std::string after = Get(query, name + ">");
  const std::string before = Get(query, name + "<");
  if (on.empty() && after.empty() && before.empty()) return true;
  if (!time) return false;
  const std::string day = absl::FormatTime("%Y-%m-%d", *time, absl::UTCTimeZone());
  return (on.empty() || day == on) && (after.empty() || day >= after) &&
         (before.empty() || day <= before);
}

int IntParam(const http::FormParams& query, const std::string& name, int fallback, int low,
             int high) {
  int value = 0;
  if (!absl::SimpleAtoi(Get(query, name), &value)) return fallback;
  return std::clamp(value, low, high);
}

// One page of Twilio's list answer: the resources under `field` and the paging fields, with the
// filters of `query` repeated in the page URIs. `resources` are already filtered, newest first.
SandboxResponse ListPage(const http::FormParams& query, const std::string& path, const char* field,
                         const std::vector<nlohmann::json>& resources) {
  const int page_size = IntParam(query, "PageSize", 50, 1, 1000);
  const int page = IntParam(query, "Page", 0, 0, 1'000'000);
  http::FormParams filters;
  for (const auto& [name, value] : query) {
    if (name != "PageSize" && name != "Page" && name != "PageToken") {
      filters.emplace_back(name, value);
    }
  }
  auto page_uri = [&](int number) {
    http::FormParams params = filters;
    params.emplace_back("PageSize", absl::StrCat(page_size));
    params.emplace_back("Page", absl::StrCat(number));
    return absl::StrCat(path, "?", http::EncodeForm(params));
  };
  const size_t start = static_cast<size_t>(page) * static_cast<size_t>(page_size);
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = start; i < resources.size() && i < start + static_cast<size_t>(page_size); ++i) {
    items.push_back(resources[i]);
  }
  const bool more = start + static_cast<size_t>(page_size) < resources.size();
  return Json(200, {{field, items},
                    {"end", static_cast<int64_t>(start + items.size()) - 1},
                    {"first_page_uri", page_uri(0)},
                    {"next_page_uri", more ? nlohmann::json(page_uri(page + 1)) : nullptr},
                    {"page", page},
                    {"page_size", page_size},
                    {"previous_page_uri",
                     page > 0 ? nlohmann::json(page_uri(page - 1)) : nlohmann::json(nullptr)},
                    {"start", start},
                    {"uri", page_uri(page)}});
}

// Newest first, like Twilio; equal stamps keep a fixed order.
template <typename Resource>
std::vector<const Resource*> NewestFirst(std::vector<const Resource*> resources) {
  std::sort(resources.begin(), resources.end(), [](const Resource* a, const Resource* b) {
    return a->date_created != b->date_created ? a->date_created > b->date_created : a->sid > b->sid;
  });
  return resources;
}

}  // namespace

SandboxResponse TwilioSandbox::FetchAccount(const SandboxAccount& account) const {
  return Json(200, {{"sid", account.sid},
                    {"friendly_name", absl::StrCat("Klaxon sandbox ", account.sid)},
                    {"status", "active"},
                    {"type", "Full"},
                    {"uri", absl::StrCat("/2010-04-01/Accounts/", account.sid, ".json")}});
}

SandboxResponse TwilioSandbox::ListNumbers(const SandboxAccount& account,
                                           const std::string& query_text, bool short_codes) const {
  const absl::StatusOr<FormParams> query =
      http::DecodeForm(absl::StrReplaceAll(query_text, {{"+", "%2B"}}));
  if (!query.ok()) return TwilioError(400, 70002, "Bad request: malformed query string");
  const std::string wanted = Get(*query, short_codes ? "ShortCode" : "PhoneNumber");
  std::vector<nlohmann::json> resources;
  for (const std::string& number : account.numbers) {
    if (number.starts_with('+') == short_codes || (!wanted.empty() && number != wanted)) continue;
    resources.push_back({{"account_sid", account.sid},
                         {short_codes ? "short_code" : "phone_number", number},
                         {"sid", absl::StrCat(short_codes ? "SC" : "PN",
                                              absl::BytesToHexString(number).substr(0, 32))}});
  }
  return ListPage(*query,
                  absl::StrCat("/2010-04-01/Accounts/", account.sid,
                               short_codes ? "/SMS/ShortCodes.json" : "/IncomingPhoneNumbers.json"),
                  short_codes ? "short_codes" : "incoming_phone_numbers", resources);
}

SandboxResponse TwilioSandbox::FetchMessagingService(const SandboxRequest& request) const {
  const SandboxAccount& owner = options_.accounts.front();
  if (!Authenticates(request.authorization, owner)) {
    for (const SandboxAccount& other : options_.accounts) {
      // Another account's credentials are good, but the service is not theirs.
      if (Authenticates(request.authorization, other)) return NotFound(request.path);
    }
    return TwilioError(401, 20003, "Authenticate");
  }
  const std::string sid = request.path.substr(std::string_view("/v1/Services/").size());
  if (request.method != "GET") return TwilioError(405, 20004, "Method not allowed");
  if (!options_.messaging_services.contains(sid)) return NotFound(request.path);
  return Json(200, {{"sid", sid},
                    {"account_sid", owner.sid},
                    {"friendly_name", absl::StrCat("Klaxon sandbox ", sid)},
                    {"url", absl::StrCat("https://messaging.twilio.com/v1/Services/", sid)}});
}

SandboxResponse TwilioSandbox::ListMessages(const SandboxAccount& account,
                                            const std::string& query_text) {
  const absl::StatusOr<FormParams> query = http::DecodeForm(query_text);
  if (!query.ok()) return TwilioError(400, 70002, "Bad request: malformed query string");
  const std::string to = Get(*query, "To");
  const std::string from = Get(*query, "From");
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const Message*> matching;
  for (const auto& [sid, message] : messages_) {
    if (message.account_sid == account.sid && (to.empty() || message.to == to) &&
        (from.empty() || message.from == from) &&
        DayMatches(*query, "DateSent", message.date_sent)) {
      matching.push_back(&message);
    }
  }
  std::vector<nlohmann::json> resources;
  for (const Message* message : NewestFirst(std::move(matching))) {
    resources.push_back(MessageJson(*message));
  }
  return ListPage(*query, absl::StrCat("/2010-04-01/Accounts/", account.sid, "/Messages.json"),
                  "messages", resources);
}

SandboxResponse TwilioSandbox::ListCalls(const SandboxAccount& account,
                                         const std::string& query_text) {
  const absl::StatusOr<FormParams> query = http::DecodeForm(query_text);
  if (!query.ok()) return TwilioError(400, 70002, "Bad request: malformed query string");
  const std::string to = Get(*query, "To");
  const std::string from = Get(*query, "From");
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<const Call*> matching;
  for (const auto& [sid, call] : calls_) {
    if (call.account_sid == account.sid && (to.empty() || call.to == to) &&
        (from.empty() || call.from == from) && DayMatches(*query, "StartTime", call.start_time)) {
      matching.push_back(&call);
    }
  }
  std::vector<nlohmann::json> resources;
  for (const Call* call : NewestFirst(std::move(matching))) resources.push_back(CallJson(*call));
  return ListPage(*query, absl::StrCat("/2010-04-01/Accounts/", account.sid, "/Calls.json"),
                  "calls", resources);
}

TwilioSandbox::Queued TwilioSandbox::TakeQueueSpace(const std::string& sender,
                                                    const std::string& body,
                                                    absl::Duration validity_period) {
  if (options_.sender_queue_limit == absl::ZeroDuration()) return Queued::kInTime;
  std::lock_guard<std::mutex> lock(mutex_);
  const absl::Time now = clock_.Now();
  absl::Time& free_at = sender_free_at_[sender];
  const absl::Time start = std::max(free_at, now);
  if (start - now > options_.sender_queue_limit) return Queued::kFull;
  if (start - now > validity_period) return Queued::kExpires;
  free_at = start + absl::Seconds(twilio::SmsSegments(body) / SegmentsPerSecond(sender));
  return Queued::kInTime;
}

absl::Duration TwilioSandbox::TakeDialTurn(const std::string& account) {
  if (options_.calls_per_second == 0) return absl::ZeroDuration();
  std::lock_guard<std::mutex> lock(mutex_);
  const absl::Time now = clock_.Now();
  absl::Time& next = next_dial_[account];
  const absl::Time turn = std::max(next, now);
  next = turn + absl::Seconds(1 / options_.calls_per_second);
  return turn - now;
}

SandboxResponse TwilioSandbox::FetchMessage(const SandboxAccount& account, const std::string& sid,
                                            const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = messages_.find(sid);
  if (it == messages_.end() || it->second.account_sid != account.sid) return NotFound(path);
  return Json(200, MessageJson(it->second));
}

nlohmann::json TwilioSandbox::MessageJson(const Message& message) const {
  const std::string uri =
      absl::StrCat("/2010-04-01/Accounts/", message.account_sid, "/Messages/", message.sid);
  return nlohmann::json({
      {"account_sid", message.account_sid},
      {"api_version", kApiVersion},
      {"body", message.body},
      {"date_created", Rfc2822(message.date_created)},
      {"date_sent", OptionalDate(message.date_sent)},
      {"date_updated", Rfc2822(message.date_updated)},
      {"direction", "outbound-api"},
      {"error_code",
       message.error_code != 0 ? nlohmann::json(message.error_code) : nlohmann::json(nullptr)},
      {"error_message", message.status == "failed" || message.status == "undelivered"
                            ? ErrorMessage(message.error_code)
                            : nlohmann::json(nullptr)},
      {"from", message.from.empty() ? nlohmann::json(nullptr) : nlohmann::json(message.from)},
      {"messaging_service_sid", message.messaging_service_sid.empty()
                                    ? nlohmann::json(nullptr)
                                    : nlohmann::json(message.messaging_service_sid)},
      {"num_media", "0"},
      {"num_segments", absl::StrCat(message.num_segments)},
      {"price", PriceJson(message.price_micros)},
      {"price_unit", options_.prices.currency},
      {"sid", message.sid},
      {"status", message.status},
      {"subresource_uris",
       {{"media", absl::StrCat(uri, "/Media.json")},
        {"feedback", absl::StrCat(uri, "/Feedback.json")}}},
      {"to", message.to},
      {"uri", absl::StrCat(uri, ".json")},
  });
}

SandboxResponse TwilioSandbox::FetchCall(const SandboxAccount& account, const std::string& sid,
                                         const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = calls_.find(sid);
  if (it == calls_.end() || it->second.account_sid != account.sid) return NotFound(path);
  return Json(200, CallJson(it->second));
}

nlohmann::json TwilioSandbox::CallJson(const Call& call) const {
  const std::string uri =
      absl::StrCat("/2010-04-01/Accounts/", call.account_sid, "/Calls/", call.sid);
  return nlohmann::json({
      {"account_sid", call.account_sid},
      {"answered_by", ResourceAnsweredBy(call.answered_by)},
      {"api_version", kApiVersion},
      {"caller_name", nullptr},
      {"date_created", Rfc2822(call.date_created)},
      {"date_updated", Rfc2822(call.date_updated)},
      {"direction", "outbound-api"},
      {"duration", call.duration_seconds ? nlohmann::json(absl::StrCat(*call.duration_seconds))
                                         : nlohmann::json(nullptr)},
      {"end_time", OptionalDate(call.end_time)},
      {"forwarded_from", nullptr},
      {"from", call.from},
      {"from_formatted", call.from},
      {"group_sid", nullptr},
      {"parent_call_sid", nullptr},
      {"phone_number_sid", nullptr},
      {"price", PriceJson(call.price_micros)},
      {"price_unit", options_.prices.currency},
      {"queue_time", absl::StrCat(absl::ToInt64Milliseconds(call.queue_time))},
      {"sid", call.sid},
      {"start_time", OptionalDate(call.start_time)},
      {"status", call.status},
      {"subresource_uris",
       {{"notifications", absl::StrCat(uri, "/Notifications.json")},
        {"recordings", absl::StrCat(uri, "/Recordings.json")}}},
      {"to", call.to},
      {"to_formatted", call.to},
      {"trunk_sid", nullptr},
      {"uri", absl::StrCat(uri, ".json")},
  });
}

std::optional<StatusCallback> TwilioSandbox::AdvanceMessage(const std::string& sid,
                                                            const std::string& status,
                                                            int error_code) {
  Message message;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Message& stored = messages_.at(sid);
    stored.status = status;
    stored.error_code = error_code;
    stored.date_updated = clock_.Now();
    if (status == "sent") stored.date_sent = stored.date_updated;
    // Queued on a number of its service's pool (the first step of such a message).
    if (!stored.messaging_service_sid.empty() && stored.num_segments == 0) {
      stored.from = stored.pool_number;
      stored.num_segments = twilio::SmsSegments(stored.body);
    }
    if (status == "failed") {
      stored.price_micros = 0;
    } else if (status == "sent" || status == "delivered" || status == "undelivered") {
      stored.price_micros =
          stored.num_segments * twilio::PriceFor(options_.prices.sms_segment_micros, stored.to);
    }
    message = stored;
  }
  if (message.status_callback.empty()) return std::nullopt;
  FormParams params = {{"AccountSid", message.account_sid},
                       {"ApiVersion", kApiVersion},
                       {"From", message.from},
                       {"MessageSid", message.sid},
                       {"MessageStatus", message.status},
                       {"SmsSid", message.sid},
                       {"SmsStatus", message.status},
                       {"To", message.to}};
  if (!message.messaging_service_sid.empty()) {
    params.emplace_back("MessagingServiceSid", message.messaging_service_sid);
  }
  if (error_code != 0) params.emplace_back("ErrorCode", absl::StrCat(error_code));
  return Signed(message.status_callback, absl::StrCat(sid, "-", status), std::move(params));
}

void TwilioSandbox::AdvanceCall(const std::string& sid, const std::string& status) {
  Call call;
  std::string event = status == "in-progress" ? "answered" : status;
  if (status == "busy" || status == "no-answer" || status == "failed") event = "completed";
  // Scheduled outside mutex_, which the scheduled steps take.
  if (status == "in-progress") ScheduleHangUp(sid);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Call& stored = calls_.at(sid);
    stored.status = status;
    stored.date_updated = clock_.Now();
    // Twilio's start_time is empty only until the call is dialed, answered or not.
    if (status == "initiated") stored.start_time = stored.date_updated;
    if (status == "in-progress") {
      stored.answer_time = stored.date_updated;
      if (stored.machine_detection != MachineDetection::kOff) stored.answered_by = stored.answerer;
    }
    if (status == "completed") {
      // This step comes call_duration after the answer at the earliest (ScheduleHangUp), so the
      // end is never in the future; a call completed without an answer lasted nothing.
      const absl::Duration talked =
          stored.answer_time ? options_.call_duration : absl::ZeroDuration();
      stored.end_time = stored.answer_time.value_or(stored.date_updated) + talked;
      stored.duration_seconds = absl::ToInt64Seconds(talked);
      const int64_t started_minutes = (*stored.duration_seconds + 59) / 60;
      stored.price_micros =
          started_minutes * twilio::PriceFor(options_.prices.call_minute_micros, stored.to);
    } else if (event == "completed") {
      // Busy, no answer or failed: Twilio leaves duration and end_time empty (its API description)
      // and charges nothing.
      stored.price_micros = 0;
    }
    if (stored.status_callback.empty() || stored.callback_events.count(event) == 0) return;
    call = stored;
    ++stored.sequence_number;
  }
  FormParams params = {{"AccountSid", call.account_sid},
                       {"ApiVersion", kApiVersion},
                       {"CallSid", call.sid},
                       {"CallStatus", call.status},
                       {"CallbackSource", "call-progress-events"},
                       {"Called", call.to},
                       {"Caller", call.from},
                       {"Direction", "outbound-api"},
                       {"From", call.from},
                       {"SequenceNumber", absl::StrCat(call.sequence_number)},
                       {"Timestamp", Rfc2822(call.date_updated)},
                       {"To", call.to}};
  if (call.answered_by) params.emplace_back("AnsweredBy", twilio::ToString(*call.answered_by));
  // The call's end reports how long it lasted, 0 for one nobody answered.
  if (event == "completed") {
    params.emplace_back("CallDuration", absl::StrCat(call.duration_seconds.value_or(0)));
  }
  SendSigned(call.status_callback, absl::StrCat(sid, "-", status), std::move(params));
}

void TwilioSandbox::ScheduleHangUp(const std::string& sid) {
  std::string digits;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    digits = calls_.at(sid).digits;
  }
  // Scheduled before the hang-up, so a press due with it (call_duration at most one step) still
  // comes first.
  if (!digits.empty()) {
    scheduler_.Schedule(options_.callback_delay, [this, sid, digits] { PressKeys(sid, digits); });
  }
  scheduler_.Schedule(std::max(options_.call_duration, options_.callback_delay),
                      [this, sid] { AdvanceCall(sid, "completed"); });
}

void TwilioSandbox::PressKeys(const std::string& sid, const std::string& digits) {
  Call call;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    call = calls_.at(sid);
  }
  FormParams params = {{"AccountSid", call.account_sid},
                       {"ApiVersion", kApiVersion},
                       {"CallSid", call.sid},
                       {"CallStatus", call.status},
                       {"Called", call.to},
                       {"Caller", call.from},
                       {"Digits", digits},
                       {"Direction", "outbound-api"},
                       {"FinishedOnKey", ""},
                       {"From", call.from},
                       {"To", call.to}};
  SendSigned(call.gather_action, absl::StrCat(sid, "-gather"), std::move(params));
}

SandboxResponse TwilioSandbox::ReceiveMessage(const std::string& json) {
  const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return Json(400, {{"error", "the body must be a JSON object"}});
  const auto text = [&parsed](const char* key) {
    const auto found = parsed.find(key);
    return found != parsed.end() && found->is_string() ? found->get<std::string>() : "";
  };
  const std::string from = text("from");
  const std::string to = text("to");
  const std::string body = text("body");
  if (!IsE164(from)) return Json(400, {{"error", "from: must be the person's E.164 number"}});
  const SandboxAccount* account = nullptr;
  for (const SandboxAccount& candidate : options_.accounts) {
    if (candidate.numbers.contains(to)) account = &candidate;
  }
  // A Messaging Service's number opts the person out of the whole service.
  std::string opted_out_of = to;
  for (const auto& [service, pool] : options_.messaging_services) {
    if (std::find(pool.begin(), pool.end(), to) != pool.end()) {
      opted_out_of = service;
      if (account == nullptr) account = &options_.accounts.front();
    }
  }
  if (account == nullptr) {
    return Json(400, {{"error",
                       "to: must be one of the accounts' numbers (--numbers) or a Messaging "
                       "Service's (--messaging-services)"}});
  }
  if (body.empty() || CodePoints(body) > twilio::kMaxBodyCharacters) {
    return Json(400, {{"error", "body: must be 1 to 1600 characters"}});
  }
  if (options_.inbound_url.empty()) {
    return Json(409, {{"error", "no SMS URL for the numbers (--inbound-url)"}});
  }
  // Advanced Opt-Out (TWILIO.md): a keyword is the whole body, in any case; Twilio applies it
  // itself and tells the webhook with OptOutType.
  const std::string keyword = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(body));
  std::string opt_out_type;
  if (keyword == "STOP" || keyword == "STOPALL" || keyword == "UNSUBSCRIBE" ||
      keyword == "CANCEL" || keyword == "END" || keyword == "QUIT") {
    opt_out_type = "STOP";
  } else if (keyword == "START" || keyword == "YES" || keyword == "UNSTOP") {
    opt_out_type = "START";
  } else if (keyword == "HELP" || keyword == "INFO") {
    opt_out_type = "HELP";
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (opt_out_type == "STOP") opted_out_.insert({opted_out_of, from});
    if (opt_out_type == "START") opted_out_.erase({opted_out_of, from});
  }
  const std::string sid = NewSid("SM");
  FormParams params = {{"AccountSid", account->sid},
                       {"ApiVersion", kApiVersion},
                       {"Body", body},
                       {"From", from},
                       {"MessageSid", sid},
                       {"NumMedia", "0"},
                       {"NumSegments", "1"},
                       {"SmsMessageSid", sid},
                       {"SmsSid", sid},
                       {"SmsStatus", "received"},
                       {"To", to}};
  if (!opt_out_type.empty()) params.emplace_back("OptOutType", opt_out_type);
  SendSigned(options_.inbound_url, sid, std::move(params));
  nlohmann::json answer = {{"sid", sid}, {"from", from}, {"to", to}, {"body", body}};
  answer["opt_out_type"] = opt_out_type.empty() ? nlohmann::json() : nlohmann::json(opt_out_type);
  return Json(201, answer);
}

StatusCallback TwilioSandbox::Signed(const std::string& url, const std::string& idempotency_token,
                                     FormParams params) const {
  const SandboxAccount* account = AccountOf(Get(params, "AccountSid"));
  // Every resource is created on an account: a callback without one is a sandbox bug.
  if (account == nullptr) std::abort();
  StatusCallback callback;
  callback.url = url;
  callback.headers = {
      {"X-Twilio-Signature", twilio::ComputeSignature(account->auth_token, url, params)},
      {"I-Twilio-Idempotency-Token", idempotency_token}};
  callback.params = std::move(params);
  return callback;
}

void TwilioSandbox::SendSigned(const std::string& url, const std::string& idempotency_token,
                               FormParams params) {
  // A callback that cannot be delivered is the sender's to retry or drop, as Twilio's default is.
  sender_.Send(Signed(url, idempotency_token, std::move(params))).IgnoreError();
}

std::string TwilioSandbox::NewSid(const char* prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t high = random_();
  const uint64_t low = random_();
  std::string sid = prefix;
  for (uint64_t part : {high, low}) {
    for (int shift = 60; shift >= 0; shift -= 4) {
      sid.push_back("0123456789abcdef"[(part >> shift) & 0xF]);
    }
  }
  return sid;
}

}  // namespace klaxon::sandbox
