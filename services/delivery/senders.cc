#include "services/delivery/senders.h"

#include <algorithm>
#include <array>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/abseil/string_view.h"
#include "common/phone/phone.h"

namespace klaxon::delivery {
namespace {

using abseil::AbslView;

constexpr std::array<std::string_view, 7> kTollFreeAreaCodes = {"800", "833", "844", "855",
                                                                "866", "877", "888"};

bool IsShortCode(std::string_view address) {
  return (address.size() == 5 || address.size() == 6) &&
         std::all_of(address.begin(), address.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsNorthAmerican(std::string_view e164) { return e164.starts_with("+1"); }

bool IsAlphanumericSenderId(std::string_view address) {
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  return !address.empty() && address.size() <= 11 &&
         std::any_of(address.begin(), address.end(), letter) &&
         std::all_of(address.begin(), address.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == ' '; });
}

absl::StatusOr<SenderKind> KindOf(std::string_view address) {
  if (IsMessagingServiceSid(address)) return SenderKind::kMessagingService;
  if (IsShortCode(address)) return SenderKind::kShortCode;
  if (IsAlphanumericSenderId(address)) return SenderKind::kAlphanumeric;
  if (!phone::ValidateE164(address).ok()) {
    return absl::InvalidArgumentError(
        "is neither an E.164 number, a short code (5 or 6 digits), an alphanumeric sender ID (1 "
        "to 11 letters, digits and spaces) nor a Messaging Service SID (MG and 32 lowercase hex "
        "digits)");
  }
  if (IsNorthAmerican(address) && std::find(kTollFreeAreaCodes.begin(), kTollFreeAreaCodes.end(),
                                            address.substr(2, 3)) != kTollFreeAreaCodes.end()) {
    return SenderKind::kTollFree;
  }
  return SenderKind::kLongCode;
}

absl::Status EntryError(types::v1::Channel channel, absl::string_view entry,
                        absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(AbslView(SendersVariable(channel)), ": \"", entry, "\" ", problem));
}

}  // namespace

std::string_view SendersVariable(types::v1::Channel channel) {
  return channel == types::v1::CHANNEL_VOICE ? "KLAXON_VOICE_SENDERS" : "KLAXON_SMS_SENDERS";
}

bool IsMessagingServiceSid(std::string_view address) {
  return address.size() == 34 && address.starts_with("MG") &&
         std::all_of(address.begin() + 2, address.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<limits::Rate> DefaultPace(SenderKind kind, std::string_view address,
                                        types::v1::Channel channel) {
  const auto per_second = [](int64_t count) {
    return limits::Rate{.count = count, .window = absl::Seconds(1)};
  };
  if (channel == types::v1::CHANNEL_VOICE) return per_second(1);
  switch (kind) {
    case SenderKind::kLongCode:
      return per_second(IsNorthAmerican(address) ? 1 : 10);
    case SenderKind::kTollFree:
      return per_second(3);
    case SenderKind::kShortCode:
      return per_second(100);
    case SenderKind::kAlphanumeric:
      return per_second(10);
    case SenderKind::kMessagingService:
      return std::nullopt;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<PacedSender>> ParseSenders(std::string_view text,
                                                      types::v1::Channel channel,
                                                      std::optional<limits::Rate> pace) {
  std::vector<PacedSender> senders;
  std::set<std::string, std::less<>> seen;
  size_t own_rates = 0;  // senders that name their rate
  for (absl::string_view entry : absl::StrSplit(AbslView(text), ',', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    const std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    const std::pair<absl::string_view, absl::string_view> sender_account =
        absl::StrSplit(parts.first, absl::MaxSplits('@', 1));
    const absl::string_view stripped = absl::StripAsciiWhitespace(sender_account.first);
    const std::string_view address(stripped.data(), stripped.size());
    const absl::string_view account = absl::StripAsciiWhitespace(sender_account.second);
    if (absl::StrContains(parts.first, "@") && account.empty()) {
      return EntryError(channel, entry, "has '@' but no account after it");
    }
    const absl::string_view rate_text = absl::StripAsciiWhitespace(parts.second);
    absl::StatusOr<SenderKind> kind = KindOf(address);
    if (!kind.ok()) return EntryError(channel, entry, kind.status().message());
    if (channel == types::v1::CHANNEL_VOICE && *kind != SenderKind::kLongCode &&
        *kind != SenderKind::kTollFree) {
      return EntryError(channel, entry, "cannot place calls: a caller ID is an E.164 number");
    }
    if (!seen.insert(std::string(address)).second)
      return EntryError(channel, entry, "is given twice");
    // A Messaging Service's pace is its pool's, which no common pace can know.
    std::optional<limits::Rate> rate = *kind == SenderKind::kMessagingService ? std::nullopt : pace;
    if (!rate_text.empty()) {
      ++own_rates;
      absl::StatusOr<limits::Rate> own = limits::ParseRate({rate_text.data(), rate_text.size()});
      if (!own.ok()) return EntryError(channel, entry, own.status().message());
      rate = *own;
    } else if (absl::StrContains(entry, "=")) {
      return EntryError(channel, entry, "has '=' but no rate after it");
    }
    if (!rate) rate = DefaultPace(*kind, address, channel);
    if (!rate) {
      return EntryError(channel, entry,
                        "needs its pace (=<count>/<window>): a Messaging Service sends as fast as "
                        "its pool's numbers together, which Klaxon cannot see");
    }
    senders.push_back({.address = std::string(address),
                       .kind = *kind,
                       .rate = *rate,
                       .account = std::string(account)});
  }
  if (senders.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(SendersVariable(channel)),
                     ": is required (the numbers or Messaging Service to send from)"));
  }
  // Several caller IDs are for routing (a local number per country), not for rate: Twilio paces
  // calls per account, so each is given its share of the account's pace by the operator.
  if (channel == types::v1::CHANNEL_VOICE && senders.size() > 1 && own_rates < senders.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        AbslView(SendersVariable(channel)),
        ": several caller IDs each need their own rate, their share of the account's calls per "
        "second (Twilio paces calls per account: two at 1 call per second are =1/2s each)"));
  }
  return senders;
}

absl::Status AssignAccounts(std::vector<PacedSender>& senders,
                            const std::vector<std::string>& accounts, types::v1::Channel channel) {
  std::vector<std::string> problems;
  for (PacedSender& sender : senders) {
    if (sender.account.empty() && accounts.size() == 1) sender.account = accounts.front();
    if (sender.account.empty()) {
      problems.push_back(absl::StrCat("\"", sender.address, "\" names no account (", sender.address,
                                      "@<account>): KLAXON_TWILIO_ACCOUNTS_FILE lists ",
                                      absl::StrJoin(accounts, ", ")));
    } else if (std::find(accounts.begin(), accounts.end(), sender.account) == accounts.end()) {
      problems.push_back(absl::StrCat("\"", sender.address, "@", sender.account, "\": account \"",
                                      sender.account, "\" is not one of ",
                                      absl::StrJoin(accounts, ", ")));
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(AbslView(SendersVariable(channel)), ": ", absl::StrJoin(problems, "; ")));
}

}  // namespace klaxon::delivery
