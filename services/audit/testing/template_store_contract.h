#pragma once
// What every TemplateStore does (template_store.h), as a typed GoogleTest suite, so the fake the
// unit tests use and the Postgres adapter are held to one behaviour. A test binary instantiates
// it with a harness type, once per binary:
//
//   struct MyHarness {
//     void SetUp();             // may use ASSERT_*; runs before each test
//     TemplateStore& store();
//     void TakeDown();          // from now on the store's backend is gone (may use ASSERT_*)
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, TemplateStoreContractTest, MyHarness);

#include <algorithm>
#include <atomic>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/audit/templates/template_store.h"

namespace klaxon::audit::testing {

template <typename Harness>
class TemplateStoreContractTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(harness_.SetUp()); }

  TemplateStore& store() { return harness_.store(); }

  // Stores `name` in `locale` for `caller` with `sms_text`, expecting success.
  MessageTemplate Create(const std::string& name, const std::string& locale,
                         const std::string& sms_text, bool default_locale = false,
                         const std::string& caller = "billing") {
    absl::StatusOr<MessageTemplate> stored =
        store().Create(caller, {.name = name,
                                .locale = locale,
                                .sms_text = sms_text,
                                .voice_script = "Disk full on {{host}}. Press 1 to acknowledge.",
                                .voice_name = "Polly.Joanna",
                                .language = "en-US",
                                .default_locale = default_locale});
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.value_or(MessageTemplate{});
  }

  std::vector<MessageTemplate> List(const std::string& name = "",
                                    const std::string& caller = "billing") {
    absl::StatusOr<std::vector<MessageTemplate>> listed = store().List(caller, name);
    EXPECT_TRUE(listed.ok()) << listed.status();
    return listed.value_or(std::vector<MessageTemplate>{});
  }

  std::optional<MessageTemplate> Latest(const std::string& name, const std::string& locale,
                                        const std::string& caller = "billing") {
    absl::StatusOr<std::optional<MessageTemplate>> latest = store().Latest(caller, name, locale);
    EXPECT_TRUE(latest.ok()) << latest.status();
    return latest.value_or(std::nullopt);
  }

  // "name locale vN", and a * for the default locale: what a listing shows, compactly.
  static std::vector<std::string> Summary(const std::vector<MessageTemplate>& templates) {
    std::vector<std::string> lines;
    for (const MessageTemplate& stored : templates) {
      lines.push_back(stored.name + " " + stored.locale + " v" + std::to_string(stored.version) +
                      (stored.default_locale ? "*" : ""));
    }
    return lines;
  }

  Harness harness_;
};

TYPED_TEST_SUITE_P(TemplateStoreContractTest);

TYPED_TEST_P(TemplateStoreContractTest, FirstCreateIsVersionOneInTheDefaultLocale) {
  const MessageTemplate stored = this->Create("disk-full", "en-US", "Disk full on {{host}}");
  EXPECT_EQ(stored.name, "disk-full");
  EXPECT_EQ(stored.locale, "en-US");
  EXPECT_EQ(stored.version, 1u);
  EXPECT_TRUE(stored.default_locale);
  EXPECT_EQ(stored.sms_text, "Disk full on {{host}}");
  EXPECT_EQ(stored.voice_script, "Disk full on {{host}}. Press 1 to acknowledge.");
  EXPECT_EQ(stored.voice_name, "Polly.Joanna");
  EXPECT_EQ(stored.language, "en-US");
  EXPECT_NE(stored.created_at, absl::Time());
}

TYPED_TEST_P(TemplateStoreContractTest, EachCreateAddsTheNextVersionOfItsLocale) {
  this->Create("disk-full", "en-US", "v1 {{host}}");
  this->Create("disk-full", "en-US", "v2 {{host}}");
  this->Create("disk-full", "de-DE", "v1 de {{host}}");
  const MessageTemplate third = this->Create("disk-full", "en-US", "v3 {{host}}");
  EXPECT_EQ(third.version, 3u);
  EXPECT_EQ(this->Create("disk-full", "de-DE", "v2 de {{host}}").version, 2u);
  EXPECT_EQ(this->Latest("disk-full", "en-US"), third);
}

