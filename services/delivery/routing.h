#pragma once
// Routing rules (KLAXON_ROUTING_FILE, docs/adr/0034): which of a channel's senders an alert may
// leave from, by its destination (country or E.164 prefix), channel, caller and priority. Rules are
// ordered; the first that matches decides, and an alert no rule matches is never sent: it ends
// FAILED with a reason naming what it was matched on (never a silent default).
//
// The file is JSON, checked as a whole at start; each problem names the rule (its position and
// name) and the field:
//
//   {"rules": [
//     {"name": "uk", "countries": ["GB"], "channels": ["sms"], "senders": ["+447700900123"]},
//     {"name": "us-critical", "prefixes": ["+1"], "priorities": ["critical"],
//      "senders": ["12345"]},
//     {"name": "north-america", "prefixes": ["+1"], "callers": ["billing", "payments"],
//      "accounts": ["main", "backup"],
//      "senders": ["+14155550100", "+14155550101", "+14155550199"]}
//   ]}
//
// A rule's countries (ISO 3166 codes, as libphonenumber maps the number) and prefixes together
// say which destinations it takes (either matching is enough; neither: every destination); its
// channels, callers and priorities narrow it (absent: any). Its senders are the ones a send may
// choose among (send_limits.h's ChooseSender), each one of the channel's configured senders
// (senders.h) for every channel the rule applies to, so their paces are defined once. Each sender
// belongs to a Twilio account (twilio/accounts.h); a rule's `accounts` orders them for failover
// (absent: in the order its senders name them), and a send leaves from the senders of the first.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "klaxon/events/v1/events.pb.h"
#include "klaxon/types/v1/types.pb.h"
#include "services/delivery/senders.h"

namespace klaxon::delivery {

// The senders of one account that a rule sends from.
struct AccountRoute {
  std::string account;
  std::vector<PacedSender> senders;  // the channel's, with their paces
  friend bool operator==(const AccountRoute&, const AccountRoute&) = default;
};

struct RoutingRule {
  std::string name;
  std::vector<std::string> countries;  // "GB", "US"; with prefixes, empty for every destination
  std::vector<std::string> prefixes;   // "+44", "+1415"
  std::vector<types::v1::Channel> channels;     // empty: every channel
  std::vector<std::string> callers;             // empty: every caller
  std::vector<types::v1::Priority> priorities;  // empty: every priority; unset counts as normal
  // The rule's senders by account, in failover order; never empty.
  std::vector<AccountRoute> routes;
};

// What a destination is matched on. `country` is empty when libphonenumber maps the number to no
// region.
struct RouteQuery {
  std::string recipient;  // E.164
  std::string country;
  types::v1::Channel channel = types::v1::CHANNEL_UNSPECIFIED;
  std::string caller;
  types::v1::Priority priority = types::v1::PRIORITY_NORMAL;

  // The query of `request`'s attempt to `recipient` (opened, E.164) on `channel`.
  static RouteQuery Of(const events::v1::AlertRequested& request, std::string_view recipient,
                       types::v1::Channel channel);
};

class Routing {
 public:
  // No rules: nothing is routed.
  Routing() = default;
  // No routing file: every destination may leave from every one of the channel's senders, as one
  // rule named "all senders" (its accounts in the order the senders name them).
  static Routing AllSenders(const std::vector<PacedSender>& senders);

  // Parses `json` (the file at `path`, named in errors) and keeps the rules for `channel`, whose
  // configured senders are `senders`. kInvalidArgument listing every problem, each naming the
  // rule and field: JSON that does not parse, an unknown field, a field of the wrong type, a
  // missing or repeated name, an unknown country, channel or priority, a prefix that is not "+"
  // and 1 to 15 digits, no senders, a sender the channel does not configure, an account none of
  // the rule's senders belongs to, a sender whose account the rule's accounts leave out, a sender
  // named twice, or no rule for `channel` (its every alert would fail).
  static absl::StatusOr<Routing> Parse(std::string_view json, std::string_view path,
                                       types::v1::Channel channel,
                                       const std::vector<PacedSender>& senders);

  // The first rule that matches, nullptr when none does.
  const RoutingRule* Match(const RouteQuery& query) const;

  const std::vector<RoutingRule>& rules() const { return rules_; }

 private:
  explicit Routing(std::vector<RoutingRule> rules) : rules_(std::move(rules)) {}
  std::vector<RoutingRule> rules_;  // the channel's, in the file's order
};

// `senders` grouped by their account: in the order of `accounts` when given (an account none of
// them belongs to gets no senders, a sender of an account not named is left out), else in the
// order the senders name them.
std::vector<AccountRoute> ByAccount(const std::vector<PacedSender>& senders,
                                    const std::vector<std::string>& accounts);

// The reason an attempt no rule matches ends with, naming what it was matched on (the country and
// calling code, never the number).
std::string UnroutedReason(const RouteQuery& query);

}  // namespace klaxon::delivery
