#include "tools/klaxonctl/cli.h"

#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/prototime/prototime.h"
#include "gmock/gmock.h"
#include "grpcpp/test/client_context_test_peer.h"
#include "gtest/gtest.h"
#include "tools/klaxonctl/test_doubles.h"

namespace klaxon::ctl {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::UnorderedElementsAre;

std::string AuthorizationOf(grpc::ClientContext* context) {
  const std::multimap<std::string, std::string> metadata =
      grpc::testing::ClientContextTestPeer(context).GetSendInitialMetadata();
  const auto found = metadata.find("authorization");
  return found == metadata.end() ? "" : found->second;
}

class CliTest : public ::testing::Test {
 protected:
  CliTest() {
    auto intake = std::make_unique<MockIntakeStub>();
    auto query = std::make_unique<MockQueryStub>();
    auto dead_letters = std::make_unique<MockDeadLettersStub>();
    auto verification = std::make_unique<MockVerificationStub>();
    auto inbound = std::make_unique<MockInboundMessagesStub>();
    inbound_ = inbound.get();
    inbound_owned_ = std::move(inbound);
    intake_ = intake.get();
    query_ = query.get();
    dead_letters_ = dead_letters.get();
    verification_ = verification.get();
    intake_owned_ = std::move(intake);
    query_owned_ = std::move(query);
    dead_letters_owned_ = std::move(dead_letters);
    verification_owned_ = std::move(verification);
  }

  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), "klaxonctl");
    std::vector<const char*> argv;
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    const CliDependencies deps{
        .make_intake =
            [this](const Endpoint& endpoint) {
              ingress_address_ = endpoint.address;
              ingress_security_ = endpoint.security;
              return std::move(intake_owned_);
            },
        .make_query =
            [this](const Endpoint& endpoint) {
              audit_address_ = endpoint.address;
              audit_security_ = endpoint.security;
              return std::move(query_owned_);
            },
        .make_dead_letters =
            [this](const Endpoint& endpoint) {
              dead_letters_address_ = endpoint.address;
              return std::move(dead_letters_owned_);
            },
        .make_inbound_messages =
            [this](const Endpoint& endpoint) {
              inbound_address_ = endpoint.address;
              return std::move(inbound_owned_);
            },
        .make_verification =
            [this](const Endpoint& endpoint) {
              verification_address_ = endpoint.address;
              return std::move(verification_owned_);
            },
        .get_env = [this](const std::string& name) -> std::optional<std::string> {
          const auto found = env_.find(name);
          if (found == env_.end()) return std::nullopt;
          return found->second;
        },
        .idempotency_keys = idempotency_keys_,
        .read_file = [this](const std::string& path) -> absl::StatusOr<std::string> {
          const auto found = files_.find(path);
          if (found == files_.end()) return absl::NotFoundError(path + ": no such file");
          return found->second;
        },
        .clock = clock_,
        .out = out_,
        .err = err_,
    };
    return RunCli(static_cast<int>(argv.size()), argv.data(), deps);
  }

  // Makes SendAlert answer with `alert_id` and remember the request and its context's key.
  void ExpectSendAnswering(const std::string& alert_id) {
    EXPECT_CALL(*intake_, SendAlert)
        .WillOnce([this, alert_id](grpc::ClientContext* context,
                                   const alerts::v1::SendAlertRequest& request,
                                   alerts::v1::SendAlertResponse* response) {
          sent_ = request;
          authorization_ = AuthorizationOf(context);
          response->set_alert_id(alert_id);
          return grpc::Status::OK;
        });
  }

  timing::FakeClock clock_;
  ids::CountingIdGenerator idempotency_keys_{"generated-key-"};
  std::ostringstream out_;
  std::ostringstream err_;
  std::map<std::string, std::string> env_;
  std::map<std::string, std::string> files_;
  MockIntakeStub* intake_ = nullptr;
  MockQueryStub* query_ = nullptr;
  std::unique_ptr<MockIntakeStub> intake_owned_;
  std::unique_ptr<MockQueryStub> query_owned_;
  MockDeadLettersStub* dead_letters_ = nullptr;
  std::unique_ptr<MockDeadLettersStub> dead_letters_owned_;
  MockVerificationStub* verification_ = nullptr;
  std::unique_ptr<MockVerificationStub> verification_owned_;
  MockInboundMessagesStub* inbound_ = nullptr;
  std::unique_ptr<MockInboundMessagesStub> inbound_owned_;
  std::string inbound_address_;
  std::string ingress_address_;
  std::string audit_address_;
  std::string dead_letters_address_;
  std::string verification_address_;
  grpcutil::ChannelSecurity ingress_security_;
  grpcutil::ChannelSecurity audit_security_;
  alerts::v1::SendAlertRequest sent_;
  std::string authorization_;
};

TEST_F(CliTest, SendPrintsOnlyTheAlertId) {
  ExpectSendAnswering("0190a1b2-0000-7000-8000-000000000001");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "disk full on db-1",
                 "--meta", "host=db-1", "--meta", "team=storage"}),
            kExitOk);
  EXPECT_EQ(out_.str(), "0190a1b2-0000-7000-8000-000000000001\n");
  EXPECT_THAT(err_.str(), IsEmpty());
  EXPECT_EQ(sent_.channel(), types::v1::CHANNEL_SMS);
  EXPECT_EQ(sent_.recipient(), "+14155552671");
  EXPECT_EQ(sent_.text(), "disk full on db-1");
  EXPECT_EQ(sent_.idempotency_key(), "generated-key-1");
  EXPECT_THAT(sent_.metadata(),
              UnorderedElementsAre(Pair("host", "db-1"), Pair("team", "storage")));
  EXPECT_EQ(authorization_, "Bearer k1");
  EXPECT_EQ(ingress_address_, "127.0.0.1:50051");
}

TEST_F(CliTest, SendUsesGivenIdempotencyKeyAndChannel) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--channel",
                 "VOICE", "--idempotency-key", "deploy-42"}),
            kExitOk);
  EXPECT_EQ(sent_.channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(sent_.idempotency_key(), "deploy-42");
}

TEST_F(CliTest, SendPassesTtlAndVoicePolicy) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(
      Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--channel", "voice",
           "--ttl", "10m", "--max-calls", "2", "--call-spacing", "90s", "--sms-fallback"}),
      kExitOk);
  EXPECT_EQ(sent_.ttl().seconds(), 600);
  EXPECT_EQ(sent_.voice().max_calls(), 2u);
  EXPECT_EQ(sent_.voice().call_spacing().seconds(), 90);
  EXPECT_TRUE(sent_.voice().sms_fallback());
}

TEST_F(CliTest, SendAsksForAnAckReply) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(
      Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--ack-by-reply"}),
      kExitOk);
  EXPECT_TRUE(sent_.ack_by_reply());
}

TEST_F(CliTest, SendSchedulesAheadOfNow) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(
      Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--send-at", "+90m"}),
      kExitOk);
  EXPECT_EQ(prototime::FromProto(sent_.send_at()), clock_.Now() + absl::Minutes(90));
}

