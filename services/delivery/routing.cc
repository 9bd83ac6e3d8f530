#include "services/delivery/routing.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/channels/channel_switches.h"
#include "common/phone/phone.h"
#include "nlohmann/json.hpp"

namespace klaxon::delivery {
namespace {

using nlohmann::json;

constexpr const char* kFields[] = {"name",    "countries",  "prefixes", "channels",
                                   "callers", "priorities", "accounts", "senders"};

// "low", "normal", "high", "critical" as their enum; false for any other word.
bool ParsePriority(const std::string& word, types::v1::Priority& priority) {
  if (word.empty() || absl::AsciiStrToLower(word) != word) return false;
  return types::v1::Priority_Parse(absl::StrCat("PRIORITY_", absl::AsciiStrToUpper(word)),
                                   &priority) &&
         priority != types::v1::PRIORITY_UNSPECIFIED;
}

template <typename T>
bool Contains(const std::vector<T>& values, const T& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string PriorityWord(types::v1::Priority priority) {
  if (priority == types::v1::PRIORITY_UNSPECIFIED) priority = types::v1::PRIORITY_NORMAL;
  return absl::AsciiStrToLower(types::v1::Priority_Name(priority).substr(9));
}

bool IsPrefix(std::string_view text) {
  if (text.size() < 2 || text.size() > 16 || text[0] != '+') return false;
  return std::all_of(text.begin() + 1, text.end(), absl::ascii_isdigit);
}

// Reads one rule, appending each problem (prefixed by `where`) to `problems`.
class RuleReader {
 public:
  RuleReader(std::string where, types::v1::Channel channel,
             const std::vector<PacedSender>& configured, std::vector<std::string>& problems)
      : where_(std::move(where)), channel_(channel), configured_(configured), problems_(problems) {}

  RoutingRule Read(const json& entry) {
    RoutingRule rule;
    if (!entry.is_object()) {
      Problem("", "is not an object");
      return rule;
    }
    for (const auto& [field, value] : entry.items()) {
      if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields)) {
        Problem(field, absl::StrCat("is not a rule field (", absl::StrJoin(kFields, ", "), ")"));
      }
    }
    if (!entry.contains("name") || !entry["name"].is_string() ||
        entry["name"].get<std::string>().empty()) {
      Problem("name", "is required, a non-empty string");
    } else {
      rule.name = entry["name"].get<std::string>();
    }
    for (const std::string& country : Strings(entry, "countries")) {
      if (phone::IsRegion(country)) {
        rule.countries.push_back(country);
      } else {
        Problem("countries", absl::StrCat("\"", country, "\" is not an ISO 3166 country code"));
      }
    }
    for (const std::string& prefix : Strings(entry, "prefixes")) {
      if (IsPrefix(prefix)) {
        rule.prefixes.push_back(prefix);
      } else {
        Problem("prefixes", absl::StrCat("\"", prefix, "\" is not \"+\" and 1 to 15 digits"));
      }
    }
    for (const std::string& channel : Strings(entry, "channels")) {
      absl::StatusOr<types::v1::Channel> parsed = channels::ParseChannelName(channel);
      if (parsed.ok()) {
        rule.channels.push_back(*parsed);
      } else {
        Problem("channels", std::string(parsed.status().message()));
      }
    }
    rule.callers = Strings(entry, "callers");
    for (const std::string& word : Strings(entry, "priorities")) {
      types::v1::Priority priority{};
      if (ParsePriority(word, priority)) {
        rule.priorities.push_back(priority);
      } else {
        Problem("priorities",
                absl::StrCat("\"", word, "\" is not a priority (low, normal, high, critical)"));
      }
    }
    const std::vector<std::string> senders = Strings(entry, "senders");
    if (senders.empty()) Problem("senders", "is required: the senders this rule sends from");
    const bool applies = rule.channels.empty() || Contains(rule.channels, channel_);
    std::vector<PacedSender> chosen;
    std::set<std::string> named;
    for (const std::string& address : senders) {
      if (!named.insert(address).second) {
        Problem("senders", absl::StrCat("\"", address, "\" is named twice"));
        continue;
      }
      auto found =
          std::find_if(configured_.begin(), configured_.end(),
                       [&](const PacedSender& sender) { return sender.address == address; });
      if (found != configured_.end()) {
        chosen.push_back(*found);
      } else if (applies) {
        Problem("senders", absl::StrCat("\"", address, "\" is not one of ",
                                        std::string(SendersVariable(channel_)),
                                        " (a rule for several channels names senders of each)"));
      }
    }
    if (applies) RefuseNorthAmericaForAlphanumeric(rule, chosen);
    const std::vector<std::string> accounts = Strings(entry, "accounts");
    rule.routes = ByAccount(chosen, accounts);
    if (applies) {
      for (const AccountRoute& route : rule.routes) {
        if (route.senders.empty()) {
          Problem("accounts", absl::StrCat("\"", route.account,
                                           "\" has none of the rule's senders on this channel"));
        }
      }
      for (const PacedSender& sender : chosen) {
        if (!accounts.empty() && !Contains(accounts, sender.account)) {
          Problem("senders",
                  absl::StrCat("\"", sender.address, "\" belongs to account \"", sender.account,
                               "\", which the rule's accounts leave out"));
        }
      }
    }
    return rule;
  }

