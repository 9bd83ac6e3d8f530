// The caller API's OpenAPI document, as ingress serves it at /v1/openapi.json, passes a standard
// validator: @apidevtools/swagger-parser under Node.js (tests/openapi/install-validator.sh, which
// scripts/deps.sh runs; KLAXON_OPENAPI_VALIDATOR_MODULES overrides where it is).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "services/ingress/http_api.h"
#include "tests/support/process.h"

namespace klaxon::ingress {
namespace {

std::string ValidatorModules() {
  if (const char* set = std::getenv("KLAXON_OPENAPI_VALIDATOR_MODULES")) return set;
  const char* cache = std::getenv("KLAXON_CACHE");
  const std::string root =
      cache != nullptr
          ? cache
          : std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + "/.cache/klaxon";
  return root + "/openapi-validator/node_modules";
}

TEST(CallerApiOpenApiTest, TheDocumentPassesAStandardValidator) {
  char dir_template[] = "/tmp/klaxon-openapi-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string document = dir + "/openapi.json";
  std::ofstream(document) << CallerApiDocument();

  const std::string modules = ValidatorModules();
  ASSERT_TRUE(std::ifstream(modules + "/@apidevtools/swagger-parser/package.json").good())
      << "the OpenAPI validator is not installed at " << modules
      << ": run scripts/deps.sh (or tests/openapi/install-validator.sh)";
  klaxon::testing::ChildProcess validator(
      {"/usr/bin/node", KLAXON_OPENAPI_VALIDATOR_SCRIPT, document},
      {{"PATH", "/usr/bin:/bin"}, {"KLAXON_OPENAPI_VALIDATOR_MODULES", modules}},
      dir + "/validator.log");
  EXPECT_EQ(validator.WaitForExit(absl::Seconds(60)), 0) << validator.Log();
  EXPECT_THAT(validator.Log(), ::testing::HasSubstr("valid: Klaxon caller API v1"));
}

}  // namespace
}  // namespace klaxon::ingress