TEST_F(CliTest, SendCarriesThePriorityAndTheRecipientsTimeZone) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--priority",
                 "critical", "--time-zone", "Europe/Berlin"}),
            kExitOk);
  EXPECT_EQ(sent_.priority(), types::v1::PRIORITY_CRITICAL);
  EXPECT_EQ(sent_.time_zone(), "Europe/Berlin");
}

TEST_F(CliTest, SendCarriesTheAlertsCallbackUrl) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--callback-url",
                 "https://hooks.example.com/klaxon"}),
            kExitOk);
  EXPECT_EQ(sent_.callback_url(), "https://hooks.example.com/klaxon");
}

TEST_F(CliTest, AnUnknownPriorityIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+1", "--text", "t", "--priority", "urgent"}),
            kExitUsage);
}

TEST_F(CliTest, SendSchedulesAtAnRfc3339Time) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--send-at",
                 "2026-11-26T08:00:00Z"}),
            kExitOk);
  EXPECT_EQ(sent_.send_at().seconds(), 1'795'680'000);
}

TEST_F(CliTest, MalformedSendAtIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+1", "--text", "t", "--send-at", "soon"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--send-at must be now, a time ago such as -24h or -7d, a "
                                    "time ahead such as +10m"));
}

TEST_F(CliTest, SendEscalatesThroughTheStepsInOrder) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--text", "t", "--escalate", "+14155550101:2:30s",
                 "--escalate", "+14155550102", "--escalate", "+14155550103:1"}),
            kExitOk);
  EXPECT_TRUE(sent_.recipient().empty());
  ASSERT_EQ(sent_.escalation_size(), 3);
  EXPECT_EQ(sent_.escalation(0).recipient(), "+14155550101");
  EXPECT_EQ(sent_.escalation(0).attempts(), 2u);
  EXPECT_EQ(sent_.escalation(0).spacing().seconds(), 30);
  EXPECT_EQ(sent_.escalation(1).attempts(), 0u);
  EXPECT_FALSE(sent_.escalation(1).has_spacing());
  EXPECT_EQ(sent_.escalation(2).attempts(), 1u);
}

TEST_F(CliTest, SendNamesATemplateWithItsLocaleAndParameters) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155550101", "--template", "disk-full",
                 "--locale", "de-DE", "--param", "host=db-1", "--param", "disk=/var"}),
            kExitOk);
  EXPECT_TRUE(sent_.text().empty());
  EXPECT_EQ(sent_.template_().name(), "disk-full");
  EXPECT_EQ(sent_.template_().locale(), "de-DE");
  EXPECT_EQ(sent_.template_().parameters().at("host"), "db-1");
  EXPECT_EQ(sent_.template_().parameters().at("disk"), "/var");
}

TEST_F(CliTest, SendNeedsEitherTextOrATemplate) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155550101", "--text", "t", "--template",
                 "disk-full"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("send needs --text or --template, not both"));
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155550101", "--template", "disk-full",
                 "--param", "host"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--param takes key=value, got \"host\""));
}

TEST_F(CliTest, SendNeedsEitherToOrEscalate) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--text", "t"}), kExitUsage);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155550101", "--text", "t", "--escalate",
                 "+14155550102"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("send needs --to or --escalate, not both"));
}

TEST_F(CliTest, AMalformedEscalationStepIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--text", "t", "--escalate", "+14155550101:two"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--escalate takes NUMBER[:ATTEMPTS[:SPACING]]"));
}

TEST_F(CliTest, SendWithoutPolicyFlagsLeavesThemUnset) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t"}), kExitOk);
  EXPECT_FALSE(sent_.has_ttl());
  EXPECT_FALSE(sent_.has_voice());
  EXPECT_FALSE(sent_.ack_by_reply());
  EXPECT_FALSE(sent_.has_send_at());
}

TEST_F(CliTest, VoicePolicyOnSmsIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+1", "--text", "t", "--sms-fallback"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("need --channel voice"));
}

TEST_F(CliTest, MalformedTtlIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+1", "--text", "t", "--ttl", "soon"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--ttl must be a positive duration"));
}

TEST_F(CliTest, CancelSendsTheAlertIdAndPrintsCancelled) {
  alerts::v1::CancelAlertRequest asked;
  EXPECT_CALL(*intake_, CancelAlert)
      .WillOnce([&](grpc::ClientContext* context, const alerts::v1::CancelAlertRequest& request,
                    alerts::v1::CancelAlertResponse*) {
        asked = request;
        authorization_ = AuthorizationOf(context);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "cancel", "a1"}), kExitOk);
  EXPECT_EQ(asked.alert_id(), "a1");
  EXPECT_EQ(authorization_, "Bearer k1");
  EXPECT_EQ(out_.str(), "cancelled\n");
}

TEST_F(CliTest, CancelSaysWhenAlreadyCancelled) {
  alerts::v1::CancelAlertResponse answer;
  answer.set_already_cancelled(true);
  EXPECT_CALL(*intake_, CancelAlert)
      .WillOnce(DoAll(::testing::SetArgPointee<2>(answer), Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"--api-key", "k1", "cancel", "a1", "--json"}), kExitOk);
  EXPECT_EQ(out_.str(), "{\"already_cancelled\":true}\n");
}

TEST_F(CliTest, AckSendsTheAlertIdAndPrintsAcknowledged) {
  alerts::v1::AcknowledgeAlertRequest asked;
  EXPECT_CALL(*intake_, AcknowledgeAlert)
      .WillOnce([&](grpc::ClientContext* context,
                    const alerts::v1::AcknowledgeAlertRequest& request,
                    alerts::v1::AcknowledgeAlertResponse*) {
        asked = request;
        authorization_ = AuthorizationOf(context);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "ack", "a1"}), kExitOk);
  EXPECT_EQ(asked.alert_id(), "a1");
  EXPECT_EQ(authorization_, "Bearer k1");
  EXPECT_EQ(out_.str(), "acknowledged\n");
}

TEST_F(CliTest, AckOfACancelledAlertFailsWithTheReason) {
  EXPECT_CALL(*intake_, AcknowledgeAlert)
      .WillOnce(
          Return(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              "alert_id: the alert was cancelled before it was acknowledged")));
  EXPECT_EQ(Run({"--api-key", "k1", "ack", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("cancelled before it was acknowledged"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("again is safe")));
}

TEST_F(CliTest, CancelUnavailableSaysRetryingIsSafe) {
  EXPECT_CALL(*intake_, CancelAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kafka down")));
  EXPECT_EQ(Run({"--api-key", "k1", "cancel", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("CancelAlert failed: UNAVAILABLE: kafka down"));
  EXPECT_THAT(err_.str(), HasSubstr("cancelling again is safe"));
}

TEST_F(CliTest, CancelNotFoundExitsOne) {
  EXPECT_CALL(*intake_, CancelAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "alert_id: no alert")));
  EXPECT_EQ(Run({"--api-key", "k1", "cancel", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("again")));
}

TEST_F(CliTest, WaitForAcceptsTheNewStatuses) {
  EXPECT_CALL(*query_, GetAlert).WillOnce(ReturnAlertWithStatus(types::v1::ALERT_STATUS_CANCELLED));
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1", "--wait-for", "cancelled"}), kExitOk);
}

TEST_F(CliTest, SendJsonPrintsTheWholeResponse) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k1", "send", "--to", "+14155552671", "--text", "t", "--json"}),
            kExitOk);
  EXPECT_EQ(out_.str(), "{\"alert_id\":\"a1\",\"duplicate\":false,\"segments\":0}\n");
}

TEST_F(CliTest, ReadsKeyAndAddressesFromTheEnvironment) {
  env_ = {{"KLAXON_API_KEY", "env-key"},
          {"KLAXON_INGRESS_ADDR", "ingress.klaxon:50051"},
          {"KLAXON_AUDIT_ADDR", "audit.klaxon:50052"}};
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"send", "--to", "+14155552671", "--text", "t"}), kExitOk);
  EXPECT_EQ(authorization_, "Bearer env-key");
  EXPECT_EQ(ingress_address_, "ingress.klaxon:50051");
  EXPECT_EQ(audit_address_, "audit.klaxon:50052");
}

