// InMemoryCallbackDedupe against the CallbackDedupe contract, so the webhook handler's tests see
// what Redis would do (redis_callback_dedupe_integration_test.cc runs the same contract there).
#include "services/ingress/in_memory_callback_dedupe.h"

#include "gtest/gtest.h"
#include "services/ingress/testing/callback_dedupe_contract.h"

namespace klaxon::ingress {
namespace {

struct InMemoryHarness {
  void SetUp() {}
  CallbackDedupe& dedupe() { return dedupe_; }
  absl::Duration ShortLease() { return absl::Seconds(1); }
  void OutliveLease(const DedupeKeys&) { dedupe_.EndLeases(); }

  InMemoryCallbackDedupe dedupe_;
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(InMemory, CallbackDedupeContractTest, InMemoryHarness);
}  // namespace testing
}  // namespace klaxon::ingress