TYPED_TEST_P(TemplateStoreContractTest, LaterLocaleIsNotTheDefaultUnlessAsked) {
  this->Create("disk-full", "en-US", "Disk full");
  EXPECT_FALSE(this->Create("disk-full", "de-DE", "Platte voll").default_locale);
  EXPECT_TRUE(this->Create("disk-full", "en-US", "Disk full!").default_locale);
  EXPECT_THAT(this->Summary(this->List()),
              ::testing::ElementsAre("disk-full de-DE v1", "disk-full en-US v2*"));
}

TYPED_TEST_P(TemplateStoreContractTest, CreateAskingForTheDefaultMovesIt) {
  this->Create("disk-full", "en-US", "Disk full");
  const MessageTemplate german = this->Create("disk-full", "de-DE", "Platte voll", true);
  EXPECT_TRUE(german.default_locale);
  EXPECT_THAT(this->Summary(this->List()),
              ::testing::ElementsAre("disk-full de-DE v1*", "disk-full en-US v1"));
  EXPECT_EQ(this->Latest("disk-full", ""), german);
  // A new version of the former default leaves the default where it is.
  EXPECT_FALSE(this->Create("disk-full", "en-US", "Disk full!").default_locale);
}

TYPED_TEST_P(TemplateStoreContractTest, FirstCreateAskingForTheDefaultIsTheDefault) {
  EXPECT_TRUE(this->Create("disk-full", "fr", "Disque plein", true).default_locale);
}

// Bytewise, whatever the database's collation: upper case before lower case.
TYPED_TEST_P(TemplateStoreContractTest, ListShowsTheLatestOfEachLocaleByNameThenLocale) {
  this->Create("disk-full", "en-US", "Disk full");
  this->Create("backup", "fr", "Sauvegarde");
  this->Create("disk-full", "de-DE", "Platte voll");
  this->Create("Disk-full", "en", "Disk full (legacy)");
  this->Create("disk-full", "en-US", "Disk full!");
  this->Create("backup", "en", "Backup");
  EXPECT_THAT(this->Summary(this->List()),
              ::testing::ElementsAre("Disk-full en v1*", "backup en v1", "backup fr v1*",
                                     "disk-full de-DE v1", "disk-full en-US v2*"));
  const std::vector<MessageTemplate> listed = this->List();
  ASSERT_EQ(listed.size(), 5u);
  EXPECT_EQ(listed[4].sms_text, "Disk full!");
}

TYPED_TEST_P(TemplateStoreContractTest, ListOfANameShowsOnlyItsLocales) {
  this->Create("disk-full", "en-US", "Disk full");
  this->Create("disk-full-db", "en-US", "Database disk full");
  this->Create("disk-full", "de-DE", "Platte voll");
  EXPECT_THAT(this->Summary(this->List("disk-full")),
              ::testing::ElementsAre("disk-full de-DE v1", "disk-full en-US v1*"));
  EXPECT_THAT(this->List("backup"), ::testing::IsEmpty());
}

TYPED_TEST_P(TemplateStoreContractTest, LatestIsTheAskedLocalesLatestVersion) {
  this->Create("disk-full", "en-US", "Disk full");
  this->Create("disk-full", "de-DE", "Platte voll");
  const MessageTemplate latest = this->Create("disk-full", "de-DE", "Platte voll!");
  EXPECT_EQ(this->Latest("disk-full", "de-DE"), latest);
}

TYPED_TEST_P(TemplateStoreContractTest, LatestWithoutALocaleIsTheDefaultLocales) {
  this->Create("disk-full", "en-US", "Disk full");
  const MessageTemplate latest = this->Create("disk-full", "en-US", "Disk full!");
  this->Create("disk-full", "de-DE", "Platte voll");
  EXPECT_EQ(this->Latest("disk-full", ""), latest);
}

TYPED_TEST_P(TemplateStoreContractTest, LatestInALocaleTheNameLacksIsTheDefaultLocales) {
  const MessageTemplate english = this->Create("disk-full", "en-US", "Disk full");
  this->Create("disk-full", "de-DE", "Platte voll");
  EXPECT_EQ(this->Latest("disk-full", "fr"), english);
  // A locale of another name does not count.
  this->Create("backup", "es-419", "Respaldo");
  EXPECT_EQ(this->Latest("disk-full", "es-419"), english);
}