TEST_F(CliTest, FlagsOverrideTheEnvironment) {
  env_ = {{"KLAXON_API_KEY", "env-key"}, {"KLAXON_INGRESS_ADDR", "ingress.klaxon:50051"}};
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--ingress", "localhost:6000", "--api-key", "flag-key", "send", "--to",
                 "+14155552671", "--text", "t"}),
            kExitOk);
  EXPECT_EQ(authorization_, "Bearer flag-key");
  EXPECT_EQ(ingress_address_, "localhost:6000");
}

TEST_F(CliTest, LoopbackWithoutTlsOptionsIsPlaintext) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "+14155552671", "--text", "t"}), kExitOk);
  EXPECT_FALSE(ingress_security_.tls);
  EXPECT_FALSE(audit_security_.tls);
}

TEST_F(CliTest, RemoteAddressWithoutTlsOptionsIsTls) {
  env_ = {{"KLAXON_INGRESS_ADDR", "ingress.klaxon:50051"}};
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "+14155552671", "--text", "t"}), kExitOk);
  EXPECT_TRUE(ingress_security_.tls);
  EXPECT_FALSE(audit_security_.tls);  // the default 127.0.0.1:50052
}

TEST_F(CliTest, CaFromTheEnvironmentMakesBothLinksTlsTrustingIt) {
  env_ = {{"KLAXON_CA_FILE", "/run/ca.pem"}};
  files_ = {{"/run/ca.pem", "CA PEM"}};
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "+14155552671", "--text", "t"}), kExitOk);
  EXPECT_TRUE(ingress_security_.tls);
  EXPECT_EQ(ingress_security_.root_certs, "CA PEM");
  EXPECT_EQ(audit_security_.root_certs, "CA PEM");
}

TEST_F(CliTest, ClientCertificateFlagsAreRead) {
  files_ = {{"/ca.pem", "CA"}, {"/me.pem", "CERT"}, {"/me.key", "KEY"}};
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"--api-key", "k", "--ca", "/ca.pem", "--cert", "/me.pem", "--key", "/me.key",
                 "send", "--to", "+14155552671", "--text", "t"}),
            kExitOk);
  EXPECT_EQ(ingress_security_.cert_chain, "CERT");
  EXPECT_EQ(ingress_security_.private_key, "KEY");
}

