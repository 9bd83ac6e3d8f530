#pragma once
// An AlertIntake over in-memory ports, for the unit tests of what SendAlert does around its core
// (quotas, channel switches, admission control): the test sets the options it is about and reads
// what was published.

#include <future>
#include <string>
#include <string_view>
#include <utility>

#include "common/ids/id_generator.h"
#include "common/messaging/testing/fake_publisher.h"
#include "common/timing/fake_clock.h"
#include "common/transit/testing.h"
#include "services/ingress/alert_intake.h"
#include "services/ingress/in_memory_idempotency_store.h"

namespace klaxon::ingress::testing {

class IgnoringObserver final : public IntakeObserver {
 public:
  void OnAccepted(std::string_view, const alerts::v1::SendAlertRequest&, std::string_view, bool,
                  absl::Duration) override {}
  void OnRejected(std::string_view, const absl::Status&) override {}
};

// A valid request under idempotency key `key`.
inline alerts::v1::SendAlertRequest Request(std::string key,
                                            types::v1::Channel channel = types::v1::CHANNEL_SMS) {
  alerts::v1::SendAlertRequest request;
  request.set_channel(channel);
  request.set_recipient("+14155552671");
  request.set_text("disk full");
  request.set_idempotency_key(std::move(key));
  return request;
}

// Sends through `intake` and waits for its answer, however the publisher completes.
inline absl::StatusOr<alerts::v1::SendAlertResponse> SendAndWait(
    AlertIntake& intake, std::string_view caller, const alerts::v1::SendAlertRequest& request) {
  std::promise<absl::StatusOr<alerts::v1::SendAlertResponse>> answer;
  std::future<absl::StatusOr<alerts::v1::SendAlertResponse>> answered = answer.get_future();
  intake.Send(caller, request, {},
              [&answer](absl::StatusOr<alerts::v1::SendAlertResponse> response) {
                answer.set_value(std::move(response));
              });
  return answered.get();
}

// Topics are preset; alert ids are alert-1, alert-2, ...; the clock stands still unless moved.
class IntakeHarness {
 public:
  explicit IntakeHarness(IntakeOptions options) : IntakeHarness(std::move(options), publisher_) {}
  // Publishes through `publisher` (borrowed) instead of the harness's FakePublisher.
  IntakeHarness(IntakeOptions options, messaging::Publisher& publisher)
      : intake_(WithTopics(std::move(options)), store_, publisher, transit_.cipher(), observer_,
                alert_ids_, clock_) {}

  AlertIntake& intake() { return intake_; }
  messaging::FakePublisher& publisher() { return publisher_; }
  InMemoryIdempotencyStore& store() { return store_; }
  timing::FakeClock& clock() { return clock_; }
  // Opens what the intake sealed into a published request.
  transit::TransitCipher& transit() { return transit_.cipher(); }

 private:
  static IntakeOptions WithTopics(IntakeOptions options) {
    options.topics = {.sms = "t.sms",
                      .voice = "t.voice",
                      .sms_urgent = "t.sms.urgent",
                      .voice_urgent = "t.voice.urgent"};
    return options;
  }

  InMemoryIdempotencyStore store_;
  messaging::FakePublisher publisher_;
  IgnoringObserver observer_;
  ids::CountingIdGenerator alert_ids_{"alert-"};
  timing::FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  transit::testing::TestTransit transit_;
  AlertIntake intake_;
};

}  // namespace klaxon::ingress::testing