TYPED_TEST_P(TemplateStoreContractTest, LatestOfAnUnknownNameIsNone) {
  this->Create("disk-full", "en-US", "Disk full");
  EXPECT_EQ(this->Latest("backup", "en-US"), std::nullopt);
  EXPECT_EQ(this->Latest("backup", ""), std::nullopt);
}

TYPED_TEST_P(TemplateStoreContractTest, ACallerSeesOnlyItsOwnTemplates) {
  this->Create("disk-full", "en-US", "Billing's", false, "billing");
  this->Create("disk-full", "en-US", "Billing's again", false, "billing");
  EXPECT_EQ(this->Latest("disk-full", "en-US", "payments"), std::nullopt);
  EXPECT_THAT(this->List("", "payments"), ::testing::IsEmpty());
  // Versions and default locales are counted per caller.
  const MessageTemplate own = this->Create("disk-full", "de-DE", "Payments'", false, "payments");
  EXPECT_EQ(own.version, 1u);
  EXPECT_TRUE(own.default_locale);
  EXPECT_THAT(this->Summary(this->List("", "payments")),
              ::testing::ElementsAre("disk-full de-DE v1*"));
  EXPECT_EQ(this->Latest("disk-full", "", "billing")->sms_text, "Billing's again");
}

TYPED_TEST_P(TemplateStoreContractTest, ConcurrentCreatesOfANameGetDistinctVersions) {
  constexpr int kThreads = 8;
  constexpr int kEach = 5;
  std::vector<std::vector<uint32_t>> versions(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([this, t, &versions] {
        for (int i = 0; i < kEach; ++i) {
          // Half the threads start the name in a second locale, racing for its default too.
          const std::string locale = t % 2 == 0 ? "en-US" : "de-DE";
          absl::StatusOr<MessageTemplate> stored = this->store().Create(
              "billing",
              {.name = "disk-full", .locale = locale, .sms_text = "Disk full on {{host}}"});
          EXPECT_TRUE(stored.ok()) << stored.status();
          if (stored.ok()) versions[static_cast<size_t>(t)].push_back(stored->version);
        }
      });
    }
  }
  for (const std::string locale : {"en-US", "de-DE"}) {
    std::vector<uint32_t> created;
    for (int t = locale == "en-US" ? 0 : 1; t < kThreads; t += 2) {
      const std::vector<uint32_t>& own = versions[static_cast<size_t>(t)];
      created.insert(created.end(), own.begin(), own.end());
    }
    std::sort(created.begin(), created.end());
    std::vector<uint32_t> expected(kThreads / 2 * kEach);
    for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<uint32_t>(i + 1);
    EXPECT_EQ(created, expected) << locale;
  }
  // One default, whichever locale came first.
  const std::vector<MessageTemplate> listed = this->List();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_NE(listed[0].default_locale, listed[1].default_locale);
}

