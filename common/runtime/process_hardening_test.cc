#include "common/runtime/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <string>

#include "gtest/gtest.h"

namespace klaxon::runtime {
namespace {

TEST(ProcessHardeningTest, TurnsCoreDumpsOffAndRaisesTheFileLimit) {
  ASSERT_TRUE(HardenProcess().ok());
  rlimit core{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &core), 0);
  EXPECT_EQ(core.rlim_cur, 0u);
  EXPECT_EQ(core.rlim_max, 0u);
  EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  EXPECT_EQ(files.rlim_cur, files.rlim_max);
}

TEST(ProcessHardeningTest, WipeSecretOverwritesTheBytesItHeld) {
  std::string secret(64, 's');  // heap-allocated, past the small-string buffer
  const char* bytes = secret.data();
  WipeSecret(secret);
  EXPECT_TRUE(secret.empty());
  // clear() keeps the allocation, so the old bytes can be inspected: all overwritten.
  EXPECT_EQ(secret.capacity() >= 64 ? std::string(bytes, 64).find('s') : std::string::npos,
            std::string::npos);
}

}  // namespace
}  // namespace klaxon::runtime
