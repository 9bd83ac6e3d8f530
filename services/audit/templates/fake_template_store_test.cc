// FakeTemplateStore against the TemplateStore contract, so the unit tests that use it see what
// Postgres would do (postgres/postgres_template_store_test.cc runs the same contract there).
#include "services/audit/testing/fake_template_store.h"

#include "common/timing/fake_clock.h"
#include "gtest/gtest.h"
#include "services/audit/testing/template_store_contract.h"

namespace klaxon::audit {
namespace {

struct FakeHarness {
  void SetUp() {}
  TemplateStore& store() { return store_; }
  void TakeDown() { store_.FailWith(absl::UnavailableError("database is down")); }

  timing::FakeClock clock_;
  FakeTemplateStore store_{clock_};
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Fake, TemplateStoreContractTest, FakeHarness);
}  // namespace testing
}  // namespace klaxon::audit