TYPED_TEST_P(TemplateStoreContractTest, ACallerKeepsAtMostItsTemplatesAndVersions) {
  for (size_t i = 1; i < kMaxVersionsPerTemplate; ++i) this->Create("disk-full", "en-US", "v");
  EXPECT_EQ(this->Create("disk-full", "en-US", "last").version, kMaxVersionsPerTemplate);
  absl::StatusOr<MessageTemplate> more = this->store().Create(
      "billing", {.name = "disk-full", .locale = "en-US", .sms_text = "one too many"});
  EXPECT_EQ(more.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(more.status().message(), ::testing::HasSubstr("disk-full (en-US) has 100 versions"));

  for (size_t i = 1; i < kMaxTemplatesPerCaller; ++i) {
    this->Create(absl::StrCat("t", i), "en-US", "x");
  }
  absl::StatusOr<MessageTemplate> another =
      this->store().Create("billing", {.name = "one-more", .locale = "en-US", .sms_text = "x"});
  EXPECT_EQ(another.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(another.status().message(), ::testing::HasSubstr("you keep 200 templates"));
  EXPECT_TRUE(
      this->store().Create("billing", {.name = "t1", .locale = "en-US", .sms_text = "v2"}).ok())
      << "a new version of a kept template is still taken";
  EXPECT_TRUE(this->store()
                  .Create("payments", {.name = "one-more", .locale = "en-US", .sms_text = "x"})
                  .ok())
      << "another caller has its own";
}

// Creates racing at the edge of a limit: of kThreads creates that each would pass it alone,
// exactly one is taken. Without one caller's creates in turn, each would count the same rows.
TYPED_TEST_P(TemplateStoreContractTest, CreatesRacingForTheLastPlaceTakeItOnce) {
  constexpr int kThreads = 8;
  // Runs kThreads creates of `name_of(t)` at once and returns how many were taken; every other
  // must be refused with `limit` (not, say, a duplicate version).
  const auto race = [this](const auto& name_of, const absl::Status& limit) {
    std::atomic<int> taken = 0;
    // Every create starts at once, each on a connection of its own where the store has a pool:
    // a read of its own first, side by side, opens them (opening one takes longer than a create).
    std::latch read(kThreads);
    std::latch start(kThreads);
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t, &name_of, &limit, &taken, &read, &start] {
          read.arrive_and_wait();
          EXPECT_TRUE(this->store().List("billing", "").ok());
          start.arrive_and_wait();
          absl::StatusOr<MessageTemplate> stored = this->store().Create(
              "billing", {.name = name_of(t), .locale = "en-US", .sms_text = "x"});
          if (stored.ok()) {
            ++taken;
          } else {
            EXPECT_EQ(stored.status(), limit);
          }
        });
      }
    }
    return taken.load();
  };

  for (size_t i = 1; i < kMaxVersionsPerTemplate; ++i) this->Create("disk-full", "en-US", "v");
  EXPECT_EQ(
      race([](int) { return std::string("disk-full"); }, TooManyVersions("disk-full", "en-US")), 1)
      << "the last version";
  EXPECT_EQ(this->Latest("disk-full", "en-US").value_or(MessageTemplate{}).version,
            kMaxVersionsPerTemplate);

  for (size_t i = 2; i < kMaxTemplatesPerCaller; ++i) {
    this->Create(absl::StrCat("t", i), "en-US", "x");
  }
  EXPECT_EQ(race([](int t) { return absl::StrCat("new-", t); }, TooManyTemplates()), 1)
      << "the last template";
  EXPECT_EQ(this->List().size(), kMaxTemplatesPerCaller);
}

TYPED_TEST_P(TemplateStoreContractTest, EveryCallFailsUnavailableWhileTheBackendIsDown) {
  this->Create("disk-full", "en-US", "Disk full");
  ASSERT_NO_FATAL_FAILURE(this->harness_.TakeDown());
  EXPECT_EQ(this->store()
                .Create("billing", {.name = "disk-full", .locale = "en-US", .sms_text = "x"})
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(this->store().List("billing", "").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(this->store().Latest("billing", "disk-full", "").status().code(),
            absl::StatusCode::kUnavailable);
}

REGISTER_TYPED_TEST_SUITE_P(
    TemplateStoreContractTest, FirstCreateIsVersionOneInTheDefaultLocale,
    ACallerKeepsAtMostItsTemplatesAndVersions, EachCreateAddsTheNextVersionOfItsLocale,
    LaterLocaleIsNotTheDefaultUnlessAsked, CreateAskingForTheDefaultMovesIt,
    FirstCreateAskingForTheDefaultIsTheDefault, ListShowsTheLatestOfEachLocaleByNameThenLocale,
    ListOfANameShowsOnlyItsLocales, LatestIsTheAskedLocalesLatestVersion,
    LatestWithoutALocaleIsTheDefaultLocales, LatestInALocaleTheNameLacksIsTheDefaultLocales,
    LatestOfAnUnknownNameIsNone, ACallerSeesOnlyItsOwnTemplates,
    ConcurrentCreatesOfANameGetDistinctVersions, CreatesRacingForTheLastPlaceTakeItOnce,
    EveryCallFailsUnavailableWhileTheBackendIsDown);

}  // namespace klaxon::audit::testing
