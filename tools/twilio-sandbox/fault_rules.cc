#include "tools/twilio-sandbox/fault_rules.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::sandbox {
namespace {

struct TypeName {
  FaultType type;
  const char* name;
};
constexpr TypeName kTypeNames[] = {
    {FaultType::kRateLimit, "rate_limit"}, {FaultType::kServerError, "server_error"},
    {FaultType::kLatency, "latency"},      {FaultType::kHang, "hang"},
    {FaultType::kError, "error"},          {FaultType::kDelivery, "delivery"},
};

const char* NameOf(FaultType type) {
  for (const TypeName& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "unknown";
}

template <typename T>
absl::StatusOr<std::optional<T>> Optional(const nlohmann::json& json, const char* field) {
  const auto it = json.find(field);
  if (it == json.end() || it->is_null()) return std::optional<T>();
  try {
    return std::optional<T>(it->get<T>());
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault rule field '", field, "' has the wrong type"));
  }
}

bool Matches(const FaultRule& rule, ResourceKind kind, std::string_view to,
             std::string_view account) {
  return (!rule.kind || *rule.kind == kind) && (!rule.to || *rule.to == to) &&
         (!rule.account || *rule.account == account);
}

}  // namespace

absl::StatusOr<FaultRule> FaultRuleFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("a fault rule must be a JSON object");
  FaultRule rule;

  auto type = Optional<std::string>(json, "type");
  if (!type.ok()) return type.status();
  if (!type->has_value()) return absl::InvalidArgumentError("fault rule needs a 'type'");
  const auto named = std::find_if(std::begin(kTypeNames), std::end(kTypeNames),
                                  [&](const TypeName& entry) { return **type == entry.name; });
  if (named == std::end(kTypeNames)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown fault type '", **type, "'"));
  }
  rule.type = named->type;

  auto to = Optional<std::string>(json, "to");
  auto account = Optional<std::string>(json, "account");
  auto kind = Optional<std::string>(json, "kind");
  auto count = Optional<int64_t>(json, "count");
  auto status = Optional<int>(json, "status");
  auto code = Optional<int>(json, "code");
  auto message = Optional<std::string>(json, "message");
  auto retry_after_s = Optional<int64_t>(json, "retry_after_s");
  auto latency_ms = Optional<int64_t>(json, "latency_ms");
  auto hang_ms = Optional<int64_t>(json, "hang_ms");
  auto accept = Optional<bool>(json, "accept");
  auto outcome = Optional<std::string>(json, "outcome");
  auto error_code = Optional<int>(json, "error_code");
  auto digits = Optional<std::string>(json, "digits");
  auto callbacks = Optional<std::string>(json, "callbacks");
  auto answered_by = Optional<std::string>(json, "answered_by");
  for (const absl::Status& field :
       {to.status(), account.status(), kind.status(), count.status(), status.status(),
        code.status(), message.status(), retry_after_s.status(), latency_ms.status(),
        hang_ms.status(), accept.status(), outcome.status(), error_code.status(), digits.status(),
        callbacks.status(), answered_by.status()}) {
    if (!field.ok()) return field;
  }

  rule.to = *to;
  rule.account = *account;
  if (kind->has_value()) {
    if (**kind == "message") {
      rule.kind = ResourceKind::kMessage;
    } else if (**kind == "call") {
      rule.kind = ResourceKind::kCall;
    } else {
      return absl::InvalidArgumentError("fault rule 'kind' must be 'message' or 'call'");
    }
  }
  if (count->has_value()) {
    if (**count < 1) return absl::InvalidArgumentError("fault rule 'count' must be at least 1");
    rule.remaining = **count;
  }
  rule.message = message->value_or("");
  rule.accept = accept->value_or(false);

