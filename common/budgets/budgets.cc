#include "common/budgets/budgets.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/twilio/price.h"
#include "common/twilio/segments.h"
#include "nlohmann/json.hpp"

namespace klaxon::budgets {
namespace {

using json = nlohmann::json;

constexpr const char* kFileFields[] = {"currency", "exempt", "budgets", "prices"};
constexpr const char* kBudgetFields[] = {"name", "caller", "account", "period", "limit"};
constexpr const char* kPriceChannels[] = {"sms", "voice"};
// The most a segment or a call minute may cost: more is a typo.
constexpr int64_t kMaxPrice = 1'000 * twilio::kMicrosPerUnit;

bool IsCurrency(const std::string& code) {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool IsPrefix(const std::string& text) {
  if (text == "*") return true;
  return text.size() >= 2 && text.size() <= 16 && text[0] == '+' &&
         std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Collects every problem of the file, each prefixed by where it is.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  void Problem(const std::string& where, const std::string& problem) {
    problems_.push_back(absl::StrCat(where, ": ", problem));
  }

  void OnlyFields(const json& object, const std::string& where, const auto& known) {
    for (const auto& [field, value] : object.items()) {
      if (std::find(std::begin(known), std::end(known), field) == std::end(known)) {
        Problem(absl::StrCat(where, field),
                absl::StrCat("is not a field here (", absl::StrJoin(known, ", "), ")"));
      }
    }
  }

  // The string at `field`, "" when absent (and a problem when not a string).
  std::string String(const json& object, const std::string& where, const std::string& field) {
    const auto found = object.find(field);
    if (found == object.end()) return "";
    if (!found->is_string()) {
      Problem(absl::StrCat(where, field), "is not a string");
      return "";
    }
    return found->get<std::string>();
  }

  // A limit in micros, more than 0; 0 with a problem otherwise.
  int64_t Limit(const std::string& where, const std::string& text) {
    const absl::StatusOr<int64_t> micros = twilio::ParseMicros(text);
    if (!micros.ok()) {
      Problem(where, std::string(micros.status().message()));
      return 0;
    }
    if (*micros <= 0) Problem(where, absl::StrCat("\"", text, "\" must be more than 0"));
    return std::max<int64_t>(*micros, 0);
  }

  // A price in micros, from 0 to kMaxPrice; 0 with a problem otherwise. An estimate is a price
  // times at most 24 segments, so it stays far below the ledger's 2^53.
  int64_t Price(const std::string& where, const std::string& text) {
    const absl::StatusOr<int64_t> micros = twilio::ParseMicros(text);
    if (!micros.ok()) {
      Problem(where, std::string(micros.status().message()));
      return 0;
    }
    if (*micros < 0 || *micros > kMaxPrice) {
      Problem(where,
              absl::StrCat("\"", text, "\" must be from 0 to ", twilio::FormatMicros(kMaxPrice)));
      return 0;
    }
    return *micros;
  }

  absl::Status Result() const {
    if (problems_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(path_, " (KLAXON_BUDGETS_FILE): ", absl::StrJoin(problems_, "; ")));
  }

 private:
  const std::string path_;
  std::vector<std::string> problems_;
};

}  // namespace

absl::Time PeriodStart(Period period, absl::Time at) {
  const absl::CivilSecond civil = absl::ToCivilSecond(at, absl::UTCTimeZone());
  return period == Period::kDay ? absl::FromCivil(absl::CivilDay(civil), absl::UTCTimeZone())
                                : absl::FromCivil(absl::CivilMonth(civil), absl::UTCTimeZone());
}

absl::Time PeriodEnd(Period period, absl::Time at) {
  const absl::CivilSecond civil = absl::ToCivilSecond(at, absl::UTCTimeZone());
  return period == Period::kDay ? absl::FromCivil(absl::CivilDay(civil) + 1, absl::UTCTimeZone())
                                : absl::FromCivil(absl::CivilMonth(civil) + 1, absl::UTCTimeZone());
}

absl::StatusOr<BudgetSettings> BudgetSettings::Parse(std::string_view text, std::string_view path) {
  Reader reader{std::string(path)};
  const json file = json::parse(std::string(text), nullptr, /*allow_exceptions=*/false);
  if (file.is_discarded() || !file.is_object()) {
    reader.Problem("the file", "is not a JSON object");
    return reader.Result();
  }
  reader.OnlyFields(file, "", kFileFields);
  BudgetSettings settings;
  settings.currency_ = reader.String(file, "", "currency");
  if (!IsCurrency(settings.currency_)) {
    reader.Problem("currency", "is required: an ISO 4217 code in capitals, such as USD");
  }
  if (const std::string exempt = reader.String(file, "", "exempt"); !exempt.empty()) {
    absl::StatusOr<limits::PriorityExemption> parsed = limits::PriorityExemption::Parse(exempt);
    if (parsed.ok()) {
      settings.exempt_ = *parsed;
    } else {
      reader.Problem("exempt", std::string(parsed.status().message()));
    }
  }

  const json budgets = file.value("budgets", json::array());
  if (!budgets.is_array()) reader.Problem("budgets", "is not an array");
  std::set<std::string> names;
  for (size_t i = 0; budgets.is_array() && i < budgets.size(); ++i) {
    const json& entry = budgets[i];
    std::string where = absl::StrCat("budgets[", i, "]");
    if (!entry.is_object()) {
      reader.Problem(where, "is not an object");
      continue;
    }
    Budget budget;
    budget.name = reader.String(entry, where + ".", "name");
    if (!budget.name.empty()) absl::StrAppend(&where, " (\"", budget.name, "\")");
    reader.OnlyFields(entry, where + ".", kBudgetFields);
    if (budget.name.empty()) reader.Problem(where + ".name", "is required, a non-empty string");
    if (!budget.name.empty() && !names.insert(budget.name).second) {
      reader.Problem(where + ".name", "is taken by an earlier budget");
    }
    budget.caller = reader.String(entry, where + ".", "caller");
    budget.account = reader.String(entry, where + ".", "account");
    if (budget.caller.empty() == budget.account.empty()) {
      reader.Problem(where, "needs exactly one of caller and account: whose spend it caps");
    }
    const std::string period = reader.String(entry, where + ".", "period");
    if (period == "day" || period == "month") {
      budget.period = period == "day" ? Period::kDay : Period::kMonth;
    } else {
      reader.Problem(where + ".period", "is required: day or month (UTC)");
    }
    budget.limit_micros =
        reader.Limit(where + ".limit", reader.String(entry, where + ".", "limit"));
    settings.budgets_.push_back(std::move(budget));
  }

  const json prices = file.value("prices", json::object());
  if (!prices.is_object()) reader.Problem("prices", "is not an object");
  if (prices.is_object()) reader.OnlyFields(prices, "prices.", kPriceChannels);
  for (const char* channel : kPriceChannels) {
    const std::string where = absl::StrCat("prices.", channel);
    twilio::PrefixPrices& rates = std::string_view(channel) == "sms" ? settings.sms_segment_micros_
                                                                     : settings.call_minute_micros_;
    const json table = prices.is_object() ? prices.value(channel, json::object()) : json::object();
    if (!table.is_object()) {
      reader.Problem(where, "is not an object of prefixes and prices");
      continue;
    }
    for (const auto& [prefix, price] : table.items()) {
      const std::string at = absl::StrCat(where, "[\"", prefix, "\"]");
      if (!IsPrefix(prefix)) reader.Problem(at, "is not \"+\" and 1 to 15 digits, or \"*\"");
      if (!price.is_string()) {
        reader.Problem(at, "is not a string such as \"0.0079\"");
        continue;
      }
      rates[prefix] = reader.Price(at, price.get<std::string>());
    }
    if (!settings.budgets_.empty() && !rates.contains("*")) {
      reader.Problem(where, "needs a \"*\" price: budgets estimate every send before it goes");
    }
  }
  if (absl::Status result = reader.Result(); !result.ok()) return result;
  return settings;
}

std::vector<const Budget*> BudgetSettings::For(std::string_view caller,
                                               std::string_view account) const {
  std::vector<const Budget*> applying;
  for (const Budget& budget : budgets_) {
    if (!budget.caller.empty() && budget.caller == caller) applying.push_back(&budget);
  }
  for (const Budget& budget : budgets_) {
    if (!budget.account.empty() && budget.account == account) applying.push_back(&budget);
  }
  return applying;
}

int64_t BudgetSettings::Estimate(types::v1::Channel channel, std::string_view recipient,
                                 std::string_view text) const {
  if (channel == types::v1::CHANNEL_VOICE) return twilio::PriceFor(call_minute_micros_, recipient);
  return twilio::SmsSegments(text) * twilio::PriceFor(sms_segment_micros_, recipient);
}

std::string BudgetSettings::Describe(const Budget& budget) const {
  return absl::StrCat(twilio::FormatMicros(budget.limit_micros), " ", currency_, " a ",
                      budget.period == Period::kDay ? "day" : "month", " for ",
                      budget.caller.empty() ? "account " : "caller ",
                      budget.caller.empty() ? budget.account : budget.caller);
}

}  // namespace klaxon::budgets