TEST_F(CliTest, PlaintextWithCaIsAUsageError) {
  files_ = {{"/ca.pem", "CA"}};
  EXPECT_EQ(Run({"--api-key", "k", "--plaintext", "--ca", "/ca.pem", "get", "a1"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--plaintext contradicts"));
}

TEST_F(CliTest, UnreadableCaIsAUsageErrorNamingIt) {
  EXPECT_EQ(Run({"--api-key", "k", "--ca", "/missing.pem", "get", "a1"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--ca: /missing.pem"));
}

TEST_F(CliTest, FailedHandshakeNamesTheLink) {
  files_ = {{"/ca.pem", "CA"}};
  EXPECT_CALL(*intake_, SendAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "failed to connect to all addresses; last error: UNKNOWN: "
                                    "ipv4:127.0.0.1:50051: Ssl handshake failed: "
                                    "CERTIFICATE_VERIFY_FAILED")));
  EXPECT_EQ(
      Run({"--api-key", "k", "--ca", "/ca.pem", "send", "--to", "+14155552671", "--text", "t"}),
      kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("TLS handshake with ingress gRPC at 127.0.0.1:50051 failed "
                                    "(TLS (CA /ca.pem)): failed to connect"));
}

TEST_F(CliTest, AcceptsGlobalOptionsAfterTheSubcommand) {
  ExpectSendAnswering("a1");
  EXPECT_EQ(Run({"send", "--to", "+14155552671", "--text", "t", "--api-key", "k2"}), kExitOk);
  EXPECT_EQ(authorization_, "Bearer k2");
}

TEST_F(CliTest, SendDeadlineFollowsTimeout) {
  std::chrono::system_clock::time_point deadline;
  EXPECT_CALL(*intake_, SendAlert)
      .WillOnce([&deadline](grpc::ClientContext* context, const alerts::v1::SendAlertRequest&,
                            alerts::v1::SendAlertResponse*) {
        deadline = context->deadline();
        return grpc::Status::OK;
      });
  const absl::Time start = clock_.Now();
  EXPECT_EQ(Run({"--api-key", "k", "--timeout", "3", "send", "--to", "+1", "--text", "t"}),
            kExitOk);
  EXPECT_EQ(deadline, absl::ToChronoTime(start + absl::Seconds(3)));
}

TEST_F(CliTest, MissingApiKeyIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"send", "--to", "+14155552671", "--text", "t"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--api-key or KLAXON_API_KEY is required"));
}

TEST_F(CliTest, MissingRecipientIsAUsageError) {
  EXPECT_EQ(Run({"--api-key", "k", "send", "--text", "t"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--to"));
}

TEST_F(CliTest, MetadataWithoutEqualsIsAUsageError) {
  EXPECT_CALL(*intake_, SendAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "+1", "--text", "t", "--meta", "host"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--meta takes key=value"));
}

TEST_F(CliTest, UnknownChannelIsAUsageError) {
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "+1", "--text", "t", "--channel", "fax"}),
            kExitUsage);
}

TEST_F(CliTest, MalformedTimeoutIsAUsageError) {
  EXPECT_EQ(Run({"--api-key", "k", "--timeout", "soon", "get", "a1"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--timeout must be a positive duration"));
}

TEST_F(CliTest, MissingSubcommandIsAUsageError) { EXPECT_EQ(Run({"--api-key", "k"}), kExitUsage); }

TEST_F(CliTest, HelpExitsZero) {
  EXPECT_EQ(Run({"--help"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("send"));
}

TEST_F(CliTest, SendRpcErrorPrintsCodeAndRetryHint) {
  EXPECT_CALL(*intake_, SendAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused")));
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "+1", "--text", "t"}), kExitFailure);
  EXPECT_THAT(out_.str(), IsEmpty());
  EXPECT_THAT(err_.str(), HasSubstr("SendAlert failed: UNAVAILABLE: cannot reach ingress gRPC at "
                                    "127.0.0.1:50051 (plaintext): connection refused"));
  EXPECT_THAT(err_.str(), HasSubstr("retry with --idempotency-key generated-key-1"));
}

TEST_F(CliTest, SendRejectionHasNoRetryHint) {
  EXPECT_CALL(*intake_, SendAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "recipient not E.164")));
  EXPECT_EQ(Run({"--api-key", "k", "send", "--to", "0800", "--text", "t"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("INVALID_ARGUMENT: recipient not E.164"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("retry")));
}

TEST_F(CliTest, GetPrintsTheAlert) {
  alerts::v1::GetAlertRequest asked;
  alerts::v1::Alert alert;
  alert.set_alert_id("a1");
  alert.set_status(types::v1::ALERT_STATUS_DELIVERED);
  alert.set_recipient_country_code("44");
  alert.set_recipient_last4("0123");
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(
          DoAll(SaveArg<1>(&asked), ::testing::SetArgPointee<2>(alert), Return(grpc::Status::OK)));
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1"}), kExitOk);
  EXPECT_EQ(asked.alert_id(), "a1");
  EXPECT_THAT(out_.str(), HasSubstr("status      DELIVERED\n"));
  EXPECT_THAT(out_.str(), HasSubstr("recipient   +44 ••• 0123\n"));
}

TEST_F(CliTest, GetJsonPrintsTheAlertAsJson) {
  EXPECT_CALL(*query_, GetAlert).WillOnce(ReturnAlertWithStatus(types::v1::ALERT_STATUS_SENT));
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1", "--json"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"status\":\"ALERT_STATUS_SENT\""));
}

TEST_F(CliTest, GetErrorPrintsCodeAndExitsOne) {
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no alert a1")));
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("GetAlert failed: NOT_FOUND: no alert a1"));
}

TEST_F(CliTest, WaitForExitsZeroOnceStatusIsReached) {
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(ReturnAlertWithStatus(types::v1::ALERT_STATUS_QUEUED))
      .WillOnce(ReturnAlertWithStatus(types::v1::ALERT_STATUS_DELIVERED));
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1", "--wait-for", "delivered"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("status      DELIVERED\n"));
  EXPECT_EQ(clock_.sleeps().size(), 1U);
}

TEST_F(CliTest, WaitForExitsOneWhenAlertEndsOtherwise) {
  EXPECT_CALL(*query_, GetAlert)
      .WillOnce(ReturnAlertWithStatus(types::v1::ALERT_STATUS_UNDELIVERED));
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1", "--wait-for", "DELIVERED"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("alert ended as UNDELIVERED without reaching DELIVERED"));
}

TEST_F(CliTest, WaitForExitsOneAfterTimeout) {
  EXPECT_CALL(*query_, GetAlert)
      .WillRepeatedly(ReturnAlertWithStatus(types::v1::ALERT_STATUS_SENT));
  const absl::Time start = clock_.Now();
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1", "--wait-for", "DELIVERED", "--timeout", "2s"}),
            kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("gave up after 2s waiting for DELIVERED; last status SENT"));
  EXPECT_EQ(clock_.Now(), start + absl::Seconds(2));
}

TEST_F(CliTest, WaitForUnknownStatusIsAUsageError) {
  EXPECT_CALL(*query_, GetAlert).Times(0);
  EXPECT_EQ(Run({"--api-key", "k", "get", "a1", "--wait-for", "READ"}), kExitUsage);
}

alerts::v1::Alert ListedAlert(const std::string& id, types::v1::AlertStatus status) {
  alerts::v1::Alert alert;
  alert.set_alert_id(id);
  alert.set_status(status);
  alert.set_channel(types::v1::CHANNEL_SMS);
  alert.set_recipient_country_code("1");
  alert.set_recipient_last4("2671");
  alert.mutable_created_at()->set_seconds(1'700'000'000);
  alert.mutable_updated_at()->set_seconds(1'700'000'001);
  return alert;
}

// A ListAlerts answer: one page holding `ids`, continued by `next_token`.
auto ReturnPage(std::vector<std::string> ids, std::string next_token) {
  return [ids = std::move(ids), next_token = std::move(next_token)](
             grpc::ClientContext*, const alerts::v1::ListAlertsRequest&,
             alerts::v1::ListAlertsResponse* response) {
    for (const std::string& id : ids) {
      *response->add_alerts() = ListedAlert(id, types::v1::ALERT_STATUS_DELIVERED);
    }
    response->set_next_page_token(next_token);
    return grpc::Status::OK;
  };
}

TEST_F(CliTest, ListPrintsAPageAndHowToContinue) {
  EXPECT_CALL(*query_, ListAlerts).WillOnce(ReturnPage({"a1", "a2"}, "tok2"));
  EXPECT_EQ(Run({"--api-key", "k1", "list", "--limit", "2"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("ALERT ID"));
  EXPECT_THAT(out_.str(), HasSubstr("a1"));
  EXPECT_THAT(out_.str(), HasSubstr("DELIVERED"));
  EXPECT_THAT(out_.str(), HasSubstr("+1 ••• 2671"));
  EXPECT_THAT(err_.str(), HasSubstr("--page-token tok2"));
}

TEST_F(CliTest, ListAllFollowsEveryPage) {
  alerts::v1::ListAlertsRequest second;
  EXPECT_CALL(*query_, ListAlerts)
      .WillOnce(ReturnPage({"a1"}, "tok2"))
      .WillOnce(DoAll(SaveArg<1>(&second), ReturnPage({"a2"}, "")));
  EXPECT_EQ(Run({"--api-key", "k1", "list", "--all"}), kExitOk);
  EXPECT_EQ(second.page_token(), "tok2");
  EXPECT_THAT(out_.str(), HasSubstr("a1"));
  EXPECT_THAT(out_.str(), HasSubstr("a2"));
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(CliTest, ListSendsEveryFilter) {
  alerts::v1::ListAlertsRequest sent;
  EXPECT_CALL(*query_, ListAlerts).WillOnce(DoAll(SaveArg<1>(&sent), ReturnPage({}, "")));
  EXPECT_EQ(Run({"--api-key", "k1", "list", "--status", "failed", "--channel", "voice", "--to",
                 "+14155552671", "--from=-24h", "--before", "2023-11-14T22:13:20Z", "--limit", "10",
                 "--page-token", "tok"}),
            kExitOk);
  EXPECT_EQ(sent.status(), types::v1::ALERT_STATUS_FAILED);
  EXPECT_EQ(sent.channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(sent.recipient(), "+14155552671");
  EXPECT_EQ(sent.created_from().seconds(), 1'700'000'000 - 24 * 3600);
  EXPECT_EQ(sent.created_before().seconds(), 1'700'000'000);
  EXPECT_EQ(sent.page_size(), 10);
  EXPECT_EQ(sent.page_token(), "tok");
  EXPECT_EQ(out_.str(), "no alerts\n");
}

TEST_F(CliTest, ListWithUnreadableTimeIsUsage) {
  EXPECT_EQ(Run({"--api-key", "k1", "list", "--from", "yesterday"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--from"));
}

TEST_F(CliTest, WatchPrintsEachStatusAndExitsOkAtTheEnd) {
  EXPECT_CALL(*query_, WatchAlertRaw)
      .WillOnce(Return(new FakeAlertReader({ListedAlert("a1", types::v1::ALERT_STATUS_QUEUED),
                                            ListedAlert("a1", types::v1::ALERT_STATUS_SENT),
                                            ListedAlert("a1", types::v1::ALERT_STATUS_DELIVERED)},
                                           grpc::Status::OK)));
  EXPECT_EQ(Run({"--api-key", "k1", "watch", "a1"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "2023-11-14T22:13:21.000Z  QUEUED        -\n"
            "2023-11-14T22:13:21.000Z  SENT          -\n"
            "2023-11-14T22:13:21.000Z  DELIVERED     -\n");
}

TEST_F(CliTest, WatchResumesAStreamAuditEndedAtItsLifetime) {
  EXPECT_CALL(*query_, WatchAlertRaw)
      .WillOnce(Return(new FakeAlertReader(
          {ListedAlert("a1", types::v1::ALERT_STATUS_QUEUED)},
          grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       "the watch reached its maximum lifetime of 1h; watch again to resume"))))
      .WillOnce(Return(new FakeAlertReader({ListedAlert("a1", types::v1::ALERT_STATUS_QUEUED),
                                            ListedAlert("a1", types::v1::ALERT_STATUS_DELIVERED)},
                                           grpc::Status::OK)));
  EXPECT_EQ(Run({"--api-key", "k1", "watch", "a1"}), kExitOk);
  // The resumed stream's first answer repeats QUEUED, which is not printed twice.
  EXPECT_EQ(out_.str(),
            "2023-11-14T22:13:21.000Z  QUEUED        -\n"
            "2023-11-14T22:13:21.000Z  DELIVERED     -\n");
}

TEST_F(CliTest, WatchThatNeverStartedIsNotResumed) {
  EXPECT_CALL(*query_, WatchAlertRaw)
      .WillOnce(Return(
          new FakeAlertReader({}, grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed"))));
  EXPECT_EQ(Run({"--api-key", "k1", "watch", "a1"}), kExitFailure);
}

TEST_F(CliTest, WatchOfUnknownAlertExitsOne) {
  EXPECT_CALL(*query_, WatchAlertRaw)
      .WillOnce(Return(
          new FakeAlertReader({}, grpc::Status(grpc::StatusCode::NOT_FOUND, "alert not found"))));
  EXPECT_EQ(Run({"--api-key", "k1", "watch", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("WatchAlert failed: NOT_FOUND"));
}

TEST_F(CliTest, WatchGivingUpAfterMaxWaitSaysTheLastStatus) {
  EXPECT_CALL(*query_, WatchAlertRaw)
      .WillOnce(Return(new FakeAlertReader(
          {ListedAlert("a1", types::v1::ALERT_STATUS_SENT)},
          grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"))));
  EXPECT_EQ(Run({"--api-key", "k1", "watch", "a1", "--max-wait", "5m"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("gave up after 5m"));
  EXPECT_THAT(err_.str(), HasSubstr("last status SENT"));
}

TEST_F(CliTest, TrailPrintsEveryEvent) {
  EXPECT_CALL(*query_, GetAuditTrail)
      .WillOnce([](grpc::ClientContext*, const alerts::v1::GetAuditTrailRequest& request,
                   alerts::v1::AuditTrail* trail) {
        trail->set_alert_id(request.alert_id());
        alerts::v1::AuditEvent* event = trail->add_events();
        event->set_kind("requested");
        event->set_attempt(1);
        event->set_status(types::v1::ALERT_STATUS_QUEUED);
        event = trail->add_events();
        event->set_kind("message_status");
        event->set_attempt(1);
        event->set_status(types::v1::ALERT_STATUS_UNDELIVERED);
        event->set_twilio_error_code(30003);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "trail", "a1"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("alert id    a1"));
  EXPECT_THAT(out_.str(), HasSubstr("requested"));
  EXPECT_THAT(out_.str(), HasSubstr("UNDELIVERED"));
  EXPECT_THAT(out_.str(), HasSubstr("30003"));
}

TEST_F(CliTest, ReportSendsThePeriodAndPrintsATable) {
  alerts::v1::GetDeliveryReportRequest sent;
  EXPECT_CALL(*query_, GetDeliveryReport)
      .WillOnce(DoAll(SaveArg<1>(&sent),
                      [](grpc::ClientContext*, const alerts::v1::GetDeliveryReportRequest&,
                         alerts::v1::DeliveryReport* report) {
                        report->mutable_total()->set_alerts(4);
                        report->mutable_total()->set_succeeded(3);
                        report->mutable_total()->set_failed(1);
                        report->mutable_total()->set_success_rate(0.75);
                        alerts::v1::DeliveryReportRow* sms = report->add_by_channel();
                        sms->set_key("sms");
                        sms->set_alerts(4);
                        alerts::v1::DeliveryReportRow* code = report->add_by_error_code();
                        code->set_key("30003");
                        code->set_alerts(1);
                        return grpc::Status::OK;
                      }));
  EXPECT_EQ(Run({"--api-key", "k1", "report", "--from=-7d"}), kExitOk);
  EXPECT_EQ(sent.from().seconds(), 1'700'000'000 - 7 * 24 * 3600);
  EXPECT_EQ(sent.before().seconds(), 1'700'000'000);
  EXPECT_THAT(out_.str(), HasSubstr("75.0%"));
  EXPECT_THAT(out_.str(), HasSubstr("sms"));
  EXPECT_THAT(out_.str(), HasSubstr("error 30003"));
}

TEST_F(CliTest, ReportWithoutFromIsUsage) {
  EXPECT_EQ(Run({"--api-key", "k1", "report"}), kExitUsage);
}

alerts::v1::DeadLetterRecord DeadLetter(const std::string& alert_id) {
  alerts::v1::DeadLetterRecord record;
  record.set_alert_id(alert_id);
  record.set_channel(types::v1::CHANNEL_SMS);
  record.set_recipient_country_code("1");
  record.set_recipient_last4("2671");
  record.set_attempts(3);
  record.set_reason("out of attempts");
  record.set_twilio_error_code(30008);
  record.mutable_dead_lettered_at()->set_seconds(1'700'000'000);
  return record;
}

TEST_F(CliTest, InboundListsRepliesOneLineEachWithTheFiltersAsked) {
  alerts::v1::ListInboundMessagesRequest asked;
  std::string authorization;
  EXPECT_CALL(*inbound_, ListInboundMessages)
      .WillOnce([&](grpc::ClientContext* context,
                    const alerts::v1::ListInboundMessagesRequest& request,
                    alerts::v1::ListInboundMessagesResponse* response) {
        asked = request;
        authorization = AuthorizationOf(context);
        alerts::v1::InboundMessage* reply = response->add_messages();
        reply->set_message_sid("SM1");
        *reply->mutable_received_at() = prototime::ToProto(clock_.Now());
        reply->set_from("+14155552671");
        reply->set_body(
            "on my way\nAna \x1b[2J\xc2\x9b\\ 5 min, Grüße \xe2\x80\xae \xe2\x80\xa8 end");
        alerts::v1::InboundMessage* shredded = response->add_messages();
        shredded->set_message_sid("SM0");
        *shredded->mutable_received_at() = prototime::ToProto(clock_.Now() - absl::Hours(1));
        shredded->set_personal_data_shredded(true);
        response->set_next_page_token("next");
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "inbound", "--sender", "+14155552671", "--from", "-24h",
                 "--page-size", "2"}),
            kExitOk);
  EXPECT_EQ(inbound_address_, "127.0.0.1:50052");
  EXPECT_EQ(authorization, "Bearer k1");
  EXPECT_EQ(asked.from(), "+14155552671");
  EXPECT_EQ(prototime::FromProto(asked.received_from()), clock_.Now() - absl::Hours(24));
  EXPECT_FALSE(asked.has_received_before());
  EXPECT_EQ(asked.page_size(), 2);
  EXPECT_EQ(
      out_.str(),
      "2023-11-14T22:13:20.000Z  SM1  +14155552671  on my way\\nAna \\x1b[2J\\u009b\\\\ 5 min, "
      "Grüße \\u202e \\u2028 end\n"
      "2023-11-14T21:13:20.000Z  SM0  (shredded)\n");
  EXPECT_THAT(err_.str(), HasSubstr("--page-token next"));
}

TEST_F(CliTest, InboundReportsTheRpcErrorAndABadTimeAsUsage) {
  EXPECT_CALL(*inbound_, ListInboundMessages)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "from: not E.164")));
  EXPECT_EQ(Run({"--api-key", "k1", "inbound", "--sender", "4155552671"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("ListInboundMessages"));
  EXPECT_THAT(err_.str(), HasSubstr("from: not E.164"));
  err_.str("");
  EXPECT_EQ(Run({"--api-key", "k1", "inbound", "--before", "yesterday"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--before"));
}

TEST_F(CliTest, DlqListAsksAuditForPendingDeadLettersAndPrintsOneLineEach) {
  alerts::v1::ListDeadLettersRequest asked;
  EXPECT_CALL(*dead_letters_, ListDeadLetters)
      .WillOnce([&asked](grpc::ClientContext*, const alerts::v1::ListDeadLettersRequest& request,
                         alerts::v1::ListDeadLettersResponse* response) {
        asked = request;
        *response->add_dead_letters() = DeadLetter("a1");
        *response->add_dead_letters() = DeadLetter("a2");
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "list"}), kExitOk);
  EXPECT_FALSE(asked.include_replayed());
  EXPECT_EQ(dead_letters_address_, "127.0.0.1:50052");
  EXPECT_EQ(out_.str(),
            "a1  sms    +1 ••• 2671  #3   2023-11-14T22:13:20.000Z  30008: out of attempts\n"
            "a2  sms    +1 ••• 2671  #3   2023-11-14T22:13:20.000Z  30008: out of attempts\n");
}

TEST_F(CliTest, DlqListAllAsksForReplayedOnesAndShowsTheirNewAlert) {
  alerts::v1::ListDeadLettersRequest asked;
  EXPECT_CALL(*dead_letters_, ListDeadLetters)
      .WillOnce([&asked](grpc::ClientContext*, const alerts::v1::ListDeadLettersRequest& request,
                         alerts::v1::ListDeadLettersResponse* response) {
        asked = request;
        alerts::v1::DeadLetterRecord replayed = DeadLetter("a1");
        replayed.set_replayed_as("b1");
        *response->add_dead_letters() = replayed;
        response->set_next_page_token("next");
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "list", "--all"}), kExitOk);
  EXPECT_TRUE(asked.include_replayed());
  EXPECT_THAT(out_.str(), HasSubstr("replayed as b1"));
  EXPECT_THAT(err_.str(), HasSubstr("--page-token next"));
}

TEST_F(CliTest, DlqShowPrintsTheRecipientAndText) {
  EXPECT_CALL(*dead_letters_, GetDeadLetter)
      .WillOnce([](grpc::ClientContext*, const alerts::v1::GetDeadLetterRequest& request,
                   alerts::v1::DeadLetterRecord* record) {
        *record = DeadLetter(request.alert_id());
        record->set_recipient("+14155552671");
        record->set_text("disk full on db-1");
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "show", "a1"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("recipient     +14155552671\n"));
  EXPECT_THAT(out_.str(), HasSubstr("text          disk full on db-1\n"));
  EXPECT_THAT(out_.str(), HasSubstr("replayed as   -\n"));
}

TEST_F(CliTest, DlqShowOfAnUnknownAlertFails) {
  EXPECT_CALL(*dead_letters_, GetDeadLetter)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no dead letter for alert a1")));
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "show", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("GetDeadLetter failed: NOT_FOUND"));
}

TEST_F(CliTest, DlqReplayPrintsOnlyTheNewAlertId) {
  std::string replayed;
  std::string authorization;
  EXPECT_CALL(*dead_letters_, ReplayDeadLetter)
      .WillOnce([&](grpc::ClientContext* context,
                    const alerts::v1::ReplayDeadLetterRequest& request,
                    alerts::v1::ReplayDeadLetterResponse* response) {
        replayed = request.alert_id();
        authorization = AuthorizationOf(context);
        response->set_alert_id("b1");
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "replay", "a1"}), kExitOk);
  EXPECT_EQ(replayed, "a1");
  EXPECT_EQ(authorization, "Bearer k1");
  EXPECT_EQ(out_.str(), "b1\n");
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(CliTest, DlqReplayOfAReplayedDeadLetterPrintsTheSameIdAndSaysSo) {
  EXPECT_CALL(*dead_letters_, ReplayDeadLetter)
      .WillOnce([](grpc::ClientContext*, const alerts::v1::ReplayDeadLetterRequest&,
                   alerts::v1::ReplayDeadLetterResponse* response) {
        response->set_alert_id("b1");
        response->set_already_replayed(true);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "replay", "a1"}), kExitOk);
  EXPECT_EQ(out_.str(), "b1\n");
  EXPECT_THAT(err_.str(), HasSubstr("already replayed"));
}

TEST_F(CliTest, DlqReplayThatMayNotHaveHappenedSaysReplayingAgainIsSafe) {
  EXPECT_CALL(*dead_letters_, ReplayDeadLetter)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "kafka down")));
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "replay", "a1"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("replaying again is safe"));
}

TEST_F(CliTest, DlqListAllCallersAsksForEveryCallersAndShowsWhose) {
  alerts::v1::ListDeadLettersRequest asked;
  EXPECT_CALL(*dead_letters_, ListDeadLetters)
      .WillOnce([&asked](grpc::ClientContext*, const alerts::v1::ListDeadLettersRequest& request,
                         alerts::v1::ListDeadLettersResponse* response) {
        asked = request;
        alerts::v1::DeadLetterRecord record = DeadLetter("a1");
        record.set_caller("billing");
        *response->add_dead_letters() = record;
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "list", "--all-callers", "--cause", "deadline"}),
            kExitOk);
  EXPECT_TRUE(asked.all_callers());
  EXPECT_EQ(asked.filter().cause(), "deadline");
  EXPECT_THAT(out_.str(), HasSubstr("caller billing"));
}

TEST_F(CliTest, DlqBulkReplaySendsTheFilterFollowsEveryPageAndReportsFailures) {
  std::vector<alerts::v1::ReplayDeadLettersRequest> asked;
  EXPECT_CALL(*dead_letters_, ReplayDeadLetters)
      .Times(2)
      .WillRepeatedly([&asked](grpc::ClientContext*,
                               const alerts::v1::ReplayDeadLettersRequest& request,
                               alerts::v1::ReplayDeadLettersResponse* response) {
        asked.push_back(request);
        alerts::v1::ReplayedDeadLetter* item = response->add_replayed();
        item->set_caller("billing");
        if (asked.size() == 1) {
          item->set_dead_letter_id("a1");
          item->set_alert_id("b1");
          response->set_next_page_token("next");
        } else {
          item->set_dead_letter_id("a2");
          item->set_error("the dead letter's request was destroyed by retention");
        }
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "replay", "--cause", "max_attempts", "--from",
                 "2026-11-20T08:00:00Z", "--to", "2026-11-20T09:00:00Z"}),
            kExitFailure);
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].filter().cause(), "max_attempts");
  EXPECT_EQ(asked[0].filter().dead_lettered_from().seconds(),
            absl::ToUnixSeconds(
                absl::FromCivil(absl::CivilSecond(2026, 11, 20, 8, 0, 0), absl::UTCTimeZone())));
  EXPECT_EQ(asked[0].filter().dead_lettered_before().seconds() -
                asked[0].filter().dead_lettered_from().seconds(),
            3600);
  EXPECT_EQ(asked[1].page_token(), "next");
  EXPECT_EQ(out_.str(),
            "a1 billing b1\n"
            "a2 billing failed: the dead letter's request was destroyed by retention\n");
  EXPECT_THAT(err_.str(), HasSubstr("1 replayed, 1 failed"));
}

TEST_F(CliTest, DlqReplayNeedsAnIdOrAFilterButNotBoth) {
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "replay"}), kExitUsage);
  EXPECT_EQ(Run({"--api-key", "k1", "dlq", "replay", "a1", "--cause", "deadline"}), kExitUsage);
}

// A StartVerification answer for a fresh verification, expiring ten minutes from the fake now.
auto ReturnStarted(verify::v1::StartVerificationRequest* asked = nullptr,
                   std::string* authorization = nullptr) {
  return [asked, authorization](grpc::ClientContext* context,
                                const verify::v1::StartVerificationRequest& request,
                                verify::v1::StartVerificationResponse* response) {
    if (asked != nullptr) *asked = request;
    if (authorization != nullptr) *authorization = AuthorizationOf(context);
    response->set_verification_id("v1");
    response->mutable_expires_at()->set_seconds(1'700'000'600);
    response->set_alert_id("a1");
    return grpc::Status::OK;
  };
}

TEST_F(CliTest, VerifyStartSendsTheGivenFieldsWithTheApiKeyToIngressOnly) {
  verify::v1::StartVerificationRequest asked;
  std::string authorization;
  EXPECT_CALL(*verification_, StartVerification).WillOnce(ReturnStarted(&asked, &authorization));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+14155552671", "--channel", "voice",
                 "--locale", "de", "--template", "Acme: {code}"}),
            kExitOk);
  EXPECT_EQ(asked.recipient(), "+14155552671");
  EXPECT_EQ(asked.channel(), types::v1::CHANNEL_VOICE);
  EXPECT_EQ(asked.locale(), "de");
  EXPECT_EQ(asked.template_(), "Acme: {code}");
  EXPECT_EQ(authorization, "Bearer k1");
  EXPECT_EQ(verification_address_, "127.0.0.1:50051");
  EXPECT_THAT(audit_address_, IsEmpty());
}

TEST_F(CliTest, VerifyStartDefaultsToSmsAndLeavesTheLocaleToIngress) {
  verify::v1::StartVerificationRequest asked;
  EXPECT_CALL(*verification_, StartVerification).WillOnce(ReturnStarted(&asked));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+14155552671"}), kExitOk);
  EXPECT_EQ(asked.channel(), types::v1::CHANNEL_SMS);
  EXPECT_THAT(asked.locale(), IsEmpty());
}

TEST_F(CliTest, VerifyStartPrintsIdExpiryResentAndAlertId) {
  EXPECT_CALL(*verification_, StartVerification).WillOnce(ReturnStarted());
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+14155552671"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "verification id v1\n"
            "expires         2023-11-14T22:23:20.000Z\n"
            "resent          no\n"
            "alert id        a1\n");
  EXPECT_THAT(err_.str(), IsEmpty());
}

TEST_F(CliTest, VerifyStartSaysWhenThePendingCodeWasResent) {
  EXPECT_CALL(*verification_, StartVerification)
      .WillOnce([](grpc::ClientContext*, const verify::v1::StartVerificationRequest&,
                   verify::v1::StartVerificationResponse* response) {
        response->set_verification_id("v1");
        response->set_resent(true);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+14155552671"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("resent          yes"));
}

TEST_F(CliTest, VerifyStartDeadlineFollowsTimeout) {
  std::chrono::system_clock::time_point deadline;
  EXPECT_CALL(*verification_, StartVerification)
      .WillOnce([&deadline](grpc::ClientContext* context,
                            const verify::v1::StartVerificationRequest&,
                            verify::v1::StartVerificationResponse*) {
        deadline = context->deadline();
        return grpc::Status::OK;
      });
  const absl::Time start = clock_.Now();
  EXPECT_EQ(Run({"--api-key", "k1", "--timeout", "3", "verify", "start", "--to", "+1"}), kExitOk);
  EXPECT_EQ(deadline, absl::ToChronoTime(start + absl::Seconds(3)));
}

TEST_F(CliTest, VerifyStartThatMayHaveSentSaysStartingAgainSendsTheSameCode) {
  EXPECT_CALL(*verification_, StartVerification)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused")));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+14155552671"}), kExitFailure);
  EXPECT_THAT(out_.str(), IsEmpty());
  EXPECT_THAT(err_.str(), HasSubstr("StartVerification failed: UNAVAILABLE: cannot reach ingress "
                                    "gRPC at 127.0.0.1:50051 (plaintext): connection refused"));
  EXPECT_THAT(err_.str(), HasSubstr("starting again sends the same code"));
}

TEST_F(CliTest, VerifyStartRefusalHasNoRetryHint) {
  EXPECT_CALL(*verification_, StartVerification)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                    "recipient: country +44 may not be verified")));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+447700900123"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("StartVerification failed: PERMISSION_DENIED: recipient"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("again")));
}

TEST_F(CliTest, VerifyStartWithUnknownChannelIsAUsageError) {
  EXPECT_CALL(*verification_, StartVerification).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "start", "--to", "+1", "--channel", "fax"}),
            kExitUsage);
}

// A CheckVerification answer with `status` and `checks_left`, remembering the request.
auto ReturnChecked(verify::v1::VerificationStatus status, int32_t checks_left,
                   verify::v1::CheckVerificationRequest* asked = nullptr) {
  return [status, checks_left, asked](grpc::ClientContext*,
                                      const verify::v1::CheckVerificationRequest& request,
                                      verify::v1::CheckVerificationResponse* response) {
    if (asked != nullptr) *asked = request;
    response->set_status(status);
    response->set_checks_left(checks_left);
    if (status != verify::v1::VERIFICATION_STATUS_NOT_FOUND) response->set_verification_id("v1");
    return grpc::Status::OK;
  };
}

TEST_F(CliTest, VerifyCheckByIdSendsTheIdAndCode) {
  verify::v1::CheckVerificationRequest asked;
  EXPECT_CALL(*verification_, CheckVerification)
      .WillOnce(ReturnChecked(verify::v1::VERIFICATION_STATUS_APPROVED, 0, &asked));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--id", "v1", "--code", "123456"}), kExitOk);
  EXPECT_EQ(asked.verification_id(), "v1");
  EXPECT_THAT(asked.recipient(), IsEmpty());
  EXPECT_EQ(asked.code(), "123456");
  EXPECT_EQ(verification_address_, "127.0.0.1:50051");
}

TEST_F(CliTest, VerifyCheckByRecipientSendsTheRecipientAndCode) {
  verify::v1::CheckVerificationRequest asked;
  EXPECT_CALL(*verification_, CheckVerification)
      .WillOnce(ReturnChecked(verify::v1::VERIFICATION_STATUS_APPROVED, 0, &asked));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--to", "+14155552671", "--code", "123456"}),
            kExitOk);
  EXPECT_THAT(asked.verification_id(), IsEmpty());
  EXPECT_EQ(asked.recipient(), "+14155552671");
  EXPECT_EQ(asked.code(), "123456");
}

struct CheckCase {
  std::string name;
  verify::v1::VerificationStatus status;
  int32_t checks_left;
  std::string printed;
  int exit_code;
};

class VerifyCheckStatusTest : public CliTest, public ::testing::WithParamInterface<CheckCase> {};

TEST_P(VerifyCheckStatusTest, PrintsTheStatusAndExitsZeroOnlyWhenApproved) {
  EXPECT_CALL(*verification_, CheckVerification)
      .WillOnce(ReturnChecked(GetParam().status, GetParam().checks_left));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--id", "v1", "--code", "123456"}),
            GetParam().exit_code);
  EXPECT_EQ(out_.str(), GetParam().printed);
  EXPECT_THAT(err_.str(), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    EveryStatus, VerifyCheckStatusTest,
    ::testing::Values(
        CheckCase{"Approved", verify::v1::VERIFICATION_STATUS_APPROVED, 0, "approved\n", kExitOk},
        CheckCase{"Pending", verify::v1::VERIFICATION_STATUS_PENDING, 2,
                  "pending (2 checks left)\n", kExitFailure},
        CheckCase{"PendingWithOneCheckLeft", verify::v1::VERIFICATION_STATUS_PENDING, 1,
                  "pending (1 check left)\n", kExitFailure},
        CheckCase{"Expired", verify::v1::VERIFICATION_STATUS_EXPIRED, 0, "expired\n", kExitFailure},
        CheckCase{"MaxAttempts", verify::v1::VERIFICATION_STATUS_MAX_ATTEMPTS, 0, "max_attempts\n",
                  kExitFailure},
        CheckCase{"NotFound", verify::v1::VERIFICATION_STATUS_NOT_FOUND, 0, "not_found\n",
                  kExitFailure},
        // A status this klaxonctl does not know yet is not an approval.
        CheckCase{"Unspecified", verify::v1::VERIFICATION_STATUS_UNSPECIFIED, 0, "unspecified\n",
                  kExitFailure}),
    [](const ::testing::TestParamInfo<CheckCase>& test) { return test.param.name; });

TEST_F(CliTest, VerifyCheckJsonKeepsTheExitCodeOfTheStatus) {
  EXPECT_CALL(*verification_, CheckVerification)
      .WillOnce(ReturnChecked(verify::v1::VERIFICATION_STATUS_PENDING, 2));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--id", "v1", "--code", "123456", "--json"}),
            kExitFailure);
  EXPECT_THAT(out_.str(), HasSubstr("\"status\":\"VERIFICATION_STATUS_PENDING\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"checks_left\":2"));
}

TEST_F(CliTest, VerifyCheckWithoutCodeIsAUsageErrorNamingIt) {
  EXPECT_CALL(*verification_, CheckVerification).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--id", "v1"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--code"));
}

TEST_F(CliTest, VerifyCheckWithIdAndRecipientIsAUsageError) {
  EXPECT_CALL(*verification_, CheckVerification).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--id", "v1", "--to", "+14155552671",
                 "--code", "123456"}),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("exactly one of --id and --to"));
}

