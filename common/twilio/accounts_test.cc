#include "common/twilio/accounts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace klaxon::twilio {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kMainSid[] = "AC0123456789abcdef0123456789abcdef";
constexpr char kBackupSid[] = "ACfedcba9876543210fedcba9876543210";
constexpr char kKeySid[] = "SK0123456789abcdef0123456789abcdef";

// A secret file for the test's life.
class SecretFile {
 public:
  explicit SecretFile(std::string_view contents)
      : path_(std::filesystem::temp_directory_path() /
              absl::StrCat("twilio-secret-", ::getpid(), "-", ++count_)) {
    std::ofstream(path_) << contents;
  }
  ~SecretFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  static inline int count_ = 0;
  std::filesystem::path path_;
};

class TwilioAccountsTest : public ::testing::Test {
 protected:
  std::string Document() const {
    return absl::StrCat(R"({"accounts": [
      {"name": "main", "account_sid": ")",
                        kMainSid, R"(", "api_key_sid": ")", kKeySid,
                        R"(", "api_key_secret_file": ")", key_.path(), R"(", "auth_token_file": ")",
                        main_token_.path(), R"("},
      {"name": "backup", "account_sid": ")",
                        kBackupSid, R"(", "auth_token_file": ")", backup_token_.path(),
                        R"(", "auth_token_secondary_file": ")", main_token_.path(), R"("}]})");
  }

  SecretFile key_{"key-secret\n"};
  SecretFile main_token_{"main-token"};
  SecretFile backup_token_{"  backup-token  \n"};
};

TEST_F(TwilioAccountsTest, ReadsEachAccountsCredentialsFromItsFiles) {
  absl::StatusOr<std::vector<TwilioAccount>> accounts =
      ParseTwilioAccounts(Document(), "accounts.json", CredentialsFor::kRestApi);
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->size(), 2u);
  EXPECT_EQ((*accounts)[0].name, "main");
  EXPECT_EQ((*accounts)[0].account_sid, kMainSid);
  EXPECT_EQ((*accounts)[0].api_key_sid, kKeySid);
  EXPECT_EQ((*accounts)[0].api_key_secret, "key-secret");
  EXPECT_EQ((*accounts)[0].auth_token, "main-token");
  EXPECT_EQ((*accounts)[1].api_key_sid, "");
  EXPECT_EQ((*accounts)[1].auth_token, "backup-token");
  EXPECT_EQ((*accounts)[1].auth_token_secondary, "main-token");
  EXPECT_EQ((*accounts)[0].auth_token_secondary, "");
}

TEST_F(TwilioAccountsTest, ErrorsNameTheAccountAndFieldNeverTheSecret) {
  const std::string error(
      ParseTwilioAccounts(absl::StrCat(R"({"accounts": [
        {"name": "main", "account_sid": "AC123", "api_key_sid": ")",
                                       kKeySid, R"("},
        {"name": "main", "account_sid": ")",
                                       kMainSid, R"(", "auth_token_file": "/nonexistent"},
        {"account_sid": ")",
                                       kBackupSid, R"(", "auth_token": "plain-secret"}]})"),
                          "accounts.json", CredentialsFor::kRestApi)
          .status()
          .message());
  EXPECT_THAT(error, HasSubstr("accounts file accounts.json: account 1 (\"main\") account_sid: is "
                               "required: AC and 32 lowercase hex digits"));
  EXPECT_THAT(error, HasSubstr("account 1 (\"main\") api_key_secret_file: is required with the "
                               "other"));
  EXPECT_THAT(error, HasSubstr("account 2 (\"main\") auth_token_file: cannot read "
                               "\"/nonexistent\""));
  EXPECT_THAT(error, HasSubstr("account 2 (\"main\") name: another account has this name"));
  EXPECT_THAT(error, HasSubstr("account 3 name: is required"));
  EXPECT_THAT(error, HasSubstr("account 3 auth_token: is not an account field"));
  EXPECT_THAT(error, HasSubstr("account 3 api_key_sid: or auth_token_file is required"));
  EXPECT_THAT(error, Not(HasSubstr("plain-secret")));
}

TEST_F(TwilioAccountsTest, IngressNeedsEveryAccountsAuthToken) {
  const std::string error(
      ParseTwilioAccounts(absl::StrCat(R"({"accounts": [{"name": "main", "account_sid": ")",
                                       kMainSid, R"(", "api_key_sid": ")", kKeySid,
                                       R"(", "api_key_secret_file": ")", key_.path(), R"("}]})"),
                          "accounts.json", CredentialsFor::kWebhooks)
          .status()
          .message());
  EXPECT_THAT(error, HasSubstr("account 1 (\"main\") auth_token_file: is required: ingress "
                               "verifies the account's webhooks with it"));
}

TEST_F(TwilioAccountsTest, WithoutAFileTheOneAccountIsTheDefault) {
  config::Reader reader(config::Environment{{"KLAXON_TWILIO_ACCOUNT_SID", kMainSid},
                                            {"KLAXON_TWILIO_AUTH_TOKEN", "token"}});
  const std::vector<TwilioAccount> accounts = ReadTwilioAccounts(reader, CredentialsFor::kRestApi);
  ASSERT_TRUE(reader.Finish().ok()) << reader.Finish();
  ASSERT_EQ(accounts.size(), 1u);
  EXPECT_EQ(accounts[0].name, kDefaultAccount);
  EXPECT_EQ(accounts[0].account_sid, kMainSid);
  EXPECT_EQ(accounts[0].auth_token, "token");
}

TEST_F(TwilioAccountsTest, TheFileAndTheSingleAccountsVariablesExcludeEachOther) {
  const SecretFile file(Document());
  config::Reader reader(config::Environment{{"KLAXON_TWILIO_ACCOUNTS_FILE", file.path()},
                                            {"KLAXON_TWILIO_ACCOUNT_SID", kMainSid}});
  const std::vector<TwilioAccount> accounts = ReadTwilioAccounts(reader, CredentialsFor::kRestApi);
  EXPECT_EQ(accounts.size(), 2u);
  EXPECT_THAT(std::string(reader.Finish().message()),
              HasSubstr("KLAXON_TWILIO_ACCOUNT_SID: is not read with KLAXON_TWILIO_ACCOUNTS_FILE"));
}

}  // namespace
}  // namespace klaxon::twilio