  switch (rule.type) {
    case FaultType::kRateLimit:
      rule.http_status = status->value_or(429);
      rule.code = code->value_or(20429);
      if (rule.message.empty()) rule.message = "Too Many Requests";
      rule.retry_after = absl::Seconds(retry_after_s->value_or(1));
      break;
    case FaultType::kServerError:
      rule.http_status = status->value_or(500);
      if (rule.http_status < 500 || rule.http_status > 599) {
        return absl::InvalidArgumentError("server_error 'status' must be 5xx");
      }
      rule.code = code->value_or(rule.http_status == 503 ? 20503 : 20500);
      if (rule.message.empty()) {
        rule.message = rule.http_status == 503 ? "Service Unavailable" : "Internal Server Error";
      }
      break;
    case FaultType::kLatency:
      if (!latency_ms->has_value() || **latency_ms < 0) {
        return absl::InvalidArgumentError("latency rule needs 'latency_ms' >= 0");
      }
      rule.latency = absl::Milliseconds(**latency_ms);
      break;
    case FaultType::kHang:
      rule.hang = absl::Milliseconds(hang_ms->value_or(30000));
      rule.http_status = 503;
      rule.code = 20503;
      rule.message = "Service Unavailable";
      break;
    case FaultType::kError:
      if (!code->has_value()) return absl::InvalidArgumentError("error rule needs a 'code'");
      rule.code = **code;
      rule.http_status = status->value_or(400);
      if (rule.http_status < 400 || rule.http_status > 599) {
        return absl::InvalidArgumentError("error rule 'status' must be 4xx or 5xx");
      }
      if (rule.message.empty()) rule.message = absl::StrCat("Sandbox injected error ", rule.code);
      break;
    case FaultType::kDelivery: {
      if (!outcome->has_value()) {
        return absl::InvalidArgumentError("delivery rule needs an 'outcome'");
      }
      rule.outcome = **outcome;
      const bool message_outcome =
          rule.outcome == "delivered" || rule.outcome == "undelivered" || rule.outcome == "failed";
      const bool call_outcome = rule.outcome == "answered" || rule.outcome == "busy" ||
                                rule.outcome == "no-answer" || rule.outcome == "failed" ||
                                rule.outcome == "machine" || rule.outcome == "key-press";
      if (!message_outcome && !call_outcome) {
        return absl::InvalidArgumentError(
            "delivery 'outcome' must be delivered, undelivered, failed, answered, busy, "
            "no-answer, machine or key-press");
      }
      if (answered_by->has_value()) {
        rule.answered_by = twilio::ParseAnsweredBy(**answered_by);
        if (!rule.answered_by || *rule.answered_by == twilio::AnsweredBy::kMachine) {
          return absl::InvalidArgumentError(
              "delivery 'answered_by' must be human, machine_start, machine_end_beep, "
              "machine_end_silence, machine_end_other, fax or unknown");
        }
        if (rule.outcome != "answered") {
          return absl::InvalidArgumentError(
              "delivery 'answered_by' goes with outcome 'answered' ('machine' is the machine "
              "MachineDetection reports)");
        }
      }
      if (rule.outcome == "key-press") {
        rule.digits = digits->value_or("1");
        if (rule.digits.empty() ||
            rule.digits.find_first_not_of("0123456789*#") != std::string::npos) {
          return absl::InvalidArgumentError("key-press 'digits' must be 0-9, * or #");
        }
      }
      if (!rule.kind) {
        if (!message_outcome) rule.kind = ResourceKind::kCall;
        if (!call_outcome) rule.kind = ResourceKind::kMessage;
      }
      rule.error_code = error_code->value_or(rule.outcome == "failed" ? 30008 : 30003);
      if (callbacks->has_value()) {
        if (**callbacks == "duplicated") {
          rule.callbacks = CallbackOrder::kDuplicated;
        } else if (**callbacks == "reversed") {
          rule.callbacks = CallbackOrder::kReversed;
        } else if (**callbacks != "in_order") {
          return absl::InvalidArgumentError(
              "delivery 'callbacks' must be in_order, duplicated or reversed");
        }
        if (rule.callbacks != CallbackOrder::kInOrder && rule.kind != ResourceKind::kMessage) {
          return absl::InvalidArgumentError(
              "delivery 'callbacks' other than in_order is for messages only (kind: message)");
        }
      }
      break;
    }
  }
  return rule;
}

