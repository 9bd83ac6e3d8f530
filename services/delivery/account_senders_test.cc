#include "services/delivery/account_senders.h"

#include <gtest/gtest.h>

#include <utility>

namespace klaxon::delivery {
namespace {

// One account's Sender: answers as told and counts what it was asked.
class FakeAccountSender final : public Sender {
 public:
  SendResult Send(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                  const PacedSender&) override {
    ++sends;
    return {.kind = SendResult::Kind::kAccepted, .sid = "SM1"};
  }
  SendResult Settle(const events::v1::AlertRequested&, const transit::AlertPersonalData&,
                    absl::Time) override {
    ++settles;
    return settled;
  }
  absl::StatusOr<StatusReadBack> ReadStatus(const events::v1::AlertRequested&,
                                            const std::string&) override {
    ++reads;
    return status;
  }

  SendResult settled{.kind = SendResult::Kind::kRetryable, .reason = "not found"};
  absl::StatusOr<StatusReadBack> status = absl::NotFoundError("no such message");
  int sends = 0;
  int settles = 0;
  int reads = 0;
};

class AccountSendersTest : public ::testing::Test {
 protected:
  AccountSendersTest() {
    std::map<std::string, std::unique_ptr<Sender>> senders;
    auto main = std::make_unique<FakeAccountSender>();
    auto backup = std::make_unique<FakeAccountSender>();
    main_ = main.get();
    backup_ = backup.get();
    senders.emplace("main", std::move(main));
    senders.emplace("backup", std::move(backup));
    accounts_ = std::make_unique<AccountSenders>(std::move(senders));
  }

  SendResult SendFrom(const std::string& account) {
    return accounts_->Send(request_, personal_, {.address = "+14155550100", .account = account});
  }

  events::v1::AlertRequested request_;
  transit::AlertPersonalData personal_{.recipient = "+14155552671", .text = "disk full"};
  FakeAccountSender* main_ = nullptr;
  FakeAccountSender* backup_ = nullptr;
  std::unique_ptr<AccountSenders> accounts_;
};

TEST_F(AccountSendersTest, ASendGoesToItsSendersAccountAndSaysWhich) {
  const SendResult result = SendFrom("backup");
  EXPECT_EQ(result.kind, SendResult::Kind::kAccepted);
  EXPECT_EQ(result.account, "backup");
  EXPECT_EQ(main_->sends, 0);
  EXPECT_EQ(backup_->sends, 1);
}

TEST_F(AccountSendersTest, ASenderOfAnUnknownAccountIsRejectedUnsent) {
  const SendResult result = SendFrom("spare");
  EXPECT_EQ(result.kind, SendResult::Kind::kRejected);
  EXPECT_EQ(main_->sends + backup_->sends, 0);
}

TEST_F(AccountSendersTest, ASettlementFindsTheAttemptOnWhicheverAccountHasIt) {
  main_->settled = {.kind = SendResult::Kind::kAccepted, .sid = "SM9"};
  const SendResult result = accounts_->Settle(request_, personal_, absl::Now());
  EXPECT_EQ(result.kind, SendResult::Kind::kAccepted);
  EXPECT_EQ(result.sid, "SM9");
  EXPECT_EQ(result.account, "main");
}

TEST_F(AccountSendersTest, ASettlementIsNotFoundOnlyWhenEveryAccountSaysSo) {
  EXPECT_EQ(accounts_->Settle(request_, personal_, absl::Now()).kind, SendResult::Kind::kRetryable);
  backup_->settled = {.kind = SendResult::Kind::kUnknown, .reason = "Twilio unreachable"};
  const SendResult unknown = accounts_->Settle(request_, personal_, absl::Now());
  EXPECT_EQ(unknown.kind, SendResult::Kind::kUnknown);
  EXPECT_EQ(unknown.reason, "Twilio unreachable");
  EXPECT_EQ(main_->settles, 2);
}

TEST_F(AccountSendersTest, AStatusCheckReadsTheAccountItNames) {
  backup_->status = StatusReadBack{.status = {}, .charge = events::v1::AttemptCharge()};
  request_.set_check_account("backup");
  const absl::StatusOr<StatusReadBack> read = accounts_->ReadStatus(request_, "SM1");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->charge.has_value());
  EXPECT_EQ(read->charge->account(), "backup");  // the charge names the account read
  EXPECT_EQ(main_->reads, 0);
  request_.set_check_account("spare");
  EXPECT_EQ(accounts_->ReadStatus(request_, "SM1").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(AccountSendersTest, AStatusCheckNamingNoAccountAsksEachUntilOneKnowsTheSid) {
  // "backup" is asked first (by name) and says 404.
  main_->status = StatusReadBack{.status = {}, .charge = events::v1::AttemptCharge()};
  const absl::StatusOr<StatusReadBack> read = accounts_->ReadStatus(request_, "SM1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->charge->account(), "main");
  EXPECT_EQ(backup_->reads, 1);
  EXPECT_EQ(main_->reads, 1);
  // An account that cannot be read is asked past, and said when nobody knew the SID.
  backup_->status = absl::UnavailableError("backup down");
  EXPECT_TRUE(accounts_->ReadStatus(request_, "SM1").ok());
  main_->status = absl::NotFoundError("no such message");
  EXPECT_EQ(accounts_->ReadStatus(request_, "SM1").status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace klaxon::delivery
