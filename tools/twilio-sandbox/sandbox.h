#pragma once
// TwilioSandbox: the logic of Klaxon's only stand-in for Twilio, free of any HTTP framework.
// It takes one decoded HTTP request and returns the answer Twilio would give: Basic auth,
// form-encoded creates of Messages and Calls validated with Twilio's error codes, fetches,
// injected faults, and, after a create, status changes announced by signed status callbacks.
// It also serves the admin API (/sandbox/ledger, /sandbox/rejected, /sandbox/pacing,
// /sandbox/faults, and /sandbox/inbound: a person's SMS to one of the accounts' numbers, posted
// signed to the numbers' SMS URL with Advanced Opt-Out applied, as TWILIO.md describes).

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/form.h"
#include "common/timing/clock.h"
#include "common/twilio/price.h"
#include "common/twilio/statuses.h"
#include "common/twilio/webhook_routes.h"
#include "nlohmann/json.hpp"
#include "tools/twilio-sandbox/callback_scheduler.h"
#include "tools/twilio-sandbox/fault_rules.h"
#include "tools/twilio-sandbox/ledger.h"

namespace klaxon::sandbox {

// A Twilio account or subaccount the sandbox serves under /2010-04-01/Accounts/<sid>/: it sees
// only its own resources and signs its own callbacks.
struct SandboxAccount {
  std::string sid;
  // Accepted for Basic auth (as the SID) and used to sign status callbacks, like a real token.
  std::string auth_token;
  // API keys (SK... -> secret), accepted for Basic auth as the key SID, like Twilio's.
  std::map<std::string, std::string> api_keys;
  // The phone numbers (E.164) and short codes it has: what IncomingPhoneNumbers.json and
  // SMS/ShortCodes.json list. Sending does not check them, as Twilio's test credentials don't.
  std::set<std::string> numbers;
};

// "AC...=+1...,12345;AC...=..." (--numbers): each account's phone numbers and short codes.
std::map<std::string, std::set<std::string>> ParseNumbers(std::string_view text);

// What Twilio charges, by destination: the rate of the longest prefix ("+44", "+1") the number
// starts with, else of "*". A message is priced per segment once sent, a call per started minute
// once completed; a failed message and an unanswered call cost nothing. The price is on the
// resource (negative, as Twilio writes a charge), never in a callback.
struct SandboxPrices {
  twilio::PrefixPrices sms_segment_micros = {{"+1", 7'900}, {"*", 50'000}};
  twilio::PrefixPrices call_minute_micros = {{"+1", 14'000}, {"*", 100'000}};
  std::string currency = "USD";
};

// "+1=0.0079,+44=0.04,*=0.05" (--sms-prices, --call-prices): each prefix ('+' and digits, or "*")
// and its rate; kInvalidArgument naming the entry that is neither.
absl::StatusOr<twilio::PrefixPrices> ParsePrices(std::string_view text);

// The account a sandbox has when its flags name none, with twilio::kSandboxAuthToken.
inline constexpr char kDefaultAccountSid[] = "AC00000000000000000000000000000000";

struct SandboxOptions {
  // The first is the one the sandbox's flags name (--account-sid, --auth-token, --api-keys).
  std::vector<SandboxAccount> accounts = {
      {.sid = kDefaultAccountSid, .auth_token = std::string(twilio::kSandboxAuthToken)}};
  // Time between a resource's status steps (queued -> sent -> delivered ...).
  absl::Duration callback_delay = absl::Milliseconds(50);
  // How long an answered call lasts: the sandbox completes it this long after the answer and
  // reports it as CallDuration (its end_time is the answer plus this).
  absl::Duration call_duration = absl::Seconds(5);
  // Upper bound of a hang fault, so hung requests cannot hold server threads forever.
  absl::Duration max_hang = absl::Seconds(30);
  // How long a sender's queue may grow. Each sender works through its messages' segments at its
  // kind's pace (a +1 long code 1 a second, toll-free 3, a short code 100, any other number or an
  // alphanumeric sender 10); a message that would wait longer than this behind the ones before it
  // is refused with 21611, as Twilio does past 10 hours (TWILIO.md). Zero: no limit.
  absl::Duration sender_queue_limit = absl::Hours(10);
  // The account's Messaging Services: each SID and its sender pool's numbers. A message sent with
  // MessagingServiceSid gets a number from the pool as Twilio's sticky sender does: the one the
  // recipient got last time from that service, else the next in turn.
  std::map<std::string, std::vector<std::string>> messaging_services;
  SandboxPrices prices;
  // How many calls a second each account's calls are dialed at (TWILIO.md, "Limits": 1 by
  // default). A call created before its account's turn stays queued until then and reports the
  // wait as queue_time, as Twilio queues calls beyond the rate. Zero: no limit.
  double calls_per_second = 1;
  // Requests one account may have in flight at once, its answer's hold included (TWILIO.md,
  // "Concurrency"): one more is answered 429 with code 20429 and never processed. Zero: no limit.
  int concurrency_limit = 0;
  // Where an inbound SMS to any of the numbers is posted (their SMS URL, e.g. Klaxon's
  // /twilio/messages/inbound). Empty: POST /sandbox/inbound is refused.
  std::string inbound_url;
};

// "MG...=+1...,+1...;MG...=..." (--messaging-services) as SandboxOptions::messaging_services;
// TwilioSandbox::Create checks what it holds.
std::map<std::string, std::vector<std::string>> ParseMessagingServices(std::string_view text);

// "SK...=secret,SK...=secret" (--api-keys) as SandboxAccount::api_keys.
std::map<std::string, std::string> ParseApiKeys(std::string_view text);
// "AC...=token[,SK...=secret...];AC...=token" (--accounts): more accounts, each with its token
// and API keys. TwilioSandbox::Create checks what they hold.
std::vector<SandboxAccount> ParseAccounts(std::string_view text);

// A call's MachineDetection parameter (TWILIO.md): off when absent.
enum class MachineDetection { kOff, kEnable, kDetectMessageEnd };

struct SandboxRequest {
  std::string method;
  std::string path;           // without the query string
  std::string query;          // raw, without '?'
  std::string authorization;  // raw Authorization header, empty when absent
  std::string body;
  bool from_loopback = false;  // admin endpoints answer loopback peers only
};

struct SandboxResponse {
  int status = 200;
  std::string body;  // JSON, empty for 204
  std::vector<std::pair<std::string, std::string>> headers;
  // The server holds the answer back this long (latency and hang faults).
  absl::Duration delay = absl::ZeroDuration();
  // An account's request counts as in flight until the server, about to send the answer, drops
  // this (the last copy's deleter gives its place back). Null for requests of no account.
  std::shared_ptr<const void> in_flight;
};

class TwilioSandbox {
 public:
  // `clock` and `sender` must outlive the sandbox.
  static absl::StatusOr<std::unique_ptr<TwilioSandbox>> Create(SandboxOptions options,
                                                               timing::Clock& clock,
                                                               CallbackSender& sender);
  ~TwilioSandbox();
  TwilioSandbox(const TwilioSandbox&) = delete;
  TwilioSandbox& operator=(const TwilioSandbox&) = delete;