nlohmann::json FaultRuleToJson(const FaultRule& rule) {
  nlohmann::json json = {{"id", rule.id}, {"type", NameOf(rule.type)}};
  if (rule.to) json["to"] = *rule.to;
  if (rule.account) json["account"] = *rule.account;
  if (rule.kind) json["kind"] = *rule.kind == ResourceKind::kMessage ? "message" : "call";
  if (rule.remaining) json["count"] = *rule.remaining;
  switch (rule.type) {
    case FaultType::kRateLimit:
      json["retry_after_s"] = absl::ToInt64Seconds(rule.retry_after);
      [[fallthrough]];
    case FaultType::kServerError:
    case FaultType::kError:
      json["status"] = rule.http_status;
      json["code"] = rule.code;
      json["message"] = rule.message;
      break;
    case FaultType::kLatency:
      json["latency_ms"] = absl::ToInt64Milliseconds(rule.latency);
      break;
    case FaultType::kHang:
      json["hang_ms"] = absl::ToInt64Milliseconds(rule.hang);
      json["accept"] = rule.accept;
      break;
    case FaultType::kDelivery:
      json["outcome"] = rule.outcome;
      json["error_code"] = rule.error_code;
      if (!rule.digits.empty()) json["digits"] = rule.digits;
      if (rule.answered_by) json["answered_by"] = twilio::ToString(*rule.answered_by);
      json["callbacks"] = rule.callbacks == CallbackOrder::kDuplicated ? "duplicated"
                          : rule.callbacks == CallbackOrder::kReversed ? "reversed"
                                                                       : "in_order";
      break;
  }
  return json;
}

absl::StatusOr<std::vector<FaultRule>> ParseFaultRules(std::string_view text) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("fault rules are not valid JSON");
  std::vector<FaultRule> rules;
  if (json.is_array()) {
    for (const nlohmann::json& item : json) {
      auto rule = FaultRuleFromJson(item);
      if (!rule.ok()) return rule.status();
      rules.push_back(*std::move(rule));
    }
  } else {
    auto rule = FaultRuleFromJson(json);
    if (!rule.ok()) return rule.status();
    rules.push_back(*std::move(rule));
  }
  return rules;
}

int64_t FaultRules::Add(FaultRule rule) {
  std::lock_guard<std::mutex> lock(mutex_);
  rule.id = next_id_++;
  rules_.push_back(std::move(rule));
  return rules_.back().id;
}

bool FaultRules::Remove(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::erase_if(rules_, [id](const FaultRule& rule) { return rule.id == id; }) > 0;
}

void FaultRules::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.clear();
}

std::vector<FaultRule> FaultRules::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return rules_;
}

std::optional<FaultRule> FaultRules::TakeRequestFault(ResourceKind kind, std::string_view to,
                                                      std::string_view account) {
  return Take(kind, to, account, /*delivery=*/false);
}

std::optional<FaultRule> FaultRules::TakeDeliveryFault(ResourceKind kind, std::string_view to,
                                                       std::string_view account) {
  return Take(kind, to, account, /*delivery=*/true);
}

std::optional<FaultRule> FaultRules::Take(ResourceKind kind, std::string_view to,
                                          std::string_view account, bool delivery) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    if ((it->type == FaultType::kDelivery) != delivery || !Matches(*it, kind, to, account)) {
      continue;
    }
    FaultRule taken = *it;
    if (it->remaining && --*it->remaining == 0) rules_.erase(it);
    return taken;
  }
  return std::nullopt;
}

}  // namespace klaxon::sandbox
