// Needs a real Postgres: KLAXON_TEST_PG_URL (each test works in a scratch database of its own).
// PostgresTemplateStore against the TemplateStore contract (the fake the unit tests use is held
// to the same one), plus what only a database can show: texts kept byte for byte.
#include "services/audit/postgres/postgres_template_store.h"

#include <memory>
#include <string>

#include "common/pg/database.h"
#include "common/pg/testing/temporary_database.h"
#include "gtest/gtest.h"
#include "services/audit/testing/migrated_audit_database.h"
#include "services/audit/testing/template_store_contract.h"

namespace klaxon::audit {
namespace {

struct PostgresHarness {
  void SetUp() {
    // Enough connections for the contract's concurrent creates to race in the database.
    ASSERT_NO_FATAL_FAILURE(
        testing::MigratedAuditDatabase(&scratch_, &db_, {.max_connections = 8}));
    store_ = std::make_unique<PostgresTemplateStore>(*db_);
  }
  TemplateStore& store() { return *store_; }
  void TakeDown() { ASSERT_TRUE(scratch_->Drop().ok()); }

  std::unique_ptr<pg::testing::TemporaryDatabase> scratch_;
  std::unique_ptr<pg::Database> db_;
  std::unique_ptr<PostgresTemplateStore> store_;
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, TemplateStoreContractTest, PostgresHarness);
}  // namespace testing

namespace {

class PostgresTemplateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(harness_.SetUp()); }

  PostgresHarness harness_;
};

// Texts are kept byte for byte: placeholders, line breaks, and characters beyond GSM-7.
TEST_F(PostgresTemplateStoreTest, TextsReadBackExactlyAsCreated) {
  const MessageTemplate created{.name = "disk-full",
                                .locale = "de-DE",
                                .sms_text = "Platte voll auf {{ host }}\n€ {{pct}} % – 🔥",
                                .voice_script = "Die Platte auf {{host}} ist voll.",
                                .voice_name = "Polly.Marlene",
                                .language = "de-DE"};
  absl::StatusOr<MessageTemplate> stored = harness_.store().Create("billing", created);
  ASSERT_TRUE(stored.ok()) << stored.status();
  absl::StatusOr<std::optional<MessageTemplate>> latest =
      harness_.store().Latest("billing", "disk-full", "de-DE");
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ(**latest, *stored);
  EXPECT_EQ((*latest)->sms_text, created.sms_text);
  EXPECT_EQ((*latest)->voice_script, created.voice_script);
  EXPECT_EQ((*latest)->voice_name, created.voice_name);
  EXPECT_EQ((*latest)->language, created.language);
}

}  // namespace
}  // namespace klaxon::audit