 private:
  // US and Canadian numbers cannot receive an alphanumeric sender ID: a rule with one must name
  // destinations, none of them in +1.
  void RefuseNorthAmericaForAlphanumeric(const RoutingRule& rule,
                                         const std::vector<PacedSender>& senders) {
    for (const PacedSender& sender : senders) {
      if (sender.kind != SenderKind::kAlphanumeric) continue;
      const std::string why = absl::StrCat("alphanumeric sender ID \"", sender.address,
                                           "\" cannot send to US or Canadian numbers (+1)");
      if (rule.countries.empty() && rule.prefixes.empty()) {
        Problem("senders", why + ": the rule needs countries or prefixes that leave out +1");
      }
      for (const std::string& prefix : rule.prefixes) {
        if (prefix.starts_with("+1")) Problem("prefixes", absl::StrCat("\"", prefix, "\": ", why));
      }
      for (const std::string& country : rule.countries) {
        if (phone::IsNorthAmericanRegion(country)) {
          Problem("countries", absl::StrCat("\"", country, "\": ", why));
        }
      }
    }
  }

  void Problem(const std::string& field, const std::string& problem) {
    problems_.push_back(field.empty() ? absl::StrCat(where_, " ", problem)
                                      : absl::StrCat(where_, " ", field, ": ", problem));
  }

  // The field's strings; a problem when it is not an array of non-empty strings.
  std::vector<std::string> Strings(const json& entry, const std::string& field) {
    std::vector<std::string> strings;
    const auto found = entry.find(field);
    if (found == entry.end()) return strings;
    if (!found->is_array() || found->empty()) {
      Problem(field, "is not a non-empty array of strings");
      return strings;
    }
    for (const json& item : *found) {
      if (!item.is_string() || item.get<std::string>().empty()) {
        Problem(field, absl::StrCat(item.dump(), " is not a non-empty string"));
      } else {
        strings.push_back(item.get<std::string>());
      }
    }
    return strings;
  }

  const std::string where_;
  const types::v1::Channel channel_;
  const std::vector<PacedSender>& configured_;
  std::vector<std::string>& problems_;
};

}  // namespace

std::vector<AccountRoute> ByAccount(const std::vector<PacedSender>& senders,
                                    const std::vector<std::string>& accounts) {
  std::vector<AccountRoute> routes;
  for (const std::string& account : accounts) routes.push_back({.account = account});
  for (const PacedSender& sender : senders) {
    auto route = std::find_if(routes.begin(), routes.end(),
                              [&](const AccountRoute& r) { return r.account == sender.account; });
    if (route != routes.end()) {
      route->senders.push_back(sender);
    } else if (accounts.empty()) {
      routes.push_back({.account = sender.account, .senders = {sender}});
    }
  }
  return routes;
}

