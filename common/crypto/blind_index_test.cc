#include "common/crypto/blind_index.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"

namespace klaxon::crypto {
namespace {

TEST(BlindIndexTest, IsHmacSha256OfTheNumber) {
  // printf '%s' +14155552671 | openssl dgst -sha256 -hmac kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
  BlindIndex index = *BlindIndex::Create(std::string(32, 'k'));
  EXPECT_EQ(absl::BytesToHexString(index.Compute("+14155552671")),
            "b546248d1e870f00e598832697f55a9e793348b8a07c2f70b8e8b26badcd3ecf");
}

TEST(BlindIndexTest, TellsNumbersApart) {
  BlindIndex index = *BlindIndex::Create(std::string(32, 'k'));
  EXPECT_NE(index.Compute("+14155552671"), index.Compute("+14155552672"));
}

TEST(BlindIndexTest, DependsOnTheKey) {
  EXPECT_NE(BlindIndex::Create(std::string(32, 'k'))->Compute("+14155552671"),
            BlindIndex::Create(std::string(32, 'j'))->Compute("+14155552671"));
}

TEST(BlindIndexTest, RejectsAShortKey) {
  EXPECT_EQ(BlindIndex::Create("short").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace klaxon::crypto
