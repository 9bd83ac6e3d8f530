// An inbound SMS to the suite's number through ingress's real webhook, with
// KLAXON_INBOUND_AUTO_REPLY set: an ordinary message is answered with the configured text as
// TwiML, an opt-out is not (Twilio answers it itself). Needs KLAXON_TEST_KAFKA_BROKERS,
// KLAXON_TEST_REDIS_URL, KLAXON_TEST_PG_URL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/suite.h"

namespace klaxon::e2e {
namespace {

TEST(InboundAutoReplyE2eKafkaRedisPostgresTest, AnOrdinaryMessageGetsTheNumbersReply) {
  Suite suite;
  ASSERT_NO_FATAL_FAILURE(suite.Start(
      {.env = {{"KLAXON_INBOUND_AUTO_REPLY",
                std::string(R"({")") + Suite::kSender + R"(": "Pages only & no replies."})"}}}));

  std::string twiml;
  ASSERT_NO_FATAL_FAILURE(suite.ReceiveSms("+14155550177", "who is this?", &twiml));
  EXPECT_EQ(twiml,
            R"(<?xml version="1.0" encoding="UTF-8"?><Response><Message>Pages only &amp; no )"
            R"(replies.</Message></Response>)");

  ASSERT_NO_FATAL_FAILURE(suite.ReceiveSms("+14155550177", "STOP", &twiml));
  EXPECT_EQ(twiml, R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
}

}  // namespace
}  // namespace klaxon::e2e