namespace {

bool Matches(const RoutingRule& rule, const RouteQuery& query) {
  const bool destination =
      (rule.countries.empty() && rule.prefixes.empty()) ||
      Contains(rule.countries, query.country) ||
      std::any_of(rule.prefixes.begin(), rule.prefixes.end(),
                  [&](const std::string& prefix) { return query.recipient.starts_with(prefix); });
  const types::v1::Priority priority = query.priority == types::v1::PRIORITY_UNSPECIFIED
                                           ? types::v1::PRIORITY_NORMAL
                                           : query.priority;
  return destination && (rule.channels.empty() || Contains(rule.channels, query.channel)) &&
         (rule.callers.empty() || Contains(rule.callers, query.caller)) &&
         (rule.priorities.empty() || Contains(rule.priorities, priority));
}

}  // namespace

RouteQuery RouteQuery::Of(const events::v1::AlertRequested& request, std::string_view recipient,
                          types::v1::Channel channel) {
  return RouteQuery{.recipient = std::string(recipient),
                    .country = phone::RegionCode(recipient).value_or(""),
                    .channel = channel,
                    .caller = request.header().caller(),
                    .priority = request.priority()};
}

Routing Routing::AllSenders(const std::vector<PacedSender>& senders) {
  return Routing({RoutingRule{.name = "all senders", .routes = ByAccount(senders, {})}});
}

absl::StatusOr<Routing> Routing::Parse(std::string_view text, std::string_view path,
                                       types::v1::Channel channel,
                                       const std::vector<PacedSender>& senders) {
  const json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const std::string file = absl::StrCat("routing file ", std::string(path));
  if (document.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(file, " is not valid JSON"));
  }
  if (!document.is_object() || !document.contains("rules") || !document["rules"].is_array() ||
      document["rules"].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": expected {\"rules\": [...]} with at least one rule"));
  }
  std::vector<std::string> problems;
  for (const auto& [field, value] : document.items()) {
    if (field != "rules")
      problems.push_back(absl::StrCat(file, ": \"", field, "\" is not a field"));
  }
  std::vector<RoutingRule> rules;
  std::set<std::string> names;
  size_t position = 0;
  for (const json& entry : document["rules"]) {
    ++position;
    std::string where = absl::StrCat(file, ": rule ", position);
    if (entry.is_object() && entry.contains("name") && entry["name"].is_string()) {
      absl::StrAppend(&where, " (\"", entry["name"].get<std::string>(), "\")");
    }
    RoutingRule rule = RuleReader(where, channel, senders, problems).Read(entry);
    if (!rule.name.empty() && !names.insert(rule.name).second) {
      problems.push_back(absl::StrCat(where, " name: another rule has this name"));
    }
    if (rule.channels.empty() || Contains(rule.channels, channel)) {
      rules.push_back(std::move(rule));
    }
  }
  // Every alert of a channel without rules would fail unrouted: a gap, not a choice.
  if (rules.empty()) {
    problems.push_back(absl::StrCat(file, ": no rule is for ",
                                    std::string(channels::ChannelName(channel)),
                                    " (give one without \"channels\", or one naming it)"));
  }
  if (!problems.empty()) return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  return Routing(std::move(rules));
}

const RoutingRule* Routing::Match(const RouteQuery& query) const {
  for (const RoutingRule& rule : rules_) {
    if (Matches(rule, query)) return &rule;
  }
  return nullptr;
}

std::string UnroutedReason(const RouteQuery& query) {
  const std::string destination =
      absl::StrCat(query.country.empty() ? "no known country" : query.country, ", +",
                   phone::CountryCallingCode(query.recipient).value_or("?"));
  return absl::StrCat("no routing rule matches this alert (destination ", destination, "; channel ",
                      std::string(channels::ChannelName(query.channel)), "; caller \"",
                      query.caller, "\"; priority ", PriorityWord(query.priority),
                      "); Twilio was not called");
}

}  // namespace klaxon::delivery