  // Thread-safe.
  SandboxResponse Handle(const SandboxRequest& request);

  Ledger& ledger() { return ledger_; }
  FaultRules& faults() { return faults_; }

 private:
  struct Message {
    std::string sid;
    std::string account_sid;
    std::string to;
    std::string from;
    std::string messaging_service_sid;
    std::string pool_number;  // the number a Messaging Service picked; `from` once queued
    std::string body;
    std::string status;
    std::string status_callback;
    int error_code = 0;  // 0 while none
    int num_segments = 1;
    std::optional<int64_t> price_micros;  // what it cost, once priced
    absl::Time date_created;
    absl::Time date_updated;
    std::optional<absl::Time> date_sent;
  };
  struct Call {
    std::string sid;
    std::string account_sid;
    std::string to;
    std::string from;
    std::string status;
    std::string status_callback;
    std::set<std::string> callback_events;  // initiated, ringing, answered, completed
    MachineDetection machine_detection = MachineDetection::kOff;
    int sequence_number = 0;  // callbacks sent so far
    absl::Time date_created;
    absl::Time date_updated;
    absl::Duration queue_time;              // how long it waits for its account's turn
    std::optional<absl::Time> start_time;   // when it was dialed
    std::optional<absl::Time> answer_time;  // when it was answered
    std::optional<absl::Time> end_time;
    std::optional<int64_t> duration_seconds;
    // Who picks up (a delivery fault's choice), and what machine detection reported, once
    // answered when it was asked for.
    twilio::AnsweredBy answerer = twilio::AnsweredBy::kHuman;
    std::optional<twilio::AnsweredBy> answered_by;
    std::optional<int64_t> price_micros;  // what it cost, once completed
    std::string gather_action;  // where a key press of the call's TwiML <Gather> is posted
    std::string digits;         // what the callee presses once it answers (a key-press fault)
  };
  using FormParams = http::FormParams;

  TwilioSandbox(SandboxOptions options, timing::Clock& clock, CallbackSender& sender);

