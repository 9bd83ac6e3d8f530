#include "services/delivery/account_senders.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace klaxon::delivery {
namespace {

// `read` with its charge naming `account`, the account it was read from.
absl::StatusOr<StatusReadBack> NamingAccount(const std::string& account,
                                             absl::StatusOr<StatusReadBack> read) {
  if (read.ok() && read->charge) read->charge->set_account(account);
  return read;
}

}  // namespace

AccountSenders::AccountSenders(std::map<std::string, std::unique_ptr<Sender>> senders)
    : senders_(std::move(senders)) {}

SendResult AccountSenders::Send(const events::v1::AlertRequested& request,
                                const transit::AlertPersonalData& personal,
                                const PacedSender& from) {
  const auto account = senders_.find(from.account);
  if (account == senders_.end()) {
    return {.kind = SendResult::Kind::kRejected,
            .reason = absl::StrCat("sender ", from.address, " names account \"", from.account,
                                   "\", which this worker has no credentials for"),
            .account = from.account};
  }
  SendResult result = account->second->Send(request, personal, from);
  result.account = from.account;
  return result;
}

SendResult AccountSenders::Settle(const events::v1::AlertRequested& request,
                                  const transit::AlertPersonalData& personal, absl::Time sent_at) {
  std::optional<SendResult> unknown;
  SendResult not_found{.kind = SendResult::Kind::kRetryable};
  for (const auto& [name, sender] : senders_) {
    SendResult result = sender->Settle(request, personal, sent_at);
    result.account = name;
    if (result.kind == SendResult::Kind::kAccepted || result.kind == SendResult::Kind::kRejected) {
      return result;
    }
    // Not found on this account proves nothing about the others; one account that could not be
    // read leaves the whole settlement unknown.
    if (result.kind == SendResult::Kind::kRetryable) {
      not_found = std::move(result);
    } else if (!unknown) {
      unknown = std::move(result);
    }
  }
  SendResult settled = unknown.value_or(std::move(not_found));
  settled.account.clear();
  return settled;
}

absl::StatusOr<StatusReadBack> AccountSenders::ReadStatus(const events::v1::AlertRequested& request,
                                                          const std::string& sid) {
  if (!request.check_account().empty()) {
    const auto account = senders_.find(request.check_account());
    if (account == senders_.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the status check of ", sid, " names account \"", request.check_account(),
                       "\", which this worker has no credentials for"));
    }
    return NamingAccount(account->first, account->second->ReadStatus(request, sid));
  }
  // Asked in turn until one knows the SID; an account that cannot be read is no answer.
  absl::Status unread;
  for (const auto& [name, sender] : senders_) {
    absl::StatusOr<StatusReadBack> read = sender->ReadStatus(request, sid);
    if (read.ok()) return NamingAccount(name, std::move(read));
    if (!absl::IsNotFound(read.status()) && unread.ok()) unread = read.status();
  }
  if (!unread.ok()) return unread;
  return absl::NotFoundError(absl::StrCat("no account knows ", sid));
}

}  // namespace klaxon::delivery