TEST_F(CliTest, VerifyCheckWithNeitherIdNorRecipientIsAUsageError) {
  EXPECT_CALL(*verification_, CheckVerification).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--code", "123456"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("exactly one of --id and --to"));
}

TEST_F(CliTest, VerifyCheckLostAnswerSaysARetriedApprovalAnswersNotFound) {
  EXPECT_CALL(*verification_, CheckVerification)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded")));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "check", "--id", "v1", "--code", "123456"}),
            kExitFailure);
  EXPECT_THAT(out_.str(), IsEmpty());
  EXPECT_THAT(err_.str(), HasSubstr("CheckVerification failed: DEADLINE_EXCEEDED"));
  EXPECT_THAT(err_.str(), HasSubstr("checking again answers not_found"));
}

TEST_F(CliTest, VerifyCheckHelpDocumentsTheExitCodes) {
  EXPECT_EQ(Run({"verify", "check", "--help"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("exit 0 only for approved, 1 otherwise"));
}

TEST_F(CliTest, VerifyCancelSendsTheIdAndSaysCancelled) {
  verify::v1::CancelVerificationRequest asked;
  std::string authorization;
  EXPECT_CALL(*verification_, CancelVerification)
      .WillOnce([&](grpc::ClientContext* context,
                    const verify::v1::CancelVerificationRequest& request,
                    verify::v1::CancelVerificationResponse*) {
        asked = request;
        authorization = AuthorizationOf(context);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "cancel", "--id", "v1"}), kExitOk);
  EXPECT_EQ(asked.verification_id(), "v1");
  EXPECT_EQ(authorization, "Bearer k1");
  EXPECT_EQ(out_.str(), "cancelled\n");
}

TEST_F(CliTest, VerifyCancelOfAnEndedVerificationSaysSo) {
  EXPECT_CALL(*verification_, CancelVerification)
      .WillOnce([](grpc::ClientContext*, const verify::v1::CancelVerificationRequest&,
                   verify::v1::CancelVerificationResponse* response) {
        response->set_already_ended(true);
        return grpc::Status::OK;
      });
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "cancel", "--id", "v1"}), kExitOk);
  EXPECT_EQ(out_.str(), "already ended\n");
}

TEST_F(CliTest, VerifyCancelOfAnUnknownVerificationExitsOne) {
  EXPECT_CALL(*verification_, CancelVerification)
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no verification v9")));
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "cancel", "--id", "v9"}), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("CancelVerification failed: NOT_FOUND: no verification v9"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("again")));
}

TEST_F(CliTest, VerifyCancelWithoutIdIsAUsageError) {
  EXPECT_CALL(*verification_, CancelVerification).Times(0);
  EXPECT_EQ(Run({"--api-key", "k1", "verify", "cancel"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--id"));
}

}  // namespace
}  // namespace klaxon::ctl