  SandboxResponse HandleAdmin(const SandboxRequest& request);
  SandboxResponse HandleApi(const SandboxRequest& request);
  // An authenticated request of `account` that its concurrency limit let through; `parts` is its
  // path split at '/', `kind` what a POST would create, `params` its body (empty when it did not
  // decode: `decoded` says why).
  SandboxResponse ServeAccount(const SandboxRequest& request, const std::vector<std::string>& parts,
                               const SandboxAccount& account, ResourceKind kind,
                               const FormParams& params, const absl::Status& decoded);
  // The account whose SID is `sid`, nullptr for none.
  const SandboxAccount* AccountOf(std::string_view sid) const;
  SandboxResponse CreateMessage(const SandboxAccount& account, const FormParams& params);
  // POST /sandbox/inbound: {"from": the person, "to": one of the numbers, "body": the text}.
  SandboxResponse ReceiveMessage(const std::string& json);
  // The number `service`'s pool sends a message to `to` from. Callers hold mutex_.
  std::string PickFromPool(const std::string& service, const std::string& to);
  SandboxResponse CreateCall(const SandboxAccount& account, const FormParams& params);
  // GET Accounts/{sid}.json, IncomingPhoneNumbers.json and SMS/ShortCodes.json, and the Messaging
  // API's /v1/Services/{sid}: what `klaxon-admin check --online` asks. The Messaging Services are
  // the first account's.
  SandboxResponse FetchAccount(const SandboxAccount& account) const;
  SandboxResponse ListNumbers(const SandboxAccount& account, const std::string& query_text,
                              bool short_codes) const;
  SandboxResponse FetchMessagingService(const SandboxRequest& request) const;
  // Another account's resource is not found, as on Twilio.
  SandboxResponse FetchMessage(const SandboxAccount& account, const std::string& sid,
                               const std::string& path);
  SandboxResponse FetchCall(const SandboxAccount& account, const std::string& sid,
                            const std::string& path);
  // GET Messages.json / Calls.json: Twilio's list filters (To, From, DateSent / StartTime with
  // its < and > forms, on UTC days), newest first, paged by PageSize and Page.
  SandboxResponse ListMessages(const SandboxAccount& account, const std::string& query);
  SandboxResponse ListCalls(const SandboxAccount& account, const std::string& query);
  enum class Queued { kInTime, kFull, kExpires };
  // Queues `body`'s segments on `sender` (a number, or a short code or alphanumeric ID). Takes
  // nothing when they would wait longer than options_.sender_queue_limit (kFull) or than the
  // message's `validity_period` (kExpires: Twilio keeps the message queued until then, and never
  // sends it). Takes mutex_.
  Queued TakeQueueSpace(const std::string& sender, const std::string& body,
                        absl::Duration validity_period);
  // How long a call of `account` created now waits to be dialed, its turn taken at
  // options_.calls_per_second. Takes mutex_.
  absl::Duration TakeDialTurn(const std::string& account);
  // The resource as Twilio answers it. Callers hold mutex_.
  nlohmann::json MessageJson(const Message& message) const;
  nlohmann::json CallJson(const Call& call) const;
  // Returns the fault's answer when a request-time fault rejects the request; applies latency
  // and accepted hangs to `delay`.
  std::optional<SandboxResponse> ApplyRequestFault(const SandboxAccount& account, ResourceKind kind,
                                                   const std::string& to, const FormParams& params,
                                                   absl::Duration& delay);
  // `account`: the account the request was made on, empty when it authenticated as none.
  SandboxResponse Reject(std::string_view account, ResourceKind kind, const std::string& to,
                         const FormParams& params, const std::string& reason, int status, int code,
                         const std::string& message);

  // Moves the message to `status`; its callback, signed, when it has a StatusCallback.
  std::optional<StatusCallback> AdvanceMessage(const std::string& sid, const std::string& status,
                                               int error_code);
  // Moves the call to `status`; its callback when it asked for that event. The answer schedules
  // the rest of the call: a key press, if any, and the hang-up, options_.call_duration later.
  void AdvanceCall(const std::string& sid, const std::string& status);
  void ScheduleHangUp(const std::string& sid);  // Takes mutex_.
  // The callee presses `digits`: posts them to the call's Gather action, signed like Twilio.
  void PressKeys(const std::string& sid, const std::string& digits);
  // Signed with the token of the account whose SID is params' AccountSid.
  StatusCallback Signed(const std::string& url, const std::string& idempotency_token,
                        FormParams params) const;
  void SendSigned(const std::string& url, const std::string& idempotency_token, FormParams params);
  std::string NewSid(const char* prefix);

  const SandboxOptions options_;
  timing::Clock& clock_;
  CallbackSender& sender_;
  Ledger ledger_;
  FaultRules faults_;

  std::mutex mutex_;  // guards the resources and the SID generator
  std::mt19937_64 random_;
  std::map<std::string, Message> messages_;
  // Advanced Opt-Out: (our number or its Messaging Service, the person) pairs after the person
  // texted STOP to it, until they text START; a message between them is refused 21610.
  std::set<std::pair<std::string, std::string>> opted_out_;
  std::map<std::string, Call> calls_;
  // The number each recipient got last from each Messaging Service, and each pool's turn.
  std::map<std::pair<std::string, std::string>, std::string> sticky_senders_;
  std::map<std::string, size_t> pool_turns_;
  std::map<std::string, absl::Time> sender_free_at_;  // when each sender's queue is worked off
  std::map<std::string, absl::Time> next_dial_;       // each account's next turn to dial a call
  // Each account's requests in flight, by account SID (every account's entry made at start).
  std::map<std::string, std::atomic<int>> in_flight_;

  // Last, so it stops (and its tasks stop touching the members above) first.
  CallbackScheduler scheduler_;
};

}  // namespace klaxon::sandbox
