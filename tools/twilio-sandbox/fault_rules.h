#pragma once
// Fault injection for the Twilio sandbox: rules that make requests fail the ways Twilio fails
// (429 storms, 5xx, slow or hung answers, a chosen error code for one number) or make a
// delivery end badly (undelivered, failed, busy ...). Rules come from a JSON file at start and
// from the admin endpoint; this unit parses them and picks the one that applies to a request.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/twilio/statuses.h"
#include "nlohmann/json.hpp"

namespace klaxon::sandbox {

enum class ResourceKind { kMessage, kCall };

enum class FaultType {
  kRateLimit,    // 429, code 20429, Retry-After
  kServerError,  // 500 or 503 with a Twilio error body
  kLatency,      // answers normally after a delay
  kHang,         // holds the request unanswered for `hang`, then answers 503
  kError,        // a chosen Twilio error (status + code), e.g. 21610 for one number
  kDelivery,     // accepted, but the callbacks end in `outcome` with `error_code`
};

// How a message's status callbacks reach Klaxon. Twilio's may "arrive out of order or twice"
// (TWILIO.md); a delivery rule can make the sandbox's do so too.
enum class CallbackOrder {
  kInOrder,     // each status's callback once, when the message reaches it
  kDuplicated,  // each twice, the copy with the same I-Twilio-Idempotency-Token (a retry)
  kReversed,    // every status reached at once, their callbacks sent last first
};

struct FaultRule {
  int64_t id = 0;  // assigned by FaultRules::Add
  FaultType type = FaultType::kError;
  std::optional<std::string> to;  // matches every destination when unset
  // An account SID: only requests made on that account (an account-wide outage); every account's
  // when unset.
  std::optional<std::string> account;
  std::optional<ResourceKind> kind;  // matches messages and calls when unset
  std::optional<int64_t> remaining;  // requests left to affect; unlimited when unset
  int http_status = 0;
  int code = 0;
  std::string message;
  absl::Duration retry_after = absl::ZeroDuration();
  absl::Duration latency = absl::ZeroDuration();
  absl::Duration hang = absl::ZeroDuration();
  // kHang only: the request is processed (ledger, resource, callbacks) before the answer is
  // held back, which is how a client timeout with an unknown outcome looks from Klaxon.
  bool accept = false;
  // kDelivery: delivered (as without the rule), undelivered, failed (messages); answered (as
  // without the rule, or by `answered_by`), busy, no-answer, failed, machine (answered by an
  // answering machine), key-press (a human answers and presses `digits` in the call's <Gather>)
  // (calls).
  std::string outcome;
  // kDelivery answered: who picks up, reported as AnsweredBy when the call asked for machine
  // detection (a callback's word: never the resource's plain kMachine); a human when unset.
  std::optional<twilio::AnsweredBy> answered_by;
  CallbackOrder callbacks = CallbackOrder::kInOrder;  // kDelivery of a message
  int error_code = 0;  // kDelivery: ErrorCode of a message's final callback
  std::string digits;  // kDelivery key-press: what the callee presses
};

// Parses one rule object. Fields: type (rate_limit, server_error, latency, hang, error,
// delivery), to, account, kind (message, call), count, status, code, message, retry_after_s,
// latency_ms, hang_ms, accept, outcome, error_code, digits, answered_by (human, machine_start,
// machine_end_beep, machine_end_silence, machine_end_other, fax, unknown), callbacks (in_order,
// duplicated, reversed). Unset fields get Twilio's values.
absl::StatusOr<FaultRule> FaultRuleFromJson(const nlohmann::json& json);
nlohmann::json FaultRuleToJson(const FaultRule& rule);
// Parses a rule object or an array of them (the faults file, the admin POST body).
absl::StatusOr<std::vector<FaultRule>> ParseFaultRules(std::string_view text);

// Thread-safe rule set. Rules are tried in the order they were added.
class FaultRules {
 public:
  int64_t Add(FaultRule rule);
  bool Remove(int64_t id);
  void Clear();
  std::vector<FaultRule> List() const;

  // The first request-time rule (every type but kDelivery) matching a request to `to` made on
  // `account`, counted against its `remaining`; a rule whose count runs out is removed.
  std::optional<FaultRule> TakeRequestFault(ResourceKind kind, std::string_view to,
                                            std::string_view account);
  // The first kDelivery rule matching an accepted request, counted the same way.
  std::optional<FaultRule> TakeDeliveryFault(ResourceKind kind, std::string_view to,
                                             std::string_view account);

 private:
  std::optional<FaultRule> Take(ResourceKind kind, std::string_view to, std::string_view account,
                                bool delivery);

  mutable std::mutex mutex_;
  int64_t next_id_ = 1;
  std::vector<FaultRule> rules_;
};

}  // namespace klaxon::sandbox
