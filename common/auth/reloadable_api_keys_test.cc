#include "common/auth/reloadable_api_keys.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace klaxon::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kOldKey = "billing-old-key";
const std::string kNewKey = "billing-new-key";

class ReloadableApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "api-keys-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "api-keys").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& content) {
    std::ofstream(path_, std::ios::trunc) << content;
  }

  // The keys as a main builds them from KLAXON_API_KEYS_FILE.
  std::unique_ptr<ReloadableApiKeys> Load(const std::string& content,
                                          config::Environment extra = {}) {
    Write(content);
    extra["KLAXON_API_KEYS_FILE"] = path_;
    config::Reader reader(std::move(extra));
    ApiKeySettings settings = ReadApiKeySettings(reader);
    EXPECT_TRUE(reader.Finish().ok()) << reader.Finish();
    absl::StatusOr<std::unique_ptr<ReloadableApiKeys>> keys =
        ReloadableApiKeys::Create(std::move(settings), logger_);
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? *std::move(keys) : nullptr;
  }

  int Logged(const std::string& event) const {
    int count = 0;
    for (const std::string& line : sink_.Lines()) {
      if (line.find("\"event\":\"" + event + "\"") != std::string::npos) ++count;
    }
    return count;
  }

  std::filesystem::path dir_;
  std::string path_;
  log::MemorySink sink_;
  log::PhoneRedactor redactor_ = log::PhoneRedactor::Create("reloadable-api-keys").value();
  log::Logger logger_{{.service = "test"}, redactor_, sink_};
};

TEST_F(ReloadableApiKeysTest, ANewKeyWorksAfterReloadWithoutARestart) {
  auto keys = Load(absl::StrCat("billing=", HashApiKey(kOldKey), "\n"));
  ASSERT_NE(keys, nullptr);
  EXPECT_EQ(keys->Authenticate(kNewKey).status().code(), absl::StatusCode::kUnauthenticated);
  // The rotation's overlap: both keys, then the new one alone.
  Write(absl::StrCat("billing=", HashApiKey(kOldKey), "\nbilling=", HashApiKey(kNewKey), "\n"));
  ASSERT_TRUE(keys->Reload().ok());
  EXPECT_EQ(keys->Authenticate(kOldKey).value_or(""), "billing");
  EXPECT_EQ(keys->Authenticate(kNewKey).value_or(""), "billing");
  Write(absl::StrCat("billing=", HashApiKey(kNewKey), "\n"));
  ASSERT_TRUE(keys->Reload().ok());
  EXPECT_EQ(keys->Authenticate(kOldKey).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(keys->Authenticate(kNewKey).value_or(""), "billing");
  EXPECT_EQ(Logged("api_keys_reloaded"), 2);
}

TEST_F(ReloadableApiKeysTest, UnchangedFileIsNotReloaded) {
  auto keys = Load(absl::StrCat("billing=", HashApiKey(kOldKey), "\n"));
  ASSERT_NE(keys, nullptr);
  ASSERT_TRUE(keys->Reload().ok());
  EXPECT_EQ(Logged("api_keys_reloaded"), 0);
}

TEST_F(ReloadableApiKeysTest, BadFileKeepsTheOldKeysAndNamesTheFileAndProblem) {
  auto keys = Load(absl::StrCat("billing=", HashApiKey(kOldKey)));
  ASSERT_NE(keys, nullptr);
  Write("billing=" + HashApiKey(kNewKey) + "\npager=not-a-hash\n");
  const absl::Status reloaded = keys->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(reloaded.message(), HasSubstr(path_));
  EXPECT_THAT(reloaded.message(), HasSubstr("entry 2 (caller \"pager\"): hash is not 64 hex"));
  EXPECT_EQ(keys->Authenticate(kOldKey).value_or(""), "billing");
  EXPECT_EQ(keys->Authenticate(kNewKey).status().code(), absl::StatusCode::kUnauthenticated);
  ASSERT_EQ(Logged("api_keys_reload_failed"), 1);
  for (const std::string& line : sink_.Lines()) {
    EXPECT_THAT(line, Not(HasSubstr(HashApiKey(kNewKey))));
  }
  // Logged once, not at every poll, while the file stays the same.
  EXPECT_FALSE(keys->Reload().ok());
  EXPECT_EQ(Logged("api_keys_reload_failed"), 1);
}

TEST_F(ReloadableApiKeysTest, MissingFileKeepsTheOldKeys) {
  auto keys = Load(absl::StrCat("billing=", HashApiKey(kOldKey)));
  ASSERT_NE(keys, nullptr);
  std::filesystem::remove(path_);
  const absl::Status reloaded = keys->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(reloaded.message(), HasSubstr(path_));
  EXPECT_EQ(keys->Authenticate(kOldKey).value_or(""), "billing");
}

TEST_F(ReloadableApiKeysTest, OperatorsComeFromTheirVariable) {
  auto keys = Load(absl::StrCat("billing=", HashApiKey(kOldKey), "\noncall=", HashApiKey(kNewKey)),
                   {{"KLAXON_OPERATOR_CALLERS", "oncall, sre"}});
  ASSERT_NE(keys, nullptr);
  EXPECT_TRUE(keys->IsOperator("oncall"));
  EXPECT_TRUE(keys->IsOperator("sre"));
  EXPECT_FALSE(keys->IsOperator("billing"));
}

TEST(ApiKeySettingsTest, BadOperatorNameAndBadKeysAreConfigurationErrors) {
  config::Reader reader({{"KLAXON_API_KEYS", "billing=abc"},
                         {"KLAXON_OPERATOR_CALLERS", "on call"}});
  ReadApiKeySettings(reader);
  const absl::Status status = reader.Finish();
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_OPERATOR_CALLERS"));
  EXPECT_THAT(status.message(), HasSubstr("KLAXON_API_KEYS"));
}

TEST(ApiKeySettingsTest, InlineKeysAreFixed) {
  log::MemorySink sink;
  const log::Logger logger({}, log::PhoneRedactor::Create("reloadable-api-keys").value(), sink);
  config::Reader reader({{"KLAXON_API_KEYS", "billing=" + HashApiKey(kOldKey)}});
  auto keys = ReloadableApiKeys::Create(ReadApiKeySettings(reader), logger);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE((*keys)->Reload().ok());
  EXPECT_EQ((*keys)->Authenticate(kOldKey).value_or(""), "billing");
}

}  // namespace
}  // namespace klaxon::auth
