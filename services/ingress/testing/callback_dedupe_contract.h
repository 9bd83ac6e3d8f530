#pragma once
// What every CallbackDedupe does (callback_dedupe.h), as a typed GoogleTest suite, so the fake the
// webhook handler's tests use and the Redis adapter are held to one behaviour. A test binary
// instantiates it with a harness type, once per binary:
//
//   struct MyHarness {
//     void SetUp();                       // may use ASSERT_*; runs before each test
//     CallbackDedupe& dedupe();
//     absl::Duration ShortLease();        // a lease OutliveLease can wait out
//     void OutliveLease(const DedupeKeys& keys);  // returns once the claims of `keys` made with
//                                                 // ShortLease() ended (may use ASSERT_*)
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, CallbackDedupeContractTest, MyHarness);

#include <atomic>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/ingress/callback_dedupe.h"

namespace klaxon::ingress::testing {

template <typename Harness>
class CallbackDedupeContractTest : public ::testing::Test {
 protected:
  static constexpr absl::Duration kLease = absl::Seconds(30);

  void SetUp() override { ASSERT_NO_FATAL_FAILURE(harness_.SetUp()); }

  CallbackDedupe& dedupe() { return harness_.dedupe(); }

  absl::StatusOr<ClaimAnswer> Claim(const DedupeKeys& keys, absl::Duration lease = kLease) {
    return dedupe().Claim({keys}, lease).front();
  }
  // The claim of `keys`, which must be new.
  HeldClaim Claimed(const DedupeKeys& keys, absl::Duration lease = kLease) {
    absl::StatusOr<ClaimAnswer> answer = Claim(keys, lease);
    EXPECT_TRUE(answer.ok()) << answer.status();
    EXPECT_EQ(answer.ok() ? answer->outcome : DedupeClaim::kInFlight, DedupeClaim::kClaimed);
    return {.keys = keys, .token = answer.ok() ? answer->token : ""};
  }
  // What a new claim of `keys` is answered: DedupeClaim::kClaimed when they were free.
  DedupeClaim Probe(const DedupeKeys& keys) {
    absl::StatusOr<ClaimAnswer> answer = Claim(keys);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.ok() ? answer->outcome : DedupeClaim::kInFlight;
  }
  absl::Status MarkPublished(const DedupeKeys& keys) {
    return dedupe().MarkPublished({keys}, absl::Hours(24)).front();
  }
  absl::Status Release(const HeldClaim& claim) { return dedupe().Release({claim}).front(); }

  Harness harness_;
};

TYPED_TEST_SUITE_P(CallbackDedupeContractTest);

TYPED_TEST_P(CallbackDedupeContractTest, ReleaseFreesAClaimButNeverAPublishedMark) {
  const HeldClaim first = this->Claimed({"token:b"});
  ASSERT_TRUE(this->Release(first).ok());
  const HeldClaim second = this->Claimed({"token:b"});
  ASSERT_TRUE(this->MarkPublished({"token:b"}).ok());
  ASSERT_TRUE(this->Release(second).ok());
  EXPECT_EQ(this->Probe({"token:b"}), DedupeClaim::kAlreadyPublished);
}

TYPED_TEST_P(CallbackDedupeContractTest, OnlyOneOfManyConcurrentClaimsWins) {
  std::atomic<int> claimed{0};
  std::vector<std::jthread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto answer = this->Claim({"sid:SM1:delivered:0", "signed:abc"});
      if (answer.ok() && answer->outcome == DedupeClaim::kClaimed) ++claimed;
    });
  }
  threads.clear();
  EXPECT_EQ(claimed.load(), 1);
}

// A batch is answered per callback, in order, each claim with a token of its own; a callback
// without keys is refused alone.
TYPED_TEST_P(CallbackDedupeContractTest, ABatchIsAnsweredPerCallbackInOrder) {
  this->Claimed({"token:e1"});
  this->Claimed({"token:e2"});
  ASSERT_TRUE(this->MarkPublished({"token:e2"}).ok());

  const std::vector<absl::StatusOr<ClaimAnswer>> answers = this->dedupe().Claim(
      {{"token:e0", "signed:e0"}, {"token:e1"}, {"token:e2"}, {}, {"token:e3"}}, absl::Seconds(30));
  ASSERT_EQ(answers.size(), 5u);
  EXPECT_EQ(answers[0].value().outcome, DedupeClaim::kClaimed);
  EXPECT_EQ(answers[1].value().outcome, DedupeClaim::kInFlight);
  EXPECT_EQ(answers[2].value().outcome, DedupeClaim::kAlreadyPublished);
  EXPECT_EQ(answers[3].status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(answers[4].value().outcome, DedupeClaim::kClaimed);
  EXPECT_NE(answers[0].value().token, answers[4].value().token);

  const std::vector<absl::Status> marks =
      this->dedupe().MarkPublished({{"token:e0", "signed:e0"}, {"token:e3"}}, absl::Hours(24));
  ASSERT_EQ(marks.size(), 2u);
  EXPECT_TRUE(marks[0].ok() && marks[1].ok());
  EXPECT_EQ(this->Probe({"signed:e0"}), DedupeClaim::kAlreadyPublished);
  EXPECT_EQ(this->Probe({"token:e3"}), DedupeClaim::kAlreadyPublished);
}

// A release held up past its claim's lease (ADR 0038) while a replay claimed the callback anew:
// the replay's claim stands, so a third copy is refused as in flight, not published beside it.
TYPED_TEST_P(CallbackDedupeContractTest, ALateReleaseLeavesTheClaimOfACopyThatClaimedSince) {
  const DedupeKeys keys = {"token:f", "signed:f"};
  const HeldClaim late = this->Claimed(keys, this->harness_.ShortLease());
  ASSERT_NO_FATAL_FAILURE(this->harness_.OutliveLease(keys));
  const HeldClaim newer = this->Claimed(keys);
  EXPECT_NE(late.token, newer.token);

  ASSERT_TRUE(this->Release(late).ok());
  EXPECT_EQ(this->Probe({"token:f"}), DedupeClaim::kInFlight);
  EXPECT_EQ(this->Probe({"signed:f"}), DedupeClaim::kInFlight);

  ASSERT_TRUE(this->Release(newer).ok());
  EXPECT_EQ(this->Probe(keys), DedupeClaim::kClaimed);
}

// A mark held up past its claim's lease is still true (the callback is in Kafka), so it publishes
// the callback over the claim of a copy that claimed it since; that copy's release, should its own
// publish fail, leaves the mark.
TYPED_TEST_P(CallbackDedupeContractTest, ALateMarkPublishesTheCallbackOverACopyThatClaimedSince) {
  const DedupeKeys keys = {"token:g", "signed:g"};
  this->Claimed(keys, this->harness_.ShortLease());
  ASSERT_NO_FATAL_FAILURE(this->harness_.OutliveLease(keys));
  const HeldClaim newer = this->Claimed(keys);

  ASSERT_TRUE(this->MarkPublished(keys).ok());
  ASSERT_TRUE(this->Release(newer).ok());
  EXPECT_EQ(this->Probe(keys), DedupeClaim::kAlreadyPublished);
}

REGISTER_TYPED_TEST_SUITE_P(CallbackDedupeContractTest, ReleaseFreesAClaimButNeverAPublishedMark,
                            OnlyOneOfManyConcurrentClaimsWins, ABatchIsAnsweredPerCallbackInOrder,
                            ALateReleaseLeavesTheClaimOfACopyThatClaimedSince,
                            ALateMarkPublishesTheCallbackOverACopyThatClaimedSince);

}  // namespace klaxon::ingress::testing
